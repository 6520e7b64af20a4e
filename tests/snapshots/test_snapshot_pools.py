"""Snapshots travel through every pool backend: taken in one slot (or pool), restored in another,
the env steps on exactly as the original did."""
from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")

from tests.snapshots.helpers import pick
from turnrl.envs.pool import make_pool

ID = "turnrl/TextWorld-Coin-v0"
BACKENDS = ["inprocess", "subprocess"] + (["ray"] if importlib.util.find_spec("ray") else [])


def play(pool, slot: int, info: dict, steps: int) -> list[tuple]:
    out = []
    for i in range(steps):
        actions = [None] * pool.num_envs
        actions[slot] = pick(info, i)
        obs, reward, terminated, truncated, info = pool.step(actions)[slot]
        out.append((actions[slot], obs, reward, terminated, truncated, info.get("state_key"), info))
        if terminated or truncated:
            break
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_snapshot_restores_into_another_slot_and_another_pool(tw_cache, backend):
    kwargs = {"difficulty": 5, "n_games": 3, "cache_dir": str(tw_cache)}
    with make_pool(ID, 2, backend, env_kwargs=kwargs) as pool, make_pool(ID, 1, "inprocess", env_kwargs=kwargs) as ref:
        (_, info), (_, other) = pool.reset([4, 9])
        play(pool, 0, info, 2)
        [snap] = pool.snapshot([0])
        original = play(pool, 0, snap.info, 8)
        [(obs, info)] = pool.restore([snap], [1])  # slot 1 was playing another game
        assert obs == snap.obs and info == snap.info
        assert play(pool, 1, info, 8) == original
        [(_, info)] = ref.restore([snap], [0])  # a snapshot from a worker restores in-process too
        assert play(ref, 0, info, 8) == original
        [(_, info)] = pool.restore([snap], [0])  # and back in time in its own slot
        assert play(pool, 0, info, 8) == original


def test_snapshot_of_a_busy_slot_is_refused(tw_cache):
    with make_pool(ID, 1, "inprocess", env_kwargs={"difficulty": 5, "cache_dir": str(tw_cache)}) as pool:
        pool.reset([0])
        pool.send(["look"])
        with pytest.raises(ValueError, match="still stepping"):
            pool.snapshot([0])
        pool.recv()
        with pytest.raises(ValueError, match="one snapshot per slot"):
            pool.restore([], [0])
