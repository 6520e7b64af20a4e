"""The negotiation game: offers and acceptances parsed from text, value-based outcomes."""
import numpy as np

from turnrl.envs.games.negotiation import TOTAL_VALUE, NegotiationEnv, draw_game


def test_games_negotiation_values_always_sum_to_total():
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts, values = draw_game(rng)
        for v in values:
            assert sum(c * x for c, x in zip(counts, v)) == TOTAL_VALUE


def test_games_negotiation_accepted_offer_pays_each_its_value():
    env = NegotiationEnv()
    env.reset(seed=3)
    counts, v0, v1 = env.counts, env.values["player_0"], env.values["player_1"]
    env.step(f"Propose: I get {counts[0]} books and nothing else")
    assert env.agent_selection == "player_1" and "you get 0 books" in env.observe("player_1")
    env.step("Accept.")
    assert all(env.terminations.values())
    assert env.rewards["player_0"] == counts[0] * v0[0] / TOTAL_VALUE
    assert env.rewards["player_1"] == (counts[1] * v1[1] + counts[2] * v1[2]) / TOTAL_VALUE


def test_games_negotiation_no_deal_pays_nothing_and_bad_offers_are_rejected():
    env = NegotiationEnv(max_turns=2)
    env.reset(seed=0)
    env.step("accept")  # nothing on the table yet
    assert not env.infos["player_0"]["valid"]
    env.step("I get 99 books")  # more than the pool holds
    assert not env.infos["player_0"]["valid"]
    env.step("propose: I get 1 book")
    env.step("propose: I get 1 hat")
    assert all(env.terminations.values()) and env.rewards == {"player_0": 0.0, "player_1": 0.0}
