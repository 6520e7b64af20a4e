"""Collecting trajectories from an env pool with an agent, and summarising them.

`collect` keeps every pool slot busy: each task is run `group_size` times with the identical seed
and options (one group), episodes start in slots as slots free up, and all running slots are
stepped together so the agent acts on one batch per turn. Scheduling depends only on the tasks
and the episode lengths, never on timing, so the same seeds give identical trajectories on
every pool backend. `asynchronous=True` trades that batch for throughput (see `collect`). The
pool is duck-typed (`num_envs`, `env_id`, `reset(..., on_error=)`, `step`; `send`/`recv` when
asynchronous): the core package does not import `turnrl.envs`.

A task whose reset fails (the env raised, or the pool's `reset_timeout` passed) ends as an episode
without steps, truncated, its reason in `metadata["end_reason"]`; the other episodes go on.
`on_episode` sees each trajectory as it finishes (to write it to disk at once), and `finished`
hands back the episodes an interrupted run already finished, which are then not run again.
"""
from __future__ import annotations

import json
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from turnrl.types import (
    END_TERMINATED,
    END_TRUNCATED,
    END_WON,
    STEP_LIMIT_OPTION,
    AgentInput,
    AgentOutput,
    Trajectory,
    at_step_limit,
    make_step,
)

RESET_FAILED = "reset_failed"  # the pool's info key for a slot whose reset failed (envs/pool/core.py)


@dataclass
class TaskSpec:
    """One task: the reset seed and options that start it, and an id for reports."""

    seed: int
    options: dict[str, Any] | None = None
    task_id: str | None = None


@dataclass
class _Episode:
    task: TaskSpec
    group_id: str
    member: int
    index: int  # position in the returned list: task order, group members together
    obs: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    traj: Trajectory | None = None


def _end_reason(terminated: bool, truncated: bool, info: dict[str, Any]) -> str | None:
    if info.get("end_reason"):
        return str(info["end_reason"])
    if terminated:
        return END_WON if info.get("won") else END_TERMINATED
    return END_TRUNCATED if truncated else None


def _task_id(task: TaskSpec, info: dict[str, Any]) -> str:
    """The spec's id, else the env's (`task_id`, or `game` as TextWorld and ALFWorld name it)."""
    env_id = info.get("task_id") or info.get("game")
    return task.task_id or (str(env_id) if env_id else f"seed-{task.seed}")


def _episodes(tasks: list[TaskSpec], group_size: int) -> deque[_Episode]:
    queue: deque[_Episode] = deque()
    for i, task in enumerate(tasks):
        gid = f"{i}:{task.task_id or f'seed-{task.seed}'}"
        queue.extend([_Episode(task, gid, m, i * group_size + m) for m in range(group_size)])
    return queue


def _agent_input(ep: _Episode, env_id: str | None) -> AgentInput:
    assert ep.traj is not None
    return AgentInput(observation=ep.obs, task=str(ep.info.get("task", "")),
                      history=[(s.observation, s.action) for s in ep.traj.steps],
                      admissible_actions=ep.info.get("admissible_actions"), step=len(ep.traj.steps),
                      info=ep.info, env_id=env_id)


def reset_options(task: TaskSpec, max_steps: int) -> dict[str, Any]:
    """The task's reset options plus the step limit the episode asks for (`STEP_LIMIT_OPTION`,
    which the env's `StepLimit` applies and takes out); a shorter limit of the task's own stays."""
    options = dict(task.options or {})
    own = options.get(STEP_LIMIT_OPTION)
    options[STEP_LIMIT_OPTION] = max_steps if own is None else min(int(own), max_steps)
    return options


def _record(ep: _Episode, out: AgentOutput, result: Any, max_steps: int) -> bool:
    """Appends the step to the episode's trajectory; True when the episode is over. The env
    ends it (its `StepLimit` truncates at the limit `reset_options` asked for); an env still
    running past that limit is an error, not a second limit."""
    assert ep.traj is not None
    obs, reward, terminated, truncated, info = result
    if not (terminated or truncated) and at_step_limit(len(ep.traj.steps) + 1, max_steps):
        raise RuntimeError(f"env {ep.traj.metadata.get('env_id')!r} ran past the episode's step limit ({max_steps}): "
                           f"it does not apply the reset option {STEP_LIMIT_OPTION!r}; build it through "
                           f"turnrl.envs.registration.make, which wraps it in StepLimit")
    end_reason = _end_reason(terminated, truncated, info)
    ep.traj.steps.append(make_step(ep.obs, ep.info, out, info, t=len(ep.traj.steps), reward=reward,
                                   terminated=terminated, truncated=truncated, end_reason=end_reason))
    ep.obs, ep.info = obs, info
    if terminated or truncated:
        ep.traj.won = bool(info.get("won", False))
        ep.traj.metadata["end_reason"] = end_reason
        return True
    return False


def collect(pool: Any, agent: Any, tasks: list[TaskSpec], group_size: int = 1, max_steps: int = 50,
            progress: bool = True, asynchronous: bool = False,
            on_episode: Callable[[Trajectory], None] | None = None,
            finished: Iterable[Trajectory] = ()) -> list[Trajectory]:
    """Runs every task `group_size` times; returns trajectories in task order, group members together.

    `on_episode(trajectory)` is called as each episode finishes, in finishing order. `finished`:
    trajectories from an earlier, interrupted run of the same tasks (matched by group id, group
    member, seed and options); those episodes are not run again and come back as they are.

    `max_steps` is this call's step limit per episode. The env applies it: each reset asks for
    it in the options (`reset_options`), and the `StepLimit` that `turnrl.envs.registration.make`
    (so every pool) wraps around each env truncates there, or at the env's own limit if shorter,
    with end reason `END_STEP_LIMIT`. The trajectories keep the task's options as given.

    `asynchronous=True` drops the lockstep barrier: the agent acts on the episodes whose
    observations have arrived (`pool.send`/`pool.recv`), while the others are still stepping,
    and a finished slot starts its next episode at once. Faster with envs whose steps take
    varied time, and for agents that act per request (scripted, HTTP); slower for a local LLM,
    whose batches get smaller. Each episode is the same as in lockstep when the agent's action
    depends only on its input; an agent drawing from one RNG across episodes (`RandomAgent`)
    draws in arrival order, which varies from run to run."""
    if group_size < 1 or max_steps < 1:
        raise ValueError(f"group_size and max_steps must be >= 1, got {group_size} and {max_steps}")
    queue = _episodes(tasks, group_size)
    total = len(queue)
    done = _take_finished(queue, finished)
    slots: list[_Episode | None] = [None] * pool.num_envs
    env_id = getattr(pool, "env_id", None)
    with _Progress(progress, total, env_id, len(done)) as progressed:
        def advance(ep: _Episode) -> None:
            done.append(ep)
            if on_episode is not None:
                on_episode(ep.traj)  # type: ignore[arg-type]
            progressed()

        if asynchronous:
            _run_async(pool, agent, slots, queue, max_steps, env_id, advance)
        else:
            _run_lockstep(pool, agent, slots, queue, max_steps, env_id, advance)
    done.sort(key=lambda ep: ep.index)
    return [ep.traj for ep in done]  # type: ignore[misc]


def episode_key(traj: Trajectory) -> tuple[str | None, int]:
    """What names an episode of a run: its group id (task position and id) and group member."""
    return traj.group_id, int(traj.metadata.get("group_member", 0))


def check_finished(tasks: list[TaskSpec], group_size: int, finished: Iterable[Trajectory]) -> None:
    """Raises ValueError, before anything runs, when `finished` holds an episode that is not one of
    this run's (another command's file handed to a resumed run)."""
    _take_finished(_episodes(tasks, group_size), finished)


def _take_finished(queue: deque[_Episode], finished: Iterable[Trajectory]) -> list[_Episode]:
    """Removes the queued episodes that `finished` already holds; returns them done."""
    by_key = {episode_key(t): t for t in finished}
    if not by_key:
        return []
    done, todo = [], deque()
    for ep in queue:
        traj = by_key.pop((ep.group_id, ep.member), None)
        if traj is None:
            todo.append(ep)
            continue
        if traj.seed != ep.task.seed or traj.metadata.get("options") != ep.task.options:
            raise ValueError(f"finished episode {ep.group_id!r} (member {ep.member}) has seed {traj.seed} and options "
                             f"{traj.metadata.get('options')}, but this run's task has seed {ep.task.seed} and options "
                             f"{ep.task.options}: it comes from a different run")
        ep.traj = traj
        done.append(ep)
    if by_key:
        raise ValueError(f"{len(by_key)} finished episodes are not episodes of this run, e.g. group "
                         f"{next(iter(by_key))[0]!r} member {next(iter(by_key))[1]}: it comes from a different run")
    queue.clear()
    queue.extend(todo)
    return done


def _act(agent: Any, slots: list[_Episode | None], ready: list[int], env_id: str | None) -> list[AgentOutput]:
    outputs = agent.act([_agent_input(slots[i], env_id) for i in ready])  # type: ignore[arg-type]
    if len(outputs) != len(ready):
        raise RuntimeError(f"agent {getattr(agent, 'name', agent)!r} returned {len(outputs)} "
                           f"outputs for {len(ready)} inputs")
    return outputs


def _run_lockstep(pool: Any, agent: Any, slots: list[_Episode | None], queue: deque[_Episode],
                  max_steps: int, env_id: str | None, advance: Callable[[_Episode], None]) -> None:
    """Every running slot acts in one batch and is stepped together (`pool.step`)."""
    while queue or any(slots):
        _start(pool, slots, queue, agent, env_id, advance, max_steps)
        running = [i for i, ep in enumerate(slots) if ep is not None]
        if not running:
            continue
        outputs = _act(agent, slots, running, env_id)
        actions: list[str | None] = [None] * pool.num_envs
        for i, out in zip(running, outputs):
            actions[i] = out.action
        results = pool.step(actions)
        for i, out in zip(running, outputs):
            ep = slots[i]
            if _record(ep, out, results[i], max_steps):  # type: ignore[arg-type]
                slots[i] = None
                advance(ep)  # type: ignore[arg-type]


def _run_async(pool: Any, agent: Any, slots: list[_Episode | None], queue: deque[_Episode],
               max_steps: int, env_id: str | None, advance: Callable[[_Episode], None]) -> None:
    """The slots whose answers have arrived act in one batch and are sent on (`pool.send`),
    while the others step; `pool.recv` brings the next answers."""
    sent: dict[int, AgentOutput] = {}  # slot -> the output whose action is stepping there
    while queue or any(slots):
        _start(pool, slots, queue, agent, env_id, advance, max_steps)
        ready = [i for i, ep in enumerate(slots) if ep is not None and i not in sent]
        if ready:
            actions: list[str | None] = [None] * pool.num_envs
            for i, out in zip(ready, _act(agent, slots, ready, env_id)):
                actions[i], sent[i] = out.action, out
            pool.send(actions)
        if not sent:
            continue
        for i, result in enumerate(pool.recv()):
            if result is None:
                continue
            ep = slots[i]
            if _record(ep, sent.pop(i), result, max_steps):  # type: ignore[arg-type]
                slots[i] = None
                advance(ep)  # type: ignore[arg-type]


def _start(pool: Any, slots: list[_Episode | None], queue: deque[_Episode], agent: Any, env_id: str | None,
           advance: Callable[[_Episode], None], max_steps: int) -> None:
    """Resets every free slot with the next queued episode (one batched pool.reset). An episode
    whose reset failed is over at once: no steps, truncated, the reason in its metadata."""
    free = [i for i, ep in enumerate(slots) if ep is None][: len(queue)]
    if not free:
        return
    starting = [queue.popleft() for _ in free]
    answers = pool.reset([ep.task.seed for ep in starting], [reset_options(ep.task, max_steps) for ep in starting],
                         slots=free, on_error="end")
    for i, ep, (obs, info) in zip(free, starting, answers):
        ep.obs, ep.info = obs, info
        ep.traj = Trajectory(task_id=_task_id(ep.task, info), seed=ep.task.seed, group_id=ep.group_id,
                             task=str(info.get("task", "")),
                             metadata={"env_id": env_id, "agent": getattr(agent, "name", type(agent).__name__),
                                       "options": ep.task.options, "group_member": ep.member})
        if info.get(RESET_FAILED):
            ep.traj.metadata.update(end_reason=str(info.get("end_reason")), truncated=True)
            advance(ep)
        else:
            slots[i] = ep


class _Progress:
    """A rich progress bar over finished episodes (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, label: str | None, completed: int = 0):
        self.enabled, self.total, self.label, self.completed = enabled, total, label or "episodes", completed
        self.bar: Any = None

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total, completed=self.completed)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def end_reason(traj: Trajectory) -> str | None:
    """How the episode ended: its last step's end reason, or, for one without steps (its reset
    failed), the reason in its metadata."""
    return traj.end_reason if traj.steps else traj.metadata.get("end_reason")


def _metrics(trajectories: list[Trajectory]) -> dict[str, Any]:
    n = len(trajectories)
    steps = sum(t.length for t in trajectories)
    invalid = sum(not s.valid for t in trajectories for s in t.steps)
    return {
        "success_rate": sum(t.won for t in trajectories) / n if n else math.nan,
        "mean_return": math.fsum(t.episode_return for t in trajectories) / n if n else math.nan,
        "mean_length": steps / n if n else math.nan,
        "invalid_rate": invalid / steps if steps else 0.0,
        "n_episodes": n,
    }


def summarize(trajectories: list[Trajectory]) -> dict[str, Any]:
    """success_rate, mean_return, mean_length, invalid_rate (invalid steps / all steps), n_episodes,
    end_reasons (how episodes ended), per_task (the same metrics for each task id) and, when the
    tasks name a `task_type` in their reset options (ALFWorld's six types), per_task_type."""
    by_task: dict[str, list[Trajectory]] = {}
    by_type: dict[str, list[Trajectory]] = {}
    for t in trajectories:
        by_task.setdefault(t.task_id, []).append(t)
        task_type = (t.metadata.get("options") or {}).get("task_type")
        if task_type is not None:
            by_type.setdefault(str(task_type), []).append(t)
    out = _metrics(trajectories)
    out["end_reasons"] = dict(Counter(str(end_reason(t)) for t in trajectories).most_common())
    out["per_task"] = {k: _metrics(v) for k, v in by_task.items()}
    if by_type:
        out["per_task_type"] = {k: _metrics(v) for k, v in by_type.items()}
    return out


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as JSON text (NaN, from an empty run, written as null)."""
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        return x

    return json.dumps(clean(summary), indent=2, ensure_ascii=False) + "\n"
