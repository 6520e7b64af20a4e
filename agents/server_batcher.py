"""The one thread that owns the model in `turnrl serve`: it batches waiting requests and drops abandoned work.

Requests waiting at one moment are generated together when their sampling is equal (a seeded
request runs alone, since the seed sets torch's global generator). The queue is bounded:
`enqueue` raises `QueueFull` once `max_queue` requests are admitted and not yet finished.
`cancel` (a client hung up) takes a queued job off the queue at once, and a job already
generating has its rows ended at the next decoding step, so abandoned requests never delay
the ones behind them.

Generation is `HFPolicy.generate_batch` (same ids, same raw log-probs, same stop handling) with
one per-step hook: it hands each streaming row its new token and ends the rows of cancelled jobs.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from transformers import StoppingCriteria

from turnrl.agents.generation import Generation, SamplingParams
from turnrl.agents.hf import HFPolicy


class QueueFull(RuntimeError):
    """The server already holds `max_queue` requests."""


@dataclass(eq=False)
class Job:
    """One request: `len(prompts)` rows (its `n` choices) sharing one sampling setting."""

    prompts: list[list[int]]
    sampling: SamplingParams
    seed: int | None = None
    on_token: Callable[[int, int], None] | None = None  # (choice index, token id), called on the batcher thread
    done: Future = field(default_factory=Future)

    @property
    def cancelled(self) -> bool:
        return self.done.cancelled()


class _RowHooks(StoppingCriteria):
    """Runs after every decoding step: streams each live row's new token, and ends the rows of cancelled jobs."""

    def __init__(self, rows: list[tuple[Job, int]]):
        self.rows = rows
        self.streaming = any(job.on_token is not None for job, _ in rows)

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        ended = [job.cancelled for job, _ in self.rows]
        if self.streaming:  # reading the tokens waits for the device: only when someone streams
            for (job, choice), token, gone in zip(self.rows, input_ids[:, -1].tolist(), ended):
                if job.on_token is not None and not gone:
                    job.on_token(choice, token)
        return torch.tensor(ended, dtype=torch.bool, device=input_ids.device)


class RequestBatcher:
    """A bounded queue of jobs and the worker thread that generates them, batch by batch."""

    def __init__(self, policy: HFPolicy, max_batch: int = 32, max_queue: int = 256):
        self.policy = policy
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._waiting: deque[Job] = deque()
        self._admitted = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._loop, name="turnrl-serve-batcher", daemon=True).start()

    @property
    def admitted(self) -> int:
        """Requests queued or generating now."""
        with self._cond:
            return self._admitted

    def submit(self, prompts: list[list[int]], sampling: SamplingParams, seed: int | None = None) -> list[Generation]:
        """Generates `prompts` and waits for them (the blocking form of `enqueue`)."""
        return self.enqueue(Job(prompts, sampling, seed)).done.result()

    def enqueue(self, job: Job) -> Job:
        with self._cond:
            if self._admitted >= self.max_queue:
                raise QueueFull(f"the server holds {self._admitted} requests, its limit")
            self._admitted += 1
            self._waiting.append(job)
            self._cond.notify()
        job.done.add_done_callback(self._release)
        return job

    def cancel(self, job: Job) -> None:
        """Drops `job`: off the queue if it waits, its rows ended at the next step if it generates."""
        with self._cond:
            if job in self._waiting:
                self._waiting.remove(job)
        job.done.cancel()  # no-op once it has a result

    def _release(self, _: Future) -> None:
        with self._cond:
            self._admitted -= 1

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
                taken = [self._waiting.popleft() for _ in range(min(len(self._waiting), self.max_batch))]
            for group in _groups(taken):
                for chunk in _chunks([j for j in group if not j.cancelled], self.policy.batch_size):
                    self._run(chunk)

    def _run(self, jobs: list[Job]) -> None:
        rows = [(j, i) for j in jobs for i in range(len(j.prompts))]
        try:
            if jobs[0].seed is not None:
                torch.manual_seed(jobs[0].seed)
            gens = self.policy.generate_batch([p for j in jobs for p in j.prompts], jobs[0].sampling, _RowHooks(rows))
        except Exception as e:  # the request fails, the server stays up
            for j in jobs:
                _settle(j.done, exception=e)
            return
        for j in jobs:
            _settle(j.done, result=gens[: len(j.prompts)])
            gens = gens[len(j.prompts):]


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Jobs with equal sampling together; a seeded job alone (the seed sets torch's global generator)."""
    by_sampling: dict[SamplingParams, list[Job]] = {}
    seeded = []
    for j in jobs:
        if j.seed is None:
            by_sampling.setdefault(j.sampling, []).append(j)
        else:
            seeded.append([j])
    return [*by_sampling.values(), *seeded]


def _chunks(jobs: list[Job], max_rows: int) -> Iterator[list[Job]]:
    """Consecutive jobs with at most `max_rows` rows together (a larger job goes alone, whole)."""
    chunk: list[Job] = []
    rows = 0
    for j in jobs:
        if chunk and rows + len(j.prompts) > max_rows:
            yield chunk
            chunk, rows = [], 0
        chunk.append(j)
        rows += len(j.prompts)
    if chunk:
        yield chunk


def _settle(done: Future, result: Any = None, exception: BaseException | None = None) -> None:
    """Completes a future unless its client already cancelled it."""
    try:
        if exception is not None:
            done.set_exception(exception)
        else:
            done.set_result(result)
    except InvalidStateError:
        pass
