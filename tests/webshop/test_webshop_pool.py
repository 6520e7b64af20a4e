"""WebShop behind turnrl's pools: group resets give identical starts on every backend."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("webshop_data")


def expert_group(pool, seed: int) -> list[tuple[list[str], float]]:
    """Every slot reset with the same seed and played by the expert; (observations, reward) per slot."""
    starts = pool.reset([seed] * pool.num_envs)
    infos = [info for _, info in starts]
    traces = [[obs] for obs, _ in starts]
    rewards = [0.0] * pool.num_envs
    active = [True] * pool.num_envs
    while any(active):
        results = pool.step([info["expert_action"] if a else None for info, a in zip(infos, active)])
        for i, r in enumerate(results):
            if r is None:
                continue
            traces[i].append(r.obs)
            infos[i], rewards[i] = r.info, r.reward
            active[i] = not (r.terminated or r.truncated)
    return list(zip(traces, rewards))


def test_group_reset_is_identical_in_process_and_in_subprocesses(webshop_data):
    from turnrl.envs.pool import make_pool

    kwargs = {"data_dir": str(webshop_data), "option_rule": "normalized"}  # the expert's purchase scores 1.0
    with make_pool("turnrl/WebShop-v0", 2, backend="inprocess", env_kwargs=kwargs) as pool:
        local = expert_group(pool, seed=11)
    with make_pool("turnrl/WebShop-v0", 2, backend="subprocess", env_kwargs=kwargs, step_timeout=60) as pool:
        remote = expert_group(pool, seed=11)
    assert local[0] == local[1] == remote[0] == remote[1]
    assert local[0][1] == 1.0
