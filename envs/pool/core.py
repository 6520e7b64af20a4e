"""What every pool backend shares: the result type, the abstract API and the shard that runs envs.

`EnvShard` is the one place where environments are created, reset and stepped, whether it lives
in the caller's process, in a worker process or in a Ray actor. Keeping that code path single is
what makes the same seeds give identical trajectories on every backend.
"""
from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import gymnasium as gym


class StepResult(NamedTuple):
    """One slot's answer to `EnvPool.step`, Gymnasium's 5-tuple with names."""

    obs: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """Builds one env by Gymnasium id. `"some.module:turnrl/X-v0"` imports the module first,
    so envs registered outside turnrl (tests, user code) work in worker processes too.

    Gymnasium's passive env checker is off: it assumes numeric spaces and would warn on every
    text env; `check_env` is run by the tests instead.
    """
    import turnrl  # noqa: F401  (registers the turnrl env families)
    from turnrl.envs.registration import make

    return make(env_id, disable_env_checker=True, **(env_kwargs or {}))  # step limit: StepLimit, not TimeLimit


def registered_id(env_id: str) -> str:
    """`"some.module:turnrl/X-v0"` -> imports `some.module` (which registers the env) and returns
    `"turnrl/X-v0"`; a plain id is returned as is. For registry lookups (`gym.spec`), which,
    unlike `gym.make`, do not accept the module prefix."""
    import importlib

    import turnrl  # noqa: F401

    module, sep, name = env_id.rpartition(":")
    if sep:
        importlib.import_module(module)
        return name
    return env_id


# Per-call limits when the env class names none (`default_step_timeout`, `default_reset_timeout`
# class attributes): far above any built-in env's step (milliseconds to about a second) and reset
# (up to tens of seconds when a game is built or loaded), so only a hung or dead engine meets them.
DEFAULT_STEP_TIMEOUT = 60.0
DEFAULT_RESET_TIMEOUT = 300.0


def env_class(env_id: str) -> Any:
    """The class (or factory) a registered id builds, without building an env."""
    from gymnasium.envs.registration import load_env_creator

    spec = gym.spec(registered_id(env_id))
    return load_env_creator(spec.entry_point) if isinstance(spec.entry_point, str) else spec.entry_point


def default_timeouts(env_id: str) -> tuple[float, float]:
    """(step, reset) seconds for a pool of `env_id`: what its env class declares, else the defaults."""
    cls = env_class(env_id)
    return (float(getattr(cls, "default_step_timeout", DEFAULT_STEP_TIMEOUT)),
            float(getattr(cls, "default_reset_timeout", DEFAULT_RESET_TIMEOUT)))


def ended_result(reason: str, last: tuple[str, dict[str, Any]] | None = None) -> StepResult:
    """The result for a slot whose episode the pool had to end (crash, timeout, env exception):
    truncated, zero reward, the last observation seen if any, and the reason in `end_reason`.

    `valid` stays True: the agent's action was never judged, and marking it invalid would charge
    the agent (invalid-action penalties, invalid rates) for an infrastructure failure."""
    obs, info = last if last is not None else ("", {})
    info = dict(info)
    info.pop("invalid_reason", None)
    info.update(end_reason=reason, valid=True, admissible_actions=[], expert_action=None)
    return StepResult(obs, 0.0, False, True, info)


RESET_FAILED = "reset_failed"  # info key of a slot whose reset failed (`reset(..., on_error="end")`)


def reset_failure(reason: str) -> tuple[str, dict[str, Any]]:
    """The answer for a slot whose reset raised or timed out, when the caller asked to go on
    (`on_error="end"`): no observation, `info[RESET_FAILED]` True and the reason in `end_reason`.
    The slot has no episode: reset it again before stepping it."""
    return "", {RESET_FAILED: True, "end_reason": reason, "admissible_actions": [], "won": False, "valid": True,
                "state_key": None, "obs_key": None, "task": ""}


def error_text(name: str, message: str, tb: str = "") -> str:
    """`Name: message`, the message's first line only; for an exception without a message (a bare
    `assert` in an engine), `Name at file:line` of the frame that raised it, taken from `tb`."""
    lines = message.strip().splitlines()
    if lines:
        return f"{name}: {lines[0]}"
    frames = [line.strip() for line in tb.splitlines() if line.strip().startswith('File "')]
    return f"{name} at {frames[-1]}" if frames else name


def check_actions(actions: list[Any], num_envs: int) -> None:
    """Rejects a malformed batch before any env is touched, so the pool's state stays consistent."""
    if not isinstance(actions, (list, tuple)):
        raise TypeError(f"actions must be a list of str or None, got {type(actions).__name__}")
    if len(actions) != num_envs:
        raise ValueError(f"expected {num_envs} actions (one per slot, None to skip), got {len(actions)}")
    for i, a in enumerate(actions):
        if a is not None and not isinstance(a, str):
            raise TypeError(f"action for slot {i} must be str or None, got {type(a).__name__}")


def check_idle(busy: set[int], slots: list[int]) -> None:
    """A slot takes one call at a time: refuses a call to a slot with one still outstanding."""
    clash = busy.intersection(slots)
    if clash:
        raise ValueError(f"slots {sorted(clash)} are still stepping or have answers not yet received; "
                         f"recv() them first")


class EnvShard:
    """A list of envs in one process. An exception from `step` ends that episode (recorded in
    `end_reason`) and replaces the env with a fresh one, since its engine may be left in any
    state; exceptions from `reset` propagate to the pool, which raises them or, asked to go on,
    answers that slot with `reset_failure`."""

    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None):
        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.envs = [make_env(env_id, env_kwargs) for _ in range(num_envs)]
        self.last: list[tuple[str, dict[str, Any]] | None] = [None] * num_envs

    def reset(self, index: int, seed: int | None, options: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        obs, info = self.envs[index].reset(seed=seed, options=options)
        self.last[index] = (obs, info)
        return obs, info

    def step(self, index: int, action: str) -> StepResult:
        try:
            obs, reward, terminated, truncated, info = self.envs[index].step(action)
        except Exception as e:  # noqa: BLE001 - any env bug ends this episode, not the pool
            result = ended_result(f"env error: {type(e).__name__}: {e}", self.last[index])
            result.info["traceback"] = traceback.format_exc(limit=3)
            self._replace(index)
            return result
        self.last[index] = (obs, info)
        return StepResult(obs, float(reward), bool(terminated), bool(truncated), info)

    def snapshot(self, index: int) -> Any:
        """A picklable snapshot of env `index` and its wrappers (`turnrl.envs.snapshot`)."""
        from turnrl.envs.snapshot import snapshot_env

        return snapshot_env(self.envs[index])

    def restore(self, index: int, snapshot: Any) -> tuple[str, dict[str, Any]]:
        """Puts env `index` into `snapshot`'s state; returns the observation and info shown then."""
        from turnrl.envs.snapshot import restore_env

        obs, info = restore_env(self.envs[index], snapshot)
        self.last[index] = (obs, info)
        return obs, info

    def _replace(self, index: int) -> None:
        try:
            self.envs[index].close()
        except Exception:  # noqa: BLE001 - it is broken already; its replacement matters
            pass
        self.envs[index] = make_env(self.env_id, self.env_kwargs)

    def close(self) -> None:
        for env in self.envs:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - closing must reach every env
                pass


class EnvPool(ABC):
    """N environments behind one API: `reset(seeds, options)`, `step(actions)`, `close()`, and
    `send(actions)` / `recv()` to step asynchronously.

    Slots are numbered 0..num_envs-1. `step` takes one action per slot, None for slots not to
    step (finished or idle), and answers None there. An episode the pool had to end (worker
    crash, step timeout, env exception) comes back truncated with `info["end_reason"]`; that
    slot must be reset before it is stepped again.

    `step` is lockstep: it returns when every stepped slot has answered, so each step waits for
    the slowest env. `send` starts steps and returns at once; `recv` returns the answers that have
    arrived (at least one), so a slot can be given its next action, or be reset, while others
    are still stepping. A slot takes one call at a time: sending to, or resetting, a slot whose
    answer has not been received is an error.
    """

    env_id: str
    num_envs: int

    @abstractmethod
    def _reset(self, slots: list[int], seeds: list[int | None], options: list[dict[str, Any] | None],
               on_error: str) -> list[tuple[str, dict[str, Any]]]: ...

    @abstractmethod
    def _step(self, actions: list[str | None]) -> list[StepResult | None]: ...

    @abstractmethod
    def _send(self, actions: list[str | None]) -> list[int]: ...

    @abstractmethod
    def _recv(self, timeout: float | None) -> list[StepResult | None]: ...

    @abstractmethod
    def close(self) -> None: ...

    def reset(self, seeds: list[int | None], options: list[dict[str, Any] | None] | None = None,
              slots: list[int] | None = None, on_error: str = "raise") -> list[tuple[str, dict[str, Any]]]:
        """Resets `slots` (default: all, in order) with one seed and options dict each.

        Group resets are just repeated seeds/options: the same pair gives the same start. A reset
        that raises or passes `reset_timeout` raises here (`on_error="raise"`), after every slot
        has answered; with `on_error="end"` that slot answers `reset_failure(reason)` instead and
        the others start as usual, so one broken task does not stop a whole run."""
        if on_error not in ("raise", "end"):
            raise ValueError(f"on_error must be 'raise' or 'end', got {on_error!r}")
        slots = list(range(self.num_envs)) if slots is None else list(slots)
        options = [None] * len(slots) if options is None else list(options)
        if len(seeds) != len(slots) or len(options) != len(slots):
            raise ValueError(f"reset needs one seed and one options entry per slot ({len(slots)}), "
                             f"got {len(seeds)} seeds and {len(options)} options")
        if len(set(slots)) != len(slots) or any(not 0 <= s < self.num_envs for s in slots):
            raise ValueError(f"slots must be distinct indices in [0, {self.num_envs}), got {slots}")
        return self._reset(slots, list(seeds), options, on_error)

    def step(self, actions: list[str | None]) -> list[StepResult | None]:
        check_actions(actions, self.num_envs)
        return self._step(list(actions))

    def send(self, actions: list[str | None]) -> None:
        """Starts stepping every slot given an action (None: leave it) and returns at once."""
        check_actions(actions, self.num_envs)
        self._send(list(actions))

    def recv(self, timeout: float | None = None) -> list[StepResult | None]:
        """Waits until at least one sent step has answered (at most `timeout` seconds; None:
        no limit) and returns every answer arrived by then, None for the other slots."""
        return self._recv(timeout)

    def snapshot(self, slots: list[int]) -> list[Any]:
        """Snapshots (`turnrl.envs.snapshot.EnvSnapshot`, picklable) of the envs in `slots`, which
        must be idle; for envs that declare the capability (`metadata["snapshot"]`)."""
        return self._snapshot(self._checked_slots(slots))

    def restore(self, snapshots: list[Any], slots: list[int]) -> list[tuple[str, dict[str, Any]]]:
        """Puts each env of `slots` into the state of its snapshot (taken in any slot, any pool of
        the same env id); returns the (observation, info) each showed then, as `reset` does."""
        slots = self._checked_slots(slots)
        if len(snapshots) != len(slots):
            raise ValueError(f"restore needs one snapshot per slot ({len(slots)}), got {len(snapshots)}")
        return self._restore(slots, list(snapshots))

    def _checked_slots(self, slots: list[int]) -> list[int]:
        slots = list(slots)
        if len(set(slots)) != len(slots) or any(not 0 <= s < self.num_envs for s in slots):
            raise ValueError(f"slots must be distinct indices in [0, {self.num_envs}), got {slots}")
        return slots

    def _snapshot(self, slots: list[int]) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} has no snapshot support")

    def _restore(self, slots: list[int], snapshots: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        raise NotImplementedError(f"{type(self).__name__} has no snapshot support")

    def __enter__(self) -> EnvPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
