"""GDPO: decoupled normalisation of several rewards (arXiv 2601.05242).

GRPO sums the reward components and then normalises, so different combinations with the same
sum look alike. GDPO normalises each component k inside the group first,
Ahat_k = (r_k - mean_g r_k) / (std_g r_k + eps), sums them with weights w_k, then normalises that
sum once more over the whole batch.

The batch normalisation follows TRL's GDPO by default, (pre - mean) / (std + 1e-4);
batch_norm="verl" uses verl's (pre - mean) / sqrt(var + 1e-8). turnrl's earlier rule,
std + 1e-8, is batch_norm="trl" with batch_eps=1e-8: it blows a 1e-9 reward difference up to
an advantage of order 1, where the references keep it below 0.1.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from turnrl.batch import StepRows

from ._groups import Singleton, check_finite, group_moments, standardize
from .grpo import Per, group_relative
from .penalties import invalid_penalty as penalty_of

BatchNorm = Literal["trl", "verl"]
BATCH_EPS = {"trl": 1e-4, "verl": 1e-8}


def _weights(names: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(names))
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(names)
        if unknown:
            raise ValueError(f"weights for unknown reward components: {sorted(unknown)}; known: {list(names)}")
        return np.array([float(weights.get(k, 1.0)) for k in names])
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(names),):
        raise ValueError(f"expected {len(names)} weights for components {list(names)}, got {w.shape}")
    return check_finite(w, "weights")


def gdpo_arrays(components: Mapping[str, np.ndarray], groups: np.ndarray,
                weights: Mapping[str, float] | Sequence[float] | None = None, eps: float = 1e-4,
                batch_eps: float | None = None, ddof: int = 1, singleton: Singleton = "raw",
                batch_norm: BatchNorm = "trl") -> np.ndarray:
    """GDPO on flat per-sample arrays: {name: reward per sample}, group id per sample."""
    if not components:
        raise ValueError("GDPO needs at least one reward component")
    names = list(components)
    w = _weights(names, weights)
    groups = np.asarray(groups, dtype=np.int64)
    if groups.size == 0:
        return np.zeros(0)
    n_groups = int(groups.max()) + 1
    pre = np.zeros(len(groups))
    for k, weight in zip(names, w, strict=True):
        values = check_finite(components[k], f"reward component {k!r}")
        if values.shape != groups.shape:
            raise ValueError(f"component {k!r} has shape {values.shape}, expected {groups.shape}")
        pre += weight * standardize(values, groups, n_groups, eps=eps, ddof=ddof, singleton=singleton)
    return batch_normalize(pre, batch_eps, ddof, batch_norm)


def batch_normalize(values: np.ndarray, eps: float | None = None, ddof: int = 1, rule: BatchNorm = "trl"
                    ) -> np.ndarray:
    """Normalises over the whole batch (all-equal values give 0).

    rule="trl": (v - mean) / (std + eps), eps 1e-4; rule="verl": (v - mean) / sqrt(var + eps),
    eps 1e-8 (eps None picks the rule's own).
    """
    if rule not in BATCH_EPS:
        raise ValueError(f"batch_norm must be one of {sorted(BATCH_EPS)}, got {rule!r}")
    eps = BATCH_EPS[rule] if eps is None else eps
    whole_batch = np.zeros(len(values), dtype=np.int64)
    if rule == "trl":
        return standardize(values, whole_batch, 1, eps=eps, ddof=ddof, singleton="zero")
    centred = standardize(values, whole_batch, 1, norm="mean", ddof=ddof, singleton="zero")
    _, std, _ = group_moments(check_finite(values), whole_batch, 1, ddof)
    return centred / np.sqrt(std[0] ** 2 + eps)


def gdpo(rows: StepRows, components: Sequence[str] | None = None,
         weights: Mapping[str, float] | Sequence[float] | None = None, per: Per = "step", eps: float = 1e-4,
         batch_eps: float | None = None, ddof: int = 1, invalid_penalty: float = 0.0,
         batch_norm: BatchNorm = "trl") -> np.ndarray:
    """GDPO advantage of every step row from the trajectories' summed reward components.

    components: names to use (default: all in `rows.traj_components`; with none recorded, the
    episode return is the single component). per="step" counts every row as a sample of its
    group and of the batch, per="trajectory" each episode once. A group of one trajectory
    follows the GRPO convention (mean 0, std 1). The invalid-action penalty is
    subtracted from that row's final advantage. batch_norm / batch_eps: see the module docstring.
    """
    if len(rows) == 0:
        return np.zeros(0)
    available = dict(rows.traj_components) or {"return": rows.traj_return}
    names = list(components) if components is not None else list(available)
    missing = [k for k in names if k not in available]
    if missing:
        raise ValueError(f"unknown reward components {missing}; the rows have {sorted(available)}")
    if per == "step":  # group statistics over rows, one-trajectory groups as in GRPO
        w = _weights(names, weights)
        pre = sum(weight * group_relative(rows, available[k], available[k][rows.traj], per="step", eps=eps,
                                          ddof=ddof) for k, weight in zip(names, w, strict=True))
        advantages = batch_normalize(pre, batch_eps, ddof, batch_norm)
    elif per == "trajectory":
        advantages = gdpo_arrays({k: available[k] for k in names}, rows.traj_group, weights, eps, batch_eps,
                                 ddof, batch_norm=batch_norm)[rows.traj]
    else:
        raise ValueError(f"per must be 'step' or 'trajectory', got {per!r}")
    return advantages + penalty_of(rows.valid, invalid_penalty) if invalid_penalty else advantages
