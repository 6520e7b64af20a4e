"""WebShop's pages in its text mode: page state, page text, clickables and transitions.

The text follows WebShop's observation modes: `text` (the visible texts of the HTML page joined
with " [SEP] ", the default) or `text_rich` (one text a line, clickables marked
`[button] ... [button_]`, chosen options announced with "You have clicked ..."); and the clickables follow its `get_available_actions`: lower-cased button and
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

    def choose(self, name: str, value: str) -> Page:
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


def page_segments(page: Page, catalog: Catalog, instruction: str,
                  hits: tuple[int, ...] = ()) -> tuple[list[tuple[str, str]], dict[str, Clickable]]:
    """The page's visible texts with their role ("text", "button", "product", "option",
    "chosen") and its clickables (lower-cased text -> what clicking it does)."""
    text = lambda *ts: [(t, "text") for t in ts]
    if page.kind == "search":
        return text("WebShop", "Instruction:", instruction) + [("Search", "button")], {}
    segs = text("Instruction:", instruction) + [("Back to Search", "button")]
    clicks = {BACK: Clickable("button", BACK)}
    if page.kind == "results":
        segs += text(f"Page {page.number} (Total results: {len(hits)})")
        if page.number > 1:
            segs.append(("< Prev", "button"))
            clicks[PREV] = Clickable("button", PREV)
        if page.number < n_result_pages(hits):
            segs.append(("Next >", "button"))
            clicks[NEXT] = Clickable("button", NEXT)
        for row in results_slice(hits, page.number):
            segs += [(catalog.asins[row], "product")] + text(catalog.titles[row], catalog.price_tags[row])
            clicks[catalog.asins[row].lower()] = Clickable("product", row)
        return segs, clicks
    product = catalog.product(page.row)
    segs.append(("< Prev", "button"))
    clicks[PREV] = Clickable("button", PREV)
    if page.kind == "item":
        chosen = dict(page.options)
        for name, values in catalog.options[page.row].items():
            segs += text(name) + [(v, "chosen" if chosen.get(name) == v else "option") for v in values]
            clicks.update({v: Clickable("option", (name, v)) for v in values})
        segs += text(product["Title"], f"Price: {product['Price']}", f"Rating: {product.get('Rating', 'N.A.')}")
        segs += [(b, "button") for b in ("Description", "Features", "Reviews", "Buy Now")]
        clicks.update({n: Clickable("button", n) for n in (*SUBPAGES, BUY)})
        return segs, clicks
    if page.sub == "description":
        segs += text(product.get("Description") or "")
    elif page.sub == "features":
        segs += text(*(product.get("BulletPoints") or []))
    else:
        segs += text(*(_review_text(r) for r in product.get("Reviews") or []))
    return segs, clicks


def format_simple(segments: list[tuple[str, str]]) -> str:
    """WebShop's `text` mode: the visible texts joined with [SEP]."""
    return SEP.join(t for t, _ in segments)


def format_rich(segments: list[tuple[str, str]]) -> str:
    """WebShop's `text_rich` mode: clickables marked [button] ... [button_], chosen options announced."""
    lines, clicked = [], []
    for t, role in segments:
        if role == "chosen":
            lines.append(f"  [clicked button] {t} [clicked button_]")
            clicked.append(f"You have clicked {t}.")
        elif role in ("option", "product"):
            lines.append(f"  [button] {t} [button_]")
        elif role == "button":
            lines.append(f"[button] {t} [button_]")
        else:
            lines.append(t)
    return "".join(c + "\n" for c in reversed(clicked)) + "".join(line + "\n" for line in lines)


FORMATS = {"text": format_simple, "text_rich": format_rich}


def render(page: Page, catalog: Catalog, instruction: str, hits: tuple[int, ...] = (),
           mode: str = "text") -> tuple[str, dict[str, Clickable]]:
    """The page text in observation `mode` ("text" or "text_rich") and its clickables."""
    segments, clicks = page_segments(page, catalog, instruction, hits)
    return FORMATS[mode](segments), clicks


def done_text(score: float, mode: str = "text") -> str:
    """The confirmation page after `Buy Now`."""
    segments = [("Thank you for shopping with us!", "text"), ("Your score (min 0.0, max 1.0)", "text"),
                (f"{score:.4f}", "text")]
    return FORMATS[mode](segments)


def _review_text(review: Any) -> str:
    if isinstance(review, dict):
        return " ".join(str(review.get(k, "")) for k in ("title", "score", "body") if review.get(k) is not None)
    return str(review)


def admissible(page: Page, clicks: dict[str, Clickable]) -> list[str]:
    """WebShop's available actions as action strings (the search one is a template, as in WebShop prompts)."""
    actions = ["search[<your query>]"] if page.kind == "search" else []
    return actions + [f"click[{c}]" for c in clicks]
