"""WebShop's pages in its text mode: page state, page text, clickables and transitions.

The text follows WebShop's `text` observation mode (the visible texts of the HTML page joined
with " [SEP] "), and the clickables follow its `get_available_actions`: lower-cased button and
product-link texts plus the option values, with the search box only on the search page. So
prompts and parsers written for WebShop read these pages unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from turnrl.envs.webshop.catalog import Catalog

SEP = " [SEP] "
BACK, NEXT, PREV, BUY = "back to search", "next >", "< prev", "buy now"
SUBPAGES = ("description", "features", "reviews")
RESULTS_PER_PAGE = 10


@dataclass(frozen=True)
class Page:
    """Where the shopper is: enough to redraw the page, and its identity for `state_key`."""

    kind: str  # "search" | "results" | "item" | "item_sub" | "done"
    query: str = ""
    number: int = 1  # results page number
    row: int | None = None  # catalog row of the product shown
    sub: str | None = None  # which item sub-page
    options: tuple[tuple[str, str], ...] = ()  # chosen (name, value), sorted by name

    def key(self) -> str:
        asin = "" if self.row is None else str(self.row)
        opts = ";".join(f"{n}={v}" for n, v in self.options)
        return f"{self.kind}|q={self.query}|p={self.number}|item={asin}|sub={self.sub or ''}|opts={opts}"

    def choose(self, name: str, value: str) -> "Page":
        chosen = dict(self.options)
        chosen[name] = value
        return replace(self, options=tuple(sorted(chosen.items())))


@dataclass(frozen=True)
class Clickable:
    kind: str  # "button" | "product" | "option"
    target: Any  # button name, catalog row, or (option name, value)


def results_slice(hits: tuple[int, ...], number: int) -> tuple[int, ...]:
    return hits[(number - 1) * RESULTS_PER_PAGE: number * RESULTS_PER_PAGE]


def n_result_pages(hits: tuple[int, ...]) -> int:
    return max(1, -(-len(hits) // RESULTS_PER_PAGE))


def render(page: Page, catalog: Catalog, instruction: str,
           hits: tuple[int, ...] = ()) -> tuple[str, dict[str, Clickable]]:
    """The page text and its clickables (lower-cased text -> what clicking it does)."""
    buttons = lambda *names: {n: Clickable("button", n) for n in names}  # noqa: E731
    if page.kind == "search":
        return SEP.join(["WebShop", "Instruction:", instruction, "Search"]), {}
    head = ["Instruction:", instruction, "Back to Search"]
    if page.kind == "results":
        parts = head + [f"Page {page.number} (Total results: {len(hits)})"]
        clicks = buttons(BACK)
        if page.number > 1:
            parts.append("< Prev")
            clicks.update(buttons(PREV))
        if page.number < n_result_pages(hits):
            parts.append("Next >")
            clicks.update(buttons(NEXT))
        for row in results_slice(hits, page.number):
            parts += [catalog.asins[row], catalog.titles[row], catalog.price_tags[row]]
            clicks[catalog.asins[row].lower()] = Clickable("product", row)
        return SEP.join(parts), clicks
    product = catalog.product(page.row)
    parts = head + ["< Prev"]
    clicks = buttons(BACK, PREV)
    if page.kind == "item":
        for name, values in catalog.options[page.row].items():
            parts += [name] + list(values)
            clicks.update({v: Clickable("option", (name, v)) for v in values})
        parts += [product["Title"], f"Price: {product['Price']}", f"Rating: {product.get('Rating', 'N.A.')}",
                  "Description", "Features", "Reviews", "Buy Now"]
        clicks.update(buttons(*SUBPAGES, BUY))
        return SEP.join(parts), clicks
    if page.sub == "description":
        parts.append(product.get("Description") or "")
    elif page.sub == "features":
        parts += list(product.get("BulletPoints") or [])
    else:
        parts += [_review_text(r) for r in product.get("Reviews") or []]
    return SEP.join(parts), clicks


def _review_text(review: Any) -> str:
    if isinstance(review, dict):
        return " ".join(str(review.get(k, "")) for k in ("title", "score", "body") if review.get(k) is not None)
    return str(review)


def admissible(page: Page, clicks: dict[str, Clickable]) -> list[str]:
    """WebShop's available actions as action strings (the search one is a template, as in WebShop prompts)."""
    actions = ["search[<your query>]"] if page.kind == "search" else []
    return actions + [f"click[{c}]" for c in clicks]
