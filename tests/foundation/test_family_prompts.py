"""The prompt every env id gets, pinned byte for byte.

The expected strings were rendered by `build_messages` before the env families declared their own
prompt text (issue 19 item 7), when agents/prompts.py chose the template by env-id prefix; moving
the text into each family's register.py must not change one character of any prompt.
"""
from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import turnrl  # noqa: F401  (registers the envs)
from turnrl.agents.prompts import build_messages
from turnrl.types import AgentInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

_COMMON_USER_TAIL = (
    "You have taken 2 step(s). The last 1 step(s), oldest first:\n[Observation 2] A room.\n[Action 2] go north\n\n"
    "[Current observation, step 3]\nYou see a door to the north.\n\n"
    "Admissible actions:\n- open door\n- look\n\n"
    "First reason briefly inside <think> </think>. Then give exactly one action inside <action> </action>, "
    "for example <action>look</action>."
)

# template -> (system message, user message) for the input of `_input`
EXPECTED: dict[str, tuple[str, str]] = {
    "textworld": (
        "You are an expert player of text adventure games.",
        "Task: Open the door.\n\nYou are in a text adventure. Commands are short imperative phrases such as "
        "'go north', 'take key', 'open door', 'put apple in box'.\n\n" + _COMMON_USER_TAIL),
    "alfworld": (
        "You are an expert household agent acting in a simulated home.",
        "Task: Open the door.\n\nYou are in a household. Commands look like 'go to countertop 1', 'take mug 1 from "
        "countertop 1', 'open fridge 1', 'heat mug 1 with microwave 1', 'put mug 1 in/on shelf 2'.\n\n"
        + _COMMON_USER_TAIL),
    "webshop": (
        "You are an expert online shopping agent.",
        "Task: Open the door.\n\nYou are on a shopping website. Actions are 'search[<keywords>]' and "
        "'click[<button or item>]'; buy the item that best matches the instruction.\n\n" + _COMMON_USER_TAIL),
    "scienceworld": (
        "You are an expert scientist acting in a simulated laboratory and home.",
        "Task: Open the door.\n\nYou are in an interactive science world. Actions look like 'open door to kitchen', "
        "'pick up thermometer', 'use thermometer on substance', 'focus on <object>'.\n\n" + _COMMON_USER_TAIL),
    "generic": (
        "You are an agent acting in a text environment.",
        "Task: Open the door.\n\nRead the observation and choose the next action.\n\n" + _COMMON_USER_TAIL),
}

# env id -> the template it got before the change
TEMPLATE_OF: dict[str | None, str] = {
    "turnrl/ALFWorld-v0": "alfworld",
    "turnrl/Chess-v0": "generic",
    "turnrl/ConnectFour-v0": "generic",
    "turnrl/LeducHoldem-v0": "generic",
    "turnrl/Negotiation-v0": "generic",
    "turnrl/RideShare-v0": "generic",
    "turnrl/RideShareDispatch-v0": "generic",
    "turnrl/RockPaperScissors-v0": "generic",
    "turnrl/ScienceWorld-v0": "scienceworld",
    "turnrl/TexasHoldem-v0": "generic",
    "turnrl/TextWorld-Coin-v0": "textworld",
    "turnrl/TextWorld-Cooking-v0": "textworld",
    "turnrl/TextWorld-Simple-v0": "textworld",
    "turnrl/TextWorld-Treasure-v0": "textworld",
    "turnrl/TextWorld-v0": "textworld",
    "turnrl/TicTacToe-v0": "generic",
    "turnrl/WebShop-v0": "webshop",
    "credit_maze:turnrl/CreditMaze-v0": "generic",  # a user env registered outside turnrl
    None: "generic",
}


def _input(env_id: str | None) -> AgentInput:
    return AgentInput(observation="You see a door to the north.", task="Open the door.",
                      history=[("You wake up.", "look"), ("A room.", "go north")],
                      admissible_actions=["open door", "look"], step=2, env_id=env_id)


@pytest.fixture(autouse=True)
def _credit_maze_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("env_id", list(TEMPLATE_OF))
def test_every_env_id_renders_the_prompt_it_rendered_before(env_id):
    if env_id is not None and ":" in env_id:
        import credit_maze  # noqa: F401  (registers turnrl/CreditMaze-v0, as gym.make("credit_maze:...") does)
    elif env_id is not None:
        assert env_id in gym.registry  # the pinned ids are all still registered
    messages = build_messages(_input(env_id), history_window=1)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert (messages[0]["content"], messages[1]["content"]) == EXPECTED[TEMPLATE_OF[env_id]]
