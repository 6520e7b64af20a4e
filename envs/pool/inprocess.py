"""All envs in the caller's process, stepped one after another: no IPC, no isolation.

The right backend for cheap envs, debugging and tests. It cannot enforce a step timeout (a hung
env hangs the caller), so it refuses one rather than pretend.
"""
from __future__ import annotations

from typing import Any

from turnrl.envs.pool.core import EnvPool, EnvShard, StepResult


class InProcessPool(EnvPool):
    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None,
                 step_timeout: float | None = None):
        if step_timeout is not None:
            raise ValueError("the in-process pool cannot interrupt a hung env; use backend='subprocess' "
                             "or 'ray' for a step timeout")
        self.env_id, self.num_envs = env_id, int(num_envs)
        self.shard: EnvShard | None = EnvShard(env_id, self.num_envs, env_kwargs)

    def _reset(self, slots, seeds, options) -> list[tuple[str, dict[str, Any]]]:
        return [self._shard().reset(s, seed, opt) for s, seed, opt in zip(slots, seeds, options)]

    def _step(self, actions: list[str | None]) -> list[StepResult | None]:
        shard = self._shard()
        return [None if a is None else shard.step(i, a) for i, a in enumerate(actions)]

    def _shard(self) -> EnvShard:
        if self.shard is None:
            raise RuntimeError("the pool is closed")
        return self.shard

    def close(self) -> None:
        if getattr(self, "shard", None) is not None:
            self.shard.close()
            self.shard = None
