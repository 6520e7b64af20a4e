"""ScienceWorld on the real engine: resets, rewards, expert, bad input, JVM death and cleanup."""
from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import gymnasium as gym
import psutil
import pytest

from turnrl.envs.scienceworld.engine import UNKNOWN_ACTION, ScienceWorldJVMError, Simulator
from turnrl.envs.scienceworld.env import ScienceWorldTextEnv
from turnrl.types import END_STEP_LIMIT

# A quick task: its gold path is 7 moves and loads in ~0.3 s.
QUICK_TASK = "find-non-living-thing"


def java_children() -> list[psutil.Process]:
    """JVMs started by this test process (directly or through pool workers)."""
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]


@pytest.fixture(scope="module")
def env():
    """One env (one JVM) for the module: JVM start and task loads are the slow part."""
    e = ScienceWorldTextEnv(task=QUICK_TASK, split="train", expert=False)  # tests opt in per reset
    yield e
    e.close()


def test_registered_id_builds_the_env_without_starting_a_jvm():
    import turnrl.envs  # noqa: F401

    env = gym.make("turnrl/ScienceWorld-v0", task="boil")
    assert isinstance(env.unwrapped, ScienceWorldTextEnv) and env.unwrapped.simulator is None
    with pytest.raises(RuntimeError, match="before reset"):
        env.unwrapped.step("look around")
    with pytest.raises(ValueError, match="unknown ScienceWorld options"):
        env.reset(seed=0, options={"colour": "red"})
    with pytest.raises(ValueError, match="unknown ScienceWorld task"):
        env.reset(seed=0, options={"task": "fly to mars"})
    assert env.unwrapped.simulator is None
    env.close()


def test_same_seed_same_start_and_seeds_pick_train_variations(env):
    first = env.reset(seed=7)
    again = env.reset(seed=7)
    assert first[0] == again[0]
    for key in ("variation", "state_key", "task", "admissible_actions"):
        assert first[1][key] == again[1][key]
    other = env.reset(seed=8)[1]  # 150 train variations: another seed picks another one
    assert other["variation"] != first[1]["variation"]
    assert first[1]["split"] == "train" and first[1]["task_name"] == QUICK_TASK


def test_expert_wins_with_score_delta_rewards(env):
    obs, info = env.reset(seed=0, options={"split": "test", "variation": 225, "expert": True})
    assert info["task"].startswith("Your task is to find a(n) non-living thing")
    total, steps = 0.0, 0
    while not info["won"]:
        action = info["expert_action"]
        assert action, "the expert ran out of gold actions before winning"
        obs, reward, terminated, truncated, info = env.step(action)
        total, steps = total + reward, steps + 1
        assert info["valid"] and info["admissible_actions"]
        assert reward == info["reward_components"]["score_delta"]
    assert terminated and not truncated and info["end_reason"] == "won"
    assert total == pytest.approx(1.0) and info["score"] == 100
    after = env.step("look around")
    assert not after[4]["valid"] and "ended" in after[4]["invalid_reason"]


def test_leaving_the_gold_path_clears_the_expert_and_wrong_variation_is_refused(env):
    _, info = env.reset(seed=1, options={"expert": True})
    assert info["expert_action"] is not None
    _, _, _, _, info = env.step("look at agent")
    assert info["expert_action"] is None
    with pytest.raises(ValueError, match="not in its 'train' split"):
        env.reset(seed=0, options={"variation": 225})
    with pytest.raises(ValueError, match="expert must be True or False"):
        env.reset(seed=0, options={"expert": "yes"})
    assert env.reset(seed=1)[1]["expert_action"] is None  # the env's default: no gold path


@pytest.mark.parametrize("action", ["fly to mars", "", "   ", "x" * (1 << 20), "look\x00around"],
                         ids=["fly-to-mars", "empty", "blank", "1MB", "control-char"])
def test_bad_actions_are_invalid_observations(env, action):
    _, start = env.reset(seed=2)
    obs, reward, terminated, truncated, info = env.step(action)
    assert not info["valid"] and info["invalid_reason"]
    assert reward == 0.0 and not terminated and not truncated
    assert info["state_key"] == start["state_key"]  # the engine's state is untouched
    if action == "fly to mars":
        assert obs == UNKNOWN_ACTION
    with pytest.raises(TypeError):
        env.step(None)  # type: ignore[arg-type]


def test_failure_ending_is_a_loss(env):
    # use-thermometer: focusing on the wrong object is ScienceWorld's failure ending (score -100)
    env.reset(seed=0, options={"task": "use-thermometer"})
    obs, reward, terminated, truncated, info = env.step("focus on agent")
    assert terminated and not info["won"] and info["end_reason"] == "failed", obs
    assert reward < 0 and info["score"] < 0


def test_step_limit_is_step_limit_wrapper_and_the_engine_never_ends_first():
    """The registered limit (300) and a given one truncate through registration.make's StepLimit;
    the env counts nothing itself, and the engine's own limit cannot end an episode before it."""
    from turnrl.envs.registration import make
    from turnrl.envs.wrappers import StepLimit
    from turnrl.types import STEP_LIMIT_OPTION

    assert make("turnrl/ScienceWorld-v0").max_steps == 300
    with pytest.raises(TypeError, match="max_steps"):
        ScienceWorldTextEnv(max_steps=3)  # the env's own limit is gone
    env = make("turnrl/ScienceWorld-v0", max_steps=3, task=QUICK_TASK, expert=False, state_key="observation")
    try:
        assert isinstance(env, StepLimit)
        env.reset(seed=0)
        results = [env.step("look around") for _ in range(3)]
        assert [r[3] for r in results] == [False, False, True] and not any(r[2] for r in results)
        assert results[-1][4]["end_reason"] == END_STEP_LIMIT
        assert env.unwrapped.simulator.envStepLimit > 10**9  # the JVM's limit is off
        env.reset(seed=0, options={STEP_LIMIT_OPTION: 1})  # an episode's own, shorter limit
        assert env.step("look around")[3]
    finally:
        env.close()


def test_killed_jvm_raises_a_jvm_error_and_the_next_reset_recovers(env):
    env.reset(seed=3)
    old = env.simulator.pid
    os.kill(old, signal.SIGKILL)
    with pytest.raises(ScienceWorldJVMError, match=rf"JVM \(pid {old}\) was killed by signal 9"):
        env.step("look around")
    obs, info = env.reset(seed=3)
    assert env.simulator.pid != old and "This room is called" in obs
    assert not psutil.pid_exists(old) or psutil.Process(old).status() == psutil.STATUS_ZOMBIE


def _wait_until_stopped(pid: int, timeout: float = 10.0) -> None:
    """Until every thread of `pid` is in the stopped state (T in /proc/<pid>/task/*/stat)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
            try:
                states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                continue
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.01)


def test_hung_jvm_is_killed_after_the_read_timeout():
    sim = Simulator()
    try:
        sim.set_read_timeout(1.0)
        os.kill(sim.pid, signal.SIGSTOP)
        _wait_until_stopped(sim.pid)  # the signal is asynchronous: a JVM thread still running could answer
        started = time.monotonic()
        with pytest.raises(ScienceWorldJVMError, match="stopped answering"):
            sim.task_description()
        assert time.monotonic() - started < 20  # the 1 s read timeout fired, not the 300 s default (loose: CI load)
        assert sim.process.wait(timeout=20) == -signal.SIGKILL
    finally:
        sim.close()


def test_pool_group_reset_is_identical_and_a_dead_jvm_is_recorded_then_recovered():
    from turnrl.envs import pool as pool_mod

    kwargs = {"task": QUICK_TASK, "split": "test", "expert": False}
    with pool_mod.make_pool("turnrl/ScienceWorld-v0", 2, backend="subprocess", env_kwargs=kwargs) as pool:
        (obs0, info0), (obs1, info1) = pool.reset(seeds=[11, 11])
        assert obs0 == obs1 and info0["state_key"] == info1["state_key"]  # two JVMs, one start
        assert info0["variation"] == info1["variation"]
        jvms = [p for p in java_children() if p.ppid() != os.getpid()]  # the pool workers' JVMs
        assert len(jvms) == 2
        jvms[0].kill()
        jvms[0].wait(5)
        results = pool.step(["look around", "look around"])
        ended = [r for r in results if r.truncated]
        assert len(ended) == 1 and "ScienceWorldJVMError" in ended[0].info["end_reason"]
        assert "JVM" in ended[0].info["end_reason"]
        (obs0, info0), (obs1, info1) = pool.reset(seeds=[11, 11])
        assert obs0 == obs1 and all(r.info["valid"] for r in pool.step(["look around"] * 2))
    assert [p for p in java_children() if p.ppid() != os.getpid()] == []


def test_interpreter_exit_without_close_leaves_no_jvm():
    code = ("from turnrl.envs.scienceworld.env import ScienceWorldTextEnv as E\n"
            f"e = E(task={QUICK_TASK!r}, expert=False, state_key='observation'); e.reset(seed=0)\n"
            "print(e.simulator.pid)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.split()[-1])
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid), f"JVM {pid} outlived its Python process"
