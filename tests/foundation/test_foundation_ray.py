"""The Ray backend gives the same trajectories as the others and survives a dying actor.

Ray's start-up takes seconds, so one module-scoped fixture starts it once for every test here.
The TextWorld and crash/hang tests are `slow` (each new actor is a fresh Ray worker process);
the restart logic they exercise is the dispatch loop that `test_foundation_pool` covers fast.
"""
from __future__ import annotations

import pytest

from turnrl.agents.scripted import ExpertAgent, RandomAgent
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec, collect

ray = pytest.importorskip("ray", reason="the Ray backend needs the `ray` extra")


@pytest.fixture(scope="module")
def ray_session():
    from turnrl.envs.pool.ray_actors import ensure_ray

    ensure_ray()
    yield
    ray.shutdown()


def trajectories(pool, tasks):
    return [t.to_dict() for t in collect(pool, RandomAgent(1), tasks, group_size=2, max_steps=6, progress=False)]


def test_ray_matches_inprocess_on_the_toy_env(ray_session, toy_env_id):
    tasks = [TaskSpec(seed=s) for s in range(3)]
    with make_pool(toy_env_id, 3) as pool:
        reference = trajectories(pool, tasks)
    with make_pool(toy_env_id, 3, backend="ray", num_workers=2) as pool:
        assert trajectories(pool, tasks) == reference
        # and stepped asynchronously (send/recv) by an agent whose actions depend on its input only
        lockstep = collect(pool, ExpertAgent(), tasks, group_size=2, max_steps=6, progress=False)
        unlocked = collect(pool, ExpertAgent(), tasks, group_size=2, max_steps=6, progress=False, asynchronous=True)
        assert [t.to_dict() for t in unlocked] == [t.to_dict() for t in lockstep]


@pytest.mark.slow  # ~15 s (actors import TextWorld); fast cover: the toy-env test above + test_foundation_textworld
def test_ray_matches_inprocess_on_textworld(ray_session):
    pytest.importorskip("textworld")
    tasks = [TaskSpec(seed=s) for s in range(2)]
    kwargs = {"n_games": 2}
    with make_pool("turnrl/TextWorld-v0", 2, env_kwargs=kwargs) as pool:
        reference = trajectories(pool, tasks)
    with make_pool("turnrl/TextWorld-v0", 2, backend="ray", env_kwargs=kwargs) as pool:
        assert trajectories(pool, tasks) == reference


@pytest.mark.slow  # ~10 s (each restart starts a Ray worker); fast cover: the same dispatch loop in test_foundation_pool
def test_ray_actor_death_and_hang_end_only_that_episode(ray_session, toy_env_id):
    with make_pool(toy_env_id, 2, backend="ray", env_kwargs={"faults": True}, step_timeout=2.0) as pool:
        pool.reset([1, 2])
        crashed = pool.step(["crash", "wait"])
        assert crashed[0].truncated and crashed[0].info["end_reason"].startswith("worker crashed: Ray actor died")
        assert crashed[1].info["valid"] and not crashed[1].truncated
        pool.reset([1], slots=[0])
        hung = pool.step(["wait", "hang"])
        assert hung[1].info["end_reason"] == "step timeout after 2s" and hung[0].info["valid"]
        assert pool.restarts == 2
        pool.reset([2], slots=[1])
        assert all(r.info["valid"] for r in pool.step(["wait", "wait"]))


def test_the_pool_starts_ray_only_with_token_authentication():
    from turnrl.envs.pool.ray_actors import ray_auth_problem

    assert "no token authentication" in ray_auth_problem("2.51.1", {})
    assert "pip install 'ray>=2.52'" in ray_auth_problem("2.9.3", {})
    assert "RAY_AUTH_MODE=disabled" in ray_auth_problem("2.60.0", {"RAY_AUTH_MODE": "disabled"})
    assert ray_auth_problem("2.52.0", {}) is None and ray_auth_problem("3.0.0.dev0", {"RAY_AUTH_MODE": "token"}) is None


@pytest.mark.slow  # a second Ray client that keeps retrying for ~20 s before it gives up
def test_a_client_without_the_token_is_refused(ray_session):
    import os
    import subprocess
    import sys

    assert os.environ["RAY_AUTH_MODE"] == "token"
    address = ray.get_runtime_context().gcs_address
    code = f"import ray; ray.init(address={address!r}, log_to_driver=False); print('CONNECTED')"
    env = {**os.environ, "RAY_AUTH_TOKEN": "not-the-token"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode != 0 and "CONNECTED" not in result.stdout
    assert "Authentication token is missing or incorrect" in result.stderr
