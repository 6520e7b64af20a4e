"""Behaviour cloning on successful trajectories, and rejection sampling (BC on the policy's own successes).

BC maximises the log-likelihood of the response tokens of won trajectories (token mean).
Rejection sampling (RFT / the paper's baseline) samples episodes from the current policy, keeps the
won ones and clones them; `rejection_sample` does the collect-and-filter half.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from turnrl.types import Trajectory


def bc_loss(token_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood per response token, averaged over the tokens of the batch."""
    return -(token_logprobs * mask).sum() / mask.sum().clamp(min=1)


def successful(trajectories: Sequence[Trajectory]) -> list[Trajectory]:
    return [t for t in trajectories if t.won]


def rejection_sample(pool: Any, agent: Any, tasks: list, samples_per_task: int, max_steps: int) -> list[Trajectory]:
    """Runs every task `samples_per_task` times with `agent` and keeps the won episodes."""
    from turnrl.rollout import collect

    return successful(collect(pool, agent, tasks, group_size=samples_per_task, max_steps=max_steps, progress=False))
