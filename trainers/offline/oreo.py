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


def value_mask_from(mask: torch.Tensor) -> torch.Tensor:
    """[B, T+1]: value positions 0..n_b of each row (the states before each token and after the last)."""
    ones = mask.new_ones(mask.shape[0], 1)
    return torch.cat([ones, mask], dim=1)


def telescoped_targets(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor,
                       reward: torch.Tensor, beta: float) -> torch.Tensor:
    """[B, T+1] soft-Bellman value targets R - beta * (log-ratios from this token to the episode end), no grad."""
    lr = token_logratio.detach()
    future = future_step_sums((lr * mask).sum(-1), traj)
    return reward[:, None] - beta * (token_suffix_sums(lr, mask) + future[:, None])


def value_loss(values: torch.Tensor, token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor,
               reward: torch.Tensor, beta: float, step_level: bool = False) -> torch.Tensor:
    """Mean squared residual over value positions (all tokens, or only s_t with `step_level`)."""
    target = telescoped_targets(token_logratio, mask, traj, reward, beta)
    vmask = value_mask_from(mask)
    if step_level:
        vmask = torch.zeros_like(vmask)
        vmask[:, 0] = 1
    residual = (values - target) * vmask
    return residual.square().sum() / vmask.sum().clamp(min=1)


def policy_loss_step(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor, reward: torch.Tensor,
                     values: torch.Tensor, beta: float) -> torch.Tensor:
    """Step-level OREO policy loss: the turn's whole log-ratio carries the gradient, V(s_t) and later turns fixed."""
    step_lr = (token_logratio * mask).sum(-1)
    future = future_step_sums(step_lr.detach(), traj)
    residual = beta * step_lr + beta * future + values[:, 0].detach() - reward
    return residual.square().mean()


def policy_loss_token(token_logratio: torch.Tensor, mask: torch.Tensor, traj: torch.Tensor, reward: torch.Tensor,
                      values: torch.Tensor, beta: float) -> torch.Tensor:
    """Token-level OREO policy loss: each token's own log-ratio carries the gradient, everything after it fixed."""
    lr_fixed = token_logratio.detach()
    future = future_step_sums((lr_fixed * mask).sum(-1), traj)
    later_tokens = token_suffix_sums(lr_fixed, mask)[:, 1:]  # sum_{j>k}
    residual = beta * token_logratio + beta * (later_tokens + future[:, None]) + values[:, :-1].detach() - reward[:, None]
    return (residual.square() * mask).sum() / mask.sum().clamp(min=1)


def exact_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over response positions of KL(pi || pi_ref) over the whole vocabulary (exact, not sampled:
    the dataset actions are not samples of pi, so a sample-based estimator would be biased here)."""
    logp = torch.log_softmax(logits.float(), -1)
    logq = torch.log_softmax(ref_logits.float(), -1)
    kl = (logp.exp() * (logp - logq)).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp(min=1)
