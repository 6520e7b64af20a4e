"""The oracle shopper: search the instruction, find the goal product, pick the goal options, buy.

It decides from the current page alone, so it also recovers after other agents' detours
(DAgger-style data, or `--agent expert` after a random prefix). When the goal product is not
among the instruction's top hits it searches the product's title instead.
"""
from __future__ import annotations

from turnrl.envs.webshop.catalog import Catalog
from turnrl.envs.webshop.goals import Goal
from turnrl.envs.webshop.pages import BACK, BUY, NEXT, PREV, RESULTS_PER_PAGE, Page


def expert_query(catalog: Catalog, goal: Goal) -> str:
    """The instruction if its search finds the goal product, otherwise the product title."""
    row = catalog.index_of(goal.asin)
    query = goal.instruction_text.lower()
    return query if row in catalog.search(query) else goal.name.lower()


def expert_action(page: Page, catalog: Catalog, goal: Goal) -> str:
    goal_row = catalog.index_of(goal.asin)
    if page.kind == "search":
        return f"search[{expert_query(catalog, goal)}]"
    if page.kind == "results":
        hits = catalog.search(page.query)
        if goal_row not in hits:
            return f"click[{BACK}]"
        number = hits.index(goal_row) // RESULTS_PER_PAGE + 1
        if number == page.number:
            return f"click[{goal.asin.lower()}]"
        return f"click[{NEXT}]" if number > page.number else f"click[{PREV}]"
    if page.kind == "item" and page.row == goal_row:
        chosen, offered = dict(page.options), catalog.options[goal_row]
        for name, value in goal.goal_options.items():
            if value in offered.get(name, ()) and chosen.get(name) != value:
                return f"click[{value}]"
        return f"click[{BUY}]"
    return f"click[{PREV}]"
