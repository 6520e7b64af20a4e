"""Fixtures for the TextWorld tests: one game cache shared by all xdist workers of a session.

Games are generated on first use (about a second each) into a folder under pytest's shared
temporary root, so the workers split the generation between them and the cache's file locks
keep them from generating the same game twice.
"""
from __future__ import annotations

import os
from pathlib import Path

import gymnasium
import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")


@pytest.fixture(scope="session")
def tw_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each xdist worker's basetemp sits in one session folder
        root = root.parent
    path = root / "textworld-games"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def make_tw(tw_cache: Path):
    """`gymnasium.make` of a TextWorld id with the session's game cache; closes what it made."""
    made = []

    def make(env_id: str = "turnrl/TextWorld-v0", **kwargs):
        env = gymnasium.make(env_id, cache_dir=tw_cache, **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
