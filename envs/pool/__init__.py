"""Run N text environments at once behind one API, on three backends.

- `inprocess`: all envs in this process, stepped in turn (cheap envs, debugging).
- `subprocess`: envs in worker processes (one per env, or `num_workers` shards), with a per-step
  timeout and restart of crashed or hung workers.
- `ray`: envs in Ray actors (the `ray` extra), same semantics as `subprocess`.

    with make_pool("turnrl/TextWorld-v0", 8, backend="subprocess", step_timeout=30) as pool:
        starts = pool.reset(seeds=[0] * 8)               # a group: 8 identical starts
        results = pool.step(["go north"] * 8)            # None for a slot not to step

Backends import their dependencies (multiprocessing, ray) only when chosen.
"""
from __future__ import annotations

from typing import Any

from turnrl.envs.pool.core import EnvPool, StepResult, default_timeouts, make_env

BACKENDS = ("inprocess", "subprocess", "ray")


def make_pool(env_id: str, num_envs: int, backend: str = "inprocess", env_kwargs: dict[str, Any] | None = None,
              step_timeout: float | None = None, num_workers: int | None = None, reset_timeout: float | None = None,
              **kwargs: Any) -> EnvPool:
    """Builds a pool of `num_envs` copies of `env_id`. `num_workers` (subprocess, ray) shards the
    envs over that many workers (default: one per env). `reset_timeout` (subprocess, ray) bounds a
    reset as `step_timeout` bounds a step. Extra keyword args go to the backend (`start_method`
    and `spin_seconds` for subprocess)."""
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    if backend == "inprocess":
        if num_workers not in (None, 1):
            raise ValueError("the in-process pool has no workers; drop num_workers")
        from turnrl.envs.pool.inprocess import InProcessPool

        return InProcessPool(env_id, num_envs, env_kwargs, step_timeout=step_timeout, reset_timeout=reset_timeout,
                             **kwargs)
    if backend == "subprocess":
        from turnrl.envs.pool.subproc import SubprocessPool

        return SubprocessPool(env_id, num_envs, env_kwargs, step_timeout=step_timeout, num_workers=num_workers,
                              reset_timeout=reset_timeout, **kwargs)
    if backend == "ray":
        from turnrl.envs.pool.ray_actors import RayPool

        return RayPool(env_id, num_envs, env_kwargs, step_timeout=step_timeout, num_workers=num_workers,
                       reset_timeout=reset_timeout, **kwargs)
    raise ValueError(f"unknown pool backend {backend!r}; choose one of {BACKENDS}")


def parse_pool_spec(spec: str) -> tuple[str, int]:
    """`"subprocess:4"` -> ("subprocess", 4); a bare backend name means 1 env."""
    backend, _, n = spec.partition(":")
    if backend not in BACKENDS:
        raise ValueError(f"unknown pool backend {backend!r} in {spec!r}; choose one of {BACKENDS}")
    try:
        num = int(n) if n else 1
    except ValueError:
        raise ValueError(f"pool spec {spec!r}: the part after ':' must be an int") from None
    if num < 1:
        raise ValueError(f"pool spec {spec!r}: need at least 1 env")
    return backend, num


__all__ = ["BACKENDS", "EnvPool", "StepResult", "default_timeouts", "make_env", "make_pool", "parse_pool_spec"]
