"""The dispatch loop shared by the backends whose envs live elsewhere (worker processes, Ray actors).

Each worker holds a shard of envs and answers one message per env call, in order. The pool sends
all commands first, then collects answers as they arrive, so shards run in parallel; `send` and
`recv` expose the two halves, so a caller can give each env its next action as soon as its
answer arrives instead of waiting for the slowest env of a lockstep step. Every
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
from typing import Any, Callable

from turnrl.envs.pool.core import EnvPool, StepResult, check_idle, ended_result, error_text, reset_failure


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
    def start(self) -> None:
        """Starts the worker and its envs without waiting for them (`wait_ready` waits)."""

    @abstractmethod
    def wait_ready(self) -> None:
        """Returns once the worker's envs are built; raises the error that stopped them."""

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
    """Subclasses build `self.workers` and implement `_wait`.

    Calls in flight are kept per worker in submission order (`_inflight`), since a worker answers
    in order; answers received but not yet handed out wait in `_answers`, so a blocking reset of
    one slot can run while other slots are stepping asynchronously (`send`/`recv`)."""

    workers: list[Worker]

    def __init__(self, env_id: str, num_envs: int, step_timeout: float | None, reset_timeout: float | None):
        for name, value in (("step_timeout", step_timeout), ("reset_timeout", reset_timeout)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive (or None: no limit), got {value}")
        self.env_id, self.num_envs = env_id, int(num_envs)
        self.step_timeout, self.reset_timeout = step_timeout, reset_timeout
        self._last: list[tuple[str, dict[str, Any]] | None] = [None] * self.num_envs
        self._lost: dict[int, str] = {}  # slot -> why its env was recreated while it was not being stepped
        self._inflight: dict[Worker, deque[tuple[int, str]]] = {}  # worker -> (slot, op) awaiting an answer
        self._deadline: dict[Worker, float | None] = {}  # when the head call of each busy worker times out
        self._answers: dict[int, tuple[str, str, Any]] = {}  # slot -> (op, kind, payload), not yet handed out
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

    def _start_workers(self) -> None:
        """Starts every worker, then waits for each, so envs are built in parallel; on any failure
        the workers already started are closed and the error raised."""
        try:
            for worker in self.workers:
                worker.start()
            for worker in self.workers:
                worker.wait_ready()
        except BaseException:
            self.close()
            raise

    def _owner(self) -> dict[int, tuple[Worker, int]]:
        return {slot: (w, local) for w in self.workers for local, slot in enumerate(w.slots)}

    # -- the dispatch loop ------------------------------------------------------------------
    def _expiry(self, op: str) -> float | None:
        timeout = self.reset_timeout if op == "reset" else self.step_timeout
        return None if timeout is None else time.monotonic() + timeout

    def _busy(self) -> set[int]:
        """Slots with a call in flight or an answer not yet handed out."""
        return {slot for queue in self._inflight.values() for slot, _ in queue} | set(self._answers)

    def _submit(self, op: str, calls: dict[int, Any]) -> None:
        """Sends one call per slot in `calls`, one message per worker; returns without waiting."""
        if self.closed:
            raise RuntimeError("the pool is closed")
        owner = self._owner()
        by_worker: dict[Worker, list[int]] = {}
        for slot in sorted(calls):
            by_worker.setdefault(owner[slot][0], []).append(slot)
        for worker, slots in by_worker.items():
            queue = self._inflight.setdefault(worker, deque())
            if not queue:  # an idle worker starts on it now; a busy one when its head call is answered
                self._deadline[worker] = self._expiry(op)
            queue.extend((slot, op) for slot in slots)
            worker.submit(op, [(owner[s][1], calls[s]) for s in slots])

    def _pump(self, done: Callable[[], bool], timeout: float | None = None) -> None:
        """Receives answers into `_answers` until `done()` or `timeout` seconds pass, enforcing
        every worker's deadline meanwhile."""
        end = None if timeout is None else time.monotonic() + timeout
        try:
            while not done():
                busy = [w for w, queue in self._inflight.items() if queue]
                if not busy:
                    raise RuntimeError("waiting for answers with no call in flight")
                limits = [d for w in busy if (d := self._deadline[w]) is not None]
                limits += [end] if end is not None else []
                wait = max(0.0, min(limits) - time.monotonic()) if limits else None
                for worker in self._wait(busy, wait):
                    self._receive(worker)
                now = time.monotonic()
                for worker in busy:
                    deadline = self._deadline.get(worker)
                    if self._inflight.get(worker) and deadline is not None and deadline <= now:
                        op = self._inflight[worker][0][1]
                        timeout_s = self.reset_timeout if op == "reset" else self.step_timeout
                        self._fail(worker, f"{op} timeout after {timeout_s:g}s")
                if end is not None and now >= end:
                    return
        except BaseException:
            # interrupted (Ctrl-C) with answers still in flight: those workers would answer a
            # later call with stale results, so restart them and let their slots end on next use
            for worker in [w for w, queue in self._inflight.items() if queue]:
                op = self._inflight.pop(worker)[0][1]
                worker.restart()
                self.restarts += 1
                for slot in worker.slots:
                    self._lost[slot] = f"worker restarted: {op} interrupted"
            raise

    def _receive(self, worker: Worker) -> None:
        """Takes one answer from `worker`: it answers the oldest call in flight there."""
        queue = self._inflight[worker]
        try:
            kind, payload = worker.receive()
        except WorkerDied as e:
            self._fail(worker, f"worker crashed: {e}")
            return
        slot, op = queue.popleft()
        self._answers[slot] = (op, kind, payload)
        if queue:
            self._deadline[worker] = self._expiry(queue[0][1])

    def _fail(self, worker: Worker, reason: str) -> None:
        """Restarts `worker`; its head call gets `reason`, its other calls in flight get told why,
        and its idle slots learn why at their next use."""
        pending = self._inflight.pop(worker)
        head = pending[0][0]
        ops = dict(pending)
        worker.restart()
        self.restarts += 1
        for slot in worker.slots:
            if slot == head:
                self._answers[slot] = (ops[slot], "ended", reason)
            elif slot in ops:
                self._answers[slot] = (ops[slot], "ended", f"worker restarted: slot {head} {reason}")
            else:
                self._lost[slot] = f"worker restarted: slot {head} {reason}"

    def _step_result(self, slot: int) -> StepResult:
        """Hands out the step answer of `slot` as a StepResult."""
        _, kind, payload = self._answers.pop(slot)
        if kind == "ok":
            self._last[slot] = (payload[0], payload[4])
            return StepResult(*payload)
        if kind == "error":  # EnvShard.step catches env errors; this is a transport failure
            name, message, _ = payload
            return ended_result(f"worker error: {name}: {message}", self._last[slot])
        return ended_result(payload, self._last[slot])

    # -- EnvPool ----------------------------------------------------------------------------
    def _reset(self, slots, seeds, options, on_error) -> list[tuple[str, dict[str, Any]]]:
        check_idle(self._busy(), slots)
        calls = {s: (seed, opt) for s, seed, opt in zip(slots, seeds, options)}
        answers = self._reset_round(calls)
        # a sibling's crash or timeout replaced these slots' envs, during or after their reset: once
        # more on the fresh envs, so a healthy task does not fail for its neighbour
        again = {s: calls[s] for s, (kind, payload) in answers.items()
                 if (kind == "ok" and s in self._lost) or (kind == "ended" and payload.startswith("worker restarted"))}
        if again:
            answers.update(self._reset_round(again))
        out, errors = [], []
        for slot in slots:
            kind, payload = answers[slot]
            if kind == "ok" and slot not in self._lost:
                self._last[slot] = payload
                out.append(payload)
                continue
            if kind == "error":  # the env raised; the worker lives on
                errors.append(rebuild_error(*payload))
                reason = f"reset failed: {error_text(*payload)}"
            else:  # the worker died or passed reset_timeout, and was restarted with fresh envs
                reason = f"reset failed: {self._lost.pop(slot) if kind == 'ok' else payload}"
                errors.append(RuntimeError(f"slot {slot}: {reason}"))
            out.append(reset_failure(reason))
        if errors and on_error == "raise":
            raise errors[0]
        return out

    def _reset_round(self, calls: dict[int, Any]) -> dict[int, tuple[str, Any]]:
        """Resets the slots in `calls` (slot -> (seed, options)); returns slot -> (kind, payload)."""
        for slot in calls:
            self._lost.pop(slot, None)  # a reset gives the slot a fresh episode; failures from now on count
        self._submit("reset", calls)
        self._pump(lambda: all(s in self._answers for s in calls))
        return {s: self._answers.pop(s)[1:] for s in calls}

    def _snapshot(self, slots: list[int]) -> list[Any]:
        lost = [s for s in slots if s in self._lost]
        if lost:
            raise RuntimeError(f"slots {lost} lost their envs ({self._lost[lost[0]]}); nothing to snapshot")
        return self._call("snapshot", {s: None for s in slots}, slots)

    def _restore(self, slots: list[int], snapshots: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        answers = self._call("restore", dict(zip(slots, snapshots)), slots)
        for slot, answer in zip(slots, answers):
            self._last[slot] = answer
            self._lost.pop(slot, None)
        return answers

    def _call(self, op: str, calls: dict[int, Any], slots: list[int]) -> list[Any]:
        """One blocking call per slot (snapshot, restore); raises the first error."""
        check_idle(self._busy(), slots)
        self._submit(op, calls)
        self._pump(lambda: all(s in self._answers for s in slots))
        answers = {s: self._answers.pop(s) for s in slots}
        for slot in slots:
            _, kind, payload = answers[slot]
            if kind == "error":
                raise rebuild_error(*payload)
            if kind != "ok":
                raise RuntimeError(f"{op} of slot {slot} failed: {payload}")
        return [answers[s][2] for s in slots]

    def _send(self, actions: list[str | None]) -> list[int]:
        slots = [slot for slot, action in enumerate(actions) if action is not None]
        check_idle(self._busy(), slots)
        self._submit("step", {slot: actions[slot] for slot in slots if slot not in self._lost})
        for slot in slots:
            if slot in self._lost:  # its env is gone: the episode ends here, without a call
                self._answers[slot] = ("step", "ended", self._lost[slot])
        return slots

    def _recv(self, timeout: float | None) -> list[StepResult | None]:
        def stepped() -> bool:
            return any(op == "step" for op, _, _ in self._answers.values())

        if self.closed:
            raise RuntimeError("the pool is closed")
        if not stepped() and not any(op == "step" for q in self._inflight.values() for _, op in q):
            raise RuntimeError("recv() with no step in flight; send() actions first")
        self._pump(stepped, timeout)
        busy = [w for w, queue in self._inflight.items() if queue]
        for worker in self._wait(busy, 0.0) if busy else []:  # and whatever else has arrived by now
            self._receive(worker)
        results: list[StepResult | None] = [None] * self.num_envs
        for slot in [s for s, (op, _, _) in self._answers.items() if op == "step"]:
            results[slot] = self._step_result(slot)
        return results

    def _step(self, actions: list[str | None]) -> list[StepResult | None]:
        sent = self._send(actions)
        try:
            self._pump(lambda: all(s in self._answers for s in sent))
        except BaseException:
            for slot in sent:  # this call is abandoned, and its answers with it
                self._answers.pop(slot, None)
            raise
        results: list[StepResult | None] = [None] * self.num_envs
        for slot in sent:
            results[slot] = self._step_result(slot)
        return results

    def close(self) -> None:
        if getattr(self, "closed", True):
            return
        self.closed = True
        for worker in getattr(self, "workers", []):
            worker.close()
