"""`turnrl/WebShop-v0`: WebShop's shopping task as a multi-turn text env, without a web server.

Actions are WebShop's: `search[query]` on the search page and `click[text]` for any clickable of
the page (`back to search`, `next >`, `< prev`, a product id, an option value, `description`,
`features`, `reviews`, `buy now`). `click[buy now]` ends the episode with the purchase reward in
[0, 1]; `won` means reward 1.0. The registered id truncates episodes after 15 actions (the GiGPO
setup), invalid ones included. The env counts no steps itself: the limit is turnrl's one
`StepLimit`, which `turnrl.envs.registration.make` wraps around it (`max_steps=N` there, or
`max_episode_steps=N`; `--max-steps` on the CLI); the constructor's old `max_steps` kwarg is gone,
and the class built directly has no limit. `win_reward`
replaces the reward of a perfect purchase (GiGPO uses 10); `info["score"]` keeps the raw score
either way. `option_rule` ("reference", the default, or "normalized") says how a synthetic goal's
options are matched (see `reward.py`: the reference compares purchased values with the goal's
(name, value) pairs).

The purchase step's `info["reward_components"]` holds the parts of the score (attribute, option,
price, type fractions) for multi-reward credit; other steps have none. As in WebShop, a product
listed with a price range is shown with its range and bought at one fixed price drawn in it.

`observation_mode` is WebShop's "text" ([SEP]-joined, default) or "text_rich" (buttons marked,
chosen options announced).

Reset options: `goal_index` (position in the split) or `task_id` ("<kind>/<split>/<index>");
otherwise the seed draws a goal of the split. The same seed and options give the same episode.
"""
from __future__ import annotations

import re
from typing import Any

from turnrl.envs.base import TextEnv
from turnrl.envs.webshop.catalog import Catalog, load_catalog
from turnrl.envs.webshop import snapshot as webshop_snapshot
from turnrl.envs.webshop.expert import expert_action
from turnrl.envs.webshop.goals import Goal, GoalSet, load_goals
from turnrl.envs.webshop.pages import (
    BACK,
    BUY,
    FORMATS,
    NEXT,
    PREV,
    SUBPAGES,
    Clickable,
    Page,
    admissible,
    done_text,
    n_result_pages,
    render,
)
from turnrl.envs.webshop.reward import PurchaseReward, goal_option_list, purchase_reward
from turnrl.types import END_PURCHASE

ACTION = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)
MAX_QUERY_CHARS = 500


def parse_action(action: str) -> tuple[str, str] | str:
    """(verb, argument) of `search[...]` / `click[...]`, or the reason the text is not one."""
    m = ACTION.match(action)
    if m is None:
        return "expected search[<query>] or click[<button>]"
    verb, arg = m.group(1).lower(), m.group(2).strip()
    if "[" in arg or "]" in arg:
        return "unbalanced or nested brackets"
    if not arg:
        return f"{verb}[] needs {'a query' if verb == 'search' else 'a button text'}"
    return verb, arg


def list_tasks(options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reset options for every goal of a split, in order (`options` are the env kwargs:
    `data_dir`, `index_dir`, `goals`, `split`); each names its episode with `task_id`."""
    options = dict(options or {})
    kind, split = options.get("goals", "synthetic"), options.get("split", "test")
    goal_set = load_goals(load_catalog(options.get("data_dir"), options.get("index_dir")), kind)
    return [{"goal_index": i, "task_id": f"{kind}/{split}/{i}"} for i in range(len(goal_set.split_indices(split)))]


class WebShopEnv(TextEnv):
    """WebShop over the real catalog; every copy in a process shares one catalog and index."""

    list_tasks = staticmethod(list_tasks)
    metadata = {**TextEnv.metadata, "snapshot": "exact"}  # the page state (snapshot.py)
    _snapshot, _restore = webshop_snapshot.snapshot, webshop_snapshot.restore

    def __init__(self, data_dir: str | None = None, index_dir: str | None = None, goals: str = "synthetic",
                 split: str = "test", observation_mode: str = "text",
                 win_reward: float | None = None, option_rule: str = "reference", render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        if observation_mode not in FORMATS:
            raise ValueError(f"observation_mode must be one of {sorted(FORMATS)}, got {observation_mode!r}")
        self.observation_mode = observation_mode
        self.catalog: Catalog = load_catalog(data_dir, index_dir)
        self.goal_set: GoalSet = load_goals(self.catalog, goals)
        self.split = split
        self.split_goals = self.goal_set.split_indices(split)
        if len(self.split_goals) == 0:
            raise ValueError(f"the {goals!r} goals have an empty {split!r} split")
        self.win_reward = win_reward
        goal_option_list({}, option_rule)  # validates the rule name
        self.option_rule = option_rule
        self.goal: Goal | None = None
        self.page = Page("search")
        self.clicks: dict[str, Clickable] = {}

    @property
    def num_tasks(self) -> int:
        return len(self.split_goals)

    # -- reset --------------------------------------------------------------------------
    def _goal_index(self, options: dict[str, Any]) -> int:
        if "task_id" in options:
            parts = str(options["task_id"]).rsplit("/", 2)
            if len(parts) != 3 or tuple(parts[:2]) != (self.goal_set.kind, self.split):
                raise ValueError(f"task {options['task_id']!r} is not of this env ({self.goal_set.kind}/{self.split})")
            options = {"goal_index": parts[2]}
        if "goal_index" in options:
            try:
                i = int(options["goal_index"])
            except (TypeError, ValueError):
                raise ValueError(f"goal_index must be an integer, got {options['goal_index']!r}") from None
            if not 0 <= i < self.num_tasks:
                raise ValueError(f"goal_index {i} outside the {self.split} split (0..{self.num_tasks - 1})")
            return i
        return int(self.np_random.integers(self.num_tasks))

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.index = self._goal_index(options)
        self.goal = self.goal_set.goal(int(self.split_goals[self.index]))
        return self._show(Page("search"), {})

    # -- step ---------------------------------------------------------------------------
    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.goal is None:
            raise RuntimeError("call reset() before step()")
        if self.page.kind == "done":
            return self.invalid_step("the episode is over; call reset()")
        parsed = parse_action(action)
        if isinstance(parsed, str):
            return self.invalid_step(parsed)
        verb, arg = parsed
        if verb == "search":
            if self.page.kind != "search":
                return self.invalid_step("no search box on this page; click[back to search] first")
            if len(arg) > MAX_QUERY_CHARS:
                return self.invalid_step(f"query too long ({len(arg)} characters, limit {MAX_QUERY_CHARS})")
            obs, info = self._show(Page("results", query=arg.lower()), {})
            return obs, 0.0, False, False, info
        target = self.clicks.get(arg.lower(), self.clicks.get(arg))
        if target is None:
            return self.invalid_step(f"{arg!r} is not clickable on this page")
        return self._click(target)

    def _click(self, c: Clickable) -> tuple[str, float, bool, bool, dict[str, Any]]:
        page = self.page
        if c.kind == "product":
            nxt = Page("item", query=page.query, number=page.number, row=c.target)
        elif c.kind == "option":
            nxt = page.choose(*c.target)
        elif c.target == BACK:
            nxt = Page("search")
        elif c.target == NEXT:
            nxt = Page("results", query=page.query, number=min(page.number + 1, n_result_pages(self._hits(page))))
        elif c.target == PREV and page.kind == "results":
            nxt = Page("results", query=page.query, number=page.number - 1)
        elif c.target == PREV and page.kind == "item":  # back to the results the product was found on
            nxt = Page("results", query=page.query, number=page.number)
        elif c.target == PREV:  # from a sub-page back to the item, options kept
            nxt = Page("item", query=page.query, number=page.number, row=page.row, options=page.options)
        elif c.target in SUBPAGES:
            nxt = Page("item_sub", query=page.query, number=page.number, row=page.row, sub=c.target, options=page.options)
        elif c.target == BUY:
            return self._buy()
        else:  # a button this module does not know is a bug, not bad input
            raise AssertionError(f"unhandled clickable {c}")
        obs, info = self._show(nxt, {})
        return obs, 0.0, False, False, info

    def _buy(self) -> tuple[str, float, bool, bool, dict[str, Any]]:
        assert self.goal is not None
        row, chosen = self.page.row, dict(self.page.options)
        goal_row = self.catalog.index_of(self.goal.asin)
        r: PurchaseReward = purchase_reward(
            self.catalog.product(row), float(self.catalog.prices[row]), chosen, self.goal.reward_view(),
            bought_nouns=self.catalog.title_nouns[row],
            goal_nouns=self.catalog.title_nouns[goal_row] if goal_row is not None else None,
            option_rule=self.option_rule)
        obs, info = self._show(Page("done", row=row, options=self.page.options), {
            "reward_components": r.components(), "score": r.total, "purchased_asin": self.catalog.asins[row],
            "purchased_options": chosen, "query_match": r.query_match, "category_match": r.category_match,
            "title_score": r.title_score, "end_reason": END_PURCHASE}, won=r.total >= 1.0)
        reward = self.win_reward if (self.win_reward is not None and r.total >= 1.0) else r.total
        return obs, reward, True, False, info

    # -- pages --------------------------------------------------------------------------
    def _hits(self, page: Page) -> tuple[int, ...]:
        return self.catalog.search(page.query) if page.query else ()

    def _show(self, page: Page, extra: dict[str, Any], won: bool = False) -> tuple[str, dict[str, Any]]:
        """Move to `page`: its text, and the info every step returns (plus `extra`)."""
        assert self.goal is not None
        if page.kind == "done":
            text, self.clicks = done_text(extra["score"], self.observation_mode), {}
        else:
            text, self.clicks = render(page, self.catalog, self.goal.instruction_text, self._hits(page),
                                       self.observation_mode)
        self.page = page
        info = {
            "admissible_actions": admissible(page, self.clicks) if page.kind != "done" else [],
            "has_search_bar": page.kind == "search",
            "clickables": list(self.clicks),
            "won": won,
            "valid": True,
            "state_key": f"{self.goal_set.kind}/{self.split}/{self.index}|{page.key()}",
            "obs_key": text,
            "task": self.goal.instruction_text,
            "task_id": f"{self.goal_set.kind}/{self.split}/{self.index}",
            "goal_asin": self.goal.asin,
            **extra,
        }
        if page.kind != "done":
            info["expert_action"] = expert_action(page, self.catalog, self.goal)
        return text, info
