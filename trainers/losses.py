"""The policy-gradient loss on response tokens: PPO-clip with clip-higher and dual clip, KL to a
frozen reference, entropy bonus, and the three usual ways to aggregate token losses.

All functions take [B, T] tensors aligned token by token with a 0/1 `mask` of response tokens.
Aggregation divides by totals of the WHOLE mini-batch (`n_tokens`, `n_seqs`), not of the
micro-batch, so gradient accumulation and data-parallel ranks sum to exactly the same gradient
as one big batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


K3_CLAMP = 10.0  # verl's low_var_kl clamps the per-token k3 value to [-10, 10]


def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str = "k3",
               k3_clamp: float | None = K3_CLAMP) -> torch.Tensor:
    """Per-token estimate of KL(pi || ref) from samples of pi (Schulman's k1/k2/k3).

    k1 = log pi - log ref is unbiased but high-variance and can be negative; k3 = r - 1 - log r
    with r = ref/pi is unbiased, never negative and low-variance; k2 = (log r)^2 / 2 is biased.
    k3 is clamped to [-k3_clamp, k3_clamp] as verl does (log-ratio 5: e^5 - 6 = 142.4 -> 10), so
    one token far from the reference cannot dominate the loss; k3_clamp=None leaves it unclamped.
    """
    log_ratio = ref_logp - logp
    if estimator == "k1":
        return -log_ratio
    if estimator == "k2":
        return 0.5 * log_ratio.square()
    if estimator == "k3":
        log_ratio = log_ratio.clamp(-20.0, 20.0)  # exp overflow guard (verl does the same)
        k3 = torch.exp(log_ratio) - 1.0 - log_ratio
        return k3 if k3_clamp is None else k3.clamp(-k3_clamp, k3_clamp)
    raise ValueError(f"unknown KL estimator {estimator!r}; use k1, k2 or k3")


def clipped_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                        clip_low: float = 0.2, clip_high: float = 0.28,
                        dual_clip: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token PPO-clip loss and a 0/1 tensor of tokens where clipping took effect.

    The ratio is clipped to [1 - clip_low, 1 + clip_high] (clip-higher when clip_high > clip_low).
    Dual clip (Ye et al., 2020) caps the loss of negative-advantage tokens at -dual_clip * A, so a
    token whose ratio exploded cannot dominate the batch.
    """
    ratio = torch.exp((logp - old_logp).clamp(-20.0, 20.0))
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    was_clipped = (clipped > unclipped).float()
    if dual_clip is not None:
        cap = -advantages * dual_clip
        dual = (advantages < 0) & (loss > cap)
        loss = torch.where(dual, cap, loss)
        was_clipped = torch.where(dual, torch.ones_like(was_clipped), was_clipped)
    return loss, was_clipped


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Per-position entropy of softmax(logits), [B, T, V] -> [B, T]."""
    logz = torch.logsumexp(logits, dim=-1)
    return logz - (torch.softmax(logits, dim=-1) * logits).sum(-1)


def aggregate(values: torch.Tensor, mask: torch.Tensor, mode: str, n_tokens: float, n_seqs: float) -> torch.Tensor:
    """Reduces [B, T] token values to a scalar; this micro-batch's share of the mini-batch loss.

    token-mean: every token of the mini-batch weighs the same (DAPO); seq-mean-token-mean: mean per
    sequence, then mean over sequences (GRPO paper); seq-mean-token-sum: sum per sequence, mean over
    sequences (Dr. GRPO style, no length normalisation).
    """
    masked = values * mask
    if mode == "token-mean":
        return masked.sum() / max(n_tokens, 1.0)
    per_seq = masked.sum(-1)
    if mode == "seq-mean-token-mean":
        per_seq = per_seq / mask.sum(-1).clamp(min=1.0)
    elif mode != "seq-mean-token-sum":
        raise ValueError(f"unknown loss aggregation {mode!r}")
    return per_seq.sum() / max(n_seqs, 1.0)


@dataclass
class LossTerms:
    """The scalar to backpropagate and the (detached) statistics that go to the metrics."""

    loss: torch.Tensor
    policy_loss: float
    kl: float
    entropy: float
    clip_fraction: float


def ppo_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
             n_tokens: float, n_seqs: float, ref_logp: torch.Tensor | None = None,
             entropy: torch.Tensor | None = None, clip_low: float = 0.2, clip_high: float = 0.28,
             dual_clip: float | None = None, kl_coef: float = 0.0, kl_estimator: str = "k3",
             entropy_coef: float = 0.0, agg: str = "token-mean") -> LossTerms:
    """Policy loss + kl_coef * KL - entropy_coef * entropy, each aggregated the same way."""
    mask = mask.to(logp.dtype)
    pg, clipped = clipped_policy_loss(logp, old_logp, advantages, clip_low, clip_high, dual_clip)
    pg_loss = aggregate(pg, mask, agg, n_tokens, n_seqs)
    total = pg_loss
    kl_value = torch.zeros((), device=logp.device)
    if ref_logp is not None:
        kl_value = aggregate(kl_penalty(logp, ref_logp, kl_estimator), mask, agg, n_tokens, n_seqs)
        if kl_coef:
            total = total + kl_coef * kl_value
    ent_value = torch.zeros((), device=logp.device)
    if entropy is not None:
        ent_value = aggregate(entropy, mask, agg, n_tokens, n_seqs)
        if entropy_coef:
            total = total - entropy_coef * ent_value
    clip_share = (clipped * mask).sum().item() / max(n_tokens, 1.0)
    return LossTerms(total, pg_loss.item(), kl_value.item(), ent_value.item(), clip_share)
