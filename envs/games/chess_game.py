"""Chess: legal moves listed in UCI ("e2e4"); SAN ("Nf3", "O-O") is accepted too."""
from __future__ import annotations

from typing import Any

import chess
from pettingzoo import AECEnv
from pettingzoo.classic import chess_v6
from pettingzoo.classic.chess import chess_utils

from turnrl.envs.games.codec import GameCodec


class ChessCodec(GameCodec):
    name = "chess"
    title = "chess"

    def make(self, **kwargs: Any) -> AECEnv:
        return chess_v6.env(**kwargs)

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        raw = env.unwrapped
        board: chess.Board = raw.board
        player = raw.possible_agents.index(agent)
        if (board.turn == chess.WHITE) != (player == 0):
            return {}
        return {chess_utils.action_to_move(board, a, player).uci(): a for a in chess_utils.legal_moves(board)}

    def seat_name(self, env: AECEnv, agent: str) -> str:
        return ("white", "black")[env.unwrapped.possible_agents.index(agent)]

    def render(self, env: AECEnv, agent: str) -> str:
        board: chess.Board = env.unwrapped.board
        last = f" Last move: {board.peek().uci()}." if board.move_stack else ""
        return (f"You play {self.seat_name(env, agent)} (upper case is white).{last}\n{board}\n"
                f"FEN: {board.fen()}")

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        return {"fen": env.unwrapped.board.fen()}

    def state_key(self, env: AECEnv) -> str:
        return env.unwrapped.board.fen()

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        text = text.strip().strip(".")
        if text.lower() in moves:
            return moves[text.lower()]
        try:
            move = env.unwrapped.board.parse_san(text)
        except ValueError:
            return None
        return moves.get(move.uci())
