"""The base class of every turnrl text environment.

Subclasses implement `_reset(options) -> (obs, info)` and `_step(action) -> (obs, reward,
terminated, truncated, info)`. The base class owns the Gymnasium plumbing that every text env
needs the same way:

- `reset(seed=...)` seeds `self.np_random` (never the global RNG), so copies run in threads;
- `step` rejects non-`str` actions with `TypeError` and turns unusable text (empty, over
  `max_action_chars`, control characters, unpaired surrogates) into an invalid-action
  observation without calling the engine;
- `info` always carries the contract keys: `admissible_actions`, `won`, `valid`, `state_key`,
  `obs_key`, `task` (see `INFO_KEYS`);
- an observation (and `obs_key`) over `max_observation_chars` (1 MiB of text, what the observation
  space declares) is cut to it, ending with a note, and `info["observation_cut"]` is True: an
  engine that floods its output cannot exhaust an agent's memory or context;
- `snapshot()` / `restore(snapshot)`, the optional capability an env declares in
  `metadata["snapshot"]` ("exact": the `_snapshot`/`_restore` hooks save the engine's state;
  "replay": the base class records the reset and the actions and replays them). See
  `turnrl.envs.snapshot`.
"""
from __future__ import annotations

import re
from typing import Any

import gymnasium as gym

from turnrl.envs.snapshot import EnvSnapshot, ReplayLog, rng_state, set_rng_state
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


def cut_observation(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last of them saying so."""
    note = f"\n[observation cut: {len(text)} characters, limit {limit}]"
    return text[: max(0, limit - len(note))] + note[:limit]


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
        self._replay: ReplayLog | None = None  # kept only by envs whose snapshots replay

    # -- subclass hooks ---------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        raise NotImplementedError

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.metadata.get("snapshot") == "replay":
            self._replay = ReplayLog(seed, dict(options or {}), rng_state(self))
        obs, info = self._reset(dict(options or {}))
        info.setdefault("valid", True)
        return self._remember(obs, info), info

    def step(self, action: str):
        if not isinstance(action, str):
            raise TypeError(f"action must be str, got {type(action).__name__}")
        if self._replay is not None:
            self._replay.actions.append(action)
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
        if len(obs) > self.max_observation_chars:
            obs = cut_observation(obs, self.max_observation_chars)
        return obs, 0.0, False, False, info

    # -- snapshots (optional; see turnrl.envs.snapshot) --------------------------------------
    def _snapshot(self) -> Any:
        """The engine's state as picklable data (envs declaring "exact" snapshots)."""
        raise NotImplementedError

    def _restore(self, state: Any) -> None:
        """Puts the engine into `state`, as returned by `_snapshot` (possibly in another process)."""
        raise NotImplementedError

    def snapshot(self) -> EnvSnapshot:
        """The env's current state; `restore` of it, then the same actions, gives the same steps."""
        kind = self.metadata.get("snapshot")
        if kind is None:
            raise NotImplementedError(f"{type(self).__name__} takes no snapshots (metadata['snapshot'] is unset)")
        base = {"last_obs": self._last_obs, "last_info": dict(self._last_info), "rng": rng_state(self),
                "rng_seed": getattr(self, "_np_random_seed", None)}
        if kind == "replay":
            if self._replay is None:
                raise RuntimeError(f"{type(self).__name__}.snapshot() before reset()")
            engine: Any = self._replay.frozen()
        else:
            engine = self._snapshot()
        return EnvSnapshot(type(self).__qualname__, kind, base, engine)

    def restore(self, snapshot: EnvSnapshot) -> None:
        """Puts this env into the state `snapshot` was taken in (by this env or another of its class)."""
        if snapshot.env != type(self).__qualname__:
            raise ValueError(f"a {snapshot.env} snapshot cannot be restored into {type(self).__qualname__}")
        if snapshot.kind == "replay":
            self._replay_to(*snapshot.engine)
        else:
            self._restore(snapshot.engine)
        set_rng_state(self, snapshot.base["rng"])
        self._np_random_seed = snapshot.base["rng_seed"]
        self._last_obs, self._last_info = snapshot.base["last_obs"], dict(snapshot.base["last_info"])

    def _replay_to(self, seed: int | None, options: dict[str, Any], rng: dict[str, Any] | None,
                   actions: tuple[str, ...]) -> None:
        """Resets exactly as the recorded reset did (same seed, options and RNG state), then steps
        the recorded actions."""
        gym.Env.reset(self, seed=seed)
        set_rng_state(self, rng)
        self._replay = ReplayLog(seed, dict(options), rng)
        obs, info = self._reset(dict(options))
        info.setdefault("valid", True)
        self._remember(obs, info)
        for action in actions:
            self.step(action)

    def render(self):
        if self.render_mode == "human":
            print(self._last_obs)
            return None
        return self._last_obs

    def _remember(self, obs: str, info: dict[str, Any]) -> str:
        missing = [k for k in INFO_KEYS if k not in info]
        if missing:
            raise KeyError(f"{type(self).__name__} info misses contract keys {missing}")
        if len(obs) > self.max_observation_chars:
            obs, info["observation_cut"] = cut_observation(obs, self.max_observation_chars), True
        if isinstance(info["obs_key"], str) and len(info["obs_key"]) > self.max_observation_chars:
            info["obs_key"] = cut_observation(info["obs_key"], self.max_observation_chars)
        self._last_obs, self._last_info = obs, info
        return obs
