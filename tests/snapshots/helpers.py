"""What every restore-equivalence test checks, whatever the env family.

`continuation` plays a fixed, state-dependent policy (the i-th step picks an admissible action by
a rule of its own, and sometimes sends an unusable or inadmissible action), so the original run
and the run from the restored snapshot choose their actions from their own observations: any
difference in state shows up as a different action, observation, reward or key.
"""
from __future__ import annotations

import pickle
from typing import Any, Callable

import gymnasium as gym

from turnrl.envs.snapshot import EnvSnapshot, restore_env, snapshot_env

INVALID = "xyzzy frobnicate the gnome"


def pick(info: dict[str, Any], i: int) -> str:
    """The i-th action of the fixed policy: mostly admissible actions, now and then nonsense."""
    options = info.get("admissible_actions") or []
    if i % 5 == 3 or not options:
        return INVALID
    return options[(7 * i + 3) % len(options)]


def continuation(env: gym.Env, info: dict[str, Any], steps: int,
                 policy: Callable[[dict[str, Any], int], str] = pick) -> list[tuple]:
    """Steps `env` with the policy until the episode ends or `steps` steps; the full answers."""
    out = []
    for i in range(steps):
        action = policy(info, i)
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((action, obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return out


def comparable(result: list[tuple]) -> list[tuple]:
    """Each step's action, observation, reward, end flags, state key and whole info."""
    return [(a, o, r, te, tr, i.get("state_key"), i) for a, o, r, te, tr, i in result]


def roundtrip(snap: EnvSnapshot) -> EnvSnapshot:
    """Through pickle, as a snapshot crosses to a worker process."""
    return pickle.loads(pickle.dumps(snap))


def check_restore_equivalence(make: Callable[[], gym.Env], reset: dict[str, Any], prefix: int, steps: int,
                              policy: Callable[[dict[str, Any], int], str] = pick) -> tuple[EnvSnapshot, list]:
    """Plays `prefix` steps, snapshots, plays on; then restores the snapshot into the same env
    (back in time) and into a fresh env, and asserts both replay the original continuation."""
    env = make()
    try:
        obs, info = env.reset(**reset)
        continuation(env, info, prefix, lambda inf, i: policy(inf, i + 1000))
        snap = roundtrip(snapshot_env(env))
        original = comparable(continuation(env, snap.info, steps, policy))
        assert original, "the continuation must take at least one step"
        obs, info = restore_env(env, snap)
        assert obs == snap.obs and info == snap.info
        assert comparable(continuation(env, info, steps, policy)) == original
    finally:
        env.close()
    fresh = make()
    try:
        obs, info = restore_env(fresh, roundtrip(snap))
        assert comparable(continuation(fresh, info, steps, policy)) == original
    finally:
        fresh.close()
    return snap, original
