"""Prompt building: per-family templates, history window, and a token cap that never drops task or observation."""
from __future__ import annotations

import pytest

from turnrl.agents.prompts import build_messages, family_of, fit_prompt_ids
from turnrl.types import AgentInput


def _input(n_history: int, obs: str = "You are in the kitchen. A fridge is here.") -> AgentInput:
    history = [(f"observation number {i} " + "filler " * 20, f"action-{i}") for i in range(n_history)]
    return AgentInput(observation=obs, task="TASK: cool an apple and put it on the table", history=history,
                      admissible_actions=["open fridge 1", "go to table 1"], step=n_history,
                      env_id="turnrl/ALFWorld-v0")


@pytest.mark.parametrize("env_id, family", [
    ("turnrl/TextWorld-Coin-v0", "textworld"), ("turnrl/ALFWorld-v0", "alfworld"), ("turnrl/WebShop-v0", "webshop"),
    ("turnrl/ScienceWorld-v0", "scienceworld"), ("turnrl/Chess-v0", "generic"), (None, "generic"),
    ("turnrl/ALFWorld-Eval-v0", "generic"),  # not registered: no family, whatever the name looks like
])
def test_family_by_registered_env_id(env_id, family):
    assert family_of(env_id) == family


def test_first_step_has_no_history_and_lists_actions():
    user = build_messages(_input(0))[1]["content"]
    assert "This is the first step." in user and "[Observation" not in user
    assert "- open fridge 1" in user and "<action>" in user and "<think>" in user
    assert "household" in build_messages(_input(0))[0]["content"]


def test_history_window_keeps_the_latest_pairs():
    user = build_messages(_input(6), history_window=2)[1]["content"]
    assert "action-5" in user and "action-4" in user and "action-3" not in user
    assert "You have taken 6 step(s)" in user and "[Observation 5]" in user and "[Current observation, step 7]" in user


def test_token_cap_drops_oldest_history_first(tiny_tokenizer):
    x = _input(8)
    full = fit_prompt_ids(tiny_tokenizer, x, history_window=8)
    cap = len(full.ids) - 60
    fitted = fit_prompt_ids(tiny_tokenizer, x, history_window=8, max_prompt_tokens=cap)
    text = tiny_tokenizer.decode(fitted.ids)
    assert len(fitted.ids) <= cap and 0 < fitted.history_kept < 8 and not fitted.observation_clipped
    assert x.task in text and x.observation in text and "action-7" in text and "action-0" not in text


def test_cap_smaller_than_task_and_observation_clips_observation_middle(tiny_tokenizer):
    obs = "START of a huge page. " + "lorem ipsum " * 5000 + "END of page."
    x = _input(3, obs=obs)
    fitted = fit_prompt_ids(tiny_tokenizer, x, history_window=3, max_prompt_tokens=400)
    text = tiny_tokenizer.decode(fitted.ids)
    assert len(fitted.ids) <= 400 and fitted.observation_clipped and fitted.history_kept == 0
    assert x.task in text and "START of a huge page." in text and "END of page." in text and "omitted" in text


def test_prompt_ends_with_the_generation_prompt(tiny_tokenizer):
    ids = fit_prompt_ids(tiny_tokenizer, _input(1)).ids
    assert tiny_tokenizer.decode(ids).endswith("<|im_start|>assistant\n")


def test_odd_fields_render_without_error(tiny_tokenizer):
    x = AgentInput(observation=None, task=None, history=[(None, 3)], admissible_actions=[1, None], step=1)  # type: ignore[arg-type]
    ids = fit_prompt_ids(tiny_tokenizer, x, max_prompt_tokens=10_000).ids
    assert "[Action 1] 3" in tiny_tokenizer.decode(ids)
