"""Scoring mode: an LLM policy that is an exact distribution over the admissible actions.

    score(a | s)  = mean (or sum) of log p_LM(token) over the ids of `<action>a</action><eos>`
    pi(a | s)     = softmax over the distinct admissible actions of score(a | s) / T

Rollouts sample from pi (argmax at T = 0) and record log pi(a|s) of the chosen action with every
candidate's token ids; the trainer recomputes log pi(a|s) with gradient through the same
`candidate_scores`, so the PPO ratio, clipping, KL and entropy are those of this action
distribution, not of the chosen candidate's tokens alone. `turnrl eval --agent-arg mode=score`
plays this very policy, so evaluation and training rank candidates by one rule.

Cost: each step's prompt is encoded once; all its candidates then run as one batch on the
prompt's KV cache, and the prompts of all envs of a lockstep step share one forward pass.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import torch

from turnrl.agents.hf import HFPolicy
from turnrl.agents.parsing import CLOSE, OPEN
from turnrl.types import AgentInput, AgentOutput

SCORE_RULES = ("mean", "sum")


def candidate_token_logprobs(model: torch.nn.Module, prompts: Sequence[Sequence[int]],
                             candidates: Sequence[Sequence[Sequence[int]]], pad_id: int
                             ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per prompt: ([n, C] log-probs of each candidate's tokens after that prompt, [n, C] mask).

    Prompts are left-padded into one batch (explicit position ids, so padding shifts nothing);
    the cache rows are then repeated once per candidate and the right-padded candidates run on
    it. Gradient flows when the caller has it enabled (the trainer), through the cache too.
    """
    device = next(model.parameters()).device
    if len(prompts) != len(candidates):
        raise ValueError(f"{len(prompts)} prompts but {len(candidates)} candidate sets")
    if any(not p for p in prompts) or any(not c for cs in candidates for c in cs) or any(not cs for cs in candidates):
        raise ValueError("every prompt, candidate set and candidate needs at least one token")
    width = max(len(p) for p in prompts)
    prompt_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    prompt_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for s, p in enumerate(prompts):
        prompt_ids[s, width - len(p):] = torch.tensor(list(p))
        prompt_mask[s, width - len(p):] = 1
    prompt_ids, prompt_mask = prompt_ids.to(device), prompt_mask.to(device)
    positions = (prompt_mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=prompt_ids, attention_mask=prompt_mask, position_ids=positions, use_cache=True,
                logits_to_keep=1)  # only the last position's logits: [S, P, vocab] is never built
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # [S, V]: the candidates' first token

    flat = [c for cs in candidates for c in cs]
    owner = torch.tensor([s for s, cs in enumerate(candidates) for _ in cs], device=device)
    c_width = max(len(c) for c in flat)
    ids = torch.full((len(flat), c_width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(flat), c_width), dtype=torch.bool)
    for k, c in enumerate(flat):
        ids[k, : len(c)] = torch.tensor(list(c))
        mask[k, : len(c)] = True
    ids, mask = ids.to(device), mask.to(device)
    cache = out[_cache_argument(model)]  # the output names the cache like the forward argument
    cache.batch_select_indices(owner)
    prompt_lengths = prompt_mask.sum(-1)[owner]
    attention = torch.cat([prompt_mask[owner], mask.long()], dim=1)
    cand_positions = prompt_lengths[:, None] + torch.arange(c_width, device=device)[None, :]
    logits = model(input_ids=ids, attention_mask=attention, position_ids=cand_positions,
                   **{_cache_argument(model): cache}).logits[:, :-1]
    lp_first = first[owner].gather(1, ids[:, :1])  # [N, 1]
    if c_width > 1:
        body = logits[mask[:, 1:]].float()  # only real next-token positions get a softmax
        picked = body.gather(-1, ids[:, 1:][mask[:, 1:]].unsqueeze(-1)).squeeze(-1) - torch.logsumexp(body, -1)
        rest = torch.zeros(mask[:, 1:].shape, dtype=picked.dtype, device=device).masked_scatter(mask[:, 1:], picked)
        token_lp = torch.cat([lp_first, rest], dim=1)
    else:
        token_lp = lp_first
    token_lp = token_lp * mask
    result, start = [], 0
    for cs in candidates:
        result.append((token_lp[start:start + len(cs)], mask[start:start + len(cs)]))
        start += len(cs)
    return result


def scores_from_token_logprobs(token_lp: torch.Tensor, mask: torch.Tensor, rule: str = "mean") -> torch.Tensor:
    """[n] candidate scores: mean or sum of each candidate's token log-probs."""
    total = token_lp.sum(-1)
    if rule == "sum":
        return total
    if rule == "mean":
        return total / mask.sum(-1).clamp(min=1)
    raise ValueError(f"score rule must be one of {SCORE_RULES}, not {rule!r}")


def action_log_probs(scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """log pi(. | s) over the candidates; temperature 0 is treated as 1 (greedy picks the argmax,
    and the distribution stays defined for logging and training)."""
    t = temperature if temperature > 0 else 1.0
    return torch.log_softmax(scores.double() / t, dim=-1)


def chunks_by_budget(sizes: Sequence[int], budget: int) -> list[list[int]]:
    """Consecutive index chunks whose summed size stays within `budget` (one item may exceed it)."""
    out: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, n in enumerate(sizes):
        if current and used + n > budget:
            out.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        out.append(current)
    return out


def scoring_cost(prompt: Sequence[int], candidates: Sequence[Sequence[int]]) -> int:
    """Tokens one step puts through the model (prompt once, candidates at their padded width)."""
    return len(prompt) + len(candidates) * max(len(c) for c in candidates)


class ScoringPolicy(HFPolicy):
    """Samples one admissible action from pi(a|s) (see the module docstring); greedy at T = 0.

    Observations without admissible actions fall back to free generation. `score` picks the
    mean (default: short commands are not favoured a priori) or sum of token log-probs.
    """

    name = "hf-score"

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *, score: str = "mean",
                 score_budget_tokens: int = 4096, **kwargs: Any):
        kwargs.pop("mode", None)
        super().__init__(model, tokenizer, mode="score", **kwargs)
        if score not in SCORE_RULES:
            raise ValueError(f"score must be one of {SCORE_RULES}, not {score!r}")
        self.score_rule = score
        self.score_budget_tokens = score_budget_tokens
        seed = kwargs.get("seed")
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None  # None: torch's global RNG

    # ---- the agent interface ----------------------------------------------------------------
    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        outputs: list[AgentOutput | None] = [None] * len(inputs)
        free = [i for i, x in enumerate(inputs) if not x.admissible_actions]
        scored = [i for i, x in enumerate(inputs) if x.admissible_actions]
        if free:
            prompts = [self.prompt_ids(inputs[i]) for i in free]
            from turnrl.agents.generation import to_agent_output

            for i, gen in zip(free, self.generate(prompts)):
                outputs[i] = to_agent_output(inputs[i], gen, self.map_to_admissible)
        if scored:
            prompts = [self.prompt_ids(inputs[i]) for i in scored]
            for i, out in zip(scored, self.choose(prompts, [inputs[i].admissible_actions or [] for i in scored])):
                outputs[i] = out
        return [o for o in outputs if o is not None]

    # ---- the distribution -------------------------------------------------------------------
    @torch.no_grad()
    def distributions(self, prompts: Sequence[Sequence[int]], candidates: Sequence[Sequence[Sequence[int]]]
                      ) -> list[tuple[torch.Tensor, list[list[float]]]]:
        """Per step: (log pi over its candidates [n], each candidate's raw token log-probs)."""
        was_training = self.model.training
        self.model.eval()
        try:
            result: list[tuple[torch.Tensor, list[list[float]]]] = []
            costs = [scoring_cost(p, c) for p, c in zip(prompts, candidates)]
            for chunk in chunks_by_budget(costs, self.score_budget_tokens):
                with self.compute():
                    per_step = candidate_token_logprobs(self.model, [prompts[i] for i in chunk],
                                                        [candidates[i] for i in chunk], self.pad_id)
                for token_lp, mask in per_step:
                    scores = scores_from_token_logprobs(token_lp, mask, self.score_rule)
                    tokens = [token_lp[k, : int(mask[k].sum())].cpu().tolist() for k in range(len(mask))]
                    result.append((action_log_probs(scores, self.sampling.temperature).cpu(), tokens))
            return result
        finally:
            self.model.train(was_training)

    def choose(self, prompts: Sequence[Sequence[int]], actions: Sequence[Sequence[str]]) -> list[AgentOutput]:
        """One action per step, sampled from pi(a|s) (argmax at temperature 0)."""
        distinct = [list(dict.fromkeys(a)) for a in actions]
        candidates = [[self.candidate_ids(a) for a in acts] for acts in distinct]
        outputs = []
        for prompt, acts, ids, (logp, tokens) in zip(prompts, distinct, candidates,
                                                      self.distributions(prompts, candidates)):
            if self.sampling.temperature == 0:
                k = int(torch.argmax(logp))
            else:
                k = int(torch.multinomial(logp.exp(), 1, generator=self.generator))
            outputs.append(AgentOutput(action=acts[k], raw_text=f"{OPEN}{acts[k]}{CLOSE}", prompt_ids=list(prompt),
                                       response_ids=ids[k], response_logprobs=tokens[k], candidate_ids=ids,
                                       action_logprob=float(logp[k])))
        return outputs

    def candidate_logprobs(self, prompt: list[int], candidates: list[list[int]]) -> list[list[float]]:
        """Raw token log-probs of each candidate after one prompt (for value-guided search)."""
        return self.distributions([prompt], [candidates])[0][1]


def _cache_argument(model: torch.nn.Module) -> str:
    """The KV-cache keyword: `cache` in some transformers releases, `past_key_values` in others."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under peft
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
