"""The dispatch loop shared by the backends whose envs live elsewhere (worker processes, Ray actors).

Each worker holds a shard of envs and answers one message per env call, in order. The pool sends
all commands first, then collects answers as they arrive, so shards run in parallel. Every
outstanding call has a deadline (`step_timeout` for steps, `reset_timeout` for resets) that
starts when the worker begins it, i.e. when its previous answer arrived. A worker that dies or
misses a deadline is killed and restarted with fresh envs: the slot it was stepping comes back
truncated with the reason, its other slots (whose envs are gone) come back truncated with the
reason at their next step, and every answer already received is kept.
"""
from __future__ import annotations

import builtins
import time
from abc import ABC, abstractmethod
from collections import deque
from typing import Any

from turnrl.envs.pool.core import EnvPool, StepResult, ended_result


class WorkerDied(Exception):
    """The worker process or actor is gone; the message says how."""


def portable_error(e: BaseException, tb: str = "") -> tuple[str, str, str]:
    """An exception as plain strings, so it crosses a pipe even when its class does not unpickle."""
    return type(e).__name__, str(e), tb


def rebuild_error(name: str, message: str, tb: str) -> Exception:
    """Builtin exception types come back as themselves (a ValueError stays a ValueError)."""
    cls = getattr(builtins, name, None)
    err = cls(message) if isinstance(cls, type) and issubclass(cls, Exception) else RuntimeError(f"{name}: {message}")
    if tb and hasattr(err, "add_note"):  # Python >= 3.11
        err.add_note(f"in the env worker:\n{tb}")
    return err


class Worker(ABC):
    """One shard of envs somewhere else. `slots` maps local env index -> global slot."""

    slots: list[int]

    @abstractmethod
    def submit(self, op: str, items: list[tuple[int, Any]]) -> None:
        """Sends calls (`op` is "reset" or "step") for local envs; answers come back one per item."""

    @abstractmethod
    def receive(self) -> tuple[str, Any]:
        """The next answer: ("ok", result) or ("error", (name, message, traceback)); raises WorkerDied."""

    @abstractmethod
    def restart(self) -> None:
        """Kills the worker (if alive) and starts a fresh one with fresh envs."""

    @abstractmethod
    def close(self) -> None: ...


class RemotePool(EnvPool):
    """Subclasses build `self.workers` and implement `_wait`."""

    workers: list[Worker]

    def __init__(self, env_id: str, num_envs: int, step_timeout: float | None, reset_timeout: float | None):
        if step_timeout is not None and step_timeout <= 0:
            raise ValueError(f"step_timeout must be positive, got {step_timeout}")
        self.env_id, self.num_envs = env_id, int(num_envs)
        self.step_timeout, self.reset_timeout = step_timeout, reset_timeout
        self._last: list[tuple[str, dict[str, Any]] | None] = [None] * self.num_envs
        self._lost: dict[int, str] = {}  # slot -> why its env was recreated while it was not being stepped
        self.restarts = 0
        self.closed = False

    @abstractmethod
    def _wait(self, workers: list[Worker], timeout: float | None) -> list[Worker]:
        """The workers among `workers` with an answer ready (or dead), waiting at most `timeout`."""

    @staticmethod
    def _shards(num_envs: int, num_workers: int) -> list[list[int]]:
        """Contiguous slot ranges, as even as possible."""
        if not 1 <= num_workers <= num_envs:
            raise ValueError(f"num_workers must be in [1, num_envs={num_envs}], got {num_workers}")
        base, extra = divmod(num_envs, num_workers)
        bounds = [0]
        for w in range(num_workers):
            bounds.append(bounds[-1] + base + (w < extra))
        return [list(range(bounds[w], bounds[w + 1])) for w in range(num_workers)]

    def _owner(self) -> dict[int, tuple[Worker, int]]:
        return {slot: (w, local) for w in self.workers for local, slot in enumerate(w.slots)}

    # -- the dispatch loop ------------------------------------------------------------------
    def _run(self, op: str, calls: dict[int, Any], timeout: float | None) -> dict[int, tuple[str, Any]]:
        """Runs one call per slot in `calls`; returns slot -> ("ok", result) | ("error", err) | ("ended", reason)."""
        if self.closed:
            raise RuntimeError("the pool is closed")
        owner = self._owner()
        queues: dict[Worker, deque[int]] = {}
        for slot in sorted(calls):
            worker, _ = owner[slot]
            queues.setdefault(worker, deque()).append(slot)
        for worker, slots in queues.items():
            worker.submit(op, [(owner[s][1], calls[s]) for s in slots])
        try:
            return self._collect(op, queues, timeout)
        except BaseException:
            # interrupted (Ctrl-C) with answers still in flight: those workers would answer a
            # later call with stale results, so restart them and let their slots end on next use
            for worker in list(queues):
                worker.restart()
                self.restarts += 1
                for slot in worker.slots:
                    self._lost[slot] = f"worker restarted: {op} interrupted"
            raise

    def _collect(self, op: str, queues: dict[Worker, deque[int]], timeout: float | None) -> dict[int, tuple[str, Any]]:
        """Gathers the answers to the calls in `queues` (emptied as they arrive), enforcing deadlines."""
        now = time.monotonic()
        deadline = {w: (now + timeout if timeout is not None else None) for w in queues}
        out: dict[int, tuple[str, Any]] = {}
        while queues:
            dated = [d for w, d in deadline.items() if d is not None and w in queues]
            wait = max(0.0, min(dated) - time.monotonic()) if dated else None
            for worker in self._wait(list(queues), wait):
                try:
                    kind, payload = worker.receive()
                except WorkerDied as e:
                    self._fail(worker, queues.pop(worker), f"worker crashed: {e}", out)
                    continue
                slot = queues[worker].popleft()
                out[slot] = (kind, payload)
                deadline[worker] = time.monotonic() + timeout if timeout is not None else None
                if not queues[worker]:
                    del queues[worker]
            now = time.monotonic()
            for worker in [w for w in queues if deadline[w] is not None and deadline[w] <= now]:
                self._fail(worker, queues.pop(worker), f"{op} timeout after {timeout:g}s", out)
        return out

    def _fail(self, worker: Worker, pending: deque[int], reason: str, out: dict[int, tuple[str, Any]]) -> None:
        """Restarts `worker`; its head call gets `reason`, its other slots learn why at their next use."""
        head = pending[0]
        worker.restart()
        self.restarts += 1
        for slot in worker.slots:
            if slot == head:
                out[slot] = ("ended", reason)
            elif slot in pending:
                out[slot] = ("ended", f"worker restarted: slot {head} {reason}")
            else:
                self._lost[slot] = f"worker restarted: slot {head} {reason}"

    # -- EnvPool ----------------------------------------------------------------------------
    def _reset(self, slots, seeds, options) -> list[tuple[str, dict[str, Any]]]:
        answers = self._run("reset", {s: (seed, opt) for s, seed, opt in zip(slots, seeds, options)},
                            self.reset_timeout)
        errors = []
        for slot in slots:
            kind, payload = answers[slot]
            if kind == "ok":
                self._last[slot] = payload
                self._lost.pop(slot, None)
            elif kind == "error":
                errors.append(rebuild_error(*payload))
            else:
                errors.append(RuntimeError(f"reset of slot {slot} failed: {payload}"))
        if errors:
            raise errors[0]
        return [answers[s][1] for s in slots]

    def _step(self, actions: list[str | None]) -> list[StepResult | None]:
        results: list[StepResult | None] = [None] * self.num_envs
        calls = {}
        for slot, action in enumerate(actions):
            if action is None:
                continue
            if slot in self._lost:
                results[slot] = ended_result(self._lost[slot], self._last[slot])
            else:
                calls[slot] = action
        for slot, (kind, payload) in self._run("step", calls, self.step_timeout).items():
            if kind == "ok":
                results[slot] = StepResult(*payload)
                self._last[slot] = (payload[0], payload[4])
            elif kind == "error":  # EnvShard.step catches env errors; this is a transport failure
                name, message, _ = payload
                results[slot] = ended_result(f"worker error: {name}: {message}", self._last[slot])
            else:
                results[slot] = ended_result(payload, self._last[slot])
        return results

    def close(self) -> None:
        if getattr(self, "closed", True):
            return
        self.closed = True
        for worker in getattr(self, "workers", []):
            worker.close()
