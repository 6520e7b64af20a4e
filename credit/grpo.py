"""GRPO: group-relative advantages from episode returns (Shao et al. 2024), and Dr. GRPO.

A_i = (R_i - mean_g R) / (std_g R + eps), or R_i - mean_g R with norm="mean" (Dr. GRPO).
per="step" (the verl-agent default) counts every step row as a sample of its group, so long
episodes weigh more in the statistics; per="trajectory" counts each episode once.

Singleton groups follow verl-agent by default: the mean-0/std-1 rule applies to a group with a
single *sample*, so under per="step" a one-trajectory group of 3 steps has 3 equal samples and
gets 0, and only a one-step trajectory alone in its group keeps A = R.
`singleton_by="trajectories"` (turnrl's earlier rule) treats every one-trajectory group as a
singleton whatever its length (A = R on all its steps).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from turnrl.batch import StepRows

from ._groups import Norm, Singleton, apply_singleton_rule, check_finite, group_moments, normalize_in_groups
from .penalties import invalid_penalty as penalty_of

Per = Literal["step", "trajectory"]
SingletonBy = Literal["samples", "trajectories"]


def row_scores(rows: StepRows, invalid_penalty: float = 0.0) -> np.ndarray:
    """Each row's episode return, minus the invalid-action penalty of that row only."""
    returns = check_finite(rows.traj_return, "episode returns")
    scores = returns[rows.traj]
    return scores + penalty_of(rows.valid, invalid_penalty) if invalid_penalty else scores


def group_relative(rows: StepRows, traj_values: np.ndarray, row_values: np.ndarray, *, norm: Norm = "std",
                   per: Per = "step", eps: float = 1e-6, ddof: int = 1, singleton: Singleton = "raw",
                   singleton_by: SingletonBy = "samples") -> np.ndarray:
    """Normalises `row_values` by group statistics of trajectory or row samples.

    A group with a single sample (singleton_by="samples", verl-agent) or a single trajectory
    (singleton_by="trajectories") follows `singleton` ("raw": mean 0, std 1 as in verl;
    "zero": advantage 0).
    """
    traj_values = check_finite(traj_values)
    row_values = check_finite(row_values)
    n_groups = rows.n_groups
    if per == "trajectory":
        mean, std, count = group_moments(traj_values, rows.traj_group, n_groups, ddof)
    elif per == "step":
        mean, std, count = group_moments(row_values, rows.group, n_groups, ddof)
    else:
        raise ValueError(f"per must be 'step' or 'trajectory', got {per!r}")
    if singleton_by == "trajectories":
        count = np.bincount(rows.traj_group, minlength=n_groups)
    elif singleton_by != "samples":
        raise ValueError(f"singleton_by must be 'samples' or 'trajectories', got {singleton_by!r}")
    single = count <= 1
    mean, std = apply_singleton_rule(mean, std, single, singleton)
    return normalize_in_groups(row_values, rows.group, mean, std, norm, eps)


def grpo(rows: StepRows, norm: Norm = "std", per: Per = "step", eps: float = 1e-6, ddof: int = 1,
         invalid_penalty: float = 0.0, singleton: Singleton = "raw", singleton_by: SingletonBy = "samples"
         ) -> np.ndarray:
    """GRPO advantage of every step row (the episode advantage broadcast to its steps).

    The invalid-action penalty lowers the row's own sample before normalisation with
    per="step" (as the reference does); with per="trajectory" the samples are whole episodes,
    so it is subtracted from the row's normalised advantage instead (subtracting it before
    would divide a tiny difference by eps in an all-equal group).
    """
    if len(rows) == 0:
        return np.zeros(0)
    if per == "trajectory":
        advantages = group_relative(rows, rows.traj_return, row_scores(rows), norm=norm, per=per, eps=eps,
                                    ddof=ddof, singleton=singleton, singleton_by=singleton_by)
        return advantages + penalty_of(rows.valid, invalid_penalty) if invalid_penalty else advantages
    return group_relative(rows, rows.traj_return, row_scores(rows, invalid_penalty), norm=norm, per=per,
                          eps=eps, ddof=ddof, singleton=singleton, singleton_by=singleton_by)
