"""Fixtures for the snapshot tests: the checkout root importable (pool workers import the helpers
and toy envs by module path) and one TextWorld game cache shared by the session's workers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="session")
def tw_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / "textworld-games"
    path.mkdir(exist_ok=True)
    return path
