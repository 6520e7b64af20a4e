"""Free-text moves: a move is one move. Text holding two moves (chained, or a proposal naming one
item twice) is rejected, never read as one of them."""
import pytest

from turnrl.envs.games.catalog import make_game
from turnrl.envs.games.negotiation import NegotiationEnv


def test_games_negotiation_two_counts_for_one_item_is_no_offer():
    env = NegotiationEnv()
    env.reset(seed=3)
    assert env.parse("Propose: I get 1 book. No wait, 0 books and 1 hat") is None
    assert env.parse("I get 1 book, 1 hat, 1 book") is None
    assert env.parse("Propose: I get 1 book, 0 hats, 0 balls") == ("propose", (1, 0, 0))
    env.step("I get 1 book. No, 0 books")
    assert not env.infos["player_0"]["valid"] and env.agent_selection == "player_0"


@pytest.mark.parametrize("game, text", [("tictactoe", "b2. a1"), ("tictactoe", "b2, then a1"),
                                        ("connect_four", "column 4. column 3"), ("connect_four", "4 then 5"),
                                        ("chess", "e4. e5"), ("chess", "e2e4, d2d4"), ("rps", "rock. paper"),
                                        ("leduc_holdem", "raise. call")])
def test_games_chained_moves_are_rejected_and_leave_the_position(game, text):
    env = make_game(game)
    env.reset(seed=0)
    player, key = env.agent_selection, env.state_key()
    env.step(text)
    assert not env.infos[player]["valid"] and env.infos[player]["invalid_reason"]
    assert env.state_key() == key and env.agent_selection == player
