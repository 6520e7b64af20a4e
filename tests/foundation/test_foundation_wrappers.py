"""Invalid-action policies, the step limit's end reason and the JSONL episode recorder."""
from __future__ import annotations

import pytest

from turnrl.envs.pool import make_env
from turnrl.envs.wrappers import EpisodeRecorder, InvalidActionPolicy, StepLimit
from turnrl.io import load_trajectories
from turnrl.types import END_STEP_LIMIT


def test_feedback_keeps_reward_and_puts_the_error_first(toy_env_id):
    env = InvalidActionPolicy(make_env(toy_env_id), "feedback")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("fly")
    assert obs.startswith("Invalid action: ") and "Nothing happens." in obs
    assert (reward, terminated, truncated, info["valid"]) == (0.0, False, False, False)
    obs, *_ = env.step("")  # the base env's own invalid text is not prefixed twice
    assert obs.count("Invalid action") == 1


def test_penalize_adds_the_penalty_as_a_component(toy_env_id):
    env = InvalidActionPolicy(make_env(toy_env_id), "penalize", penalty=0.5)  # a coefficient, subtracted
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("fly")
    assert reward == -0.5 and not terminated and info["reward_components"]["invalid_penalty"] == -0.5
    _, reward, _, _, info = env.step("wait")
    assert reward == 0.0 and "invalid_penalty" not in info.get("reward_components", {})


def test_terminate_ends_the_episode_with_the_reason(toy_env_id):
    env = InvalidActionPolicy(make_env(toy_env_id), "terminate")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("\x00")
    assert terminated and not truncated and reward == 0.0
    assert info["end_reason"] == "invalid action: action contains control characters"


def test_invalid_policy_arguments_are_checked(toy_env_id):
    with pytest.raises(ValueError, match="unknown invalid-action policy"):
        InvalidActionPolicy(make_env(toy_env_id), "ignore")
    with pytest.raises(ValueError, match="never changes the reward"):
        InvalidActionPolicy(make_env(toy_env_id), "feedback", penalty=1)
    with pytest.raises(ValueError, match="coefficient >= 0"):
        InvalidActionPolicy(make_env(toy_env_id), "penalize", penalty=-0.1)


def test_step_limit_truncates_with_end_reason_and_resets(toy_env_id):
    env = StepLimit(make_env(toy_env_id), 2)
    env.reset(seed=0)
    assert env.step("wait")[3] is False
    _, _, terminated, truncated, info = env.step("wait")
    assert truncated and not terminated and info["end_reason"] == END_STEP_LIMIT
    env.reset(seed=0)
    assert env.step("wait")[3] is False


def test_recorder_appends_finished_and_interrupted_episodes(toy_env_id, tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(StepLimit(make_env(toy_env_id), 3), path)
    _, info = env.reset(seed=4)
    while True:
        _, _, terminated, truncated, info = env.step(info["expert_action"])
        if terminated or truncated:
            break
    env.reset(seed=5)
    env.step("fly")
    env.close()
    first, second = load_trajectories(path)
    assert first.won and first.seed == 4 and first.task == "Reach " + first.task_id.split("-")[1] + "."
    assert first.steps[0].state_key is not None and first.steps[-1].terminated
    assert not second.won and second.steps[-1].end_reason == "reset before the end"
    assert second.steps[0].valid is False and second.steps[0].action == "fly"
