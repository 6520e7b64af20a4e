"""What a kill -9 leaves behind is removed at the next start (issue 18.15): ScienceWorld's object-tree
folders in /dev/shm (also after the pool kills a hung worker). Checkpoint temp files: tests/trainers."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest


def sciworld_dirs(pid: int) -> list[Path]:
    from turnrl.envs.scienceworld.engine import _memory_tmp

    root = Path(_memory_tmp() or tempfile.gettempdir())
    return sorted(root.glob(f"turnrl-sciworld-{pid}-*"))


@pytest.mark.slow  # two JVM starts and resets: 1-4 minutes on a busy 2-core machine
def test_a_killed_scienceworld_workers_shm_folder_is_removed_when_the_next_engine_starts():
    pytest.importorskip("scienceworld", reason="needs the scienceworld extra")
    if shutil.which("java") is None:
        pytest.skip("ScienceWorld needs Java 17+")
    from turnrl.envs.pool import make_pool

    with make_pool("turnrl/ScienceWorld-v0", 1, backend="subprocess", step_timeout=60, reset_timeout=300,
                   env_kwargs={"task": "boil", "expert": False}) as pool:
        pool.reset([0])
        victim = pool.worker_pids()[0]
        assert len(sciworld_dirs(victim)) == 1  # the engine's folder names its process
        os.kill(victim, signal.SIGKILL)  # no finalizer runs: the folder stays behind
        assert pool.step(["look around"])[0].info["end_reason"].startswith("worker crashed")
        assert len(sciworld_dirs(victim)) == 1
        pool.reset([0])  # the restarted worker starts an engine, which removes the dead one's folder
        assert sciworld_dirs(victim) == []
        assert len(sciworld_dirs(pool.worker_pids()[0])) == 1
    assert sciworld_dirs(pool.worker_pids()[0]) == []  # a clean close removes its own
