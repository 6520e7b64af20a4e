"""WebShop: restoring a snapshot (goal, page, clickables, step count) repeats the continuation."""
from __future__ import annotations

import pytest

import turnrl.envs  # noqa: F401  (registers the ids)
from turnrl.envs.registration import make as make_env
from tests.snapshots.helpers import check_restore_equivalence


@pytest.fixture(scope="module")
def webshop_data():
    try:
        from turnrl.envs.webshop.data import webshop_dir

        return webshop_dir()
    except (FileNotFoundError, ImportError) as e:
        pytest.skip(f"WebShop data or extra absent ({e}); set TURNRL_DATA to a folder holding webshop/")


def shop(info, i):
    """Search first, then click through what the page offers (buying ends it)."""
    options = [a for a in info.get("admissible_actions") or [] if not a.startswith("search")]
    if info.get("has_search_bar"):
        return "search[red shoes for women]"
    if i % 5 == 4 or not options:
        return "click[nothing like this]"
    return options[(2 * i + 1) % len(options)]


def test_restore_repeats_the_continuation(webshop_data):
    def make():
        return make_env("turnrl/WebShop-v0", data_dir=str(webshop_data), disable_env_checker=True)  # StepLimit 15

    snap, original = check_restore_equivalence(make, {"seed": 2}, prefix=2, steps=10, policy=shop)
    assert len({step[5] for step in original}) >= 3
    assert snap.nbytes() < 16_000
