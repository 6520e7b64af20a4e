"""The text games by name: `list_games()`, `make_game(name, **kwargs) -> TextGameEnv`."""
from __future__ import annotations

import importlib
from typing import Any

from pettingzoo import AECEnv

# name -> "module:codec class" (negotiation is its own AEC env, not a codec over an engine)
GAMES: dict[str, str] = {
    "tictactoe": "turnrl.envs.games.tictactoe:TicTacToeCodec",
    "connect_four": "turnrl.envs.games.connect_four:ConnectFourCodec",
    "leduc_holdem": "turnrl.envs.games.poker:LeducCodec",
    "texas_holdem": "turnrl.envs.games.poker:TexasCodec",
    "rps": "turnrl.envs.games.rps:RockPaperScissorsCodec",
    "chess": "turnrl.envs.games.chess_game:ChessCodec",
    "negotiation": "turnrl.envs.games.negotiation:NegotiationEnv",
}


def list_games() -> list[str]:
    return sorted(GAMES)


def game_class(name: str) -> Any:
    """The codec class of a PettingZoo game, or the env class of a native one (negotiation)."""
    if name not in GAMES:
        raise ValueError(f"unknown game {name!r}; known: {list_games()}")
    module, _, attr = GAMES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make_game(name: str, **kwargs: Any) -> AECEnv:
    """A text AEC env; kwargs go to `TextGameEnv` (illegal, max_retries, ...) and the engine."""
    cls = game_class(name)
    if name == "negotiation":
        return cls(**kwargs)
    from turnrl.envs.games.text_aec import TextGameEnv

    return TextGameEnv(cls(), **kwargs)
