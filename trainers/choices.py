"""The action-level policy loss of scoring mode: PPO on log pi(a|s) over the admissible actions.

A scoring agent's step carries the prompt, every candidate's token ids and log pi_old(a|s) of
the action it sampled (`agents.scoring`). Here the trainer recomputes log pi(a|s) with gradient
through the very function the rollout used, so one step is one PPO sample: the ratio
pi(a|s) / pi_old(a|s), clipping, the KL to the reference and the entropy are all those of the
action distribution. Steps are packed into micro-batches under a token budget (prompt once
plus candidates at their padded width), the same budget the token-level loss uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from turnrl.agents.scoring import (action_log_probs, candidate_token_logprobs, chunks_by_budget, scoring_cost,
                                   scores_from_token_logprobs)
from turnrl.types import Step


@dataclass
class ChoiceRow:
    prompt_ids: list[int]
    candidate_ids: list[list[int]]
    index: int  # which candidate was taken
    old_logprob: float  # log pi_old(a|s) recorded by the rollout
    advantage: float
    ref_logprob: float | None = None

    @property
    def cost(self) -> int:
        return scoring_cost(self.prompt_ids, self.candidate_ids)


def choice_rows(steps: Sequence[Step], advantages: np.ndarray, keep: np.ndarray | None = None) -> list[ChoiceRow]:
    """One row per step that a scoring agent chose among candidates, for `steps` in step-row order.

    `keep` (a boolean mask over the step rows) leaves rows out. Steps without candidates (free
    generation where an env listed no admissible actions, a crashed worker's placeholder) have no
    action distribution to train and are skipped.
    """
    if len(steps) != len(advantages) or (keep is not None and len(keep) != len(steps)):
        raise ValueError(f"{len(advantages)} advantages (and mask) for {len(steps)} step rows")
    rows = []
    for i, step in enumerate(steps):
        if (keep is None or keep[i]) and step.prompt_ids and step.candidate_ids and step.response_ids \
                and step.action_logprob is not None:
            rows.append(ChoiceRow(list(step.prompt_ids), [list(c) for c in step.candidate_ids],
                                  step.candidate_ids.index(list(step.response_ids)), float(step.action_logprob),
                                  float(advantages[i])))
    return rows


def choice_micro_batches(rows: Sequence[ChoiceRow], indices: Sequence[int], budget: int) -> list[list[int]]:
    """The rows `indices` in cost order, packed into micro-batches of at most `budget` tokens."""
    order = sorted(indices, key=lambda i: rows[i].cost)
    return [[order[k] for k in chunk] for chunk in chunks_by_budget([rows[i].cost for i in order], budget)]


def choice_log_probs(model: torch.nn.Module, rows: Sequence[ChoiceRow], pad_id: int, score_rule: str,
                     temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """([B] log pi(a|s) of each row's taken action, [B] entropy of pi(.|s)), with gradient."""
    per_step = candidate_token_logprobs(model, [r.prompt_ids for r in rows], [r.candidate_ids for r in rows], pad_id)
    chosen, entropy = [], []
    for row, (token_lp, mask) in zip(rows, per_step):
        logp = action_log_probs(scores_from_token_logprobs(token_lp, mask, score_rule), temperature)
        chosen.append(logp[row.index])
        entropy.append(-(logp.exp() * logp).sum())
    return torch.stack(chosen), torch.stack(entropy)
