"""ScienceWorld tests share one env (one JVM) per module; the session ends with no java left."""
from __future__ import annotations

import shutil

import psutil
import pytest

pytest.importorskip("scienceworld", reason="scienceworld not installed (pip install turnrl[scienceworld])")
if shutil.which("java") is None:
    pytest.skip("ScienceWorld needs Java 17+ (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

# A quick task: its gold path is 7 moves and loads in ~0.3 s.
QUICK_TASK = "find-non-living-thing"


def java_children() -> list[psutil.Process]:
    """JVMs started by this test process (directly or through pool workers)."""
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]


@pytest.fixture(scope="session", autouse=True)
def no_java_left_behind():
    yield
    leftover = [p for p in java_children() if p.status() != psutil.STATUS_ZOMBIE]
    assert not leftover, f"java processes left after the ScienceWorld tests: {[p.pid for p in leftover]}"


@pytest.fixture(scope="module")
def env():
    from turnrl.envs.scienceworld.env import ScienceWorldTextEnv

    e = ScienceWorldTextEnv(task=QUICK_TASK, split="train", expert=False)  # tests opt in per reset
    yield e
    e.close()
