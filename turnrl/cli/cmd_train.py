"""`turnrl train CONFIG.yaml [key=value ...] [--resume]`: the trainer on any env and credit method."""
from __future__ import annotations

import argparse

HELP = "train an LLM agent with group-based RL (GRPO, GiGPO, RLOO, ...) from a YAML config"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML file with TrainConfig settings (see turnrl.trainers.config)")
    p.add_argument("overrides", nargs="*", help="key=value settings that replace the file's (value parsed as YAML)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in out_dir")
    p.add_argument("--out", help="run directory (overrides out_dir)")


def run(args: argparse.Namespace) -> int:
    import sys

    from turnrl.trainers.config import TrainConfig, parse_override

    try:
        overrides = dict(parse_override(o) for o in args.overrides)
        if args.out:
            overrides["out_dir"] = args.out
        config = TrainConfig.from_yaml(args.config, overrides)
    except (OSError, ValueError, TypeError) as e:
        print(f"turnrl train: {e}", file=sys.stderr)
        return 2
    from turnrl.trainers.grpo_trainer import train

    history = train(config, resume=args.resume)
    if history:
        last = history[-1]
        print(f"done: {len(history)} iterations, last success {last['success_rate']:.1%}; "
              f"metrics in {config.out_dir}/metrics.jsonl")
    return 0
