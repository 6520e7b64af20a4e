"""Ride-sharing: restoring a snapshot (simulator state and RNG, offer) repeats the continuation:
the same orders arrive, the same assignments pay the same."""
from __future__ import annotations

import gymnasium as gym
import pytest

pytest.importorskip("scipy", reason="the rideshare extra is not installed")

import turnrl.envs  # noqa: F401  (registers the ids)
from tests.snapshots.helpers import check_restore_equivalence


@pytest.fixture(scope="module")
def city():
    from turnrl.envs.rideshare.city import load_city

    try:
        return load_city()
    except FileNotFoundError as e:
        pytest.skip(f"NYC taxi data not found ({e}); set $TURNRL_DATA to the folder holding nyc_taxi/")


def assign_or_wait(info, i):
    """Takes an offered assignment most minutes, waits now and then."""
    options = info.get("admissible_actions") or ["wait"]
    return "wait" if i % 3 == 2 else options[(3 * i + 1) % len(options)]


def test_restore_repeats_the_continuation(city):
    def make():
        return gym.make("turnrl/RideShare-v0", config={"n_vehicles": 6, "orders_per_hour": 120.0,
                                                       "episode_minutes": 12}, city=city, disable_env_checker=True)

    snap, original = check_restore_equivalence(make, {"seed": 1}, prefix=3, steps=8, policy=assign_or_wait)
    assert any(r != 0 for _, _, r, *_ in original), "some assignment should pay"
    assert snap.nbytes() < 64_000
