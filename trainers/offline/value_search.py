"""Value-guided action selection at test time (OREO): K sampled candidates, execute the argmax of V.

`ValueGuidedAgent` samples K admissible actions from the scoring policy's softmax (with
replacement, so likely actions are proposed more often and K bounds the distinct candidates), and
executes the one whose "state then action" value V(s, a) is highest: the critic read at the
action's last token, which the value loss trains towards R - beta * (log-ratios of later turns).

`value_beam_search` is the step-level beam search: it keeps the `beam_width` partial episodes with
the highest V(s, a), expanding each by `expand` sampled actions. Environments cannot be copied, so
a partial episode is re-created by resetting with the task's seed and replaying its actions; this
requires a deterministic environment (TextWorld, ALFWorld) and costs O(steps^2) env steps.

Agent spec: `oreo:<dir>` with optional `,k=5,temperature=1.0` (dir written by the offline trainer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turnrl.agents.parsing import CLOSE, OPEN
from turnrl.agents.prompts import fit_prompt_ids
from turnrl.types import AgentInput, AgentOutput


class ValueGuidedAgent:
    """Wraps a `ScoringPolicy` and a `ValueModel`; inputs without admissible actions go to the policy."""

    name = "oreo"

    def __init__(self, policy: Any, value_model: torch.nn.Module, k: int = 5, temperature: float = 1.0,
                 seed: int | None = 0):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0 (candidates are sampled), got {temperature}")
        self.policy, self.value_model, self.k, self.temperature = policy, value_model, k, temperature
        self.rng = np.random.default_rng(seed)

    @torch.no_grad()
    def candidate_values(self, prompt: list[int], candidates: list[list[int]]) -> list[float]:
        """V(s, a) per candidate: the critic at the candidate's last token."""
        from turnrl.agents.logprobs import pack_right_padded

        ids, attention, _ = pack_right_padded([prompt] * len(candidates), candidates, self.policy.pad_id,
                                              next(self.value_model.parameters()).device)
        values = self.value_model(ids, attention)
        last = torch.tensor([len(prompt) + len(c) - 1 for c in candidates], device=values.device)
        return values.gather(1, last[:, None]).squeeze(1).tolist()

    def propose(self, prompt: list[int], actions: list[str]) -> tuple[list[int], list[list[int]], list[list[float]]]:
        """Indices of the distinct sampled candidates, and every action's token ids and log-probs."""
        ids = [self.policy.candidate_ids(a) for a in actions]
        lps = self.policy.candidate_logprobs(prompt, ids)
        scores = np.array([sum(lp) / len(lp) for lp in lps], dtype=np.float64) / self.temperature
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        drawn = self.rng.choice(len(actions), size=self.k, replace=True, p=probs)
        return sorted(set(int(i) for i in drawn)), ids, lps

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        outputs = []
        for x in inputs:
            if not x.admissible_actions:
                outputs += self.policy.act([x])
                continue
            prompt = fit_prompt_ids(self.policy.tokenizer, x, self.policy.history_window,
                                    self.policy.max_prompt_tokens, self.policy.template).ids
            chosen, ids, lps = self.propose(prompt, list(x.admissible_actions))
            values = self.candidate_values(prompt, [ids[i] for i in chosen])
            best = chosen[int(np.argmax(values))]
            action = x.admissible_actions[best]
            outputs.append(AgentOutput(action=action, raw_text=f"{OPEN}{action}{CLOSE}", prompt_ids=prompt,
                                       response_ids=ids[best], response_logprobs=lps[best]))
        return outputs


@dataclass
class _Beam:
    actions: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    obs: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    value: float = 0.0
    done: bool = False
    won: bool = False


def _replay(env: Any, seed: int, actions: list[str]) -> tuple[str, dict, bool, bool, list[tuple[str, str]]]:
    obs, info = env.reset(seed=seed)
    history, terminated, truncated = [], False, False
    for a in actions:
        history.append((obs, a))
        obs, _, terminated, truncated, info = env.step(a)
    return obs, info, terminated, truncated, history


def value_beam_search(env: Any, agent: ValueGuidedAgent, seed: int, beam_width: int = 2, expand: int = 3,
                      max_steps: int = 20, env_id: str | None = None) -> list[str]:
    """Actions of the best episode found (a won one if any), by step-level beam search on V(s, a)."""
    obs, info = env.reset(seed=seed)
    beams = [_Beam(obs=obs, info=info)]
    for _ in range(max_steps):
        if all(b.done for b in beams):
            break
        expanded: list[_Beam] = [b for b in beams if b.done]
        for b in (b for b in beams if not b.done):
            x = AgentInput(observation=b.obs, task=str(b.info.get("task", "")), history=b.history,
                           admissible_actions=b.info.get("admissible_actions"), step=len(b.actions), env_id=env_id)
            if not x.admissible_actions:
                continue
            prompt = fit_prompt_ids(agent.policy.tokenizer, x, agent.policy.history_window,
                                    agent.policy.max_prompt_tokens, agent.policy.template).ids
            saved_k, agent.k = agent.k, expand
            chosen, ids, _ = agent.propose(prompt, list(x.admissible_actions))
            agent.k = saved_k
            for i, v in zip(chosen, agent.candidate_values(prompt, [ids[i] for i in chosen])):
                actions = b.actions + [x.admissible_actions[i]]
                o, inf, term, trunc, hist = _replay(env, seed, actions)
                expanded.append(_Beam(actions, hist, o, inf, v, term or trunc, bool(inf.get("won"))))
        if not expanded:
            break
        expanded.sort(key=lambda b: (b.won, b.value), reverse=True)
        beams = expanded[:beam_width]
    return max(beams, key=lambda b: (b.won, b.value)).actions


def load_value_guided(directory: str | Path, k: int = 5, temperature: float = 1.0, device: str = "auto",
                      seed: int | None = 0) -> ValueGuidedAgent:
    """The agent from an offline run directory (`policy/`, `value/`, `offline.yaml`)."""
    import yaml

    from turnrl.agents.generation import SamplingParams
    from turnrl.trainers.offline.value_model import ValueModel
    from turnrl.trainers.policy import COMPACT_TEMPLATE, ScoringPolicy, load_model, pick_device

    directory = Path(directory)
    if not (directory / "policy").is_dir() or not (directory / "value").is_dir():
        raise FileNotFoundError(f"{directory}: needs policy/ and value/ folders written by an OREO run")
    settings = yaml.safe_load((directory / "offline.yaml").read_text()) if (directory / "offline.yaml").is_file() else {}
    dev = pick_device(device)
    model, tokenizer = load_model(str(directory / "policy"), dev, torch.float32)
    policy = ScoringPolicy(model.eval(), tokenizer, device=dev, mode="score", sampling=SamplingParams(temperature=0.0),
                           history_window=settings.get("history_window", 2),
                           max_prompt_tokens=settings.get("max_prompt_tokens", 1024))
    policy.template = COMPACT_TEMPLATE if settings.get("prompt", "compact") == "compact" else None
    value = ValueModel.from_pretrained(directory / "value").to(dev).eval()
    return ValueGuidedAgent(policy, value, k=k, temperature=temperature, seed=seed)


def make_oreo_agent(argument: str | None, seed: int | None = 0, **_: Any) -> ValueGuidedAgent:
    """Agent spec `oreo:<dir>[,k=5][,temperature=1.0]`."""
    if not argument:
        raise ValueError("agent spec oreo:<dir>[,k=K][,temperature=T] needs the directory of an OREO run")
    directory, *options = argument.split(",")
    settings: dict[str, float] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("k", "temperature"):
            raise ValueError(f"oreo agent option must be k=<int> or temperature=<float>, got {option!r}")
        settings[key] = float(value)
    return load_value_guided(directory, k=int(settings.get("k", 5)), temperature=settings.get("temperature", 1.0),
                             seed=seed)
