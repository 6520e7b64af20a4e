"""Opponents for the text games: scripted strong players, a real chess engine, frozen policies.

All are ordinary agents (`act(list[AgentInput]) -> list[AgentOutput]`). They read the position
from `info["game_state"]` (set by `turnrl.envs.games`) and answer with one of the admissible move
texts, so they play in single-agent views, in self-play and in the arena alike.

Specs for `make_opponent` (also registered with `turnrl.agents.registry.make_agent`):
`minimax` (perfect tic-tac-toe), `c4search[:depth]` (alpha-beta connect four),
`stockfish[:skill]` (UCI engine, skill 0-20), `checkpoint:<path>` (a frozen HF policy), and
every spec `make_agent` knows (`random`, `hf:...`).
"""
from __future__ import annotations

import shutil
import weakref
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from turnrl.agents.base import ScriptedAgent
from turnrl.agents.registry import make_agent
from turnrl.types import AgentInput, AgentOutput

_LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


def _no_move(reason: str) -> AgentOutput:
    return AgentOutput(action="", valid=False, invalid_reason=reason)


# -- tic-tac-toe ----------------------------------------------------------------------------
def _winner(board: str) -> str | None:
    for a, b, c in _LINES:
        if board[a] != "." and board[a] == board[b] == board[c]:
            return board[a]
    return None


@cache
def _negamax(board: str, mark: str) -> int:
    """Value of `board` for `mark` to move: +1 win, 0 draw, -1 loss, with perfect play."""
    other = "O" if mark == "X" else "X"
    if _winner(board):
        return -1  # the previous mover (other) has just won
    empty = [i for i, s in enumerate(board) if s == "."]
    if not empty:
        return 0
    return max(-_negamax(board[:i] + mark + board[i + 1:], other) for i in empty)


def minimax_moves(board: str, mark: str) -> list[int]:
    """Every optimal square (row-major index) for `mark`; prefers the quickest win among them."""
    other = "O" if mark == "X" else "X"
    empty = [i for i, s in enumerate(board) if s == "."]
    scores = {i: -_negamax(board[:i] + mark + board[i + 1:], other) for i in empty}
    best = max(scores.values())
    wins_now = [i for i in empty if _winner(board[:i] + mark + board[i + 1:])]
    return wins_now or [i for i in empty if scores[i] == best]


class MinimaxTicTacToe(ScriptedAgent):
    """Perfect tic-tac-toe (never loses); ties between optimal moves broken by its own RNG."""

    name = "minimax"

    def __init__(self, seed: int | None = 0):
        self.rng = np.random.default_rng(seed)

    def act_one(self, x: AgentInput) -> AgentOutput:
        state = x.info.get("game_state") or {}
        board, mark = state.get("board"), state.get("mark")
        if not isinstance(board, str) or len(board) != 9 or mark not in ("X", "O"):
            return _no_move("minimax needs a tic-tac-toe game_state (board, mark)")
        best = minimax_moves(board, mark)
        i = best[int(self.rng.integers(len(best)))]
        return AgentOutput(action=f"{'abc'[i % 3]}{i // 3 + 1}")


# -- connect four ---------------------------------------------------------------------------
def _c4_drop(rows: list[list[str]], col: int, mark: str) -> int | None:
    for r in range(len(rows) - 1, -1, -1):
        if rows[r][col] == ".":
            rows[r][col] = mark
            return r
    return None


def _c4_windows(rows: list[list[str]]):
    h, w = len(rows), len(rows[0])
    for r in range(h):
        for c in range(w):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + k * dr, c + k * dc) for k in range(4)]
                if all(0 <= rr < h and 0 <= cc < w for rr, cc in cells):
                    yield [rows[rr][cc] for rr, cc in cells]


def _c4_score(rows: list[list[str]], mark: str) -> float:
    """Heuristic: open windows of 2 and 3, a won window dominates; centre column bonus."""
    other = "O" if mark == "X" else "X"
    score = 0.0
    for win in _c4_windows(rows):
        mine, theirs = win.count(mark), win.count(other)
        if mine == 4:
            return 1e6
        if theirs == 4:
            return -1e6
        if theirs == 0:
            score += {2: 2, 3: 10}.get(mine, 0)
        if mine == 0:
            score -= {2: 2, 3: 12}.get(theirs, 0)
    centre = len(rows[0]) // 2
    return score + 3 * sum(row[centre] == mark for row in rows)


def _c4_alphabeta(rows: list[list[str]], mark: str, depth: int, alpha: float, beta: float) -> float:
    other = "O" if mark == "X" else "X"
    static = _c4_score(rows, mark)
    legal = [c for c in range(len(rows[0])) if rows[0][c] == "."]
    if depth == 0 or abs(static) >= 1e6 or not legal:
        return static
    value = -float("inf")
    for c in sorted(legal, key=lambda c: abs(c - len(rows[0]) // 2)):
        r = _c4_drop(rows, c, mark)
        value = max(value, -_c4_alphabeta(rows, other, depth - 1, -beta, -alpha))
        rows[r][c] = "."  # type: ignore[index]
        alpha = max(alpha, value)
        if alpha >= beta:
            break
    return value


class ConnectFourSearch(ScriptedAgent):
    """Depth-limited alpha-beta (negamax) over connect four with a window heuristic."""

    name = "c4search"

    def __init__(self, depth: int = 4, seed: int | None = 0):
        self.depth = int(depth)
        self.rng = np.random.default_rng(seed)

    def act_one(self, x: AgentInput) -> AgentOutput:
        state = x.info.get("game_state") or {}
        rows, mark = state.get("rows"), state.get("mark")
        if not isinstance(rows, list) or not rows or mark not in ("X", "O"):
            return _no_move("c4search needs a connect-four game_state (rows, mark)")
        grid = [list(r) for r in rows]
        other = "O" if mark == "X" else "X"
        scores = {}
        for c in [c for c in range(len(grid[0])) if grid[0][c] == "."]:
            r = _c4_drop(grid, c, mark)
            scores[c] = -_c4_alphabeta(grid, other, self.depth - 1, -float("inf"), float("inf"))
            grid[r][c] = "."  # type: ignore[index]
        if not scores:
            return _no_move("no legal column")
        best = max(scores.values())
        choices = [c for c, s in scores.items() if s == best]
        return AgentOutput(action=f"column {choices[int(self.rng.integers(len(choices)))] + 1}")


# -- chess ------------------------------------------------------------------------------------
def find_stockfish() -> str | None:
    """The stockfish binary on PATH or where Debian puts it (/usr/games)."""
    found = shutil.which("stockfish")
    if found:
        return found
    debian = Path("/usr/games/stockfish")
    return str(debian) if debian.exists() else None


class StockfishOpponent(ScriptedAgent):
    """Stockfish over UCI (python-chess's engine module), one subprocess per opponent."""

    name = "stockfish"

    def __init__(self, skill: int = 0, move_time: float = 0.01, path: str | None = None,
                 start_timeout: float = 60.0):
        """`start_timeout`: seconds the engine may take to answer the UCI handshake (python-chess's
        default of 10 s is too short on a loaded machine)."""
        import chess.engine

        binary = path or find_stockfish()
        if binary is None:
            raise FileNotFoundError("stockfish is not installed (apt-get install stockfish; looked on PATH "
                                    "and in /usr/games)")
        self.skill, self.limit = int(skill), chess.engine.Limit(time=move_time)
        self.engine = chess.engine.SimpleEngine.popen_uci(binary, timeout=start_timeout)
        self.engine.configure({"Skill Level": self.skill, "Threads": 1})
        self.name = f"stockfish:{self.skill}"
        self._stop = weakref.finalize(self, self.engine.quit)

    def act_one(self, x: AgentInput) -> AgentOutput:
        import chess

        fen = (x.info.get("game_state") or {}).get("fen")
        try:
            board = chess.Board(fen)
        except (TypeError, ValueError):
            return _no_move("stockfish needs a chess game_state with a valid fen")
        result = self.engine.play(board, self.limit)
        if result.move is None:
            return _no_move("engine returned no move")
        return AgentOutput(action=result.move.uci())

    def close(self) -> None:
        """Stops the engine process (also done when the opponent is garbage-collected)."""
        self._stop()


# -- frozen policies --------------------------------------------------------------------------
class FrozenPolicyOpponent:
    """A frozen checkpoint of a learning policy, loaded on first use (greedy by default).

    Self-play keeps earlier versions of the learner in the opponent pool by saving checkpoints and
    naming them `checkpoint:<dir>`; the weights are never updated here.
    """

    def __init__(self, path: str, **policy_kwargs: Any):
        self.path, self.policy_kwargs = path, {"temperature": 0.0, **policy_kwargs}
        self.name = f"checkpoint:{path}"
        self._policy: Any = None

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        if self._policy is None:
            self._policy = make_agent(f"hf:{self.path}", **self.policy_kwargs)
        return self._policy.act(inputs)


# -- specs ------------------------------------------------------------------------------------
def minimax_agent(argument: str | None, seed: int | None = 0, **_: Any) -> MinimaxTicTacToe:
    return MinimaxTicTacToe(seed=seed)


def c4search_agent(argument: str | None, seed: int | None = 0, **_: Any) -> ConnectFourSearch:
    return ConnectFourSearch(depth=int(argument) if argument else 4, seed=seed)


def stockfish_agent(argument: str | None, **kwargs: Any) -> StockfishOpponent:
    return StockfishOpponent(skill=int(argument) if argument else 0, move_time=kwargs.get("move_time", 0.01))


def checkpoint_agent(argument: str | None, **kwargs: Any) -> FrozenPolicyOpponent:
    if not argument:
        raise ValueError("checkpoint opponent needs a path: checkpoint:<dir>")
    return FrozenPolicyOpponent(argument)


# these kinds are listed in agents/registry.py (minimax, c4search, stockfish, checkpoint)


def make_opponent(spec: str, seed: int | None = 0) -> Any:
    """An opponent agent by spec (see the module docstring)."""
    return make_agent(spec, seed=seed)


def reseed(agent: Any, seed: int | None) -> None:
    """Gives a reused opponent a fresh RNG, so every episode with the same seed plays the same."""
    if hasattr(agent, "rng"):
        agent.rng = np.random.default_rng(seed)
