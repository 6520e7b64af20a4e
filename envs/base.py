"""The base class of every turnrl text environment.

Subclasses implement `_reset(options) -> (obs, info)` and `_step(action) -> (obs, reward,
terminated, truncated, info)`. The base class owns the Gymnasium plumbing that every text env
needs the same way:

- `reset(seed=...)` seeds `self.np_random` (never the global RNG), so copies run in threads;
- `step` rejects non-`str` actions with `TypeError` and turns unusable text (empty, over
  `max_action_chars`, control characters, unpaired surrogates) into an invalid-action
  observation without calling the engine;
- `info` always carries the contract keys: `admissible_actions`, `won`, `valid`, `state_key`,
  `obs_key`, `task` (see `INFO_KEYS`).
"""
from __future__ import annotations

import re
from typing import Any

import gymnasium as gym

from turnrl.envs.spaces import FreeText

INFO_KEYS = ("admissible_actions", "won", "valid", "state_key", "obs_key", "task")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def action_problem(action: str, max_chars: int) -> str | None:
    """Why `action` cannot be sent to an engine, or None if it can."""
    if not action.strip():
        return "empty action"
    if len(action) > max_chars:
        return f"action too long ({len(action)} characters, limit {max_chars})"
    if _CONTROL.search(action):
        return "action contains control characters"
    try:
        action.encode("utf-8")
    except UnicodeEncodeError:
        return "action is not valid UTF-8 text (unpaired surrogate)"
    return None


class TextEnv(gym.Env[str, str]):
    """Text in, text out. See the module docstring for the contract."""

    metadata = {"render_modes": ["ansi", "human"]}
    max_action_chars: int = 1000
    max_observation_chars: int = 1 << 20

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode
        self.observation_space = FreeText(self.max_observation_chars)
        self.action_space = FreeText(self.max_action_chars, min_length=1)
        self._last_obs: str = ""
        self._last_info: dict[str, Any] = {}

    # -- subclass hooks ---------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        raise NotImplementedError

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self._reset(dict(options or {}))
        info.setdefault("valid", True)
        return self._remember(obs, info), info

    def step(self, action: str):
        if not isinstance(action, str):
            raise TypeError(f"action must be str, got {type(action).__name__}")
        problem = action_problem(action, self.max_action_chars)
        if problem is not None:
            return self.invalid_step(problem)
        obs, reward, terminated, truncated, info = self._step(action)
        info.setdefault("valid", True)
        return self._remember(obs, info), float(reward), bool(terminated), bool(truncated), info

    def invalid_step(self, reason: str):
        """The answer to an action the env could not use: state unchanged, reason in the text."""
        info = dict(self._last_info)
        info.update(valid=False, invalid_reason=reason)
        info.pop("reward_components", None)
        obs = f"Invalid action: {reason}.\n\n{self._last_info.get('obs_key', self._last_obs)}"
        return obs, 0.0, False, False, info

    def render(self):
        if self.render_mode == "human":
            print(self._last_obs)
            return None
        return self._last_obs

    def _remember(self, obs: str, info: dict[str, Any]) -> str:
        missing = [k for k in INFO_KEYS if k not in info]
        if missing:
            raise KeyError(f"{type(self).__name__} info misses contract keys {missing}")
        self._last_obs, self._last_info = obs, info
        return obs
