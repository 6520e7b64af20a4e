"""WebShop test fixtures: the real data from $TURNRL_DATA (or the user cache), skipped when absent."""
from __future__ import annotations

import pytest

from turnrl import datadir


@pytest.fixture(scope="session")
def webshop_data():
    try:
        from turnrl.envs.webshop.data import webshop_dir

        return webshop_dir()
    except FileNotFoundError as e:
        pytest.skip(f"WebShop data absent ({e}); set TURNRL_DATA to a folder holding webshop/")


@pytest.fixture(scope="session")
def catalog(webshop_data):
    from turnrl.envs.webshop.catalog import load_catalog

    return load_catalog(webshop_data)


@pytest.fixture()
def make_env(webshop_data):
    from turnrl.envs.webshop.env import WebShopEnv

    envs = []

    def make(**kwargs):
        envs.append(WebShopEnv(data_dir=str(webshop_data), **kwargs))
        return envs[-1]

    yield make
    for env in envs:
        env.close()


__all__ = ["datadir"]
