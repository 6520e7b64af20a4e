"""Vectorised group statistics shared by every group-relative method.

Everything here works on flat arrays with a dense integer group id per sample and uses
`np.bincount` / `np.unique`, so the cost is O(n) (O(n log n) for factorising) with no Python
loop over samples.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

Norm = Literal["std", "mean"]
Singleton = Literal["raw", "zero"]


def check_finite(values: np.ndarray, what: str = "rewards") -> np.ndarray:
    """Returns `values` as float64, raising a clear error on NaN or infinite entries."""
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(f"{what} contain NaN or infinite values at {len(bad)} position(s), first: {bad[:5].tolist()}")
    return arr


def dense_ids(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Maps arbitrary integer ids to 0..k-1 (sorted order); returns (dense ids, k)."""
    ids = np.asarray(ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    uniq, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(np.int64, copy=False).reshape(-1), len(uniq)


def combine_ids(*ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense id of each tuple (ids[0][i], ids[1][i], ...): equal tuples share an id."""
    out, k = dense_ids(ids[0])
    for nxt in ids[1:]:
        nxt, k_next = dense_ids(nxt)
        out, k = dense_ids(out * np.int64(max(k_next, 1)) + nxt)
    return out, k


def factorize_keys(keys: np.ndarray) -> np.ndarray:
    """Dense ids for hashable keys (strings); None keys get -1 (they match nothing).

    Hashes the keys in C (`map(hash, ...)`), groups the hashes with `np.unique`, then verifies
    every key equals its class representative, so a hash collision can never merge two
    different keys (a collision falls back to an exact dictionary pass).
    """
    keys = np.asarray(keys, dtype=object).reshape(-1)
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    missing = np.equal(keys, None)
    try:
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
    except TypeError as err:
        raise TypeError(f"keys must be hashable (str or None): {err}") from None
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not bool(np.all(keys == keys[first[inverse]])):
        table: dict = {}
        inverse = np.fromiter((table.setdefault(k, len(table)) for k in keys), dtype=np.int64, count=len(keys))
    codes = inverse.astype(np.int64, copy=False)
    codes[missing] = -1
    return codes


def group_moments(values: np.ndarray, groups: np.ndarray, n_groups: int, ddof: int = 1
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group (mean, std, count) of `values`.

    Groups whose samples are all identical get their exact value as mean and std 0, so centred
    values are exactly 0 there (a float mean of equal numbers can be off by one ulp). Groups
    with count <= ddof get std 0.
    """
    count = np.bincount(groups, minlength=n_groups).astype(np.float64)
    safe = np.maximum(count, 1.0)
    mean = np.bincount(groups, weights=values, minlength=n_groups) / safe
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    np.minimum.at(low, groups, values)
    np.maximum.at(high, groups, values)
    constant = (low == high) & (count > 0)
    mean = np.where(constant, low, mean)
    centred = values - mean[groups]
    check_finite(np.concatenate([mean, centred]), "group means of the rewards (too large to normalise; rescale them)")
    # Scaled sum of squares: squaring |centred| ~ 1e154 would overflow to inf (and every
    # advantage to 0); dividing by the group's largest |centred| first keeps it exact and finite.
    scale = np.zeros(n_groups)
    np.maximum.at(scale, groups, np.abs(centred))
    safe_scale = np.where(scale > 0, scale, 1.0)
    sq = np.bincount(groups, weights=(centred / safe_scale[groups]) ** 2, minlength=n_groups)
    std = safe_scale * np.sqrt(sq / np.maximum(count - ddof, 1.0))
    std[constant | (count <= ddof)] = 0.0
    return mean, std, count


def normalize_in_groups(scores: np.ndarray, score_groups: np.ndarray, mean: np.ndarray, std: np.ndarray,
                        norm: Norm = "std", eps: float = 1e-6) -> np.ndarray:
    """(score - mean_g) / (std_g + eps), or score - mean_g for norm="mean" (Dr. GRPO)."""
    centred = scores - mean[score_groups]
    if norm == "mean":
        return centred
    if norm != "std":
        raise ValueError(f"norm must be 'std' or 'mean', got {norm!r}")
    return centred / (std[score_groups] + eps)


def standardize(values: np.ndarray, groups: np.ndarray, n_groups: int | None = None, *, norm: Norm = "std",
                eps: float = 1e-6, ddof: int = 1, singleton: Singleton = "zero") -> np.ndarray:
    """Group-normalises samples by their own group's statistics.

    singleton="zero": a group of one sample gets advantage 0 (nothing to compare with);
    singleton="raw": mean 0 and std 1, i.e. the raw value (the verl GRPO convention).
    """
    values = check_finite(values, "values")
    groups = np.asarray(groups, dtype=np.int64)
    if values.size == 0:
        return np.zeros(0)
    n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
    mean, std, count = group_moments(values, groups, n_groups, ddof)
    mean, std = apply_singleton_rule(mean, std, count <= 1, singleton)
    return normalize_in_groups(values, groups, mean, std, norm, eps)


def apply_singleton_rule(mean: np.ndarray, std: np.ndarray, single: np.ndarray, singleton: Singleton
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Overrides the statistics of one-sample groups according to `singleton`."""
    if singleton == "raw":
        return np.where(single, 0.0, mean), np.where(single, 1.0, std)
    if singleton != "zero":
        raise ValueError(f"singleton must be 'raw' or 'zero', got {singleton!r}")
    return mean, std


def next_row(traj: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Index of the row that follows each row in its trajectory (by step), -1 for the last one."""
    n = len(traj)
    nxt = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return nxt
    order = np.lexsort((step, traj))
    same = traj[order[:-1]] == traj[order[1:]]
    nxt[order[:-1][same]] = order[1:][same]
    return nxt
