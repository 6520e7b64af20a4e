"""Per-step rows -> padded per-token micro-batches for the policy loss.

One `TokenRow` per agent step (prompt ids, response ids, behaviour log-probs, advantage). A
mini-batch is split into micro-batches under a token budget after sorting by length, so rows
of similar length share a micro-batch and padding stays small; `padding_waste` reports it.
Tensors are right-padded `prompt + response`; `targets_mask[b, t]` marks positions whose NEXT
token is a response token, i.e. the logits columns the loss reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from turnrl.types import Step


@dataclass
class TokenRow:
    prompt_ids: list[int]
    response_ids: list[int]
    old_logprobs: list[float]
    advantage: float
    ref_logprobs: list[float] | None = None

    @property
    def length(self) -> int:
        return len(self.prompt_ids) + len(self.response_ids)


@dataclass
class MicroBatch:
    """[B, L] ids and attention; [B, L-1] per-token tensors aligned with next-token logits."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    targets_mask: torch.Tensor
    old_logprobs: torch.Tensor
    advantages: torch.Tensor
    ref_logprobs: torch.Tensor | None
    rows: list[int]  # indices into the row list this batch was built from

    @property
    def n_tokens(self) -> int:
        return int(self.targets_mask.sum().item())

    def to(self, device: torch.device | str) -> "MicroBatch":
        move = (lambda t: None if t is None else t.to(device))
        return MicroBatch(move(self.input_ids), move(self.attention_mask), move(self.targets_mask),
                          move(self.old_logprobs), move(self.advantages), move(self.ref_logprobs), self.rows)


def token_rows(steps: Sequence[Step], advantages: np.ndarray, keep: np.ndarray | None = None) -> list[TokenRow]:
    """One row per step that carries token ids, for `steps` in step-row order (`turnrl.batch.to_rows`).

    `keep` (a boolean mask over the step rows) leaves rows out, e.g. groups without signal.
    Steps without token ids (a scripted fallback, a crashed worker's placeholder) cannot be
    trained on and are skipped.
    """
    if len(steps) != len(advantages) or (keep is not None and len(keep) != len(steps)):
        raise ValueError(f"{len(advantages)} advantages (and mask) for {len(steps)} step rows")
    rows = []
    for i, step in enumerate(steps):
        ids, lps = step.response_ids, step.response_logprobs
        if (keep is None or keep[i]) and step.prompt_ids and ids and lps is not None and len(lps) == len(ids):
            rows.append(TokenRow(list(step.prompt_ids), list(ids), list(lps), float(advantages[i])))
    return rows


def split_by_tokens(rows: Sequence[TokenRow], order: Sequence[int], budget: int) -> list[list[int]]:
    """Greedy packing of `order` (sorted by length) into groups whose padded size B*L fits `budget`.

    A single row longer than the budget still gets a micro-batch of its own.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        new_width = max(width, rows[i].length)
        if current and new_width * (len(current) + 1) > budget:
            groups.append(current)
            current, new_width = [], rows[i].length
        current.append(i)
        width = new_width
    if current:
        groups.append(current)
    return groups


def collate(rows: Sequence[TokenRow], indices: Sequence[int], pad_id: int) -> MicroBatch:
    """Right-padded tensors for the rows `indices`."""
    width = max(rows[i].length for i in indices)
    b = len(indices)
    input_ids = torch.full((b, width), pad_id, dtype=torch.long)
    attention = torch.zeros((b, width), dtype=torch.long)
    targets = torch.zeros((b, width - 1), dtype=torch.bool)
    old = torch.zeros((b, width - 1), dtype=torch.float32)
    adv = torch.zeros((b, width - 1), dtype=torch.float32)
    has_ref = all(rows[i].ref_logprobs is not None for i in indices)
    ref = torch.zeros((b, width - 1), dtype=torch.float32) if has_ref else None
    for k, i in enumerate(indices):
        r = rows[i]
        p, n = len(r.prompt_ids), len(r.response_ids)
        input_ids[k, : p + n] = torch.tensor(r.prompt_ids + r.response_ids, dtype=torch.long)
        attention[k, : p + n] = 1
        span = slice(p - 1, p - 1 + n)  # logits at position t predict token t+1
        targets[k, span] = True
        old[k, span] = torch.tensor(r.old_logprobs, dtype=torch.float32)
        adv[k, span] = r.advantage
        if ref is not None:
            ref[k, span] = torch.tensor(r.ref_logprobs, dtype=torch.float32)
    return MicroBatch(input_ids, attention, targets, old, adv, ref, list(indices))


def micro_batches(rows: Sequence[TokenRow], indices: Sequence[int], pad_id: int, budget: int) -> list[MicroBatch]:
    """The rows `indices` of one mini-batch as length-sorted micro-batches under `budget` tokens."""
    order = sorted(indices, key=lambda i: rows[i].length)
    return [collate(rows, group, pad_id) for group in split_by_tokens(rows, order, budget)]


def padding_waste(batches: Sequence[MicroBatch]) -> float:
    """Share of the computed positions that are padding (0 = none wasted)."""
    total = sum(b.input_ids.numel() for b in batches)
    real = sum(int(b.attention_mask.sum().item()) for b in batches)
    return 1.0 - real / total if total else 0.0


def mini_batch_indices(n: int, n_mini: int, generator: np.random.Generator,
                       keep_empty: bool = False) -> list[np.ndarray]:
    """A shuffled split of range(n) into `n_mini` nearly equal mini-batches.

    Empty ones are dropped unless `keep_empty` (data-parallel ranks must all take the same number
    of optimiser steps, even a rank with fewer rows than mini-batches).
    """
    parts = np.array_split(generator.permutation(n), n_mini)
    return [p for p in parts if keep_empty or len(p)]
