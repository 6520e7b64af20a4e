"""ALFWorld's engine runs a command only when it is exactly one admissible command: chained
commands, meta words and the whole plan in one line are invalid and change nothing."""
from __future__ import annotations

import importlib.util
import os

import gymnasium as gym
import pytest

if importlib.util.find_spec("alfworld") is None:
    pytest.skip("alfworld is not installed (pip install turnrl[alfworld])", allow_module_level=True)

import turnrl.envs  # noqa: F401
from turnrl.envs.alfworld import games

try:
    games.alfworld_dir()
except FileNotFoundError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA or $ALFWORLD_DATA: {e}", allow_module_level=True)

MUG_DESK = "pick_and_place_simple-Mug-None-Desk-308/trial_T20190908_125200_737896"


@pytest.fixture(scope="module")
def env():
    e = gym.make("turnrl/ALFWorld-v0", split="valid_unseen", expert="planner").unwrapped
    yield e
    e.close()


@pytest.mark.parametrize("action", ["look. inventory", "look, restart", "look then quit", "inventory; save",
                                    "restart", "quit", "undo", "save", "script", "Look"])
def test_chained_and_meta_commands_are_invalid_and_change_nothing(env, action, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, info = env.reset(seed=0, options={"game": MUG_DESK})
    key, admissible = info["state_key"], info["admissible_actions"]
    obs, reward, terminated, _, info = env.step(action)
    assert not info["valid"] and obs == "Nothing happens." and (reward, terminated) == (0.0, False)
    assert info["state_key"] == key and info["admissible_actions"] == admissible
    assert os.listdir(tmp_path) == []


def test_the_whole_plan_in_one_action_does_not_win(env):
    _, info = env.reset(seed=0, options={"game": MUG_DESK})
    plan = list(env._state["policy_commands"])
    assert len(plan) > 1
    for joined in (". ".join(plan), ", ".join(plan), " then ".join(plan)):
        _, reward, terminated, _, info = env.step(joined)
        assert not info["valid"] and not info["won"] and not terminated and reward == 0.0
    for command in plan:
        _, reward, terminated, _, info = env.step(command)
    assert info["won"] and terminated and reward == 1.0
