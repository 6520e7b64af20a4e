"""collect: groups, step fields from env and agent, limits, order; summarize's metrics."""
from __future__ import annotations

import math

import pytest

from turnrl.agents.scripted import ExpertAgent, RandomAgent, ScriptedAgent
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec, collect, summarize, summary_json
from turnrl.types import END_STEP_LIMIT, AgentOutput, Trajectory


class TokenAgent(ScriptedAgent):
    """Every other turn an unparseable answer, always with token ids; remembers what it saw."""

    name = "token"

    def __init__(self):
        self.seen = []

    def act_one(self, x):
        self.seen.append(x)
        if x.step % 2:
            return AgentOutput(action="", valid=False, invalid_reason="no <action> tag", prompt_ids=[1],
                               response_ids=[2, 3], response_logprobs=[-0.1, -0.2])
        return AgentOutput(action="inc", prompt_ids=[1], response_ids=[4], response_logprobs=[-0.3])


def test_groups_share_seed_and_start_and_come_back_in_task_order(toy_env_id):
    tasks = [TaskSpec(seed=3, task_id="a"), TaskSpec(seed=4, options={"target": 2}), TaskSpec(seed=3, task_id="c")]
    with make_pool(toy_env_id, 2) as pool:
        trajs = collect(pool, RandomAgent(0), tasks, group_size=3, max_steps=5, progress=False)
    assert [t.group_id for t in trajs] == ["0:a"] * 3 + ["1:seed-4"] * 3 + ["2:c"] * 3
    assert [t.metadata["group_member"] for t in trajs] == [0, 1, 2] * 3
    assert [t.task_id for t in trajs[3:6]] == ["target-2"] * 3  # the env's id when the spec has none
    for g in range(3):
        starts = {(t.seed, t.steps[0].observation, t.steps[0].state_key) for t in trajs[3 * g: 3 * g + 3]}
        assert len(starts) == 1


def test_steps_carry_env_and_agent_fields(toy_env_id):
    agent = TokenAgent()
    with make_pool(toy_env_id, 1) as pool:
        (traj,) = collect(pool, agent, [TaskSpec(seed=1, options={"target": 5})], max_steps=4, progress=False)
    assert traj.length == 4 and traj.truncated and traj.end_reason == END_STEP_LIMIT
    assert [s.valid for s in traj.steps] == [True, False, True, False]
    assert traj.steps[1].invalid_reason == "no <action> tag"
    assert traj.steps[1].response_ids == [2, 3] and traj.steps[0].response_logprobs == [-0.3]
    assert [s.t for s in traj.steps] == [0, 1, 2, 3]
    assert traj.steps[1].observation.startswith("Invalid action") is False  # what the agent saw before acting
    assert traj.steps[2].observation.startswith("Invalid action: empty action")
    assert traj.steps[0].state_key == f"{traj.steps[0].observation.split()[-1].rstrip('.')}/5"
    # the agent got the full history and the env's info
    last = agent.seen[-1]
    assert [a for _, a in last.history] == ["inc", "", "inc"] and last.task == "Reach 5."
    assert last.admissible_actions == ["inc", "dec", "wait"] and last.env_id == pool.env_id


def test_summarize_metrics_and_per_task(toy_env_id):
    tasks = [TaskSpec(seed=0, options={"target": t}, task_id=f"t{t}") for t in (1, 4)]
    with make_pool(toy_env_id, 2) as pool:
        expert = summarize(collect(pool, ExpertAgent(), tasks, group_size=2, progress=False))
        lazy = collect(pool, TokenAgent(), tasks, group_size=2, max_steps=2, progress=False)
    assert expert["success_rate"] == 1.0 and expert["mean_return"] == 1.0 and expert["n_episodes"] == 4
    assert set(expert["per_task"]) == {"t1", "t4"} and expert["end_reasons"] == {"won": 4}
    s = summarize(lazy)
    steps = sum(t.length for t in lazy)
    assert s["invalid_rate"] == sum(not st.valid for t in lazy for st in t.steps) / steps
    assert s["mean_length"] == steps / 4
    assert "per_task_type" not in expert  # these tasks name no type
    typed = [Trajectory(task_id=f"g{i}", won=i < 3, metadata={"options": {"task_type": "pick" if i < 2 else "heat"}})
             for i in range(4)]
    per_type = summarize(typed)["per_task_type"]
    assert {k: (v["success_rate"], v["n_episodes"]) for k, v in per_type.items()} == {"pick": (1.0, 2), "heat": (0.5, 2)}
    empty = summarize([])
    assert empty["n_episodes"] == 0 and math.isnan(empty["success_rate"])
    assert '"success_rate": null' in summary_json(empty)


def test_agent_returning_wrong_batch_or_types_is_a_clear_error(toy_env_id):
    class Broken(ScriptedAgent):
        def act(self, inputs):
            return []

    class NotText(ScriptedAgent):
        def act_one(self, x):
            return AgentOutput(action=42)  # type: ignore[arg-type]

    with make_pool(toy_env_id, 1) as pool:
        with pytest.raises(RuntimeError, match="returned 0 outputs for 1 inputs"):
            collect(pool, Broken(), [TaskSpec(seed=0)], progress=False)
        with pytest.raises(TypeError, match="must be str"):
            collect(pool, NotText(), [TaskSpec(seed=0)], progress=False)
        with pytest.raises(ValueError, match="group_size"):
            collect(pool, NotText(), [TaskSpec(seed=0)], group_size=0)
