"""GiGPO: group-in-group policy optimisation (Feng et al. 2025, arXiv 2505.10978).

A = A^E + omega * A^S. A^E is the GRPO episode advantage; A^S normalises the discounted step
return G_t = r_t + gamma G_{t+1} among the rows of the same episode group that acted in the
same anchor state (a singleton step group gets A^S = 0). No critic is involved.
"""
from __future__ import annotations

import numpy as np

from turnrl.batch import StepRows

from ._groups import Norm, standardize
from .anchors import AnchorKey, Match, Similarity, anchor_groups
from .gae import returns
from .grpo import Per, SingletonBy, grpo
from .penalties import invalid_penalty as penalty_of


def step_advantages(rows: StepRows, gamma: float = 0.95, norm: Norm = "std", eps: float = 1e-6, ddof: int = 1,
                    anchor: AnchorKey = "obs", threshold: float | None = None, similarity: Similarity | None = None,
                    invalid_penalty: float = 0.0, match: Match = "first", autojunk: bool = True) -> np.ndarray:
    """A^S: each row's step return normalised within its anchor-state step group."""
    if len(rows) == 0:
        return np.zeros(0)
    step_return = returns(rows, gamma)
    if invalid_penalty:
        step_return = step_return + penalty_of(rows.valid, invalid_penalty)  # this row only
    step_groups = anchor_groups(rows, anchor, threshold, similarity, match, autojunk)
    return standardize(step_return, step_groups, norm=norm, eps=eps, ddof=ddof, singleton="zero")


def gigpo(rows: StepRows, gamma: float = 0.95, omega: float = 1.0, norm: Norm = "std", per: Per = "step",
          eps: float = 1e-6, ddof: int = 1, anchor: AnchorKey = "obs", threshold: float | None = None,
          similarity: Similarity | None = None, invalid_penalty: float = 0.0, singleton_by: SingletonBy = "samples",
          match: Match = "first", autojunk: bool = True) -> np.ndarray:
    """GiGPO advantage of every step row.

    anchor: "obs" groups by the raw observation (paper), "state" by the env's true-state key.
    threshold: None for exact anchors, else fuzzy anchors at that similarity (paper: 0.95);
    `match` and `autojunk` choose the fuzzy rule (see anchors.fuzzy_anchor_groups).
    singleton_by: the episode advantage's singleton rule (see grpo).
    """
    episode = grpo(rows, norm=norm, per=per, eps=eps, ddof=ddof, invalid_penalty=invalid_penalty,
                   singleton_by=singleton_by)
    step = step_advantages(rows, gamma, norm, eps, ddof, anchor, threshold, similarity, invalid_penalty, match,
                           autojunk)
    return episode + omega * step
