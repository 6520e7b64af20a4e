"""Snapshots of an env's state: take one, restore it later (in this env or a copy in another
process), step on, and get exactly what the original env would have answered.

A `TextEnv` declares the capability in `metadata["snapshot"]`:

- "exact": the env family saves its engine's own state (`_snapshot` / `_restore` hooks); restoring
  costs about as much as a step, whatever the episode's length so far.
- "replay": the engine offers no state to save, so the snapshot is the episode's reset arguments
  and the actions taken since; restoring resets and replays them (its cost grows with the prefix;
  the env's README gives the measured figure).

An `EnvSnapshot` is plain picklable data (numpy arrays, strings, tuples, dicts), so it travels
through every pool backend; it refers to no live object, only to what a fresh env of the same
id and kwargs can rebuild (a game file path, a task id). `snapshot_env` / `restore_env` also
carry the state of the Gymnasium wrappers around the env (`TimeLimit`'s step count and turnrl's
wrappers), so a restored env truncates at the same step as the original.

Size: each family's README and the snapshot tests state the measured pickled size
(`EnvSnapshot.nbytes`); a replay snapshot is bounded by the step limit times the longest action.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

KINDS = ("exact", "replay")


@dataclass(frozen=True)
class EnvSnapshot:
    """One env's state. `env` names the env class that took it (restoring into another class is
    refused); `base` is `TextEnv`'s own bookkeeping (last observation and info, RNG state);
    `engine` is the family's state; `wrappers` the state of the wrappers, outermost first."""

    env: str
    kind: str
    base: dict[str, Any]
    engine: Any
    wrappers: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def obs(self) -> str:
        """The observation the env showed when the snapshot was taken."""
        return self.base["last_obs"]

    @property
    def info(self) -> dict[str, Any]:
        """The info that came with `obs`."""
        return self.base["last_info"]

    def nbytes(self) -> int:
        """Size of the pickled snapshot: what crosses a pipe to another process."""
        return len(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass
class ReplayLog:
    """What a "replay" env records: its last reset's arguments and RNG state, and every action since."""

    seed: int | None
    options: dict[str, Any]
    rng: dict[str, Any] | None
    actions: list[str] = field(default_factory=list)

    def frozen(self) -> tuple[int | None, dict[str, Any], dict[str, Any] | None, tuple[str, ...]]:
        return self.seed, dict(self.options), self.rng, tuple(self.actions)


def rng_state(env: gym.Env) -> dict[str, Any] | None:
    """The env's own RNG state (None before its first seeding)."""
    rng = getattr(env, "_np_random", None)
    return None if rng is None else rng.bit_generator.state


def set_rng_state(env: gym.Env, state: dict[str, Any] | None) -> None:
    if state is None:
        env._np_random = None  # type: ignore[attr-defined]
        return
    import numpy as np

    rng = getattr(env, "_np_random", None)
    if rng is None or type(rng.bit_generator).__name__ != state["bit_generator"]:
        rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
        env._np_random = rng  # type: ignore[attr-defined]
    rng.bit_generator.state = state


def attrs_state(obj: Any, names: tuple[str, ...]) -> bytes:
    """The named attributes of `obj`, pickled: an independent copy that later steps cannot change."""
    return pickle.dumps({n: getattr(obj, n) for n in names}, protocol=pickle.HIGHEST_PROTOCOL)


def set_attrs(obj: Any, data: bytes) -> None:
    """Sets the attributes `attrs_state` saved (fresh copies at every restore)."""
    for name, value in pickle.loads(data).items():
        setattr(obj, name, value)


# -- wrappers -------------------------------------------------------------------------------
def _wrapper_fields() -> dict[type, tuple[str, ...]]:
    """The attributes that hold each known wrapper's per-episode state (empty: stateless)."""
    from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

    from turnrl.envs.wrappers import InvalidActionPolicy, StepLimit

    return {TimeLimit: ("_elapsed_steps",), OrderEnforcing: ("_has_reset",), PassiveEnvChecker: (),
            StepLimit: ("elapsed", "limit"), InvalidActionPolicy: ()}


def _wrapper_state(wrapper: gym.Wrapper, known: dict[type, tuple[str, ...]]) -> Any:
    if hasattr(wrapper, "snapshot_state"):
        return wrapper.snapshot_state()
    names = known.get(type(wrapper))
    if names is None:
        raise TypeError(f"wrapper {type(wrapper).__name__} may keep episode state that snapshots do not cover; "
                        f"give it snapshot_state()/restore_state(state) methods")
    return {n: getattr(wrapper, n) for n in names}


def _set_wrapper_state(wrapper: gym.Wrapper, state: Any) -> None:
    if hasattr(wrapper, "restore_state"):
        wrapper.restore_state(state)
        return
    for name, value in state.items():
        setattr(wrapper, name, value)


def _chain(env: gym.Env) -> tuple[list[gym.Wrapper], gym.Env]:
    wrappers = []
    while isinstance(env, gym.Wrapper):
        wrappers.append(env)
        env = env.env
    return wrappers, env


def supports_snapshot(env: gym.Env) -> str | None:
    """The env's declared snapshot kind ("exact" | "replay"), or None when it has none."""
    return env.unwrapped.metadata.get("snapshot")


def snapshot_env(env: gym.Env) -> EnvSnapshot:
    """A snapshot of `env` and of the wrappers around it (see the module docstring)."""
    wrappers, inner = _chain(env)
    if not hasattr(inner, "snapshot"):
        raise NotImplementedError(f"{type(inner).__name__} is not a turnrl TextEnv; it takes no snapshots")
    known = _wrapper_fields()
    states = tuple((type(w).__name__, _wrapper_state(w, known)) for w in wrappers)
    snap = inner.snapshot()
    return EnvSnapshot(snap.env, snap.kind, snap.base, snap.engine, states)


def restore_env(env: gym.Env, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
    """Puts `env` (and its wrappers) into the state of `snap`; returns the observation and info
    the env showed at that moment."""
    wrappers, inner = _chain(env)
    names = tuple(type(w).__name__ for w in wrappers)
    if names != tuple(n for n, _ in snap.wrappers):
        raise ValueError(f"snapshot was taken under wrappers {[n for n, _ in snap.wrappers]}, "
                         f"this env has {list(names)}")
    inner.restore(snap)
    for wrapper, (_, state) in zip(wrappers, snap.wrappers):
        _set_wrapper_state(wrapper, state)
    return snap.obs, dict(snap.info)
