"""Trajectory-level DPO and its reference-free variant SimPO, on success/failure pairs of the same task.

The log-likelihood of a trajectory is the sum over its turns of the log-probabilities of the
agent's response tokens (observations are the environment's, not the policy's, so they carry no
log-probability). DPO (Rafailov et al., 2023): -log sigmoid(beta * [(log pi_c - log ref_c) - (log pi_r - log ref_r)]).
SimPO (Meng et al., 2024): -log sigmoid(beta * (log pi_c / |c| - log pi_r / |r|) - gamma), no reference model,
lengths |.| in response tokens.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean loss, per-pair implicit reward margin) from summed sequence log-probs, each [P]."""
    margin = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -F.logsigmoid(margin).mean(), margin.detach()


def simpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, chosen_tokens: torch.Tensor,
               rejected_tokens: torch.Tensor, beta: float = 2.0, gamma: float = 1.0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean loss, per-pair margin) with length-normalised log-probs and target margin `gamma`."""
    margin = beta * (policy_chosen / chosen_tokens.clamp(min=1) - policy_rejected / rejected_tokens.clamp(min=1)) - gamma
    return -F.logsigmoid(margin).mean(), margin.detach()
