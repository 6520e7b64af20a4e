"""`turnrl collect ENV --agents expert:0.5,random:0.5 --episodes N --out DIR`: an offline dataset.

Each step's action comes from one of the listed agents, drawn with the given weights (a noisy
expert is `expert:0.8,random:0.2`). `--group-size` runs each task several times, so tasks get both
won and failed episodes (what DPO pairs need). Writes DIR/trajectories.jsonl and DIR/meta.json,
and with `--hf` a Hugging Face `datasets` folder DIR/hf.
"""
from __future__ import annotations

import argparse
import sys

HELP = "collect an offline dataset with a mixture of agents (expert, random, hf:..., noisy expert)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env", help="environment id, e.g. turnrl/TextWorld-Coin-v0")
    p.add_argument("--agents", default="expert:0.5,random:0.5",
                   help="comma-separated SPEC:WEIGHT, drawn per step (default expert:0.5,random:0.5)")
    p.add_argument("--episodes", type=int, default=10, help="number of tasks (seeds S, S+1, ...)")
    p.add_argument("--group-size", type=int, default=1, help="episodes per task")
    p.add_argument("--max-steps", type=int, default=50, help="step limit per episode")
    p.add_argument("--seed", type=int, default=0, help="first task seed; also seeds the agents and the mixture")
    p.add_argument("--pool", default="inprocess:4", help="BACKEND:N (inprocess, subprocess, ray)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE", help="env constructor argument")
    p.add_argument("--out", required=True, help="dataset directory")
    p.add_argument("--hf", action="store_true", help="also export a Hugging Face datasets folder (DIR/hf)")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from turnrl.cli.options import parse_key_values
    from turnrl.trainers.offline.collection import collect_dataset, parse_mixture
    from turnrl.trainers.offline.datasets import export_hf, save_dataset

    try:
        mixture = parse_mixture(args.agents)
        env_kwargs = parse_key_values(args.env_arg)
        backend, _, n = args.pool.partition(":")
        num_envs = int(n or 1)
        if args.episodes < 1 or args.group_size < 1 or args.max_steps < 1 or num_envs < 1:
            raise ValueError("--episodes, --group-size, --max-steps and the pool size must be >= 1")
        trajectories = collect_dataset(args.env, mixture, args.episodes, seed=args.seed, group_size=args.group_size,
                                       max_steps=args.max_steps, num_envs=num_envs, backend=backend,
                                       env_kwargs=env_kwargs, progress=not args.no_progress)
    except (ValueError, FileNotFoundError) as e:
        print(f"turnrl collect: {e}", file=sys.stderr)
        return 2
    meta = {"env_id": args.env, "env_kwargs": env_kwargs, "agents": args.agents, "episodes": args.episodes,
            "group_size": args.group_size, "max_steps": args.max_steps, "seed": args.seed}
    out = save_dataset(args.out, trajectories, meta)
    won = sum(t.won for t in trajectories)
    print(f"wrote {len(trajectories)} trajectories ({won} won, {sum(t.length for t in trajectories)} steps) to {out}")
    if args.hf:
        print(f"wrote Hugging Face dataset {export_hf(out)}")
    return 0
