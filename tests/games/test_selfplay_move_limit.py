"""Self-play's move limit follows StepLimit's rule (`at_step_limit`): a game still running after
`max_moves` joint moves ends truncated with `END_STEP_LIMIT`, a draw for both seats."""
import pytest

pytest.importorskip("pettingzoo", reason="needs the `games` extra")

from turnrl.agents.scripted import RandomAgent  # noqa: E402
from turnrl.envs.games.catalog import make_game  # noqa: E402
from turnrl.selfplay import play_games  # noqa: E402
from turnrl.types import END_GAME_OVER, END_STEP_LIMIT  # noqa: E402


def test_games_cut_at_exactly_max_moves_end_as_step_limit():
    # tic-tac-toe needs 5 moves to end at the earliest: after 3 every game is still running
    trajs = play_games(lambda: make_game("tictactoe"), [RandomAgent(seed=0), RandomAgent(seed=1)], seeds=range(3),
                       max_moves=3, game="tictactoe")
    assert len(trajs) == 6
    for t in trajs:
        assert t.metadata["game_moves"] == 3 and t.metadata["end_reason"] == END_STEP_LIMIT and not t.won
        assert t.steps[-1].truncated and not t.steps[-1].terminated and t.steps[-1].end_reason == END_STEP_LIMIT
    assert [len(t.steps) for t in trajs[:2]] == [2, 1]  # X moved twice, O once
    full = play_games(lambda: make_game("tictactoe"), [RandomAgent(seed=0), RandomAgent(seed=1)], seeds=range(3),
                      max_moves=9, game="tictactoe")  # a game has at most 9 moves: never cut
    assert {t.metadata["end_reason"] for t in full} == {END_GAME_OVER}
