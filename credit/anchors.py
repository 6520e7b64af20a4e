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
Match = Literal["first", "best"]
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


def _score(text: str, rep: str, bound: float, similarity: Similarity | None, autojunk: bool) -> float:
    """Similarity of `text` to `rep`, or -1 when difflib's cheap upper bounds already fall below `bound`."""
    if similarity is not None:
        return float(similarity(text, rep))
    matcher = difflib.SequenceMatcher(None, text, rep, autojunk=autojunk)
    if matcher.real_quick_ratio() < bound or matcher.quick_ratio() < bound:
        return -1.0  # both are upper bounds of ratio(): cheap rejection
    return matcher.ratio()


def _pick(text: str, reps: list[str], threshold: float, similarity: Similarity | None, match: Match,
          autojunk: bool) -> int:
    """Index of the representative `text` joins, or -1.

    match="first": the first representative (in creation order) scoring >= threshold
    (verl-agent); match="best": the highest-scoring one, ties to the earlier.
    """
    best, best_score = -1, threshold
    for i, rep in enumerate(reps):
        score = _score(text, rep, best_score, similarity, autojunk)
        if match == "first" and score >= threshold:
            return i
        if score >= best_score and (best < 0 or score > best_score):
            best, best_score = i, score
    return best


def fuzzy_anchor_groups(keys: np.ndarray, group: np.ndarray, threshold: float = 0.95,
                        similarity: Similarity | None = None, match: Match = "first",
                        autojunk: bool = True) -> np.ndarray:
    """Step-group id per row: a key joins a representative of its episode group whose similarity
    is >= threshold, else starts a new step group with itself as representative.

    Defaults follow verl-agent's `build_step_group`: difflib's `SequenceMatcher(None, key, rep)`
    with its default autojunk, keys in row order, the FIRST representative above the threshold.
    The paper states only "similarity to the group's representative >= threshold", which the
    first-match rule satisfies. match="best" with autojunk=False is turnrl's earlier rule (the
    most similar representative; autojunk ignores characters frequent in keys of 200+ characters).

    Identical keys are merged first (vectorised; difflib scores identical strings 1.0), so the
    pairwise work is over distinct keys only. `similarity(a, b) -> [0, 1]` replaces difflib,
    e.g. a rapidfuzz scorer divided by 100 for speed.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"similarity threshold must be in (0, 1], got {threshold!r}")
    if match not in ("first", "best"):
        raise ValueError(f"match must be 'first' or 'best', got {match!r}")
    exact = exact_anchor_groups(keys, group)
    if len(exact) == 0:
        return exact
    _, first = np.unique(exact, return_index=True)  # first row of each exact class
    cluster = np.empty(len(first), dtype=np.int64)
    reps: dict[int, tuple[list[str], list[int]]] = {}
    for cls in np.argsort(first, kind="stable"):  # classes in first-seen order
        text = keys[first[cls]]
        texts, ids = reps.setdefault(int(group[first[cls]]), ([], []))
        hit = -1 if text is None else _pick(str(text), texts, threshold, similarity, match, autojunk)
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
                  similarity: Similarity | None = None, match: Match = "first", autojunk: bool = True) -> np.ndarray:
    """Step groups of the rows: exact anchors when threshold is None (or 1), else fuzzy."""
    keys = row_keys(rows, key)
    if threshold is None or (threshold == 1.0 and similarity is None):
        return exact_anchor_groups(keys, rows.group)
    return fuzzy_anchor_groups(keys, rows.group, threshold, similarity, match, autojunk)
