"""Building the trainable policy from a config, and the sampled action-scoring policy.

Two parametrisations of an LLM agent, both trained by the same token-level loss:
- `generate`: `agents.hf.HFPolicy` samples `<think>..</think><action>..</action>` freely.
- `score`: `ScoringPolicy` samples one admissible action a from the softmax over the candidates'
  log-likelihoods log p_LM(`<action>a</action><eos>` | prompt), by default length-normalised
  (mean per token: a random or small model would otherwise almost always pick the command with
  the fewest tokens, and RL would never see a success). Its step carries the chosen candidate's
  token ids and raw token log-probs, so the trainer's token loss pushes the likelihood of good
  (bad) actions up (down), which raises (lowers) their selection probability. This is a
  surrogate, not the exact gradient of the candidate softmax: the normaliser over candidates is
  left out, which adds a term proportional to the group's summed advantage (near zero under
  group-centred credit).
"""
from __future__ import annotations

import inspect
from typing import Any

import torch

from turnrl.agents.hf import HFPolicy
from turnrl.agents.parsing import CLOSE, OPEN
from turnrl.agents.prompts import PromptTemplate, fit_prompt_ids
from turnrl.types import AgentInput, AgentOutput

# Fewer prompt tokens for small models trained on CPU: the task, observation and admissible
# actions stay, the family's prose goes.
COMPACT_TEMPLATE = PromptTemplate(system="Play the text game.", setting="Choose one admissible action.")


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ValueError(f"dtype must be auto, float32, bfloat16 or float16, not {name!r}") from None


class ScoringPolicy(HFPolicy):
    """Samples among the admissible actions by their LM likelihood (greedy at temperature 0).

    `sampling.temperature` divides the sequence log-likelihoods before the softmax; the recorded
    token log-probs stay those of the raw model, as the trainer's ratio needs. Observations
    without admissible actions fall back to free generation.
    """

    name = "hf-score"
    length_normalize: bool = True  # rank by mean token log-prob, so short commands are not favoured a priori
    template: PromptTemplate | None = None  # None: the env family's template

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        outputs: list[AgentOutput | None] = [None] * len(inputs)
        free = [i for i, x in enumerate(inputs) if not x.admissible_actions]
        scored = [i for i, x in enumerate(inputs) if x.admissible_actions]
        if free:
            generated = HFPolicy.act(self, [inputs[i] for i in free])
            for i, out in zip(free, generated):
                outputs[i] = out
        if scored:
            prompts = [fit_prompt_ids(self.tokenizer, inputs[i], self.history_window, self.max_prompt_tokens,
                                      self.template).ids for i in scored]
            for i, out in zip(scored, self.sample([inputs[i].admissible_actions for i in scored], prompts)):
                outputs[i] = out
        return [o for o in outputs if o is not None]

    def candidate_ids(self, action: str) -> list[int]:
        return list(self.tokenizer.encode(f"{OPEN}{action}{CLOSE}", add_special_tokens=False)) + self.eos_ids[:1]

    @torch.no_grad()
    def candidate_logprobs(self, prompt: list[int], candidates: list[list[int]]) -> list[list[float]]:
        """Raw token log-probs of each candidate after `prompt`; the prompt is encoded once and its
        KV cache shared by all candidates (right-padded, so positions continue from the prompt)."""
        device = self.device
        out = self.model(input_ids=torch.tensor([prompt], device=device), use_cache=True)
        cache_key = _cache_argument(self.model)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        n, width = len(candidates), max(len(c) for c in candidates)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long, device=device)
        for k, c in enumerate(candidates):
            ids[k, : len(c)] = torch.tensor(c, device=device)
        mask = (torch.arange(width, device=device)[None, :] < torch.tensor([len(c) for c in candidates],
                                                                             device=device)[:, None]).long()
        cache = out[cache_key]
        cache.batch_repeat_interleave(n)
        attention = torch.cat([torch.ones((n, len(prompt)), dtype=torch.long, device=device), mask], dim=1)
        logits = self.model(input_ids=ids, attention_mask=attention, **{cache_key: cache}).logits.float()
        rest = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        lps = torch.cat([first[ids[:, 0]][:, None], rest], dim=1).cpu()
        return [lps[k, : len(c)].tolist() for k, c in enumerate(candidates)]

    def sample(self, candidates: list[list[str]], prompts: list[list[int]]) -> list[AgentOutput]:
        """One sampled admissible action per prompt (see the class docstring)."""
        outputs = []
        for prompt, actions in zip(prompts, candidates):
            ids = [self.candidate_ids(a) for a in actions]
            lps = self.candidate_logprobs(list(prompt), ids)
            seq = torch.tensor([sum(lp) / (len(lp) if self.length_normalize else 1) for lp in lps],
                               dtype=torch.float64)
            t = self.sampling.temperature
            choice = int(seq.argmax()) if t == 0 else int(torch.multinomial(torch.softmax(seq / t, 0), 1))
            outputs.append(AgentOutput(action=actions[choice], raw_text=f"{OPEN}{actions[choice]}{CLOSE}",
                                       prompt_ids=list(prompt), response_ids=ids[choice],
                                       response_logprobs=lps[choice]))
        return outputs


def _cache_argument(model: torch.nn.Module) -> str:
    """The KV-cache keyword: `cache` in recent transformers, `past_key_values` before."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under peft
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def load_model(model_spec: str, device: torch.device, dtype: torch.dtype, lora: dict[str, Any] | None = None):
    """(model, tokenizer) from `tiny`, `smollm2` or a local directory; LoRA-wrapped when `lora` is given."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from turnrl.agents.models import resolve_model

    path = resolve_model(model_spec)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device)
    if lora is not None:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", bias="none", **lora))
    return model, tokenizer
