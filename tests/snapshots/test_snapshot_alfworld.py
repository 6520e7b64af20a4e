"""ALFWorld: restoring a snapshot (PDDL operators replayed in fast-downward, bookkeeping and expert
restored), then stepping, repeats the original continuation, expert suggestions included."""
from __future__ import annotations

import importlib.util
import time

import gymnasium as gym
import pytest

if importlib.util.find_spec("alfworld") is None:
    pytest.skip("alfworld is not installed (pip install turnrl[alfworld])", allow_module_level=True)

import turnrl.envs  # noqa: F401  (registers the ids)
from tests.snapshots.helpers import check_restore_equivalence, continuation
from turnrl.envs.alfworld import games

try:
    games.alfworld_dir()
except FileNotFoundError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA: {e}", allow_module_level=True)

from turnrl.envs.snapshot import restore_env, snapshot_env

MUG_DESK = "pick_and_place_simple-Mug-None-Desk-308/trial_T20190908_125200_737896"


def make(expert: str = "handcoded+planner"):
    return gym.make("turnrl/ALFWorld-v0", split="valid_unseen", expert=expert, disable_env_checker=True)


def expert_with_detours(info, i):
    """The expert's action, except a wrong turn every third step and nonsense now and then."""
    options = info.get("admissible_actions") or ["look"]
    if i % 3 == 2:
        return options[(5 * i) % len(options)]
    if i % 7 == 6:
        return "fly to the moon"
    return info.get("expert_action") or options[0]


@pytest.mark.parametrize("expert", ["handcoded+planner", "planner"])
def test_restore_repeats_the_continuation(expert):
    snap, original = check_restore_equivalence(lambda: make(expert), {"seed": 0, "options": {"game": MUG_DESK}},
                                               prefix=4, steps=12, policy=expert_with_detours)
    assert len({step[5] for step in original}) >= 2, "the continuation should change the state"
    assert snap.nbytes() < 64_000


def test_restore_on_a_warm_engine_costs_about_a_step():
    env = make()
    _, info = env.reset(seed=0, options={"game": MUG_DESK})
    continuation(env, info, 6, expert_with_detours)
    snap = snapshot_env(env)
    start = time.perf_counter()
    restore_env(env, snap)
    took = time.perf_counter() - start
    print(f"ALFWorld snapshot {snap.nbytes()} bytes, restore {took * 1e3:.0f} ms")
    assert took < 0.5  # a reset costs about 0.7 s
