"""Envs in Ray actors (the `ray` extra): one actor per shard, for pools that outgrow one machine.

Each env call is its own actor task; Ray runs a synchronous actor's tasks in submission order,
so answers arrive in order, as the dispatch loop in `remote.py` expects. Ray is started here
(locally, quietly) only if the caller has not already connected to a cluster.

Ray cannot be kept to 127.0.0.1: its GCS, raylet and worker gRPC servers listen on every
interface, and it replaces a loopback node address by the machine's own (measured with Ray 2.60:
`ss -ltnp` shows them on `*`, with `_node_ip_address="127.0.0.1"` too). An unauthenticated Ray
runs any job it is sent, so the pool starts Ray only with token authentication (Ray >= 2.52,
`RAY_AUTH_MODE=token`, which it sets when unset): a client without the token (Ray keeps it in
~/.ray/auth_token) is refused. To run otherwise, start Ray yourself (`ray.init(...)`) before
building the pool: a connected Ray is used as it is.
"""
from __future__ import annotations

import os
import sys
from collections import deque
from typing import Any, Mapping

from turnrl.envs.pool.core import EnvShard
from turnrl.envs.pool.remote import RemotePool, Worker, WorkerDied, portable_error

_ACTOR_CLASS = None


def _actor_class():
    """`EnvShard` as a Ray actor (built lazily so importing this module does not import ray)."""
    global _ACTOR_CLASS
    if _ACTOR_CLASS is None:
        import ray

        class ShardActor(EnvShard):
            def ping(self) -> bool:
                return True

            def step_tuple(self, index: int, action: str) -> tuple:
                return tuple(self.step(index, action))

        _ACTOR_CLASS = ray.remote(num_cpus=0)(ShardActor)
    return _ACTOR_CLASS


TOKEN_AUTH_RAY = (2, 52)  # the first Ray with token authentication


def ray_auth_problem(version: str, environ: Mapping[str, str]) -> str | None:
    """Why a Ray started by the pool would be open to anyone who can reach this machine, or None."""
    from packaging.version import Version

    if Version(version).release[:2] < TOKEN_AUTH_RAY:
        return (f"Ray {version} has no token authentication, and Ray listens on every network "
                f"interface: pip install 'ray>={TOKEN_AUTH_RAY[0]}.{TOKEN_AUTH_RAY[1]}', or start Ray "
                f"yourself (ray.init) before building the pool")
    mode = environ.get("RAY_AUTH_MODE", "token").lower()
    if mode != "token":
        return (f"RAY_AUTH_MODE={mode} turns Ray's token authentication off, and Ray listens on every "
                f"network interface: unset it, or start Ray yourself (ray.init) before building the pool")
    return None


def ensure_ray() -> None:
    """Starts a local Ray instance, with token authentication on (see the module docstring), if
    none is connected. Workers get this process's sys.path, so envs registered from user or test
    modules import there as they do here."""
    import ray

    if ray.is_initialized():
        return
    problem = ray_auth_problem(ray.__version__, os.environ)
    if problem is not None:
        raise RuntimeError(problem)
    if "RAY_AUTH_MODE" not in os.environ:  # Ray reads it from the environment only, and caches it
        os.environ["RAY_AUTH_MODE"] = "token"
        from ray._raylet import Config

        Config.initialize("")  # what Ray itself does when it turns token authentication on
    path = os.pathsep.join(p for p in sys.path if p)
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})


class RayWorker(Worker):
    def __init__(self, env_id: str, slots: list[int], env_kwargs: dict[str, Any] | None):
        self.env_id, self.slots, self.env_kwargs = env_id, slots, env_kwargs
        self.refs: deque = deque()
        self.actor: Any = None

    def start(self) -> None:
        self.actor = _actor_class().remote(self.env_id, len(self.slots), self.env_kwargs)
        self.refs.clear()

    def wait_ready(self) -> None:
        import ray

        ray.get(self.actor.ping.remote())

    def submit(self, op: str, items: list[tuple[int, Any]]) -> None:
        for local, args in items:
            if op == "reset":
                self.refs.append(self.actor.reset.remote(local, *args))
            elif op == "snapshot":
                self.refs.append(self.actor.snapshot.remote(local))
            elif op == "restore":
                self.refs.append(self.actor.restore.remote(local, args))
            else:
                self.refs.append(self.actor.step_tuple.remote(local, args))

    def receive(self) -> tuple[str, Any]:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        ref = self.refs.popleft()
        try:
            return "ok", ray.get(ref)
        except RayActorError as e:
            raise WorkerDied(f"Ray actor died: {str(e).splitlines()[0]}") from None
        except RayTaskError as e:
            cause = e.cause if isinstance(e.cause, BaseException) else e
            return "error", portable_error(cause, str(e))

    def restart(self) -> None:
        import ray

        if self.actor is not None:
            ray.kill(self.actor, no_restart=True)
        self.start()
        self.wait_ready()

    def close(self) -> None:
        import ray

        if self.actor is not None and ray.is_initialized():
            try:
                ray.get(self.actor.close.remote(), timeout=10)
            except Exception:  # noqa: BLE001 - a dead or hung actor is killed below anyway
                pass
            ray.kill(self.actor, no_restart=True)
        self.actor = None


class RayPool(RemotePool):
    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None,
                 step_timeout: float | None = None, num_workers: int | None = None,
                 reset_timeout: float | None = None):
        super().__init__(env_id, num_envs, step_timeout, reset_timeout)
        ensure_ray()
        shards = self._shards(self.num_envs, num_workers or self.num_envs)
        self.workers = [RayWorker(env_id, slots, env_kwargs) for slots in shards]
        self._start_workers()

    def _wait(self, workers: list[Worker], timeout: float | None) -> list[Worker]:
        import ray

        heads = {w.refs[0]: w for w in workers}  # type: ignore[attr-defined]
        ready, _ = ray.wait(list(heads), num_returns=1, timeout=timeout)
        return [heads[r] for r in ready]
