"""Fixtures: the city fitted from the real NYC data (skipped without it) and a hand-made toy city."""
from __future__ import annotations

import numpy as np
import pytest

from turnrl.envs.rideshare.city import City


@pytest.fixture(scope="session")
def city() -> City:
    from turnrl.envs.rideshare.city import load_city

    try:
        return load_city()
    except FileNotFoundError as e:
        pytest.skip(f"NYC taxi data not found ({e}); set $TURNRL_DATA to the folder holding nyc_taxi/")


@pytest.fixture
def toy_city() -> City:
    """Three zones on a line, 4 minutes apart (2 inside a zone), 1 km per 4 minutes."""
    minutes = np.array([[2.0, 4.0, 8.0], [4.0, 2.0, 4.0], [8.0, 4.0, 2.0]])
    od = np.full((3, 3), 1 / 9)
    return City(location_ids=np.array([1, 2, 3]), names=["A", "B", "C"], lat=np.array([40.70, 40.71, 40.72]),
                lon=np.array([-74.0, -74.0, -74.0]), minutes=minutes, km=minutes / 4, od_prob=od,
                hourly=np.full(24, 1 / 24), n_trips=0)
