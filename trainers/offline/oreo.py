"""OREO losses (Offline REasoning Optimization, arXiv 2412.16145): soft Bellman with a sparse outcome reward.

Soft Bellman, undiscounted, reward R only at the end: V(s_t) - V(s_{t+1}) = r_t - beta * log(pi/pi_ref)(a_t|s_t),
which telescopes to V(s_t) = R - beta * sum_{i>=t} log(pi/pi_ref)(a_i|s_i). Both losses square the same residual

    beta * sum_{i>=t} logratio_i + V(s_t) - R

- value loss: log-ratios held fixed, gradient into V only;
- policy loss: V held fixed, gradient only through the CURRENT log-ratio (step-level: the whole turn;
  token-level: one token, later tokens and later turns held fixed), plus alpha * KL(pi || pi_ref).

Tensors: one row per agent step ([B] steps, rows of one trajectory contiguous and in order), response
tokens left-aligned in [B, T] with a 0/1 `mask`. Value positions are [B, T+1]: column k is the state
before response token k (k = 0 is s_t, the prompt end; k = n_b the state after the whole action).
`reward` per row is the reward-to-go from that step (the outcome R for sparse rewards), which
keeps the telescoped targets right for dense rewards too.

Defaults follow the reference (jwhj/OREO, openrlhf/trainer/pcl_trainer.py) where it differs:
- average="trajectory": squared residuals are averaged per trajectory, then over the batch, so a
  long trajectory weighs as much as a short one; average="position" is turnrl's earlier mean
  over all positions of the batch;
- the token-level value loss trains V at the states before each action token only; the state
  right after an action (k = n_b) is trained only with after_action=True (turnrl's earlier rule);
- step_level=True trains V at step starts only (k = 0), as the reference's step-level variant.
"""
from __future__ import annotations

import torch


def future_step_sums(step_sums: torch.Tensor, traj: torch.Tensor) -> torch.Tensor:
    """sum_{i>t, same trajectory} step_sums[i] for each row t (rows of a trajectory contiguous)."""
    suffix = torch.flip(torch.cumsum(torch.flip(step_sums, [0]), 0), [0])  # sum over rows >= t
    suffix = torch.cat([suffix, suffix.new_zeros(1)])
    n = len(traj)
    is_last = torch.ones(n, dtype=torch.bool, device=traj.device)
    if n > 1:
        is_last[:-1] = traj[1:] != traj[:-1]
    last_index = torch.flip(torch.cummin(torch.flip(torch.where(is_last, torch.arange(n, device=traj.device),
                                                                      torch.full_like(traj, n)), [0]), 0).values, [0])
    return suffix[1: n + 1] - suffix[last_index + 1]


def token_suffix_sums(token_logratio: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, T+1]: column k = sum_{j>=k} logratio_j of the row's own response (0 at and after its end)."""
    masked = token_logratio * mask
    suffix = torch.flip(torch.cumsum(torch.flip(masked, [1]), 1), [1])
    return torch.cat([suffix, suffix.new_zeros(suffix.shape[0], 1)], dim=1)


def value_mask_from(mask: torch.Tensor, after_action: bool = False, step_level: bool = False) -> torch.Tensor:
    """[B, T+1] 0/1 value positions: the states before each response token (0..n_b - 1), plus the
    state after the last one (n_b) with `after_action`, or only the step start (0) with `step_level`."""
    if step_level:
        vmask = torch.zeros(mask.shape[0], mask.shape[1] + 1, dtype=mask.dtype, device=mask.device)
        vmask[:, 0] = 1
        return vmask
    if after_action:
        return torch.cat([mask.new_ones(mask.shape[0], 1), mask], dim=1)
    return torch.cat([mask, mask.new_zeros(mask.shape[0], 1)], dim=1)


def masked_mean(squares: torch.Tensor, weight: torch.Tensor, traj: torch.Tensor, average: str = "trajectory"
                ) -> torch.Tensor:
    """Mean of `squares` over the positions where `weight` is 1: per trajectory and then over the
    trajectories (average="trajectory", reference), or over all positions at once ("position")."""
    weighted = (squares * weight).reshape(len(traj), -1).sum(-1)
    counts = weight.reshape(len(traj), -1).sum(-1)
    if average == "position":
        return weighted.sum() / counts.sum().clamp(min=1)
    if average != "trajectory":
        raise ValueError(f"average must be 'trajectory' or 'position', got {average!r}")
    n = int(traj.max()) + 1 if len(traj) else 0
    per_traj = torch.zeros(n, dtype=weighted.dtype, device=weighted.device).index_add(0, traj, weighted)
    per_count = torch.zeros(n, dtype=counts.dtype, device=counts.device).index_add(0, traj, counts)
    present = per_count > 0
    return (per_traj[present] / per_count[present]).mean() if bool(present.any()) else weighted.sum() * 0


def telescoped_targets(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor,
                       reward: torch.Tensor, beta: float) -> torch.Tensor:
    """[B, T+1] soft-Bellman value targets R - beta * (log-ratios from this token to the episode end), no grad."""
    lr = token_logratio.detach()
    future = future_step_sums((lr * mask).sum(-1), traj)
    return reward[:, None] - beta * (token_suffix_sums(lr, mask) + future[:, None])


def value_loss(values: torch.Tensor, token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor,
               reward: torch.Tensor, beta: float, step_level: bool = False, after_action: bool = False,
               average: str = "trajectory") -> torch.Tensor:
    """Mean squared residual over the value positions (see `value_mask_from`), averaged by `average`."""
    target = telescoped_targets(token_logratio, mask, traj, reward, beta)
    vmask = value_mask_from(mask, after_action, step_level)
    return masked_mean((values - target).square(), vmask, traj, average)


def policy_loss_step(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor, reward: torch.Tensor,
                     values: torch.Tensor, beta: float, average: str = "trajectory") -> torch.Tensor:
    """Step-level OREO policy loss: the turn's whole log-ratio carries the gradient, V(s_t) and later turns fixed."""
    step_lr = (token_logratio * mask).sum(-1)
    future = future_step_sums(step_lr.detach(), traj)
    residual = beta * step_lr + beta * future + values[:, 0].detach() - reward
    return masked_mean(residual.square(), torch.ones_like(residual), traj, average)


def policy_loss_token(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor, reward: torch.Tensor,
                      values: torch.Tensor, beta: float, average: str = "trajectory") -> torch.Tensor:
    """Token-level OREO policy loss: each token's own log-ratio carries the gradient, everything after it fixed."""
    lr_fixed = token_logratio.detach()
    future = future_step_sums((lr_fixed * mask).sum(-1), traj)
    later_tokens = token_suffix_sums(lr_fixed, mask)[:, 1:]  # sum_{j>k}
    residual = beta * token_logratio + beta * (later_tokens + future[:, None]) + values[:, :-1].detach() - reward[:, None]
    return masked_mean(residual.square(), mask, traj, average)


def exact_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over response positions of KL(pi || pi_ref) over the whole vocabulary (exact, not sampled:
    the dataset actions are not samples of pi, so a sample-based estimator would be biased here)."""
    logp = torch.log_softmax(logits.float(), -1)
    logq = torch.log_softmax(ref_logits.float(), -1)
    kl = (logp.exp() * (logp - logq)).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp(min=1)
