"""Anchor-state step groups for GiGPO: rows of one episode group that acted in the same state.

The key is either the raw observation (`obs_key`, what the GiGPO paper uses) or the env's
true-state key (`state_key`), which is exact where the engine exposes it. Exact matching is a
vectorised factorisation; fuzzy matching (a similarity ratio >= threshold to a group's
representative) compares distinct keys pairwise inside each episode group, so it is the slow,
optional path.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Literal

import numpy as np

from turnrl.batch import StepRows

from ._groups import combine_ids, dense_ids, factorize_keys

AnchorKey = Literal["obs", "state"]
Similarity = Callable[[str, str], float]


def row_keys(rows: StepRows, key: AnchorKey = "obs") -> np.ndarray:
    """The per-row key array selected by name."""
    if key == "obs":
        return rows.obs_key
    if key == "state":
        return rows.state_key
    raise ValueError(f"anchor key must be 'obs' or 'state', got {key!r}")


def key_codes(keys: np.ndarray) -> np.ndarray:
    """Dense code per key where every None key gets a code of its own (it matches nothing)."""
    codes = factorize_keys(keys)
    missing = codes < 0
    if missing.any():
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def exact_anchor_groups(keys: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Dense step-group id per row: same episode group and identical key. None never matches."""
    ids, _ = combine_ids(np.asarray(group, dtype=np.int64), key_codes(keys))
    return ids


def sequence_ratio(a: str, b: str) -> float:
    """difflib's similarity ratio 2*M/T in [0, 1] (1 means identical)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _closest(text: str, reps: list[str], threshold: float, similarity: Similarity | None) -> int:
    """Index of the most similar representative scoring >= threshold, or -1."""
    best, best_score = -1, threshold
    for i, rep in enumerate(reps):
        if similarity is None:
            matcher = difflib.SequenceMatcher(None, text, rep, autojunk=False)
            if matcher.real_quick_ratio() < best_score or matcher.quick_ratio() < best_score:
                continue  # both are upper bounds of ratio(): cheap rejection
            score = matcher.ratio()
        else:
            score = float(similarity(text, rep))
        if score >= best_score and (best < 0 or score > best_score):
            best, best_score = i, score
    return best


def fuzzy_anchor_groups(keys: np.ndarray, group: np.ndarray, threshold: float = 0.95,
                        similarity: Similarity | None = None) -> np.ndarray:
    """Step-group id per row where a key joins the most similar earlier representative of its
    episode group if their similarity >= threshold, else starts a new step group.

    Identical keys are merged first (vectorised), so the pairwise work is over distinct keys
    only. `similarity(a, b) -> [0, 1]` defaults to difflib's ratio; pass e.g. a rapidfuzz
    scorer divided by 100 for speed.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"similarity threshold must be in (0, 1], got {threshold!r}")
    exact = exact_anchor_groups(keys, group)
    if len(exact) == 0:
        return exact
    _, first = np.unique(exact, return_index=True)  # first row of each exact class
    cluster = np.empty(len(first), dtype=np.int64)
    reps: dict[int, tuple[list[str], list[int]]] = {}
    for cls in np.argsort(first, kind="stable"):  # classes in first-seen order
        text = keys[first[cls]]
        texts, ids = reps.setdefault(int(group[first[cls]]), ([], []))
        hit = -1 if text is None else _closest(str(text), texts, threshold, similarity)
        if hit >= 0:
            cluster[cls] = ids[hit]
        else:
            cluster[cls] = cls
            if text is not None:
                texts.append(str(text))
                ids.append(int(cls))
    merged, _ = dense_ids(cluster[exact])
    return merged


def anchor_groups(rows: StepRows, key: AnchorKey = "obs", threshold: float | None = None,
                  similarity: Similarity | None = None) -> np.ndarray:
    """Step groups of the rows: exact anchors when threshold is None (or 1), else fuzzy."""
    keys = row_keys(rows, key)
    if threshold is None or (threshold == 1.0 and similarity is None):
        return exact_anchor_groups(keys, rows.group)
    return fuzzy_anchor_groups(keys, rows.group, threshold, similarity)
