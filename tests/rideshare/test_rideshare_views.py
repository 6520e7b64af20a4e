"""The three views: PettingZoo parallel API, central gym env, text env; bad input rejected cleanly."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from turnrl.envs.rideshare.gym_env import DispatchEnv
from turnrl.envs.rideshare.pz_env import RideShareParallelEnv
from turnrl.envs.rideshare.text_env import RideShareTextEnv, parse_assignment

SMALL = {"n_vehicles": 20, "orders_per_hour": 400.0, "episode_minutes": 8}


def test_pettingzoo_parallel_api(city):
    parallel_api_test(RideShareParallelEnv(SMALL, city=city), num_cycles=10)


def test_pettingzoo_conflicts_go_to_the_soonest_vehicle(city):
    env = RideShareParallelEnv(SMALL, city=city)
    env.reset(seed=2)
    offer = env.core.offer
    order = int(offer.orders[0])
    rows = [i for i in range(len(offer)) if offer.orders[i] == order]
    assert len(rows) >= 2
    actions, soonest = {}, min(rows, key=lambda i: offer.insertions[i].pickup_min)
    for row in rows:
        vid = int(offer.vehicles[row])
        actions[f"vehicle_{vid}"] = env._rows[vid].index(row) + 1
    _, rewards, _, _, infos = env.step(actions)
    winner = f"vehicle_{int(offer.vehicles[soonest])}"
    assert rewards[winner] != 0.0 and not infos[winner]["conflict"]
    assert sum(info["conflict"] for info in infos.values()) == len(rows) - 1
    with pytest.raises(ValueError, match="must be an int"):
        env.step({"vehicle_0": 99})
    with pytest.raises(ValueError, match="unknown"):
        env.step({"taxi_7": 0})


def test_gym_env_rejects_conflicts_and_padding(city):
    env = DispatchEnv(SMALL, max_pairs=512, city=city)
    obs, info = env.reset(seed=5)
    assert env.observation_space.contains(obs)
    n = info["n_pairs"]
    offer = env.core.offer
    same_order = [i for i in range(n) if offer.orders[i] == offer.orders[0]][:2]
    action = np.zeros(512, np.int8)
    action[same_order] = 1
    _, reward, _, _, info = env.step(action)
    assert not info["valid"] and "two vehicles" in info["invalid_reason"] and reward == 0.0
    action = np.zeros(512, np.int8)
    action[511] = 1
    assert "not in the offer" in env.step(action)[4]["invalid_reason"]  # a padding row
    with pytest.raises(ValueError, match="entries"):
        env.step(np.zeros(3))
    action = np.zeros(512, np.int8)
    action[0] = 1
    _, reward, _, truncated, info = env.step(action)
    assert info["valid"] and info["matched"] == 1 and reward != 0.0
    while not truncated:
        truncated = env.step(np.zeros(512, np.int8))[3]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(512, np.int8))


def test_parse_assignment():
    assert parse_assignment("assign o12 v3; o15 -> v7") == [(12, 3), (15, 7)]
    assert parse_assignment("  WAIT. ") == []
    assert "cannot read" in parse_assignment("assign o1 v2; send everyone home")
    assert "no pairs" in parse_assignment("assign")


def test_text_env_registered_and_rejects_bad_assignments(city, monkeypatch):
    env = RideShareTextEnv(city=city)
    obs, info = env.reset(seed=11)
    assert "pending orders" in obs and info["admissible_actions"][0] == "wait"
    pair = info["admissible_actions"][1]
    order, vehicle = pair.split()[1], pair.split()[2]
    cases = {
        "o99999 v1": "not pending",
        f"{order} v4242": "does not exist",
        f"{order} {vehicle}; {order} {vehicle}": "two orders",
        "x" * 5000: "too long",
        "hello \x00": "control",
    }
    for action, reason in cases.items():
        out, reward, terminated, _truncated, inf = env.step(action)
        assert not inf["valid"] and reason in inf["invalid_reason"] and reward == 0.0
        assert env.core.sim.minute == 0  # a rejected answer does not spend the minute
    with pytest.raises(TypeError):
        env.step(3)
    out, reward, terminated, _, inf = env.step(pair)
    assert inf["valid"] and inf["reward_components"]["matches"] == 1.0 and reward > 0
    while not terminated:
        out, reward, terminated, _, inf = env.step("wait")
    assert "Shift over" in out and inf["metrics"]["served"] >= 1 and inf["admissible_actions"] is None
    assert not env.step("wait")[4]["valid"]


def test_text_env_via_gym_make(city):
    from turnrl.envs.registration import register_all

    register_all()
    env = gym.make("turnrl/RideShare-v0", config={"n_vehicles": 5, "orders_per_hour": 60.0, "episode_minutes": 3}, city=city)
    obs1, _ = env.reset(seed=1)
    obs2, _ = env.reset(seed=1)
    assert obs1 == obs2


def test_central_env_passes_gymnasium_checker(city):
    from gymnasium.utils.env_checker import check_env

    from turnrl.envs.registration import register_all

    register_all()
    env = gym.make("turnrl/RideShareDispatch-v0", config=SMALL, max_pairs=256, city=city)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("bad", [np.nan, -1, 0.5, 2, "a"])
def test_gym_env_rejects_selections_that_are_not_0_or_1(city, bad):
    env = DispatchEnv(SMALL, max_pairs=512, city=city)
    env.reset(seed=5)
    minute = env.core.sim.minute
    action = [0] * 512
    action[3] = bad
    with pytest.raises(ValueError, match="0 or 1|numeric"):
        env.step(action)
    with pytest.raises(ValueError, match="0 or 1|numeric"):
        env.step(np.array(action, dtype=object if isinstance(bad, str) else float))
    assert env.core.sim.minute == minute  # nothing happened
    ok = np.zeros(512, bool)
    ok[0] = True
    assert env.step(ok)[4]["valid"]
