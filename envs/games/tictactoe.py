"""Tic-tac-toe: squares named a1..c3 (column letter, row number from the top)."""
from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.classic import tictactoe_v3

from turnrl.envs.games.codec import GameCodec, normalize

MARKS = ".XO"
COLS = "abc"


def square_name(row: int, col: int) -> str:
    return f"{COLS[col]}{row + 1}"


def engine_index(row: int, col: int) -> int:
    """PettingZoo numbers squares column by column (0 3 6 on the top row)."""
    return col * 3 + row


class TicTacToeCodec(GameCodec):
    name = "tictactoe"
    title = "tic-tac-toe"

    def make(self, **kwargs: Any) -> AECEnv:
        return tictactoe_v3.env(**kwargs)

    def _grid(self, env: AECEnv) -> list[str]:
        squares = env.unwrapped.board.squares
        return ["".join(MARKS[squares[engine_index(r, c)]] for c in range(3)) for r in range(3)]

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        squares = env.unwrapped.board.squares
        return {square_name(r, c): engine_index(r, c) for r in range(3) for c in range(3)
                if squares[engine_index(r, c)] == 0}

    def seat_name(self, env: AECEnv, agent: str) -> str:
        return MARKS[env.unwrapped.possible_agents.index(agent) + 1]

    def render(self, env: AECEnv, agent: str) -> str:
        lines = ["    a b c"] + [f"{r + 1}   " + " ".join(row) for r, row in enumerate(self._grid(env))]
        return f"You play {self.seat_name(env, agent)}.\n" + "\n".join(lines)

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        return {"board": "".join(self._grid(env)), "mark": self.seat_name(env, agent)}

    def state_key(self, env: AECEnv) -> str:
        return "/".join(self._grid(env))

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        key = normalize(text).replace(" ", "")
        if len(key) == 2 and key[0].isdigit():  # "2b" as well as "b2"
            key = key[1] + key[0]
        return moves.get(key)
