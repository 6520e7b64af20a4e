"""WebShop goals: what to buy (instruction, attributes, options, price ceiling) and the splits.

Synthetic goals follow WebShop's rule: for every product with a synthetic instruction, one goal
per combination of its option values (option names sorted), all sharing one price ceiling drawn
from the first four of 10, 20, ..., 990 above the product price (the larger of two draws; none
if fewer than two). The 415 instructed products of the 1,000-product catalog give 6,910 goals.
They are kept as small arrays (product row, combination number, ceiling) and turned into a
`Goal` only when an episode needs one, so env copies and workers stay light.

Human goals are the human-written instructions attached to catalog products (13 here; the data's
`human_goals_fixed100.json` names products outside the catalog and has no attributes, so it
cannot be scored and is not used).

Splits: goals are shuffled once with seed 233 (as WebShop does); with at least 1,000 goals,
test = the first 500 and train = the rest (the GiGPO/WebShop convention); smaller sets split in
half (test = first half).
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from turnrl.envs.webshop.catalog import Catalog
from turnrl.envs.webshop.data import INSTRUCTIONS, read_json

SHUFFLE_SEED = 233
PRICE_STEPS = [10.0 * i for i in range(1, 100)]
NO_CEILING = 1_000_000.0
TEST_SIZE = 500
SPLITS = ("train", "test", "all")
KINDS = ("synthetic", "human")


@dataclass(frozen=True)
class Goal:
    asin: str
    instruction_text: str
    attributes: tuple[str, ...]
    goal_options: dict[str, str]  # option name -> value ("" names when the source gives values only)
    price_upper: float
    query: str
    category: str
    product_category: str
    name: str  # the goal product's title
    weight: float
    kind: str = "synthetic"  # "human" goals list option values only

    def reward_view(self) -> dict[str, Any]:
        """The goal as `reward.purchase_reward` reads it: options as the reference passes them
        (a synthetic goal's name -> value dict, a human goal's list of values)."""
        options = dict(self.goal_options) if self.kind == "synthetic" else list(self.goal_options.values())
        return {"attributes": self.attributes, "goal_options": options,
                "price_upper": self.price_upper, "query": self.query,
                "product_category": self.product_category, "name": self.name}


def price_ceiling(price: float, rng: np.random.Generator) -> float:
    steps = [p for p in PRICE_STEPS if p > price][:4]
    if len(steps) < 2:
        return NO_CEILING
    return float(max(rng.choice(steps, size=2, replace=False)))


def price_text(ceiling: float) -> str:
    return "" if ceiling >= NO_CEILING else f", and price lower than {ceiling:.2f} dollars"


def option_combination(options: dict[str, list[str]], number: int) -> dict[str, str]:
    """The `number`-th combination of option values (names sorted, last name varying fastest)."""
    names = sorted(options)
    chosen: dict[str, str] = {}
    for name in reversed(names):
        number, k = divmod(number, len(options[name]))
        chosen[name] = options[name][k]
    return {name: chosen[name] for name in names}


def _weights(attribute_lists: list[tuple[str, ...]], counts: list[int]) -> list[float]:
    per_attribute: Counter[str] = Counter()
    for attrs, n in zip(attribute_lists, counts):
        for a in attrs:
            per_attribute[a] += n
    return [sum(1.0 / per_attribute[a] for a in attrs) / len(attrs) for attrs in attribute_lists]


class GoalSet:
    """All goals of one kind in WebShop's shuffled order; `goal(i)` builds the i-th."""

    def __init__(self, catalog: Catalog, kind: str):
        if kind not in KINDS:
            raise ValueError(f"goal kind must be one of {KINDS}, got {kind!r}")
        self.catalog, self.kind = catalog, kind
        self._texts: dict[int, tuple[str, tuple[str, ...]]] = {}  # synthetic: row -> (instruction, attributes)
        self._human: list[dict[str, Any]] = []  # human: the instruction records, by goal number
        rows, numbers, ceilings, weights = self._synthetic() if kind == "synthetic" else self._human_goals()
        order = np.random.default_rng(SHUFFLE_SEED).permutation(len(rows))
        self.rows = np.asarray(rows, dtype=np.int32)[order]
        self.numbers = np.asarray(numbers, dtype=np.int64)[order]
        self.ceilings = np.asarray(ceilings, dtype=np.float64)[order]
        self.weights = np.asarray(weights, dtype=np.float64)[order]

    def _instructions(self) -> dict[str, dict[str, Any]]:
        path = self.catalog.data_dir / INSTRUCTIONS
        data = read_json(path)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected an object of ASIN -> instruction, got {type(data).__name__}")
        for asin, entry in data.items():
            problem = instruction_problem(entry)
            if problem:
                raise ValueError(f"{path}: entry {asin!r}: {problem}")
        return data

    def _synthetic(self) -> tuple[list, list, list, list]:
        ins, rng = self._instructions(), np.random.default_rng(SHUFFLE_SEED)
        rows, numbers, ceilings, attrs, counts = [], [], [], [], []
        for row, asin in enumerate(self.catalog.asins):
            entry = ins.get(asin) or {}
            if not entry.get("instruction") or not entry.get("instruction_attributes"):
                continue
            self._texts[row] = (entry["instruction"], tuple(entry["instruction_attributes"]))
            n = math.prod(len(v) for v in self.catalog.options[row].values())
            ceiling = price_ceiling(float(self.catalog.prices[row]), rng)
            rows += [row] * n
            numbers += range(n)
            ceilings += [ceiling] * n
            attrs.append(self._texts[row][1])
            counts.append(n)
        per_product = _weights(attrs, counts)
        weights = [w for w, n in zip(per_product, counts) for _ in range(n)]
        return rows, numbers, ceilings, weights

    def _human_goals(self) -> tuple[list, list, list, list]:
        rng = np.random.default_rng(SHUFFLE_SEED)
        rows, ceilings = [], []
        for row in range(len(self.catalog)):
            product = self.catalog.product(row)
            for h in product.get("instructions") or []:
                if not h.get("instruction_attributes"):
                    continue  # WebShop skips human goals without attributes
                rows.append(row)
                ceilings.append(price_ceiling(float(self.catalog.prices[row]), rng))
                self._human.append(h)
        weights = _weights([tuple(h["instruction_attributes"]) for h in self._human], [1] * len(self._human))
        return rows, list(range(len(rows))), ceilings, weights

    def __len__(self) -> int:
        return len(self.rows)

    def split_indices(self, split: str) -> np.ndarray:
        """Goal indices of `split` (see the module docstring for the rule)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        n = len(self)
        n_test = TEST_SIZE if n >= 2 * TEST_SIZE else n // 2
        return {"test": np.arange(n_test), "train": np.arange(n_test, n), "all": np.arange(n)}[split]

    def goal(self, i: int) -> Goal:
        row, number, ceiling = int(self.rows[i]), int(self.numbers[i]), float(self.ceilings[i])
        product = self.catalog.product(row)
        if self.kind == "synthetic":
            text, attributes = self._texts[row]
            options = option_combination(self.catalog.options[row], number)
            option_text = ", and ".join(f"{k}: {v}" for k, v in options.items())
            text = text + (f" with {option_text}" if option_text else "") + price_text(ceiling)
        else:
            h = self._human[number]
            attributes = tuple(h["instruction_attributes"])
            options = {_option_name(self.catalog.options[row], v): v for v in h.get("instruction_options") or []}
            text = h["instruction"].strip(".") + price_text(ceiling)
        return Goal(asin=product["asin"], instruction_text=text, attributes=attributes, goal_options=options,
                    price_upper=ceiling, query=product.get("query", ""), category=product.get("category", ""),
                    product_category=product.get("product_category", ""), name=product["Title"],
                    weight=float(self.weights[i]), kind=self.kind)


def instruction_problem(entry: Any) -> str | None:
    """Why a synthetic-instruction entry cannot make goals (wrong field types), or None."""
    if not isinstance(entry, dict):
        return f"expected an object, got {type(entry).__name__}"
    if not isinstance(entry.get("instruction", ""), (str, type(None))):
        return f"'instruction' must be text, got {type(entry['instruction']).__name__}"
    attributes = entry.get("instruction_attributes", [])
    if attributes is not None and (not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes)):
        return "'instruction_attributes' must be a list of strings"
    return None


def _option_name(options: dict[str, list[str]], value: str) -> str:
    return next((name for name, values in options.items() if value in values), f"option {value}")


@functools.lru_cache(maxsize=8)
def load_goals(catalog: Catalog, kind: str) -> GoalSet:
    """One goal set per (catalog, kind) per process."""
    return GoalSet(catalog, kind)
