"""Log-probabilities of given response ids under a causal LM: shared by the trainer and the policies.

Sequences are packed right-padded as `prompt + response`, so position ids are plain ranges and
no left-padding offsets are needed. `response_logprobs` keeps the graph (for the policy loss);
`response_logprobs_list` is the no-grad, chunked form for rollouts, scoring and tests.
Log-probs are of the raw model distribution divided by `temperature` (1.0 = the raw policy).
"""
from __future__ import annotations

from typing import Sequence

import torch


def pack_right_padded(prompt_ids: Sequence[Sequence[int]], response_ids: Sequence[Sequence[int]], pad_id: int,
                      device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, response_mask), each [B, L]; response_mask marks response tokens."""
    if len(prompt_ids) != len(response_ids):
        raise ValueError(f"{len(prompt_ids)} prompts but {len(response_ids)} responses")
    lengths = [len(p) + len(r) for p, r in zip(prompt_ids, response_ids)]
    if any(len(p) == 0 for p in prompt_ids):
        raise ValueError("every prompt needs at least one token")
    width = max(lengths)
    input_ids = torch.full((len(lengths), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(lengths), width), dtype=torch.long)
    response = torch.zeros((len(lengths), width), dtype=torch.bool)
    for b, (p, r) in enumerate(zip(prompt_ids, response_ids)):
        input_ids[b, : len(p) + len(r)] = torch.tensor(list(p) + list(r), dtype=torch.long)
        attention[b, : len(p) + len(r)] = 1
        response[b, len(p): len(p) + len(r)] = True
    return input_ids.to(device), attention.to(device), response.to(device)


def token_logprobs(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   temperature: float = 1.0) -> torch.Tensor:
    """[B, L-1]: log p(input_ids[:, t+1] | input_ids[:, :t+1]) under the model (with grad)."""
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()
    if temperature != 1.0:
        logits = logits / temperature
    targets = input_ids[:, 1:]
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)


def response_logprobs(model: torch.nn.Module, prompt_ids: Sequence[Sequence[int]],
                      response_ids: Sequence[Sequence[int]], pad_id: int = 0,
                      temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(logprobs, mask), each [B, R_max]: response token log-probs left-aligned, mask of real tokens."""
    device = next(model.parameters()).device
    input_ids, attention, _ = pack_right_padded(prompt_ids, response_ids, pad_id, device)
    lp = token_logprobs(model, input_ids, attention, temperature)  # column t scores token t+1
    r_max = max((len(r) for r in response_ids), default=0)
    out = torch.zeros((len(response_ids), r_max), dtype=lp.dtype, device=device)
    out_mask = torch.zeros((len(response_ids), r_max), dtype=torch.bool, device=device)
    for b, (p, r) in enumerate(zip(prompt_ids, response_ids)):
        if len(r):
            out[b, : len(r)] = lp[b, len(p) - 1: len(p) - 1 + len(r)]
            out_mask[b, : len(r)] = True
    return out, out_mask


@torch.no_grad()
def response_logprobs_list(model: torch.nn.Module, prompt_ids: Sequence[Sequence[int]],
                           response_ids: Sequence[Sequence[int]], pad_id: int = 0, temperature: float = 1.0,
                           batch_size: int = 8) -> list[list[float]]:
    """Per-sequence lists of response log-probs, computed in chunks of `batch_size` without grad."""
    result: list[list[float]] = []
    for start in range(0, len(prompt_ids), batch_size):
        p, r = prompt_ids[start:start + batch_size], response_ids[start:start + batch_size]
        lp, mask = response_logprobs(model, p, r, pad_id, temperature)
        result += [lp[b, : len(r[b])].tolist() for b in range(len(r))]
    return result
