"""Connect four: moves are "column 1" .. "column 7" (a bare number is accepted too)."""
from __future__ import annotations

import re
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.classic import connect_four_v3

from turnrl.envs.games.codec import GameCodec, normalize

MARKS = ".XO"
ROWS, COLS = 6, 7
_COLUMN = re.compile(r"^(?:col(?:umn)?\s*)?([1-7])$")


class ConnectFourCodec(GameCodec):
    name = "connect_four"
    title = "connect four"

    def make(self, **kwargs: Any) -> AECEnv:
        return connect_four_v3.env(**kwargs)

    def _rows(self, env: AECEnv) -> list[str]:
        board = env.unwrapped.board
        return ["".join(MARKS[board[r * COLS + c]] for c in range(COLS)) for r in range(ROWS)]

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        board = env.unwrapped.board
        return {f"column {c + 1}": c for c in range(COLS) if board[c] == 0}

    def seat_name(self, env: AECEnv, agent: str) -> str:
        return MARKS[env.unwrapped.possible_agents.index(agent) + 1]

    def render(self, env: AECEnv, agent: str) -> str:
        lines = [" ".join(row) for row in self._rows(env)] + [" ".join(str(c + 1) for c in range(COLS))]
        return f"You play {self.seat_name(env, agent)}; pieces drop to the lowest free row.\n" + "\n".join(lines)

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        return {"rows": self._rows(env), "mark": self.seat_name(env, agent)}

    def state_key(self, env: AECEnv) -> str:
        return "/".join(self._rows(env))

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        m = _COLUMN.match(normalize(text))
        return moves.get(f"column {m.group(1)}") if m else None
