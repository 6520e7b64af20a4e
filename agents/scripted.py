"""Agents without a model: uniform over admissible actions, and the env's own expert."""
from __future__ import annotations

import numpy as np

from turnrl.agents.base import ScriptedAgent
from turnrl.types import AgentInput, AgentOutput


class RandomAgent(ScriptedAgent):
    """Uniform over the admissible actions (its own seeded RNG, so evaluation is reproducible)."""

    name = "random"

    def __init__(self, seed: int | None = 0):
        self.rng = np.random.default_rng(seed)

    def act_one(self, x: AgentInput) -> AgentOutput:
        if not x.admissible_actions:
            return AgentOutput(action="", valid=False, invalid_reason="env exposes no admissible actions")
        return AgentOutput(action=x.admissible_actions[int(self.rng.integers(len(x.admissible_actions)))])


class ExpertAgent(ScriptedAgent):
    """Plays the env's oracle action from `info["expert_action"]` (walkthrough, planner, gold path)."""

    name = "expert"

    def act_one(self, x: AgentInput) -> AgentOutput:
        action = x.info.get("expert_action")
        if not action:
            return AgentOutput(action="", valid=False, invalid_reason="env gives no expert action here")
        return AgentOutput(action=action)
