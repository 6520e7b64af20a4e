"""Tree-structured group rollouts: branch continuations off one episode from snapshots of its states.

A flat group runs a task N times from the reset; its members share a state only where they
happen to meet again (GiGPO finds such anchor states afterwards by hashing observations). A
tree group runs the task once (the trunk), picks branch points on it, restores the env's
snapshot of each branch point (`pool.snapshot` / `pool.restore`, `turnrl.envs.snapshot`) and
samples `branches - 1` more continuations there. Every branch point is then an exact anchor
state shared by `branches` sibling steps, and the prefix before it was generated and stepped
once, not once per member.

Branch points are every `every`-th step of the trunk (0, k, 2k, ...), or, with `by="entropy"`,
the `points` steps where the agent was least sure: its reported `entropy`
(`AgentOutput.entropy` when an agent sets it) or else the mean negative log-probability of the
tokens it generated (the sampled estimate of the entropy); agents reporting neither get every-k.

The output is ordinary `Trajectory`s, one per leaf, trunk first: a branch holds a copy of the
trunk's steps before its branch point, so every credit method applies unchanged. The tree is in
`metadata["tree"]`: `branch_step` (where it left the trunk; None for the trunk),
`shared_prefix` (how many leading steps are copies, not generated), `parent` (the member it
branched from) and, on the trunk, `branch_points`. `credit.tree` uses the tree directly.

Scheduling is lockstep and depends only on the tasks and the episode lengths (as in `collect`),
so the same seeds give the same trees on every pool backend.
"""
from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from turnrl.rollout import TaskSpec, _act, _agent_input, _Episode, _Progress, _record, _task_id, reset_options
from turnrl.types import AgentOutput, Trajectory

BranchBy = Literal["every", "entropy"]


@dataclass
class _Job:
    """One episode to run: a trunk (from the reset) or a branch (from a trunk's snapshot)."""

    episode: _Episode
    tree: int  # task index
    branch_step: int | None = None
    snapshot: Any = None
    prefix: list = field(default_factory=list)  # the trunk's steps before the branch point
    snapshots: dict[int, Any] = field(default_factory=dict)  # trunk only: step -> snapshot
    uncertainty: list[float | None] = field(default_factory=list)  # trunk only: per step


def uncertainty(out: AgentOutput) -> float | None:
    """How unsure the agent was of this action: its reported entropy, else the mean negative
    log-probability of its generated tokens, else None."""
    reported = getattr(out, "entropy", None)
    if reported is not None:
        return float(reported)
    if out.response_logprobs:
        return -math.fsum(out.response_logprobs) / len(out.response_logprobs)
    return None


def branch_points(length: int, every: int, by: BranchBy = "every", points: int = 2,
                  scores: list[float | None] | None = None) -> list[int]:
    """The trunk steps to branch at: every `every`-th, or the `points` most uncertain ones
    (earlier steps first among equals); sorted."""
    if by == "entropy" and scores and all(s is not None for s in scores[:length]):
        ranked = sorted(range(length), key=lambda t: (-scores[t], t))  # type: ignore[operator]
        return sorted(ranked[:points])
    if by not in ("every", "entropy"):
        raise ValueError(f"by must be 'every' or 'entropy', got {by!r}")
    return list(range(0, length, every))


def collect_tree(pool: Any, agent: Any, tasks: list[TaskSpec], branches: int = 4, every: int = 2,
                 by: BranchBy = "every", points: int = 2, max_steps: int = 50,
                 progress: bool = False) -> list[Trajectory]:
    """One tree per task: the trunk, then `branches - 1` continuations at each branch point.

    Returns the trees in task order, each as its trunk followed by its branches (by branch point,
    then sample); all members of a tree share the group id. The pool must hold envs that take
    snapshots (`metadata["snapshot"]`)."""
    if branches < 2 or every < 1 or points < 1 or max_steps < 1:
        raise ValueError(f"need branches >= 2, every >= 1, points >= 1, max_steps >= 1; got {branches}, "
                         f"{every}, {points}, {max_steps}")
    env_id = getattr(pool, "env_id", None)
    queue: deque[_Job] = deque()
    for i, task in enumerate(tasks):
        gid = f"{i}:{task.task_id or f'seed-{task.seed}'}"
        queue.append(_Job(_Episode(task, gid, 0, i), tree=i))
    trees: dict[int, list[_Job]] = {i: [] for i in range(len(tasks))}
    slots: list[_Job | None] = [None] * pool.num_envs
    with _Progress(progress, len(tasks), env_id) as advance:
        while queue or any(slots):
            _start(pool, agent, slots, queue, env_id, max_steps)
            running = [i for i, job in enumerate(slots) if job is not None]
            _snapshot_trunks(pool, slots, running, every, by)
            episodes = [slots[i].episode for i in running]  # type: ignore[union-attr]
            outputs = _act(agent, episodes, list(range(len(episodes))), env_id)  # type: ignore[arg-type]
            actions: list[str | None] = [None] * pool.num_envs
            for i, out in zip(running, outputs):
                actions[i] = out.action
            results = pool.step(actions)
            for i, out in zip(running, outputs):
                job = slots[i]
                assert job is not None
                if job.branch_step is None:
                    job.uncertainty.append(uncertainty(out))
                if _record(job.episode, out, results[i], max_steps):
                    slots[i] = None
                    trees[job.tree].append(job)
                    if job.branch_step is None:
                        queue.extend(_branch_jobs(job, branches, every, by, points))
                        advance()
    out_trajs: list[Trajectory] = []
    for i in range(len(tasks)):
        members = sorted(trees[i], key=lambda j: j.episode.member)
        out_trajs.extend(_finish(members))
    return out_trajs


def _start(pool: Any, agent: Any, slots: list[_Job | None], queue: deque[_Job], env_id: str | None,
           max_steps: int) -> None:
    """Fills free slots: trunks by one batched reset, branches by one batched restore."""
    free = [i for i, job in enumerate(slots) if job is None][: len(queue)]
    if not free:
        return
    starting = [queue.popleft() for _ in free]
    trunks = [(i, j) for i, j in zip(free, starting) if j.branch_step is None]
    branches = [(i, j) for i, j in zip(free, starting) if j.branch_step is not None]
    if trunks:
        answers = pool.reset([j.episode.task.seed for _, j in trunks],
                             [reset_options(j.episode.task, max_steps) for _, j in trunks], slots=[i for i, _ in trunks])
        for (i, job), (obs, info) in zip(trunks, answers):
            _begin(job, obs, info, agent, env_id, [])
            slots[i] = job
    if branches:
        answers = pool.restore([j.snapshot for _, j in branches], [i for i, _ in branches])
        for (i, job), (obs, info) in zip(branches, answers):
            _begin(job, obs, info, agent, env_id, job.prefix)
            job.snapshot = None  # held by the trunk's other branches until they start
            slots[i] = job


def _begin(job: _Job, obs: str, info: dict[str, Any], agent: Any, env_id: str | None, prefix: list) -> None:
    ep = job.episode
    ep.obs, ep.info = obs, info
    ep.traj = Trajectory(task_id=_task_id(ep.task, info), seed=ep.task.seed, group_id=ep.group_id,
                         task=str(info.get("task", "")),
                         steps=[copy.copy(s) for s in prefix],
                         metadata={"env_id": env_id, "agent": getattr(agent, "name", type(agent).__name__),
                                   "options": ep.task.options, "group_member": ep.member})


def _snapshot_trunks(pool: Any, slots: list[_Job | None], running: list[int], every: int, by: BranchBy) -> None:
    """Snapshots each trunk before a step it may branch at (every step when choosing by entropy)."""
    due = []
    for i in running:
        job = slots[i]
        assert job is not None and job.episode.traj is not None
        t = len(job.episode.traj.steps)
        if job.branch_step is None and (by == "entropy" or t % every == 0):
            due.append(i)
    if due:
        for i, snap in zip(due, pool.snapshot(due)):
            job = slots[i]
            job.snapshots[len(job.episode.traj.steps)] = snap  # type: ignore[union-attr]


def _branch_jobs(trunk: _Job, branches: int, every: int, by: BranchBy, points: int) -> list[_Job]:
    """The trunk's branch jobs, in branch-point order, `branches - 1` at each."""
    steps = trunk.episode.traj.steps  # type: ignore[union-attr]
    chosen = branch_points(len(steps), every, by, points, trunk.uncertainty)
    trunk.episode.traj.metadata["tree"] = {  # type: ignore[union-attr]
        "branch_step": None, "shared_prefix": 0, "parent": None, "branch_points": chosen}
    jobs, member = [], 0
    for b in chosen:
        for _ in range(branches - 1):
            member += 1
            ep = _Episode(trunk.episode.task, trunk.episode.group_id, member, trunk.episode.index)
            jobs.append(_Job(ep, trunk.tree, branch_step=b, snapshot=trunk.snapshots[b], prefix=steps[:b]))
    trunk.snapshots.clear()
    return jobs


def _finish(members: list[_Job]) -> list[Trajectory]:
    out = []
    for job in members:
        traj = job.episode.traj
        assert traj is not None
        if job.branch_step is not None:
            traj.metadata["tree"] = {"branch_step": job.branch_step, "shared_prefix": job.branch_step, "parent": 0}
        out.append(traj)
    return out


def generated_steps(traj: Trajectory) -> list:
    """The steps this trajectory generated and stepped itself (its copied prefix left out)."""
    return traj.steps[(traj.metadata.get("tree") or {}).get("shared_prefix", 0):]


def tree_cost(trajectories: list[Trajectory]) -> dict[str, int]:
    """Env steps and generated tokens actually spent, and what flat episodes of the same
    trajectories would have spent (every step of every trajectory)."""
    def tokens(steps: list) -> int:
        return sum(len(s.response_ids or []) for s in steps)

    return {"env_steps": sum(len(generated_steps(t)) for t in trajectories),
            "flat_env_steps": sum(t.length for t in trajectories),
            "tokens": sum(tokens(generated_steps(t)) for t in trajectories),
            "flat_tokens": sum(tokens(t.steps) for t in trajectories)}
