"""Fixtures for the foundation tests. The toy env module is imported as `tests.foundation.toy_env`
in this process and in pool workers, so the checkout root must be importable wherever pytest runs."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture()
def toy_env_id() -> str:
    from tests.foundation.toy_env import ENV_ID

    return ENV_ID
