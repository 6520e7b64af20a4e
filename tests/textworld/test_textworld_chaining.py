"""One step is one command: chained commands and capitalised names on real TextWorld games.

The interpreter runs several commands from one line (split at `.`, `,`, `;`, `then`), so before
the guard `look. quit` reached a yes/no prompt, `look. save` wrote files, and the expert's whole
plan joined with ". " won in a single (inadmissible) step.
"""
from __future__ import annotations

import os
from pathlib import Path

import gymnasium
import pytest

import turnrl.envs  # noqa: F401
from turnrl.envs.textworld.env import split_clauses


@pytest.fixture
def env(make_tw, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the interpreter writes save/script files into the working directory
    env = make_tw()
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("command, clauses", [
    ("look. quit", ["look", "quit"]), ("look, restart", ["look", "restart"]), ("i. script", ["i", "script"]),
    ("look then  SAVE", ["look", "save"]), ("look; undo", ["look", "undo"]), ("look.", ["look"]),
    ("  Take Advent Calendar ", ["take advent calendar"]),
    ("go east. go west, open door", ["go east", "go west", "open door"]),
    ("athens", ["athens"]),  # `then` only as a word
])
def test_split_clauses_follows_the_interpreter(command, clauses):
    assert split_clauses(command) == clauses


@pytest.mark.parametrize("action", ["look. quit", "look, restart", "look. save", "i. script", "look then restore",
                                    "inventory; undo", "look. look. transcript", "look,quit"])
def test_chained_meta_command_is_refused_and_writes_no_file(env, action, tmp_path):
    info = env.unwrapped._last_info
    key, admissible = info["state_key"], info["admissible_actions"]
    obs, reward, terminated, truncated, info = env.step(action)
    assert not info["valid"] and "interpreter command" in info["invalid_reason"]
    assert (reward, terminated, truncated) == (0.0, False, False)
    obs, _, _, _, info = env.step("yes")  # nothing is waiting for a yes/no answer
    assert not info["valid"] and info["state_key"] == key
    obs, _, _, _, info = env.step("look")
    assert info["valid"] and info["state_key"] == key and info["admissible_actions"] == admissible and "-= " in obs
    assert list(tmp_path.iterdir()) == []


def test_multi_clause_command_is_one_invalid_step_that_never_reaches_the_engine(env):
    key = env.unwrapped._last_info["state_key"]
    obs, reward, _, _, info = env.step("look. inventory")
    assert not info["valid"] and info["invalid_reason"] == "one command per step (2 clauses given)"
    assert obs.startswith("Invalid action") and reward == 0.0 and info["state_key"] == key


def test_expert_plan_joined_in_one_action_does_not_win(env):
    plan = list(env.unwrapped._state["policy_commands"])
    assert len(plan) > 1
    key = env.unwrapped._last_info["state_key"]
    _, reward, terminated, _, info = env.step(". ".join(plan))
    assert not info["valid"] and not info["won"] and not terminated and reward == 0.0 and info["state_key"] == key
    total, steps = 0.0, 0
    for command in plan:  # the same plan one command a step still wins: nothing was desynchronised
        _, reward, terminated, _, info = env.step(command)
        total, steps = total + reward, steps + 1
        assert info["valid"]
    assert info["won"] and terminated and total > 0 and steps == len(plan)


def test_trailing_full_stop_is_one_valid_command(env):
    _, _, _, _, info = env.step("look.")
    assert info["valid"]


@pytest.fixture(scope="module")
def advent_game(tmp_path_factory) -> Path:
    """A one-room game whose object has a capitalised name, made with TextWorld's GameMaker."""
    from textworld import GameMaker

    maker = GameMaker()
    room = maker.new_room("Kitchen")
    maker.set_player(room)
    room.add(maker.new(type="o", name="Advent Calendar"))
    maker.set_quest_from_commands(["take Advent Calendar"])
    return Path(maker.compile(str(tmp_path_factory.mktemp("advent") / "advent.z8")))


@pytest.mark.parametrize("action", ["take Advent Calendar", "TAKE advent calendar", "take advent  Calendar."])
def test_admissible_command_with_capitals_is_valid(advent_game, action, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = gymnasium.make("turnrl/TextWorld-v0", game_file=advent_game)
    try:
        _, info = env.reset(seed=0)
        assert "take Advent Calendar" in info["admissible_actions"] and info["game"] == os.fspath(advent_game)
        _, reward, terminated, _, info = env.step(action)
        assert info["valid"] and info["won"] and terminated and reward == 1.0
    finally:
        env.close()
