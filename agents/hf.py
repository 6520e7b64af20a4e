"""A Hugging Face causal LM as a batched agent policy (token-in, token-out).

`HFPolicy.act` renders one chat prompt per env (`agents.prompts`), generates for all of them at
once with left padding, stops each row at `</action>` or EOS, and parses the action
(`agents.parsing`). Each output carries the exact prompt ids, the exact generated response ids
(never re-tokenised text) and their log-probabilities.

Log-probs: `response_logprobs` are of the RAW model distribution (softmax of the logits at
temperature 1, before temperature, top-k or top-p), recorded at generation time by a logits
processor placed before the sampling warpers. That is what a policy-gradient trainer needs as
the behaviour log-prob; `agents.logprobs.response_logprobs` recomputes the same numbers with a
separate forward pass.

`mode="score"` (`make_hf_agent`, `turnrl eval --agent-arg mode=score`) builds the
`agents.scoring.ScoringPolicy` instead: an exact softmax policy over the admissible actions,
the same one the trainer trains.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from typing import Any, Sequence

import torch
from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LogitsProcessor, LogitsProcessorList,
                          StoppingCriteria, StoppingCriteriaList)

from turnrl.agents.generation import SAMPLING_KEYS, Generation, SamplingParams, to_agent_output
from turnrl.agents.parsing import CLOSE, OPEN
from turnrl.agents.prompts import PromptTemplate, fit_prompt_ids, template_named
from turnrl.types import AgentInput, AgentOutput


class _RawLogprobRecorder(LogitsProcessor):
    """Sees the raw logits first; at each call records log p(token chosen at the previous call)."""

    def __init__(self) -> None:
        self.previous: torch.Tensor | None = None
        self.chosen: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.previous is not None:
            self.chosen.append(self.previous.gather(1, input_ids[:, -1:]).squeeze(1))
        self.previous = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def logprobs(self, generated: torch.Tensor) -> torch.Tensor:
        """[B, T] log-probs aligned with the T generated tokens."""
        chosen = list(self.chosen[: generated.shape[1]])
        if len(chosen) < generated.shape[1] and self.previous is not None:
            chosen.append(self.previous.gather(1, generated[:, -1:]).squeeze(1))
        return torch.stack(chosen, dim=1).cpu()


AUTOCAST = {None: None, "off": None, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16}


def autocast_dtype(name: str | None) -> torch.dtype | None:
    """`bf16`: matrix products in bfloat16 over float32 weights (2-2.5x faster than float32 on CPUs
    with AVX512-BF16 or AMX, and the usual choice on CUDA); `off`/None: the weights' own dtype."""
    try:
        return AUTOCAST[name]
    except KeyError:
        raise ValueError(f"autocast must be 'off' or 'bf16', not {name!r}") from None


def compute_context(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class HFPolicy:
    """Batched LLM agent over any local `transformers` causal LM; `.model` is what the trainer updates."""

    name = "hf"

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *, device: str | torch.device | None = None,
                 sampling: SamplingParams | None = None, mode: str = "generate", history_window: int | None = 4,
                 max_prompt_tokens: int | None = 2048, batch_size: int = 16, map_to_admissible: bool = True,
                 seed: int | None = None, template: PromptTemplate | None = None, autocast: str | None = None):
        if mode not in ("generate", "score"):
            raise ValueError(f"mode must be 'generate' or 'score', not {mode!r}")
        if mode == "score" and type(self) is HFPolicy:
            raise ValueError("scoring mode is agents.scoring.ScoringPolicy (make_hf_agent(..., mode='score'))")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device)
        self.tokenizer = tokenizer
        self.sampling = sampling or SamplingParams()
        self.mode = mode
        self.history_window = history_window
        self.max_prompt_tokens = max_prompt_tokens
        self.batch_size = batch_size
        self.map_to_admissible = map_to_admissible
        self.template = template  # None: the env family's template (agents.prompts)
        self.autocast = autocast_dtype(autocast)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.eos_ids = self._eos_ids()
        if seed is not None:
            torch.manual_seed(seed)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, device: str | torch.device | None = None,
                        dtype: torch.dtype | None = None, **kwargs: Any) -> "HFPolicy":
        """Loads a local checkpoint directory; bf16 on CUDA, fp32 on CPU unless `dtype` says otherwise."""
        device = torch.device(device) if device is not None else default_device()
        dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device).eval()
        return cls(model, tokenizer, device=device, **kwargs)

    def _eos_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids |= set(configured) if isinstance(configured, (list, tuple)) else {configured}
        return sorted(i for i in ids if i is not None)

    # ---- the agent interface ----------------------------------------------------------------
    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        prompts = [self.prompt_ids(x) for x in inputs]
        return [to_agent_output(x, gen, self.map_to_admissible) for x, gen in zip(inputs, self.generate(prompts))]

    def prompt_ids(self, x: AgentInput) -> list[int]:
        return fit_prompt_ids(self.tokenizer, x, self.history_window, self.max_prompt_tokens, self.template).ids

    def candidate_ids(self, action: str) -> list[int]:
        """The ids of the canonical response for `action`: `<action>a</action>` then EOS (what scoring
        mode scores, and what a warm start clones)."""
        return list(self.tokenizer.encode(f"{OPEN}{action}{CLOSE}", add_special_tokens=False)) + self.eos_ids[:1]

    # ---- generation -------------------------------------------------------------------------
    def generate(self, prompts: Sequence[Sequence[int]], sampling: SamplingParams | None = None) -> list[Generation]:
        """Generates for every prompt (token ids), `batch_size` rows at a time."""
        sampling = sampling or self.sampling
        out: list[Generation] = []
        for start in range(0, len(prompts), self.batch_size):
            out += self.generate_batch([list(p) for p in prompts[start:start + self.batch_size]], sampling)
        return out

    def _generation_config(self, s: SamplingParams) -> GenerationConfig:
        greedy = s.temperature == 0
        kwargs: dict[str, Any] = {} if greedy else {"temperature": s.temperature, "top_p": s.top_p, "top_k": s.top_k}
        return GenerationConfig(max_new_tokens=s.max_new_tokens, do_sample=not greedy, eos_token_id=self.eos_ids,
                                pad_token_id=self.pad_id, stop_strings=list(s.stop) or None,
                                return_dict_in_generate=True, **kwargs)

    @torch.no_grad()
    def generate_batch(self, prompts: list[list[int]], s: SamplingParams,
                       stopping: StoppingCriteria | None = None) -> list[Generation]:
        """One batch as given (no split by `batch_size`); `stopping` sees every decoding step, e.g. the
        server's hook that streams new tokens and ends the rows of cancelled requests."""
        if any(not p for p in prompts):
            raise ValueError("cannot generate from an empty prompt")
        width = max(len(p) for p in prompts)
        input_ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=self.device)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        recorder = _RawLogprobRecorder()
        with self.compute():
            result = self.model.generate(input_ids=input_ids, attention_mask=attention,
                                         generation_config=self._generation_config(s),
                                         logits_processor=LogitsProcessorList([recorder]),
                                         stopping_criteria=StoppingCriteriaList([stopping] if stopping else []),
                                         tokenizer=self.tokenizer)
        generated = result.sequences[:, width:].cpu()
        logprobs = recorder.logprobs(generated)
        return [self._finish(p, generated[b].tolist(), logprobs[b].tolist(), s.stop) for b, p in enumerate(prompts)]

    def _finish(self, prompt: list[int], ids: list[int], logprobs: list[float], stop: Sequence[str]) -> Generation:
        """Cuts a row after its first EOS or stop string (the padding after it was never sampled)."""
        cut, reason = len(ids), "length"
        eos = next((k for k, t in enumerate(ids) if t in self.eos_ids), None)
        if eos is not None:
            cut, reason = eos + 1, "stop"
        text = self.tokenizer.decode(ids[:cut])
        if stop and any(x in text for x in stop):
            lo, hi = 1, cut  # smallest prefix whose text holds a stop string
            while lo < hi:
                mid = (lo + hi) // 2
                if any(x in self.tokenizer.decode(ids[:mid]) for x in stop):
                    hi = mid
                else:
                    lo = mid + 1
            cut, reason = lo, "stop"
        ids = ids[:cut]
        return Generation(prompt, ids, logprobs[:cut], self.tokenizer.decode(ids, skip_special_tokens=True), reason)

    def compute(self) -> contextlib.AbstractContextManager:
        """The numerics of every forward pass: mixed precision when `autocast` is set (the trainer
        wraps its own passes the same way, so recorded and recomputed log-probs agree)."""
        return compute_context(self.device, self.autocast)

    def with_sampling(self, **changes: Any) -> "HFPolicy":
        """Sets sampling parameters in place (e.g. `policy.with_sampling(temperature=0)`) and returns self."""
        self.sampling = replace(self.sampling, **changes)
        return self


def make_hf_agent(argument: str | None, **kwargs: Any) -> HFPolicy:
    """Registry factory for `hf:<smollm2 | tiny | local path>`; sampling keys go into SamplingParams."""
    from turnrl.agents.models import resolve_model

    if not argument:
        raise ValueError("agent spec 'hf' needs a model: hf:smollm2, hf:tiny or hf:/path/to/checkpoint")
    sampling = SamplingParams(**{k: kwargs.pop(k) for k in list(kwargs) if k in SAMPLING_KEYS})
    policy_kwargs = {k: v for k, v in kwargs.items() if k in POLICY_KEYS}  # the CLI may pass keys for other agents
    policy_kwargs["template"] = template_named(policy_kwargs.pop("prompt", "default"))
    if policy_kwargs.pop("mode", "generate") == "score":
        from turnrl.agents.scoring import ScoringPolicy

        return ScoringPolicy.from_pretrained(resolve_model(argument), sampling=sampling, **policy_kwargs)
    policy_kwargs.pop("score", None)
    return HFPolicy.from_pretrained(resolve_model(argument), sampling=sampling, **policy_kwargs)


POLICY_KEYS = {"device", "dtype", "mode", "history_window", "max_prompt_tokens", "batch_size", "map_to_admissible",
               "seed", "score", "prompt", "autocast"}
