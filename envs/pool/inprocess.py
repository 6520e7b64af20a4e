"""All envs in the caller's process, stepped one after another: no IPC, no isolation.

The right backend for cheap envs, debugging and tests. It cannot enforce a step timeout (a hung
env hangs the caller), so it refuses one rather than pretend. `send` only records the actions;
`recv` steps them all, in slot order.
"""
from __future__ import annotations

import traceback
from typing import Any

from turnrl.envs.pool.core import EnvPool, EnvShard, StepResult, check_idle, error_text, reset_failure


class InProcessPool(EnvPool):
    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None,
                 step_timeout: float | None = None, reset_timeout: float | None = None):
        if step_timeout is not None or reset_timeout is not None:
            raise ValueError("the in-process pool cannot interrupt a hung env; use backend='subprocess' "
                             "or 'ray' for a step or reset timeout")
        self.env_id, self.num_envs = env_id, int(num_envs)
        self.shard: EnvShard | None = EnvShard(env_id, self.num_envs, env_kwargs)
        self._sent: dict[int, str] = {}  # slot -> action sent, not yet stepped

    def _reset(self, slots, seeds, options, on_error) -> list[tuple[str, dict[str, Any]]]:
        check_idle(set(self._sent), slots)
        shard = self._shard()
        answers = []
        for slot, seed, opt in zip(slots, seeds, options):
            try:
                answers.append(shard.reset(slot, seed, opt))
            except Exception as e:  # noqa: BLE001 - the caller chose: raise it, or end this slot's episode
                if on_error == "raise":
                    raise
                tb = traceback.format_exc(limit=-1)
                answers.append(reset_failure(f"reset failed: {error_text(type(e).__name__, str(e), tb)}"))
        return answers

    def _step(self, actions: list[str | None]) -> list[StepResult | None]:
        shard = self._shard()
        check_idle(set(self._sent), [i for i, a in enumerate(actions) if a is not None])
        return [None if a is None else shard.step(i, a) for i, a in enumerate(actions)]

    def _send(self, actions: list[str | None]) -> list[int]:
        slots = [i for i, a in enumerate(actions) if a is not None]
        check_idle(set(self._sent), slots)
        self._shard()  # refuses a closed pool now, not at recv
        self._sent.update((i, actions[i]) for i in slots)  # type: ignore[misc]
        return slots

    def _recv(self, timeout: float | None) -> list[StepResult | None]:
        if not self._sent:
            raise RuntimeError("recv() with no step in flight; send() actions first")
        shard = self._shard()
        results: list[StepResult | None] = [None] * self.num_envs
        for slot in sorted(self._sent):
            results[slot] = shard.step(slot, self._sent.pop(slot))
        return results

    def _snapshot(self, slots: list[int]) -> list[Any]:
        check_idle(set(self._sent), slots)
        return [self._shard().snapshot(s) for s in slots]

    def _restore(self, slots: list[int], snapshots: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        check_idle(set(self._sent), slots)
        return [self._shard().restore(s, snap) for s, snap in zip(slots, snapshots)]

    def _shard(self) -> EnvShard:
        if self.shard is None:
            raise RuntimeError("the pool is closed")
        return self.shard

    def close(self) -> None:
        if getattr(self, "shard", None) is not None:
            self.shard.close()
            self.shard = None
