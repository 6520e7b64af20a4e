"""Bad moves (illegal, unparsable, empty, huge, odd types) never crash; the illegal-move policies."""
import pytest

from turnrl.envs.games.catalog import list_games, make_game
from turnrl.envs.games.single import GameEnv

BAD = ["", "   ", "x" * 100_000, "e2e5 \x00", "\ud800", "column 99", "raise raise raise", "zz9", "🙂" * 50]


@pytest.mark.parametrize("game", list_games())
def test_games_bad_text_is_rejected_with_a_reason(game):
    env = make_game(game, max_retries=len(BAD) + 5)
    env.reset(seed=1)
    player, before = env.agent_selection, env.state_key()
    for bad in BAD + [None, 7, b"e2e4", ["a1"]]:
        if bad is None:
            continue  # None is PettingZoo's action for finished agents only
        env.step(bad)
        assert env.agent_selection == player and env.state_key() == before
        assert env.infos[player]["valid"] is False and env.infos[player]["invalid_reason"]
        assert "Invalid move" in env.observe(player)
    legal = env.infos[player]["legal_moves"][0]
    env.step(legal)
    assert env.state_key() != before or game == "rps"


def test_games_retry_policy_forfeits_after_max_retries():
    env = make_game("tictactoe", illegal="retry", max_retries=2)
    env.reset(seed=0)
    first = env.agent_selection
    for _ in range(3):
        env.step("z9")
    assert all(env.terminations.values())
    assert env._cumulative_rewards[first] == -1.0
    assert "forfeited" in env.observe(first)


def test_games_penalize_policy_costs_reward_and_forfeit_policy_ends_at_once():
    env = make_game("connect_four", illegal="penalize", invalid_penalty=0.25)
    env.reset(seed=0)
    player = env.agent_selection
    env.step("column 0")
    assert env.rewards[player] == -0.25 and not any(env.terminations.values())
    env = make_game("connect_four", illegal="forfeit")
    env.reset(seed=0)
    env.step("nonsense")
    assert all(env.terminations.values())
    with pytest.raises(ValueError, match="illegal must be"):
        make_game("connect_four", illegal="ignore")


def test_games_natural_notations_parse():
    ttt = make_game("tictactoe")
    ttt.reset(seed=0)
    ttt.step("B2")
    assert ttt.state_key() == ".../.X./..." or ttt.state_key() == ".../.O./..."
    c4 = make_game("connect_four")
    c4.reset(seed=0)
    c4.step("Column 4.")
    assert c4.state_key().endswith("...X...")
    chess = make_game("chess")
    chess.reset(seed=0)
    chess.step("Nf3")  # SAN
    chess.step("e7e5")  # UCI
    assert chess.state_key().startswith("rnbqkbnr/pppp1ppp/8/4p3/8/5N2/")
    poker = make_game("leduc_holdem")
    poker.reset(seed=0)
    assert poker.infos[poker.agent_selection]["legal_moves"]
    poker.step("Raise")
    assert poker.infos[poker.agent_selection]["valid"]


def test_games_view_bad_actions_leave_state_and_say_why():
    env = GameEnv("chess", opponent="random")
    _, info = env.reset(seed=0)
    for bad in ["", "x" * 5000, "e2e5", "\x07"]:
        obs2, _, terminated, _, info2 = env.step(bad)
        assert not info2["valid"] and not terminated and info2["state_key"] == info["state_key"]
        assert "Invalid" in obs2
    with pytest.raises(TypeError):
        env.step(42)
    env.close()


def test_games_view_group_reset_is_identical_and_seeded():
    pool = ["random", "minimax"]
    a, b = GameEnv("tictactoe", opponent=pool), GameEnv("tictactoe", opponent=pool)
    seen = set()
    for seed in range(12):
        oa, ia = a.reset(seed=seed)
        ob, ib = b.reset(seed=seed)
        assert (oa, ia["opponent"], ia["seat"]) == (ob, ib["opponent"], ib["seat"])
        for move in ia["admissible_actions"][:1]:
            assert a.step(move)[0] == b.step(move)[0]
        seen.add((ia["opponent"], ia["seat"]))
    assert len(seen) == 4  # both opponents, both seats
    _, info = a.reset(seed=0, options={"opponent": "minimax", "seat": "second"})
    assert info["opponent"] == "minimax" and info["seat"] == "player_2"
