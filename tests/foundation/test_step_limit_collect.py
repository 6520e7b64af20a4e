"""One step limit: `collect`'s per-call `max_steps` reaches the env's `StepLimit` through the reset
options, and the env truncates at exactly that step with `END_STEP_LIMIT`, on every backend, in
lockstep, async and tree rollouts; an env that ignores the limit is an error, not cut short."""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

from turnrl.agents.base import ScriptedAgent
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec, collect
from turnrl.tree_rollout import collect_tree
from turnrl.types import END_STEP_LIMIT, STEP_LIMIT_OPTION, AgentOutput

TEXTWORLD, TW_KWARGS = "turnrl/TextWorld-v0", {"n_games": 2}  # two small games, generated once into the cache


class Say(ScriptedAgent):
    """Always the same command: never wins, so only a step limit ends the episode."""

    def __init__(self, action: str):
        self.action, self.name = action, f"say-{action}"

    def act_one(self, x):
        return AgentOutput(action=self.action)


def check_cut_at(trajectories, n: int) -> None:
    for t in trajectories:
        assert t.length == n and t.end_reason == END_STEP_LIMIT and t.metadata["end_reason"] == END_STEP_LIMIT
        assert [s.truncated for s in t.steps] == [False] * (n - 1) + [True]
        assert not any(s.terminated for s in t.steps)


@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
def test_collect_limit_truncates_textworld_at_exactly_n_lockstep_and_async(backend):
    pytest.importorskip("textworld", reason="needs the `textworld` extra")
    tasks = [TaskSpec(seed=0), TaskSpec(seed=1, options={"split": "train"})]
    with make_pool(TEXTWORLD, 2, backend=backend, env_kwargs=TW_KWARGS) as pool:
        lockstep = collect(pool, Say("look"), tasks, group_size=2, max_steps=3, progress=False)
        unlocked = collect(pool, Say("look"), tasks, group_size=2, max_steps=3, progress=False, asynchronous=True)
        longer = collect(pool, Say("look"), tasks[:1], max_steps=5, progress=False)  # next call, its own limit
    check_cut_at(lockstep, 3)
    check_cut_at(longer, 5)
    assert [t.to_dict() for t in unlocked] == [t.to_dict() for t in lockstep]
    # the trajectories keep the task's own options (resuming compares them), not the limit asked for
    assert [t.metadata["options"] for t in lockstep] == [None, None, {"split": "train"}, {"split": "train"}]


def test_the_shorter_of_the_envs_limit_and_collects_applies():
    pytest.importorskip("textworld", reason="needs the `textworld` extra")
    with make_pool(TEXTWORLD, 1, env_kwargs={**TW_KWARGS, "max_episode_steps": 2}) as pool:
        check_cut_at(collect(pool, Say("look"), [TaskSpec(seed=0)], max_steps=6, progress=False), 2)
        check_cut_at(collect(pool, Say("look"), [TaskSpec(seed=0, options={STEP_LIMIT_OPTION: 1})], max_steps=6,
                             progress=False), 1)


def test_env_registered_without_a_limit_is_limited_by_collect(toy_env_id):
    assert gym.spec(toy_env_id.rpartition(":")[2]).max_episode_steps is None
    tasks = [TaskSpec(seed=0, options={"target": 5})]
    with make_pool(toy_env_id, 2) as pool:
        check_cut_at(collect(pool, Say("wait"), tasks, group_size=2, max_steps=4, progress=False), 4)
        check_cut_at(collect(pool, Say("wait"), tasks, max_steps=2, progress=False, asynchronous=True), 2)


def test_tree_branches_keep_the_trunks_limit():
    pytest.importorskip("textworld", reason="needs the `textworld` extra")
    with make_pool(TEXTWORLD, 2, env_kwargs=TW_KWARGS) as pool:
        trees = collect_tree(pool, Say("look"), [TaskSpec(seed=0)], branches=2, every=2, max_steps=4)
    assert len(trees) == 3  # the trunk, and one branch at steps 0 and 2
    check_cut_at(trees, 4)  # a branch restored at step 2 has 2 steps left, as the trunk had


class BarePool:
    """A pool (the duck-typed API `collect` uses) of envs built with `gym.make`, not turnrl's
    `make`: nothing applies the limit an episode asks for."""

    num_envs, env_id = 1, "turnrl_test/Counter-v0"

    def __init__(self):
        self.env = gym.make(self.env_id, disable_env_checker=True)

    def reset(self, seeds: list[int], options: list[dict[str, Any] | None], slots: list[int], on_error: str):
        return [self.env.reset(seed=seeds[0], options=options[0])]

    def step(self, actions: list[str | None]):
        return [self.env.step(actions[0])]


def test_an_env_that_ignores_the_limit_is_an_error_not_cut_short(toy_env_id):
    with pytest.raises(RuntimeError, match=r"'turnrl_test/Counter-v0' ran past the episode's step limit \(3\).*"
                                           r"turnrl\.envs\.registration\.make"):
        collect(BarePool(), Say("wait"), [TaskSpec(seed=0, options={"target": 5})], max_steps=3, progress=False)
