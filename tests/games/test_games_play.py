"""Opponent strength, self-play outcomes, determinism, and the arena command."""
import json

import pytest

from turnrl.agents.opponents import (
    ConnectFourSearch,
    MinimaxTicTacToe,
    find_stockfish,
    make_opponent,
)
from turnrl.agents.scripted import RandomAgent
from turnrl.cli import main
from turnrl.envs.games.catalog import make_game
from turnrl.selfplay import outcomes, play_games

needs_stockfish = pytest.mark.skipif(find_stockfish() is None,
                                     reason="stockfish not installed (apt-get install stockfish)")


def _play(game, agents, seeds, **kw):
    return play_games(lambda: make_game(game), agents, seeds=seeds, game=game, **kw)


def test_games_minimax_never_loses_200_games_against_random():
    minimax, rand = MinimaxTicTacToe(seed=0), RandomAgent(seed=1)
    first = _play("tictactoe", [minimax, rand], range(100))
    second = _play("tictactoe", [rand, minimax], range(100, 200))
    mine = first[0::2] + second[1::2]
    assert len(mine) == 200
    assert min(t.metadata["outcome"] for t in mine) >= 0.0
    assert sum(t.won for t in mine) > 150


def test_games_connect_four_search_beats_random():
    trajs = _play("connect_four", [ConnectFourSearch(depth=2, seed=0), RandomAgent(seed=1)], range(10))
    assert sum(t.won for t in trajs[0::2]) >= 9


@needs_stockfish
def test_games_random_loses_to_stockfish_skill_0():
    fish = make_opponent("stockfish:0")
    try:
        trajs = _play("chess", [RandomAgent(seed=0), fish], range(2), max_moves=400)
    finally:
        fish.close()
    assert [t.metadata["outcome"] for t in trajs[1::2]] == [1.0, 1.0]


@pytest.mark.parametrize("game", ["tictactoe", "connect_four", "leduc_holdem", "rps"])
def test_games_selfplay_outcomes_are_opposite(game):
    agent = RandomAgent(seed=0)
    trajs = _play(game, [agent, agent], range(6), group_size=2)
    assert len(trajs) == 24
    for a, b in zip(trajs[0::2], trajs[1::2]):
        assert a.player_id != b.player_id and a.seed == b.seed
        assert a.metadata["outcome"] == -b.metadata["outcome"]
        assert a.won + b.won <= 1
        moves = sorted(s.t for s in a.steps + b.steps)
        assert moves == list(range(len(moves)))  # joint move index, each move once
        if a.steps:
            assert a.steps[-1].terminated and a.episode_return == a.metadata["outcome"]
    assert abs(sum(outcomes(trajs).values())) < 1e-9


def test_games_selfplay_is_deterministic_for_a_seed():
    def run():
        trajs = _play("leduc_holdem", [RandomAgent(seed=5), RandomAgent(seed=6)], [11, 12])
        return [t.to_dict() for t in trajs]

    assert run() == run()


def test_games_arena_ranks_minimax_over_random(tmp_path, capsys):
    out = tmp_path / "arena.json"
    assert main(["arena", "tictactoe", "--agent", "random", "minimax", "--games", "10", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["ranking"] == ["minimax", "random"]
    assert result["results"]["minimax"]["random"]["loss"] == 0
    assert "W/D/L" in capsys.readouterr().out
    assert main(["arena", "go", "--agent", "random", "minimax"]) == 2


@needs_stockfish
def test_games_arena_chess_orders_stockfish_above_random(tmp_path):
    out = tmp_path / "arena.json"
    assert main(["arena", "chess", "--agent", "random", "stockfish:0", "--games", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["ranking"] == ["stockfish:0", "random"]


@needs_stockfish
def test_games_dead_engine_opponent_is_a_clear_error():
    from turnrl.envs.games.single import GameEnv

    env = GameEnv("chess", opponent="stockfish:0", seat="first")
    _, info = env.reset(seed=0)
    env._built["stockfish:0"].close()  # the engine process is gone
    with pytest.raises(RuntimeError, match="opponent 'stockfish:0' failed in chess"):
        env.step(info["admissible_actions"][0])
    env.close()
