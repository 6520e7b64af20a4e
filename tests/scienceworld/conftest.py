"""ScienceWorld tests need the package and Java; the session must end with no java left behind."""
from __future__ import annotations

import shutil

import psutil
import pytest

pytest.importorskip("scienceworld", reason="scienceworld not installed (pip install turnrl[scienceworld])")
if shutil.which("java") is None:
    pytest.skip("ScienceWorld needs Java 17+ (apt-get install openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="session", autouse=True)
def no_java_left_behind():
    yield
    leftover = [p.pid for p in psutil.Process().children(recursive=True)
                if p.name() == "java" and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftover, f"java processes left after the ScienceWorld tests: {leftover}"
