"""Env pools: same answers on every backend, and a crashed, hung or failing env never takes the pool down."""
from __future__ import annotations

import os
import signal
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnrl.agents.scripted import ExpertAgent, RandomAgent
from turnrl.envs.pool import StepResult, make_pool, parse_pool_spec
from turnrl.rollout import TaskSpec, collect

TASKS = [TaskSpec(seed=s) for s in range(4)]


def run(pool, seed: int = 0):
    return [t.to_dict() for t in collect(pool, RandomAgent(seed), TASKS, group_size=2, max_steps=6, progress=False)]


def test_same_seeds_same_trajectories_inprocess_and_subprocess(toy_env_id):
    with make_pool(toy_env_id, 3) as pool:
        reference = run(pool)
    with make_pool(toy_env_id, 3, backend="subprocess", num_workers=2) as pool:
        assert run(pool) == reference
    assert len(reference) == 8 and len({t["group_id"] for t in reference}) == 4


def test_polling_workers_give_the_same_trajectories_and_still_notice_a_dead_parent_pipe(toy_env_id):
    # spin_seconds far above a step's time: workers poll through the whole rollout
    with make_pool(toy_env_id, 3) as pool:
        reference = run(pool)
    with make_pool(toy_env_id, 3, backend="subprocess", num_workers=3, spin_seconds=0.05) as pool:
        assert run(pool) == reference
        victim = pool.workers[0]
        victim.conn.close()  # what a dead parent looks like to the worker: EOF while it polls
        victim.process.join(5.0)
        assert victim.process.exitcode == 0


def test_default_poll_only_while_every_worker_can_have_its_own_core():
    from turnrl.envs.pool.subproc import default_spin_seconds

    assert default_spin_seconds(1) > 0
    assert default_spin_seconds(10_000) == 0.0


def test_group_reset_gives_identical_starts_and_partial_steps(toy_env_id):
    with make_pool(toy_env_id, 4, backend="subprocess", num_workers=2, step_timeout=10) as pool:
        starts = pool.reset([5, 5, 5, 6])
        assert starts[0] == starts[1] == starts[2]
        results = pool.step(["inc", None, "dec", None])
        assert results[1] is None and results[3] is None
        assert isinstance(results[0], StepResult) and results[0].info["valid"]
        assert pool.reset([5], slots=[2]) == [starts[2]]


def test_killed_worker_is_restarted_and_only_its_episode_is_truncated(toy_env_id):
    with make_pool(toy_env_id, 3, backend="subprocess", step_timeout=10) as pool:
        pool.reset([1, 2, 3])
        before = pool.step(["wait", "wait", "wait"])
        victim = pool.worker_pids()[1]
        os.kill(victim, signal.SIGKILL)
        after = pool.step(["inc", "inc", "inc"])
        assert after[1].truncated and after[1].info["end_reason"].startswith("worker crashed: process")
        assert after[1].obs == before[1].obs  # the last thing the agent saw, not a blank
        assert not after[0].truncated and not after[2].truncated
        assert pool.worker_pids()[1] != victim and pool.restarts == 1
        assert pool.reset([2], slots=[1])[0][0].startswith("You are at")  # the slot is usable again
        assert pool.step([None, "wait", None])[1].info["valid"]


def test_env_that_kills_its_process_mid_rollout_keeps_all_other_trajectories(toy_env_id):
    class CrashOnce(ExpertAgent):
        """The expert, except that in the third turn the env in slot 1 is told to kill its process."""
        turns = 0

        def act(self, inputs):
            out = super().act(inputs)
            self.turns += 1
            if self.turns == 3:
                out[1].action = "crash"
            return out

    with make_pool(toy_env_id, 3, backend="subprocess", env_kwargs={"faults": True}, step_timeout=10) as pool:
        crashed = collect(pool, CrashOnce(), TASKS, group_size=2, max_steps=6, progress=False)
    with make_pool(toy_env_id, 3, env_kwargs={"faults": True}) as pool:
        clean = collect(pool, ExpertAgent(), TASKS, group_size=2, max_steps=6, progress=False)
    assert len(crashed) == len(clean) == 8
    differ = [(c, k) for c, k in zip(crashed, clean) if c.to_dict() != k.to_dict()]
    assert len(differ) == 1
    broken, _ = differ[0]
    assert broken.truncated and not broken.won and broken.steps[-1].action == "crash"
    assert broken.end_reason.startswith("worker crashed: process") and "exit" in broken.end_reason
    assert broken.steps[-1].valid  # an infrastructure failure is not charged to the agent as invalid


def test_hung_worker_times_out_and_pool_carries_on(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"faults": True}, step_timeout=0.5) as pool:
        pool.reset([1, 2])
        results = pool.step(["hang", "wait"])
        assert results[0].truncated and results[0].info["end_reason"] == "step timeout after 0.5s"
        assert results[1].info["valid"] and not results[1].truncated
        pool.reset([1], slots=[0])
        assert all(r.info["valid"] for r in pool.step(["wait", "wait"]))


def test_sibling_in_a_hung_shard_is_truncated_with_the_reason(toy_env_id):
    with make_pool(toy_env_id, 4, backend="subprocess", num_workers=2, env_kwargs={"faults": True},
                   step_timeout=0.5) as pool:
        pool.reset([1, 2, 3, 4])
        results = pool.step(["hang", "wait", "wait", None])
        assert results[0].info["end_reason"] == "step timeout after 0.5s"
        assert results[1].info["end_reason"] == "worker restarted: slot 0 step timeout after 0.5s"
        assert not results[2].truncated and results[3] is None


def test_env_exception_ends_the_episode_not_the_pool(toy_env_id):
    for backend in ("inprocess", "subprocess"):
        with make_pool(toy_env_id, 2, backend=backend, env_kwargs={"faults": True}) as pool:
            pool.reset([1, 2])
            broken = pool.shard.envs[0] if backend == "inprocess" else None
            results = pool.step(["raise", "wait"])
            assert broken is None or pool.shard.envs[0] is not broken
            assert results[0].truncated
            assert results[0].info["end_reason"] == "env error: RuntimeError: the engine fell over"
            assert results[1].info["valid"]
            pool.reset([1], slots=[0])  # on a fresh env: the failed one may be in any state
            assert pool.step(["wait", None])[0].info["valid"]


def test_bad_reset_options_raise_in_the_caller_and_pool_survives(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess") as pool:
        with pytest.raises(ValueError, match="invalid literal"):
            pool.reset([1, 2], options=[{"target": "nope"}, None])
        assert len(pool.reset([1, 2])) == 2


def test_env_that_cannot_be_built_in_a_worker_raises_its_error_here(toy_env_id):
    with pytest.raises(TypeError, match="colour"):
        make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"colour": "red"})


def test_misuse_gives_clear_errors(toy_env_id):
    with pytest.raises(ValueError, match="unknown pool backend"):
        make_pool(toy_env_id, 2, backend="threads")
    with pytest.raises(ValueError, match="cannot interrupt"):
        make_pool(toy_env_id, 2, step_timeout=1.0)
    with pytest.raises(ValueError, match="num_envs"):
        make_pool(toy_env_id, 0)
    assert parse_pool_spec("subprocess:4") == ("subprocess", 4)
    with pytest.raises(ValueError, match="after ':'"):
        parse_pool_spec("ray:x")
    pool = make_pool(toy_env_id, 2)
    with pytest.raises(ValueError, match="one per slot"):
        pool.step(["wait"])
    with pytest.raises(ValueError, match="one seed"):
        pool.reset([1])
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.reset([1, 2])


@pytest.fixture(scope="module")
def subprocess_pool():
    from tests.foundation.toy_env import ENV_ID

    with make_pool(ENV_ID, 1, backend="subprocess", step_timeout=10) as pool:
        yield pool


JUNK_STR = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=50),
    st.sampled_from(["", "   ", "x" * (1 << 20), "\x00\x1b[2J", "\ud800", "inc\ninc", "go north\x7f"]),
)
NOT_STR = st.one_of(st.integers(), st.floats(allow_nan=True), st.binary(max_size=8), st.lists(st.text(max_size=3)),
                    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.one_of(JUNK_STR, NOT_STR))
def test_any_action_gives_an_observation_or_type_error_never_a_dead_pool(subprocess_pool, action):
    subprocess_pool.reset([3])
    if not isinstance(action, str):
        with pytest.raises(TypeError, match="slot 0 must be str"):
            subprocess_pool.step([action])
    else:
        (result,) = subprocess_pool.step([action])
        assert isinstance(result.obs, str) and not result.truncated
        assert result.info["valid"] == (action.strip() in ("inc", "dec", "wait"))
    (after,) = subprocess_pool.step(["wait"])
    assert after.info["valid"] and subprocess_pool.restarts == 0


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt without touching the test runner's own SIGINT handling."""


def test_interrupted_step_restarts_the_busy_worker_so_no_stale_answer_arrives_later(toy_env_id):
    def interrupt(*_):
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        with make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"faults": True}) as pool:
            pool.reset([1, 2])
            timer.start()
            with pytest.raises(Interrupted):
                pool.step(["hang", "wait"])  # no step timeout: only the interrupt ends the wait
            results = pool.step(["wait", "wait"])
            assert results[0].truncated and results[0].info["end_reason"] == "worker restarted: step interrupted"
            assert results[1].info["valid"] and not results[1].truncated
            assert pool.reset([1], slots=[0]) and pool.step(["wait", None])[0].info["valid"]
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
