"""The foundation on the first real env: Gymnasium's checker, backend equality, bad input, expert."""
from __future__ import annotations

import warnings

import pytest

from turnrl.agents.scripted import ExpertAgent, RandomAgent
from turnrl.envs.pool import make_env, make_pool
from turnrl.rollout import TaskSpec, collect, summarize

pytest.importorskip("textworld", reason="needs the `textworld` extra")

ENV_ID = "turnrl/TextWorld-v0"
KWARGS = {"n_games": 2}  # two games, generated once into the cache


def test_textworld_passes_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    env = make_env(ENV_ID, KWARGS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    env.close()
    assert [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)] == []


def test_same_seeds_same_textworld_trajectories_inprocess_and_subprocess():
    tasks = [TaskSpec(seed=s) for s in range(2)]
    runs = []
    for backend in ("inprocess", "subprocess"):
        with make_pool(ENV_ID, 2, backend=backend, env_kwargs=KWARGS) as pool:
            runs.append([t.to_dict() for t in collect(pool, RandomAgent(3), tasks, group_size=2, max_steps=8,
                                                      progress=False)])
    assert runs[0] == runs[1]
    first, second = runs[0][0], runs[0][1]  # one group: identical start, then the random agent diverges
    assert first["steps"][0]["observation"] == second["steps"][0]["observation"]


def test_expert_wins_and_random_does_worse():
    tasks = [TaskSpec(seed=s) for s in range(2)]
    with make_pool(ENV_ID, 2, env_kwargs=KWARGS) as pool:
        expert = summarize(collect(pool, ExpertAgent(), tasks, max_steps=50, progress=False))
        random = summarize(collect(pool, RandomAgent(0), tasks, max_steps=10, progress=False))
    assert expert["success_rate"] == 1.0 and expert["invalid_rate"] == 0.0
    assert random["success_rate"] < 1.0


BAD_TEXT = ["", "x" * (1 << 20), "look\x00\x1b", "take \ud800", "restart", "   "]


def test_bad_text_through_a_worker_is_an_invalid_action_and_the_pool_carries_on():
    with make_pool(ENV_ID, 1, backend="subprocess", env_kwargs=KWARGS, step_timeout=30) as pool:
        pool.reset([0])
        for action in BAD_TEXT:
            (result,) = pool.step([action])
            assert not result.info["valid"] and not result.truncated and isinstance(result.obs, str), action[:20]
        with pytest.raises(TypeError, match="must be str"):
            pool.step([b"look"])
        (after,) = pool.step(["look"])
        assert after.info["valid"] and pool.restarts == 0
