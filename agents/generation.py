"""What every LLM policy shares, torch-free: sampling parameters, one generation, and its AgentOutput.

`HFPolicy`, `VLLMPolicy` and `OpenAIPolicy` produce `Generation`s their own way and turn them into
`AgentOutput`s here, so parsing, validity and the token fields behave the same for all of them.
"""
from __future__ import annotations

from dataclasses import dataclass

from turnrl.agents.parsing import CLOSE, parse_action
from turnrl.types import AgentInput, AgentOutput


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 disables top-k
    max_new_tokens: int = 128
    stop: tuple[str, ...] = (CLOSE,)  # generation of a row ends once its text contains one of these

    def __post_init__(self) -> None:
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0 or self.max_new_tokens < 1:
            raise ValueError(f"invalid sampling parameters: {self}")


SAMPLING_KEYS = frozenset({"temperature", "top_p", "top_k", "max_new_tokens", "stop"})


@dataclass
class Generation:
    prompt_ids: list[int] | None
    response_ids: list[int] | None  # exactly the generated ids, cut after the stop string or EOS
    response_logprobs: list[float] | None  # raw model log-probs (temperature 1) of response_ids
    text: str  # the response decoded without special tokens
    finish_reason: str  # "stop" (stop string or EOS) or "length"


def to_agent_output(x: AgentInput, gen: Generation, map_to_admissible: bool = True) -> AgentOutput:
    """Parses the generated text into an action; a broken format gives an invalid output, never an error."""
    parsed = parse_action(gen.text, x.admissible_actions, map_to_admissible=map_to_admissible)
    return AgentOutput(action=parsed.action, valid=parsed.valid, invalid_reason=None if parsed.valid else parsed.reason,
                       raw_text=gen.text, prompt_ids=gen.prompt_ids, response_ids=gen.response_ids,
                       response_logprobs=gen.response_logprobs)
