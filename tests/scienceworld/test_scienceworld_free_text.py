"""ScienceWorld's parser maps one line to one action template: chained commands, meta words and
the whole gold path in one line are invalid and leave the true state as it was."""
from __future__ import annotations

import os

import pytest

from turnrl.envs.scienceworld.engine import UNKNOWN_ACTION
from turnrl.envs.scienceworld.env import ScienceWorldTextEnv

QUICK_TASK = "find-non-living-thing"


@pytest.fixture(scope="module")
def env():
    e = ScienceWorldTextEnv(task=QUICK_TASK, split="train", expert=True)
    yield e
    e.close()


@pytest.mark.parametrize("action", ["look around. inventory", "look around, inventory", "look around then inventory",
                                    "look around; inventory", "inventory. quit", "quit", "restart", "save", "exit"])
def test_chained_and_meta_commands_are_invalid_and_change_nothing(env, action, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, info = env.reset(seed=0)
    key = info["state_key"]
    obs, reward, terminated, _, info = env.step(action)
    assert not info["valid"] and obs.strip() == UNKNOWN_ACTION and (reward, terminated) == (0.0, False)
    assert info["state_key"] == key and os.listdir(tmp_path) == []


def test_the_whole_gold_path_in_one_action_does_not_win(env):
    _, info = env.reset(seed=0)
    plan = env.gold_path
    assert len(plan) > 1
    _, reward, terminated, _, info = env.step(". ".join(plan))
    assert not info["valid"] and not info["won"] and not terminated and reward == 0.0
    assert info["expert_action"] is None  # off the gold path now; the plan still wins one action a step
    _, info = env.reset(seed=0)
    for command in plan:
        _, reward, terminated, _, info = env.step(command)
    assert info["won"] and terminated


def test_eval_at_default_settings_does_not_cut_the_expert_off(tmp_path):
    # Seed 2 draws task 9-1 with a 58-step gold path: the old fixed `--max-steps 50` truncated it
    # at a 0.4 return; the registered limit (300) lets the expert finish.
    import json

    from turnrl.cli import main

    out = tmp_path / "sw.json"
    assert main(["eval", "turnrl/ScienceWorld-v0", "--agent", "expert", "--episodes", "1", "--seed", "2",
                 "--no-progress", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["config"]["max_steps"] == 300 and summary["success_rate"] == 1.0
    assert summary["mean_length"] == 58 and summary["end_reasons"] == {"won": 1}


def test_a_rejected_step_keeps_the_tree_key_without_recomputing_it(env, monkeypatch):
    from turnrl.envs.scienceworld import env as env_module
    from turnrl.envs.scienceworld.state import state_key as tree_key

    _, info = env.reset(seed=0)
    fresh = tree_key(env.simulator.object_tree_json())
    assert info["state_key"] == fresh
    calls = []
    monkeypatch.setattr(env_module, "tree_state_key", lambda raw: calls.append(raw) or tree_key(raw))
    _, _, _, _, info = env.step("look around. inventory")  # rejected by the parser: no tick
    assert not info["valid"] and info["state_key"] == fresh and calls == []
    assert tree_key(env.simulator.object_tree_json()) == fresh  # the tree really is unchanged
    _, _, _, _, info = env.step(env.gold_path[0])  # an action the engine runs is keyed afresh
    assert info["valid"] and len(calls) == 1
