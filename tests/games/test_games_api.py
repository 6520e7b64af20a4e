"""Every text game passes PettingZoo's api_test; every single-agent view passes Gymnasium's check_env."""
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

from turnrl.envs.games.catalog import list_games, make_game
from turnrl.envs.games.register import VIEWS
from turnrl.envs.registration import register_all

register_all()


@pytest.mark.parametrize("game", list_games())
def test_games_pettingzoo_api(game):
    env = make_game(game)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # api_test warns that observations are not numpy arrays
        api_test(env, num_cycles=100)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_games_gymnasium_check_env(view):
    env = gym.make(f"turnrl/{view}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no render fps for text
        check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert isinstance(obs, str) and info["admissible_actions"]
    assert "Legal moves" in obs or "propose" in obs
    env.close()


def test_games_are_listed_and_registered():
    assert {"tictactoe", "connect_four", "leduc_holdem", "texas_holdem", "rps", "chess", "negotiation"} <= set(list_games())
    ids = set(gym.registry)
    assert {f"turnrl/{v}" for v in VIEWS} <= ids
    with pytest.raises(ValueError, match="unknown game"):
        make_game("go")
