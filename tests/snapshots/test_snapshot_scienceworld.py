"""ScienceWorld: its engine (a JVM) offers no state to save or load, so the env declares "replay"
snapshots: restoring resets with the recorded seed, options and RNG state and replays the
recorded actions. The test checks the continuation repeats and measures the cost."""
from __future__ import annotations

import shutil
import time

import gymnasium as gym
import pytest

pytest.importorskip("scienceworld", reason="scienceworld not installed (pip install turnrl[scienceworld])")
if shutil.which("java") is None:
    pytest.skip("ScienceWorld needs Java 17+", allow_module_level=True)

import turnrl.envs  # noqa: F401  (registers the ids)
from tests.snapshots.helpers import check_restore_equivalence, continuation
from turnrl.envs.snapshot import restore_env, snapshot_env

QUICK_TASK = "find-non-living-thing"


def make():
    return gym.make("turnrl/ScienceWorld-v0", task=QUICK_TASK, split="train", disable_env_checker=True)


def gold_then_pick(info, i):
    """The gold path with a detour every third step (which the expert then routes around)."""
    if i % 3 == 2 or not info.get("expert_action"):
        options = info.get("admissible_actions") or ["look around"]
        return options[(11 * i + 5) % len(options)]
    return info["expert_action"]


def test_replay_snapshot_repeats_the_continuation():
    snap, original = check_restore_equivalence(make, {"seed": 4}, prefix=2, steps=4, policy=gold_then_pick)
    assert snap.kind == "replay"
    seed, options, rng, actions = snap.engine
    assert seed == 4 and len(actions) == 2
    assert len({step[5] for step in original}) >= 2


def test_replay_cost_grows_with_the_prefix():
    env = make()
    try:
        _, info = env.reset(seed=4)
        snaps = [snapshot_env(env)]
        for i in range(3):
            _, _, term, trunc, info = env.step(gold_then_pick(info, i))
            snaps.append(snapshot_env(env))
            if term or trunc:
                break
        timings = []
        for snap in (snaps[0], snaps[-1]):
            start = time.perf_counter()
            obs, _ = restore_env(env, snap)
            timings.append(time.perf_counter() - start)
            assert obs == snap.obs
        steps = len(snaps[-1].engine[3])
        print(f"ScienceWorld replay restore: prefix 0 {timings[0] * 1e3:.0f} ms, prefix {steps} "
              f"{timings[1] * 1e3:.0f} ms; snapshot {snaps[-1].nbytes()} bytes")
        assert snaps[-1].nbytes() < 16_000
        assert continuation(env, snaps[-1].info, 1, gold_then_pick)
    finally:
        env.close()
