"""The agent interface shared by scripted agents, Hugging Face policies, HTTP clients and vLLM.

An agent maps a batch of `AgentInput` (one per running env) to a batch of `AgentOutput`.
Batching is the interface, not an optimisation: LLM policies generate for many envs at once.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from turnrl.types import AgentInput, AgentOutput


@runtime_checkable
class Agent(Protocol):
    name: str

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        """One action per input, in order."""
        ...


class ScriptedAgent:
    """Base for agents that decide per input without a model; subclasses implement `act_one`."""

    name = "scripted"

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        return [self.act_one(x) for x in inputs]

    def act_one(self, x: AgentInput) -> AgentOutput:
        raise NotImplementedError
