"""A tiny seeded text env for pool and rollout tests that must run in milliseconds.

Walk a counter to a target. With `faults=True` three extra commands misbehave on purpose:
`crash` kills the process hosting the env, `hang` blocks forever, `raise` raises inside step.
The reset option `fault` ("crash", "hang", "raise") does the same in reset, and the constructor's
`broken` names a target whose task in `list_tasks` carries `fault="raise"` (a broken task file).
Registered as `turnrl_test/Counter-v0`; pools reach it in worker processes through the id
`tests.foundation.toy_env:turnrl_test/Counter-v0`.
"""
from __future__ import annotations

import os
import time
from typing import Any

import gymnasium

from turnrl.envs.base import TextEnv

ENV_ID = "tests.foundation.toy_env:turnrl_test/Counter-v0"
MOVES = {"inc": 1, "dec": -1, "wait": 0}


class CounterEnv(TextEnv):
    def __init__(self, size: int = 6, faults: bool = False, broken: int | None = None, step_delay: float = 0.0,
                 render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.size, self.faults, self.step_delay = size, faults, step_delay
        self.pos = self.target = 0

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        fault = options.get("fault")
        if fault == "crash":
            os._exit(3)
        if fault == "hang":
            time.sleep(3600)
        if fault == "raise":
            raise ValueError(f"task file for target {options.get('target')} is corrupt")
        self.target = int(options.get("target", self.np_random.integers(1, self.size)))
        self.pos = int(self.np_random.integers(0, self.target))
        return self._obs(), self._info(True)

    def _step(self, action: str):
        if self.faults and action == "crash":
            os._exit(3)
        if self.faults and action == "hang":
            time.sleep(3600)
        if self.faults and action == "raise":
            raise RuntimeError("the engine fell over")
        time.sleep(self.step_delay)  # a slow engine, for tests that interrupt a run midway
        move = MOVES.get(action.strip())
        if move is None:
            return "Nothing happens.", 0.0, False, False, self._info(False)
        self.pos = max(0, self.pos + move)
        won = self.pos == self.target
        return self._obs(), float(won), won, False, self._info(True)

    def _obs(self) -> str:
        return f"You are at {self.pos}."

    def _info(self, valid: bool) -> dict[str, Any]:
        expert = "inc" if self.pos < self.target else "dec"
        return {"admissible_actions": list(MOVES), "won": self.pos == self.target, "valid": valid,
                "state_key": f"{self.pos}/{self.target}", "obs_key": self._obs(),
                "task": f"Reach {self.target}.", "expert_action": expert, "task_id": f"target-{self.target}"}

    @staticmethod
    def list_tasks(options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        size, broken = int((options or {}).get("size", 6)), (options or {}).get("broken")
        return [{"target": t, "task_id": f"target-{t}", **({"fault": "raise"} if t == broken else {})}
                for t in range(1, size)]


gymnasium.register(id="turnrl_test/Counter-v0", entry_point=CounterEnv)
