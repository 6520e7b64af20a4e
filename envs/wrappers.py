"""Gymnasium wrappers for turnrl text envs: what to do with invalid actions, a step limit that
says why it truncated, and an episode recorder that appends finished episodes to JSONL.

They read and write only the info contract (`valid`, `invalid_reason`, `end_reason`,
`reward_components`), so they wrap any `TextEnv`, in any order, on any pool backend.
"""
from __future__ import annotations

import os
from typing import Any

import gymnasium as gym

from turnrl.io import append_trajectories
from turnrl.types import END_RESET, END_STEP_LIMIT, STEP_LIMIT_OPTION, Trajectory, at_step_limit, make_step

INVALID_POLICIES = ("penalize", "feedback", "terminate")
DEFAULT_PENALTY = 0.1  # "penalize" without an amount; subtracted, as credit/penalties.py (verl-agent)


class InvalidActionPolicy(gym.Wrapper):
    """Decides what an invalid action (info["valid"] False) costs the agent.

    - "feedback": the episode continues and the observation starts with the error, so the agent
      can correct itself; no reward change.
    - "penalize": as "feedback", plus `penalty` (a coefficient >= 0, default 0.1) SUBTRACTED from
      the reward (and -penalty recorded as the `invalid_penalty` reward component, for
      multi-reward credit): the same sign and amount as `credit`'s `invalid_penalty`; use one
      of the two, not both.
    - "terminate": the episode ends (terminated, `end_reason` "invalid action: ..."), with
      `penalty` (default 0) subtracted from that last reward.
    """

    def __init__(self, env: gym.Env, policy: str = "feedback", penalty: float | None = None):
        super().__init__(env)
        if policy not in INVALID_POLICIES:
            raise ValueError(f"unknown invalid-action policy {policy!r}; choose one of {INVALID_POLICIES}")
        if policy == "feedback" and penalty:
            raise ValueError("policy 'feedback' never changes the reward; use 'penalize' for a penalty")
        default = DEFAULT_PENALTY if policy == "penalize" else 0.0
        self.policy, self.penalty = policy, float(default if penalty is None else penalty)
        if not self.penalty >= 0 or self.penalty == float("inf"):
            raise ValueError(f"penalty is a coefficient >= 0 subtracted from the reward (default {DEFAULT_PENALTY}), "
                             f"got {penalty!r}")

    def step(self, action: str):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if info.get("valid", True):
            return obs, reward, terminated, truncated, info
        info = dict(info)
        reason = str(info.get("invalid_reason") or "the game did not understand that")
        if not obs.startswith("Invalid action"):
            obs = f"Invalid action: {reason}.\n\n{obs}"
        if self.penalty:
            reward = float(reward) - self.penalty
            info["reward_components"] = {**info.get("reward_components", {}), "invalid_penalty": -self.penalty}
        if self.policy == "terminate":
            terminated = True
            info["end_reason"] = f"invalid action: {reason}"
        return obs, reward, terminated, truncated, info


class StepLimit(gym.Wrapper):
    """Truncates an episode at its step limit with `info["end_reason"]` = `END_STEP_LIMIT`
    (Gymnasium's `TimeLimit` truncates silently, and a trainer needs to tell a limit from a crash).
    Every step counts, invalid ones included.

    turnrl's one step-limit implementation. `max_steps` is the env's own limit (None: none);
    `turnrl.envs.registration.make` wraps every env in it, where Gymnasium's `make` would put
    `TimeLimit`, with the registered `max_episode_steps` or the one given. One episode can ask for
    a limit of its own with the reset option `STEP_LIMIT_OPTION` ("max_steps", what `collect`
    passes); the shorter of the two applies, so a per-call limit never lengthens the env's own.
    The option is removed before the wrapped env sees the options."""

    def __init__(self, env: gym.Env, max_steps: int | None = None):
        super().__init__(env)
        self.max_steps = _checked_limit(max_steps)
        self.limit = self.max_steps  # this episode's limit
        self.elapsed = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        asked = None
        if options and STEP_LIMIT_OPTION in options:
            options = dict(options)
            asked = _checked_limit(options.pop(STEP_LIMIT_OPTION))
        limits = [n for n in (self.max_steps, asked) if n is not None]
        self.limit = min(limits) if limits else None
        self.elapsed = 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.elapsed += 1
        if at_step_limit(self.elapsed, self.limit) and not terminated:
            info = dict(info)
            truncated = True
            info.setdefault("end_reason", END_STEP_LIMIT)
        return obs, reward, terminated, truncated, info


def _checked_limit(max_steps: Any) -> int | None:
    if max_steps is None:
        return None
    if isinstance(max_steps, bool) or int(max_steps) != max_steps or int(max_steps) < 1:
        raise ValueError(f"a step limit must be an integer >= 1 or None, got {max_steps!r}")
    return int(max_steps)


class EpisodeRecorder(gym.Wrapper):
    """Appends each finished episode as one `Trajectory` line to a JSONL file (`turnrl.io`).

    An episode cut short by a new `reset` is written too, marked truncated with end_reason
    "reset before the end". Lines are appended whole and fsynced, so a crash loses at most the
    running episode; `close()` writes that one as well.
    """

    def __init__(self, env: gym.Env, path: str | os.PathLike, task_id: str | None = None):
        super().__init__(env)
        self.path, self.task_id = path, task_id
        self.traj: Trajectory | None = None
        self.obs, self.info = "", {}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._flush_unfinished()
        obs, info = self.env.reset(seed=seed, options=options)
        task_id = self.task_id or str(info.get("task_id") or info.get("game") or f"seed-{seed}")
        self.traj = Trajectory(task_id=task_id, seed=seed, task=str(info.get("task", "")),
                               metadata={"env_id": self.spec.id if self.spec else None, "options": options})
        self.obs, self.info = obs, info
        return obs, info

    def step(self, action: str):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self.traj is not None:
            self.traj.steps.append(make_step(self.obs, self.info, action, info, t=len(self.traj.steps), reward=reward,
                                             terminated=terminated, truncated=truncated,
                                             end_reason=info.get("end_reason")))
            self.obs, self.info = obs, info
            if terminated or truncated:
                self.traj.won = bool(info.get("won", False))
                append_trajectories(self.path, [self.traj])
                self.traj = None
        return obs, reward, terminated, truncated, info

    def _flush_unfinished(self) -> None:
        if self.traj is not None and self.traj.steps:
            last = self.traj.steps[-1]
            last.truncated, last.end_reason = True, END_RESET
            append_trajectories(self.path, [self.traj])
        self.traj = None

    def close(self) -> None:
        self._flush_unfinished()
        super().close()
