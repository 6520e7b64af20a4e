"""One ScienceWorld simulator (a JVM reached through py4j), with a lifecycle turnrl can trust.

The PyPI `scienceworld` package's `ScienceWorldEnv` is reused for everything it does well (task
names, loading, variations, gold paths). Only its start-up is replaced, for three reasons:
- JVM options and a py4j read timeout, so a hung JVM raises instead of blocking forever;
- no python callback server (ScienceWorld never calls back into Python);
- guaranteed cleanup: a `weakref.finalize` (which also runs at interpreter exit) shuts the
  gateway down and kills the JVM, and `die_on_exit` makes the JVM exit if Python is killed.

Every engine call goes through `Simulator.call`, which turns a dead or silent JVM into
`ScienceWorldJVMError` (a `RuntimeError` naming the JVM) so a pool can restart the worker.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from py4j.java_gateway import GatewayParameters, JavaGateway, launch_gateway
from py4j.protocol import Py4JError, Py4JJavaError
from scienceworld import ScienceWorldEnv
from scienceworld.constants import BASEPATH, JAR_PATH

from turnrl.io import remove_stale

JAVA_MISSING = "ScienceWorld needs Java 17+ on PATH: install it with 'apt-get install -y openjdk-17-jre-headless'"
# ScienceWorld's answer to text its parser cannot map to any action.
UNKNOWN_ACTION = "No known action matches that input."
# The object-tree folder of each Simulator names its process, so folders of killed ones can be removed.
STALE_TEMPDIR = re.compile(r"^turnrl-sciworld-(?P<pid>\d+)-")
# Serial GC: one GC thread per JVM, which suits many small JVMs on few cores.
DEFAULT_JAVA_OPTS = ("-XX:+UseSerialGC", "-Xss8m")


class ScienceWorldJVMError(RuntimeError):
    """The ScienceWorld JVM died or stopped answering; the episode cannot continue."""


@dataclass
class EngineStep:
    """What one `step` returns from the engine: raw text, score in [-100, 100], valid actions."""

    observation: str
    score: int
    completed: bool
    moves: int
    valid_actions: list[str]


def _memory_tmp() -> str | None:
    """A RAM-backed folder for the per-step object-tree file where the system has one: writing
    and reading it there takes half the time of a disk-backed /tmp (3.0 vs 5.8 ms measured)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _shutdown(gateway: JavaGateway, proc: subprocess.Popen, tempdir: tempfile.TemporaryDirectory) -> None:
    """Close the py4j connection and make sure the JVM process is gone (never raises)."""
    try:
        gateway.close()
    except Exception:  # noqa: BLE001 - a dead JVM makes any goodbye fail; we kill it below anyway
        pass
    # py4j proxies still alive would otherwise try to reconnect to free their Java objects
    gateway._gateway_client.is_connected = False
    if proc.poll() is None:
        try:
            proc.stdin.close()  # die_on_exit: the JVM exits when its stdin closes
            proc.wait(timeout=3)
        except Exception:  # noqa: BLE001
            proc.kill()
            proc.wait()
    tempdir.cleanup()


class Simulator(ScienceWorldEnv):
    """The library's `ScienceWorldEnv` on a JVM started with our options and cleanup."""

    def __init__(self, java_opts: Sequence[str] = DEFAULT_JAVA_OPTS, read_timeout: float | None = 300.0):
        # ScienceWorldEnv.__init__ is deliberately not called: it starts the JVM without options,
        # timeout or cleanup. The attributes its other methods use are set here instead.
        java = shutil.which("java")
        if java is None:
            raise ScienceWorldJVMError(JAVA_MISSING)
        started = time.perf_counter()
        port, proc = launch_gateway(classpath=JAR_PATH, javaopts=list(java_opts), die_on_exit=True, cwd=BASEPATH,
                                    java_path=java, return_proc=True)
        self.process: subprocess.Popen = proc
        self._gateway = JavaGateway(gateway_parameters=GatewayParameters(auto_field=True, port=port,
                                                                         read_timeout=read_timeout),
                                    java_process=proc)
        # the engine hands its object tree (~150 KB per step for state keys) over through a file
        tmp = _memory_tmp()
        remove_stale(tmp or tempfile.gettempdir(), STALE_TEMPDIR)  # left by processes killed before cleanup
        self._obj_tree_tempdir = tempfile.TemporaryDirectory(prefix=f"turnrl-sciworld-{os.getpid()}-", dir=tmp)
        self._finalizer = weakref.finalize(self, _shutdown, self._gateway, proc, self._obj_tree_tempdir)
        self.read_timeout = read_timeout
        self.server = self.call("start", lambda: self._gateway.jvm.scienceworld.runtime.pythonapi.PythonInterface())
        self.start_seconds = time.perf_counter() - started
        self.taskName, self.variationIdx, self.simplificationStr = None, 0, ""
        self.envStepLimit = 1 << 62  # never reached: the step limit is turnrl's StepLimit wrapper, not the engine's
        self.lastStepScore = 0
        self.goldPathGenerated = False
        self.runHistories: dict = {}

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and self.process.poll() is None

    def close(self) -> None:
        self._finalizer()

    def __del__(self) -> None:  # the library's __del__ talks to the JVM; our finalizer does the cleanup
        pass

    def set_read_timeout(self, seconds: float | None) -> None:
        """How long any engine call may take before the JVM counts as hung (None: forever).
        Gold-path generation for the genetics tasks takes over a minute on a busy machine."""
        self.read_timeout = seconds
        client = self._gateway._gateway_client
        client.gateway_parameters.read_timeout = seconds  # for connections opened later
        for connection in list(client.deque):
            connection.socket.settimeout(seconds)

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one engine call; a dead or silent JVM becomes `ScienceWorldJVMError`."""
        if not self._finalizer.alive:
            raise ScienceWorldJVMError(f"ScienceWorld JVM (pid {self.pid}) was closed; {what} needs a new one")
        try:
            return fn(*args)
        except Py4JJavaError:
            raise  # an exception thrown by the simulator's code: the JVM itself is fine
        except Py4JError as e:  # incl. Py4JNetworkError: the connection broke or timed out
            try:  # a killed JVM closes its socket a moment before it can be reaped
                code = self.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                reason = f"ScienceWorld JVM (pid {self.pid}) {how} during {what}"
            else:
                reason = (f"ScienceWorld JVM (pid {self.pid}) stopped answering during {what} "
                          f"(no reply within {self.read_timeout} s); killed it")
                self.process.send_signal(signal.SIGKILL)
            self.close()
            raise ScienceWorldJVMError(reason) from e

    # -- the calls turnrl makes -------------------------------------------------------------
    def load_variation(self, task: str, variation: int, simplifications: str, gold_path: bool) -> None:
        self.call("load", self.load, task, variation, simplifications, gold_path)

    def restart_episode(self) -> None:
        """Back to the loaded variation's first state (cheaper than loading it again)."""
        self.call("reset", self.server.reset)
        self.lastStepScore = 0

    def step_once(self, action: str) -> EngineStep:
        """One move: the engine's text, score, completion flag and the valid actions it now offers."""
        def run() -> EngineStep:
            obs = self.server.step(action)
            score = int(round(100 * self.server.getScore()))
            return EngineStep(obs, score, bool(self.server.getCompleted()), int(self.server.getNumMoves()),
                              list(self.server.getValidActionObjectCombinations()))
        return self.call("step", run)

    def task_description(self) -> str:
        return str(self.call("task description", self.server.getTaskDescription))

    def gold_actions(self) -> list[str]:
        return list(self.call("gold path", self.server.getGoldActionSequence))

    def variation_splits(self, task: str) -> dict[str, list[int]]:
        """ScienceWorld's own train/dev/test variation lists for `task` (loads the task)."""
        def run() -> dict[str, list[int]]:
            self.load(task, 0, "", False)
            return {"train": list(self.server.getVariationsTrain()), "dev": list(self.server.getVariationsDev()),
                    "test": list(self.server.getVariationsTest())}
        return self.call("variation lookup", run)

    def object_tree_json(self) -> bytes:
        """The engine's full object tree (the true state) as the JSON bytes it writes."""
        def run() -> bytes:
            message = self.server.getObjectTree(self._obj_tree_tempdir.name)
            if message:
                raise RuntimeError(f"ScienceWorld object tree: {message}")
            with open(f"{self._obj_tree_tempdir.name}/objectTree.json", "rb") as f:
                return f.read()
        return self.call("object tree", run)
