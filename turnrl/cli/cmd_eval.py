"""`turnrl eval ENV --agent SPEC`: run an agent on an env through a pool and report its metrics.

Env settings pass through generically: `--env-arg key=value` (repeatable) goes to the env's
constructor, and `--all-tasks` asks the env class for its task list (`list_tasks(options)`,
e.g. every game of `--split valid_unseen`) instead of drawing `--episodes` seeds.

With `--out`, each episode is appended to the trajectories file as it finishes, so a run that is
killed keeps what it finished; `--resume` then runs only the rest. A task whose reset fails or
hangs (`--reset-timeout`) ends as an episode without steps and the run goes on.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from turnrl.cli.options import add_timeout_arguments, console, parse_key_values, pool_timeouts

MAX_TABLE_TASKS = 30
HELP = "evaluate an agent on an environment (success rate, return, length, invalid actions)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env", help="environment id, e.g. turnrl/TextWorld-v0 (see `turnrl list`)")
    p.add_argument("--agent", default="random", help="agent spec: random, expert, hf:<path>, openai:<url> ...")
    p.add_argument("--episodes", type=int, default=None,
                   help="number of tasks (seeds S, S+1, ...); with --all-tasks, a cap on the task list (default 10)")
    p.add_argument("--agent-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="agent setting, e.g. temperature=0, mode=score (rank admissible actions), max_new_tokens=64")
    p.add_argument("--pool", default="inprocess:1", help="BACKEND:N, backend one of inprocess, subprocess, ray")
    p.add_argument("--workers", type=int, default=None, help="subprocess/ray workers (default: one per env)")
    p.add_argument("--seed", type=int, default=0, help="first task seed (also seeds the random agent)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="step limit per episode (default: the env's registered max_episode_steps, else 50)")
    p.add_argument("--group-size", type=int, default=1, help="episodes per task with identical seed and options")
    add_timeout_arguments(p)
    p.add_argument("--async", dest="asynchronous", action="store_true",
                   help="no lockstep: act on each episode as its observation arrives (faster for scripted "
                        "and HTTP agents; a shared-RNG agent such as random then varies run to run)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="env constructor argument; VALUE is parsed as JSON if it can be (repeatable)")
    p.add_argument("--split", default=None, help="data split of envs that have one (shorthand for --env-arg split=...)")
    p.add_argument("--all-tasks", action="store_true", help="evaluate on the env's own task list (list_tasks)")
    p.add_argument("--out", default=None, help="write the metrics JSON here and the trajectories beside it "
                                               "(OUT.trajectories.jsonl, appended as episodes finish)")
    p.add_argument("--resume", action="store_true",
                   help="with --out: keep the episodes that an interrupted run of the same command finished, run the rest")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def env_task_list(env_id: str, env_kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """The env class's `list_tasks(options)`, without building an env."""
    import gymnasium as gym

    from turnrl.envs.pool.core import env_class, registered_id

    spec = gym.spec(registered_id(env_id))
    list_tasks = getattr(env_class(env_id), "list_tasks", None)
    if list_tasks is None:
        raise ValueError(f"{env_id} has no task list (its class defines no list_tasks); use --episodes")
    return list(list_tasks({**spec.kwargs, **env_kwargs}))


def build_tasks(args: argparse.Namespace, env_kwargs: dict[str, Any]) -> list:
    from turnrl.rollout import TaskSpec

    if not args.all_tasks:
        n = 10 if args.episodes is None else args.episodes
        return [TaskSpec(seed=args.seed + i) for i in range(n)]
    tasks = []
    for i, options in enumerate(env_task_list(args.env, env_kwargs)[: args.episodes]):
        options = dict(options)
        task_id = options.pop("task_id", None)
        tasks.append(TaskSpec(seed=args.seed + i, options=options, task_id=None if task_id is None else str(task_id)))
    return tasks


def gym_error() -> type[Exception]:
    from gymnasium.error import Error

    return Error


def trajectories_path(out: Path) -> Path:
    """results.json -> results.trajectories.jsonl"""
    return out.with_name(out.stem + ".trajectories.jsonl")


def print_summary(summary: dict[str, Any], title: str) -> None:
    from rich.table import Table

    keys = ("success_rate", "mean_return", "mean_length", "invalid_rate", "n_episodes")
    table = Table(title=title)
    table.add_column("task type" if summary.get("per_task_type") else "task", overflow="fold")
    for k in keys:  # metric names never truncate: scripts and people grep for them
        table.add_column(k, justify="right", no_wrap=True, min_width=len(k))
    per_task = summary.get("per_task_type") or summary["per_task"]  # types, where the tasks have them
    rows = list(per_task.items()) if len(per_task) > 1 else []
    if len(rows) > MAX_TABLE_TASKS:
        title += f" (first {MAX_TABLE_TASKS} of {len(rows)} tasks shown; all are in --out)"
        rows = rows[:MAX_TABLE_TASKS]
    for name, m in [*rows, ("all", summary)]:
        table.add_row(name, *(f"{m[k]:.3f}" if isinstance(m[k], float) else str(m[k]) for k in keys),
                      style="bold" if name == "all" else None)
    out = console()
    out.print(table)
    out.print("end reasons: " + ", ".join(f"{k}: {v}" for k, v in summary["end_reasons"].items()), markup=False)


def run(args: argparse.Namespace) -> int:
    import turnrl  # noqa: F401  (registers envs)
    from turnrl.agents.registry import make_agent
    from turnrl.cli.options import status, trajectory_log
    from turnrl.envs.registration import check_requirements, step_limit
    from turnrl.envs.pool import make_pool, parse_pool_spec
    from turnrl.io import atomic_write_text, save_trajectories
    from turnrl.rollout import check_finished, collect, summarize, summary_json

    log = None
    try:
        if args.resume and not args.out:
            raise ValueError("--resume continues the run whose episodes are in --out; give --out")
        backend, num_envs = parse_pool_spec(args.pool)
        args.max_steps = step_limit(args.env, args.max_steps)
        env_kwargs = parse_key_values(args.env_arg)
        if args.split is not None:
            env_kwargs["split"] = args.split
        check_requirements(args.env, env_kwargs)  # a missing extra or dataset: one line, before any env starts
        tasks = build_tasks(args, env_kwargs)
        if not tasks:
            raise ValueError("no tasks to run")
        finished = []
        if args.out:
            finished, log = trajectory_log(trajectories_path(Path(args.out)), args.resume)
            check_finished(tasks, args.group_size, finished)
        step_timeout, reset_timeout = pool_timeouts(args.env, backend, args.step_timeout, args.reset_timeout)
        with status(f"loading agent {args.agent}"):
            agent = make_agent(args.agent, **{"seed": args.seed, **parse_key_values(args.agent_arg, "--agent-arg")})
        with status(f"starting {num_envs} {args.env} env(s)"):
            pool = make_pool(args.env, num_envs, backend=backend, step_timeout=step_timeout,
                             env_kwargs={**env_kwargs, "max_episode_steps": args.max_steps},  # the env's StepLimit
                             reset_timeout=reset_timeout, num_workers=args.workers)
    except (ValueError, TypeError, KeyError, ImportError, OSError, gym_error()) as e:  # flags, env, agent, model
        if log is not None:
            log.close()
        print(f"turnrl eval: {e}", file=sys.stderr)
        return 2
    with pool:
        try:
            trajectories = collect(pool, agent, tasks, group_size=args.group_size, max_steps=args.max_steps,
                                   progress=not args.no_progress, asynchronous=args.asynchronous,
                                   on_episode=log.write if log is not None else None, finished=finished)
        finally:
            if log is not None:
                log.close()
    summary = summarize(trajectories)
    summary["config"] = {"env": args.env, "agent": args.agent, "pool": args.pool, "seed": args.seed,
                         "max_steps": args.max_steps, "group_size": args.group_size, "env_kwargs": env_kwargs,
                         "all_tasks": args.all_tasks, "asynchronous": args.asynchronous,
                         "step_timeout": step_timeout, "reset_timeout": reset_timeout,
                         "resumed_episodes": len(finished)}
    print_summary(summary, f"{args.agent} on {args.env}")
    if args.out:
        out = Path(args.out)
        save_trajectories(trajectories_path(out), trajectories)  # the appended log, now in task order
        atomic_write_text(out, summary_json(summary))
        print(f"wrote {out} and {trajectories_path(out)}")
    return 0
