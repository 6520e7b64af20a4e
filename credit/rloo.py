"""RLOO: REINFORCE with a leave-one-out baseline (Kool et al. 2019; Ahmadian et al. 2024).

A_i = R_i - mean_{j != i} R_j = n / (n - 1) * (R_i - mean_g R), with the n trajectories of the
group as samples. A group of one trajectory has no baseline; its advantage is 0.
"""
from __future__ import annotations

import numpy as np

from turnrl.batch import StepRows

from ._groups import check_finite, group_moments
from .penalties import invalid_penalty as penalty_of


def leave_one_out(scores: np.ndarray, groups: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """R_i minus the mean of the other members of its group, on flat per-sample arrays."""
    scores = check_finite(scores)
    groups = np.asarray(groups, dtype=np.int64)
    if scores.size == 0:
        return np.zeros(0)
    n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
    mean, _, count = group_moments(scores, groups, n_groups, ddof=0)
    n = count[groups]
    # R_i - (n mean - R_i) / (n - 1) rewritten around the group mean, which is exact for
    # all-equal groups, so they get exactly 0 rather than rounding noise.
    return np.where(n > 1, n / np.maximum(n - 1, 1) * (scores - mean[groups]), 0.0)


def rloo(rows: StepRows, invalid_penalty: float = 0.0) -> np.ndarray:
    """RLOO advantage of every step row: its trajectory's leave-one-out advantage (+ penalty)."""
    if len(rows) == 0:
        return np.zeros(0)
    per_traj = leave_one_out(rows.traj_return, rows.traj_group, rows.n_groups)
    advantages = per_traj[rows.traj]
    return advantages + penalty_of(rows.valid, invalid_penalty) if invalid_penalty else advantages
