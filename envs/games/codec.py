"""What a game must say to be played in text: its moves as words, its state as a picture.

A `GameCodec` knows one PettingZoo AEC game. It builds the engine env, lists the legal moves of
the player to move as text mapped to engine action ids, renders the position as that player may
see it (no hidden cards), and exposes a small JSON-able `state` that scripted opponents read.
`TextGameEnv` (text_aec.py) does the rest, identically for every game.
"""
from __future__ import annotations

import re
from typing import Any

from pettingzoo import AECEnv

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation or quotes."""
    return _SPACES.sub(" ", text.strip().strip(".!\"'`").lower())


class GameCodec:
    name: str = ""
    title: str = ""

    def make(self, **kwargs: Any) -> AECEnv:
        """The engine env (PettingZoo's own wrappers included)."""
        raise NotImplementedError

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        """Move text -> engine action id for `agent`, in a stable order."""
        raise NotImplementedError

    def render(self, env: AECEnv, agent: str) -> str:
        """The position as `agent` may see it."""
        raise NotImplementedError

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        """Small JSON-able facts for scripted opponents (board strings, FEN, ...)."""
        return {}

    def state_key(self, env: AECEnv) -> str:
        """A canonical key of the full position (hidden information included)."""
        raise NotImplementedError

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        """Engine action id for a move written as text, or None. Subclasses add aliases."""
        key = normalize(text)
        return moves.get(key)

    def seat_name(self, env: AECEnv, agent: str) -> str:
        return agent
