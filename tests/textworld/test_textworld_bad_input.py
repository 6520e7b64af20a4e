"""Malformed, inadmissible and meta actions on a real TextWorld game: clear answers, no crash."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turnrl.envs  # noqa: F401
from turnrl.envs.spaces import PRINTABLE


@pytest.fixture
def env(make_tw):
    env = make_tw()
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("action", ["", "   ", "x" * 1_000_000, "look\x00", "go\x1bnorth", "\ud800",
                                    "take " + "\u2603" * 70])  # 215 bytes: over the interpreter's input line
def test_unusable_text_is_an_invalid_step_without_state_change(env, action):
    key = env.unwrapped._last_info["state_key"]
    obs, reward, terminated, truncated, info = env.step(action)
    assert not info["valid"] and info["invalid_reason"] and obs.startswith("Invalid action")
    assert (reward, terminated, truncated, info["state_key"]) == (0.0, False, False, key)


@pytest.mark.parametrize("action", [None, 3, b"look", ["look"]])
def test_non_string_action_is_a_type_error(env, action):
    with pytest.raises(TypeError, match="action must be str"):
        env.step(action)


@pytest.mark.parametrize("action", ["restart", "quit", "UNDO", "save game", " restore "])
def test_interpreter_meta_commands_never_reach_the_engine(env, action):
    key = env.unwrapped._last_info["state_key"]
    obs, _, _, _, info = env.step(action)
    assert not info["valid"] and "interpreter command" in info["invalid_reason"]
    obs, _, _, _, info = env.step("look")  # the interpreter is not stuck in a yes/no prompt
    assert info["valid"] and info["state_key"] == key and "-= " in obs


@pytest.mark.timeout(60)  # before the guard, `\g` sent dumb-frotz into an endless escape-command loop
@pytest.mark.parametrize("action", ["\\g", "\\help", "look \\t", "take \\"])
def test_interpreter_escape_character_never_reaches_the_engine(env, action):
    key = env.unwrapped._last_info["state_key"]
    obs, _, _, _, info = env.step(action)
    assert not info["valid"] and "escape character" in info["invalid_reason"]
    obs, _, _, _, info = env.step("look")
    assert info["valid"] and info["state_key"] == key and "-= " in obs


def test_inadmissible_command_gets_textworld_answer_and_valid_false(env):
    key = env.unwrapped._last_info["state_key"]
    obs, reward, terminated, _, info = env.step("xyzzy the frobozz")
    assert "not a verb I recognise" in obs and not info["valid"] and (reward, terminated) == (0.0, False)
    assert info["invalid_reason"] == "not an admissible command" and info["state_key"] == key
    obs, _, _, _, info = env.step("  LOOK ")  # case and spacing do not make a command invalid
    assert info["valid"]


def test_step_after_the_end_is_invalid(env):
    info = env.unwrapped._last_info
    while True:
        _, _, terminated, truncated, info = env.step(info["expert_action"])
        if terminated or truncated:
            break
    _, _, terminated, _, info = env.step("look")
    assert not info["valid"] and "episode has ended" in info["invalid_reason"] and not terminated


def test_step_before_reset_is_a_clear_error(make_tw):
    with pytest.raises(RuntimeError, match="before reset"):
        make_tw().unwrapped.step("look")


@pytest.mark.timeout(120)  # an input that hangs the interpreter fails here instead of stalling CI
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.one_of(st.text(max_size=80), st.text(min_size=60, max_size=300),
                        st.text(PRINTABLE, max_size=64),  # what the action space samples
                        st.sampled_from(["\\", "^", ".", "*", "#", "/"]).flatmap(
                            lambda c: st.text(PRINTABLE, max_size=20).map(lambda t: c + t)),
                        st.sampled_from(["take", "go", "open", "drop", "examine"]).map(lambda v: v + " ")
                        .flatmap(lambda v: st.text(max_size=40).map(lambda t: v + t))))
def test_any_text_gives_an_observation(env, action):
    obs, reward, terminated, _, info = env.step(action)
    assert isinstance(obs, str) and obs and isinstance(info["valid"], bool) and isinstance(reward, float)
    assert info["admissible_actions"] and isinstance(info["state_key"], str)
    if terminated:
        env.reset(seed=0)
