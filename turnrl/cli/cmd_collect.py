"""`turnrl collect ENV --agent expert:0.5 random:0.5 --episodes N --out DIR`: an offline dataset.

Each step's action comes from one of the listed agents, drawn with the given weights (a noisy
expert is `--agent expert:0.8 random:0.2`). `--group-size` runs each task several times, so tasks
get both won and failed episodes (what DPO pairs need). Writes DIR/trajectories.jsonl (appended
as episodes finish, so a killed run keeps them and `--resume` runs only the rest) and
DIR/meta.json, and with `--hf` a Hugging Face `datasets` folder DIR/hf.
"""
from __future__ import annotations

import argparse
import sys

from turnrl.cli.options import add_timeout_arguments, renamed

HELP = "collect an offline dataset with a mixture of agents (expert, random, hf:..., noisy expert)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env", help="environment id, e.g. turnrl/TextWorld-Coin-v0")
    p.add_argument("--agent", nargs="+", action="extend", default=None, metavar="SPEC[:WEIGHT]",
                   help="agents drawn per step with these weights (default: expert:0.5 random:0.5; "
                        "a comma list in one value works too)")
    renamed(p, "--agents", "--agent")
    p.add_argument("--episodes", type=int, default=10, help="number of tasks (seeds S, S+1, ...)")
    p.add_argument("--group-size", type=int, default=1, help="episodes per task")
    p.add_argument("--max-steps", type=int, default=None,
                   help="step limit per episode (default: the env's registered max_episode_steps, else 50)")
    p.add_argument("--seed", type=int, default=0, help="first task seed; also seeds the agents and the mixture")
    p.add_argument("--pool", default="inprocess:4", help="BACKEND:N (inprocess, subprocess, ray)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE", help="env constructor argument")
    add_timeout_arguments(p)
    p.add_argument("--out", required=True, help="dataset directory")
    p.add_argument("--resume", action="store_true",
                   help="keep the episodes that an interrupted run of the same command wrote to --out, run the rest")
    p.add_argument("--hf", action="store_true", help="also export a Hugging Face datasets folder (DIR/hf)")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from turnrl.cli.options import parse_key_values, pool_timeouts, trajectory_log
    from turnrl.envs.pool import parse_pool_spec
    from turnrl.envs.registration import check_requirements, step_limit
    from turnrl.rollout import TaskSpec, check_finished
    from turnrl.trainers.offline.collection import collect_dataset, parse_mixture
    from turnrl.trainers.offline.datasets import TRAJECTORIES, export_hf, save_dataset

    agents = ",".join(args.agent or ["expert:0.5", "random:0.5"])
    log = None
    try:
        mixture = parse_mixture(agents)
        env_kwargs = parse_key_values(args.env_arg)
        backend, num_envs = parse_pool_spec(args.pool)
        args.max_steps = step_limit(args.env, args.max_steps)
        check_requirements(args.env, env_kwargs)  # a missing extra or dataset: one line, before any env starts
        if args.episodes < 1 or args.group_size < 1 or args.max_steps < 1:
            raise ValueError("--episodes, --group-size and --max-steps must be >= 1")
        step_timeout, reset_timeout = pool_timeouts(args.env, backend, args.step_timeout, args.reset_timeout)
        finished, log = trajectory_log(Path(args.out) / TRAJECTORIES, args.resume)
        check_finished([TaskSpec(seed=args.seed + i) for i in range(args.episodes)], args.group_size, finished)
        trajectories = collect_dataset(args.env, mixture, args.episodes, seed=args.seed, group_size=args.group_size,
                                       max_steps=args.max_steps, num_envs=num_envs, backend=backend,
                                       env_kwargs={**env_kwargs, "max_episode_steps": args.max_steps},
                                       progress=not args.no_progress,
                                       pool_kwargs={"step_timeout": step_timeout, "reset_timeout": reset_timeout},
                                       on_episode=log.write, finished=finished)
    except (ValueError, FileNotFoundError) as e:
        print(f"turnrl collect: {e}", file=sys.stderr)
        return 2
    finally:
        if log is not None:
            log.close()
    meta = {"env_id": args.env, "env_kwargs": env_kwargs, "agents": agents, "episodes": args.episodes,
            "group_size": args.group_size, "max_steps": args.max_steps, "seed": args.seed,
            "step_timeout": step_timeout, "reset_timeout": reset_timeout}
    out = save_dataset(args.out, trajectories, meta)
    won = sum(t.won for t in trajectories)
    print(f"wrote {len(trajectories)} trajectories ({won} won, {sum(t.length for t in trajectories)} steps) to {out}")
    if args.hf:
        print(f"wrote Hugging Face dataset {export_hf(out)}")
    return 0
