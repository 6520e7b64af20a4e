"""Tokenized steps -> padded tensors for the offline losses, and the forward passes they need.

Rows are agent steps, rows of one trajectory contiguous and in order (`traj` says which). Sequences
are right-padded `prompt + response`; the logits column `p - 1 + k` predicts response token k and
the hidden state there is the state before token k, so token log-probs and values are gathered from
the same start column `p - 1`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from turnrl.agents.logprobs import pack_right_padded
from turnrl.trainers.offline.datasets import TokenizedTrajectory
from turnrl.trainers.offline.value_model import gather_positions


@dataclass
class StepBatch:
    input_ids: torch.Tensor  # [B, L]
    attention_mask: torch.Tensor  # [B, L]
    starts: torch.Tensor  # [B] column p - 1
    targets: torch.Tensor  # [B, T] response ids, left-aligned, 0-padded
    mask: torch.Tensor  # [B, T] float 0/1
    traj: torch.Tensor  # [B] trajectory index within the batch
    reward: torch.Tensor  # [B] reward-to-go of the row's step (the outcome R for sparse rewards)

    def to(self, device: torch.device) -> "StepBatch":
        return StepBatch(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.starts, self.targets,
                                                   self.mask, self.traj, self.reward)))

    @property
    def width(self) -> int:
        return self.targets.shape[1]


def pack_steps(trajectories: Sequence[TokenizedTrajectory], pad_id: int) -> StepBatch:
    prompts, responses, traj, reward = [], [], [], []
    for i, t in enumerate(trajectories):
        for s, target in zip(t.steps, t.step_targets(), strict=True):
            prompts.append(s.prompt_ids)
            responses.append(s.response_ids)
            traj.append(i)
            reward.append(target)
    input_ids, attention, _ = pack_right_padded(prompts, responses, pad_id)
    width = max(len(r) for r in responses)
    targets = torch.zeros((len(responses), width), dtype=torch.long)
    mask = torch.zeros((len(responses), width))
    for b, r in enumerate(responses):
        targets[b, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[b, : len(r)] = 1.0
    starts = torch.tensor([len(p) - 1 for p in prompts], dtype=torch.long)
    return StepBatch(input_ids, attention, starts, targets, mask, torch.tensor(traj), torch.tensor(reward, dtype=torch.float32))


def response_logits(model: torch.nn.Module, batch: StepBatch) -> torch.Tensor:
    """[B, T, V] logits at the response positions only (the prompt's logits are never materialised twice)."""
    out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, output_hidden_states=False)
    logits = out.logits
    index = (batch.starts[:, None] + torch.arange(batch.width, device=logits.device)[None, :]).clamp(
        max=logits.shape[1] - 1)
    return logits.gather(1, index[:, :, None].expand(-1, -1, logits.shape[-1])).float()


def logprobs_of(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, T] log-probabilities of the response tokens (0 at padding)."""
    lp = torch.log_softmax(logits, -1).gather(-1, targets[:, :, None]).squeeze(-1)
    return lp * mask


def state_values(value_model: torch.nn.Module, batch: StepBatch) -> torch.Tensor:
    """[B, T+1] values of the states before each response token and after the last one."""
    values = value_model(batch.input_ids, batch.attention_mask)
    return gather_positions(values, batch.starts, batch.width + 1)
