"""TextWorld: restoring an exact snapshot, then stepping, repeats the original continuation."""
from __future__ import annotations

import time

import gymnasium as gym
import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")

import turnrl.envs  # noqa: F401  (registers the ids)
from tests.snapshots.helpers import check_restore_equivalence, continuation, roundtrip
from turnrl.envs.snapshot import restore_env, snapshot_env, supports_snapshot


def expert_then_pick(info, i):
    """The expert's path most of the way (so scores change and the game can be won), detours between."""
    if i % 4 != 2 and info.get("expert_action"):
        return info["expert_action"]
    options = info.get("admissible_actions") or ["look"]
    return options[i % len(options)] if i % 4 == 2 else "xyzzy"


@pytest.mark.parametrize("challenge,seed", [("tw-treasure_hunter", 3), ("tw-coin_collector", 1), ("tw-cooking", 2)])
def test_restore_repeats_the_continuation(tw_cache, challenge, seed):
    def make():
        return gym.make("turnrl/TextWorld-v0", challenge=challenge, difficulty="easy", n_games=4, cache_dir=tw_cache,
                        disable_env_checker=True)

    snap, original = check_restore_equivalence(make, {"seed": seed}, prefix=3, steps=25, policy=expert_then_pick)
    assert snap.kind == "exact" and supports_snapshot(make()) == "exact"
    assert any(r != 0 for _, _, r, *_ in original), "the continuation should change the score"
    assert snap.nbytes() < 64_000


def test_time_limit_is_part_of_the_snapshot(tw_cache):
    """A restored env truncates at the same step as the original (TimeLimit's counter travels)."""
    def make():
        return gym.make("turnrl/TextWorld-v0", difficulty="easy", n_games=4, cache_dir=tw_cache, max_episode_steps=6,
                        disable_env_checker=True)

    env = make()
    _, info = env.reset(seed=0)
    continuation(env, info, 4, lambda inf, i: "look")
    snap = roundtrip(snapshot_env(env))
    fresh = make()
    fresh.reset(seed=1)  # another game is loaded: restore loads the snapshot's game
    _, info = restore_env(fresh, snap)
    steps = continuation(fresh, info, 5, lambda inf, i: "look")
    assert len(steps) == 2 and steps[-1][4] is True


def test_restore_is_cheap_and_bounded(tw_cache):
    env = gym.make("turnrl/TextWorld-v0", difficulty="easy", n_games=4, cache_dir=tw_cache,
                   disable_env_checker=True)
    _, info = env.reset(seed=0)
    continuation(env, info, 3, lambda inf, i: inf["expert_action"] or "look")
    start = time.perf_counter()
    for _ in range(20):
        snap = snapshot_env(env)
        restore_env(env, snap)
    per = (time.perf_counter() - start) / 20
    assert per < 0.05, f"a snapshot and restore took {per * 1e3:.1f} ms"
    print(f"TextWorld snapshot {snap.nbytes()} bytes, snapshot+restore {per * 1e3:.2f} ms")
