"""Games: restoring a snapshot (the pickled game engine and opponent) repeats the continuation,
opponent replies and deals included."""
from __future__ import annotations

import gymnasium as gym
import pytest

pytest.importorskip("pettingzoo", reason="the games extra is not installed")
pytest.importorskip("chess", reason="the games extra is not installed")

import turnrl.envs  # noqa: F401  (registers the ids)
from tests.snapshots.helpers import check_restore_equivalence

GAMES = ["TicTacToe-v0", "ConnectFour-v0", "LeducHoldem-v0", "TexasHoldem-v0", "RockPaperScissors-v0", "Chess-v0",
         "Negotiation-v0"]


@pytest.mark.parametrize("name", GAMES)
def test_restore_repeats_the_continuation(name):
    def make():
        return gym.make(f"turnrl/{name}", disable_env_checker=True)

    snap, original = check_restore_equivalence(make, {"seed": 3}, prefix=1, steps=12)
    assert snap.kind == "exact" and snap.nbytes() < 64_000
