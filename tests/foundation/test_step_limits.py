"""Step limits in one place: every env registers `max_episode_steps`, `registration.make` applies it
with `StepLimit` (which names the reason), and the CLI takes its default `--max-steps` from it."""
from __future__ import annotations

import json

import gymnasium as gym
import pytest

import turnrl.envs  # noqa: F401
from turnrl.cli import main
from turnrl.envs.registration import FALLBACK_MAX_STEPS, default_max_steps, make, step_limit, turnrl_env_ids
from turnrl.envs.wrappers import StepLimit
from turnrl.types import END_STEP_LIMIT


def test_every_turnrl_env_registers_a_step_limit():
    ids = turnrl_env_ids()
    assert {"turnrl/ALFWorld-v0", "turnrl/WebShop-v0", "turnrl/ScienceWorld-v0", "turnrl/RideShare-v0"} <= set(ids)
    for env_id in ids:
        assert isinstance(gym.spec(env_id).max_episode_steps, int) and gym.spec(env_id).max_episode_steps >= 1, env_id
    assert default_max_steps("turnrl/WebShop-v0") == 15 and default_max_steps("turnrl/ALFWorld-v0") == 50
    assert default_max_steps("turnrl/ScienceWorld-v0") == 300  # above the longest gold path (260)


def test_make_applies_the_limit_with_step_limit_not_time_limit(toy_env_id):
    env = make(toy_env_id, max_steps=2, size=50)
    assert isinstance(env, StepLimit) and env.max_steps == 2
    assert "TimeLimit" not in repr(env)
    env.reset(seed=0, options={"target": 40})
    assert env.step("wait")[3] is False
    _, _, terminated, truncated, info = env.step("wait")
    assert truncated and not terminated and info["end_reason"] == END_STEP_LIMIT
    assert make(toy_env_id, max_episode_steps=3).max_steps == 3  # Gymnasium's keyword, same meaning
    assert make("turnrl/TicTacToe-v0").max_steps == 30  # the registered limit
    unlimited = make(toy_env_id)  # registered without a limit: wrapped all the same, with none of its own
    assert isinstance(unlimited, StepLimit) and unlimited.max_steps is None


def test_step_limit_default_and_checks(toy_env_id):
    assert step_limit("turnrl/TextWorld-Cooking-v0") == 80 and step_limit("turnrl/TextWorld-v0", 7) == 7
    assert step_limit(toy_env_id) == FALLBACK_MAX_STEPS
    with pytest.raises(ValueError, match=">= 1"):
        step_limit("turnrl/TextWorld-v0", 0)
    with pytest.raises(ValueError, match="doesn't exist|not found|NoSuchEnv|No registered"):
        step_limit("turnrl/NoSuchEnv-v0")


def test_eval_default_step_limit_comes_from_the_env_spec(tmp_path):
    out = tmp_path / "ttt.json"
    assert main(["eval", "turnrl/RockPaperScissors-v0", "--agent", "random", "--episodes", "1", "--no-progress",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["max_steps"] == 30
    assert main(["eval", "turnrl/RockPaperScissors-v0", "--agent", "random", "--episodes", "1", "--no-progress",
                 "--max-steps", "2", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["config"]["max_steps"] == 2 and summary["mean_length"] <= 2
