"""`turnrl dispatch CONFIG.yaml [key=value ...] [--out DIR]`: train the ride-sharing dispatch policy.

The ride-sharing trainer (OSPO, GRPO or PPO with a critic; trainers/dispatch.py) from a YAML of
`DispatchTrainConfig` settings, like `turnrl train` for the LLM trainer: a line per training
episode, metrics in out_dir/metrics.jsonl, then the deterministic policy on held-out demand
seeds and its weights in out_dir/policy.pt. Needs the NYC taxi data (turnrl data download
nyc_taxi, or $TURNRL_DATA).
"""
from __future__ import annotations

import argparse
import sys

HELP = "train the ride-sharing dispatch policy (OSPO, GRPO or critic) from a YAML config"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML file with DispatchTrainConfig settings (see turnrl.trainers.dispatch)")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="settings that replace the file's (value parsed as YAML), anywhere after CONFIG")
    p.add_argument("--out", help="run directory (overrides out_dir)")


def progress_line(it: int, total: int, m: dict) -> str:
    return (f"episode {it + 1}/{total}: served {m['served']:.0f}, pickup {m['mean_pickup_min']:.2f} min, "
            f"reward {m['total_reward']:.0f}, policy loss {m['policy_loss']:.4f} ({m['seconds']:.1f}s)")


def run(args: argparse.Namespace) -> int:
    from turnrl.cli.options import config_from_args
    from turnrl.trainers.dispatch import DispatchTrainConfig, train_dispatch

    try:
        config = config_from_args(DispatchTrainConfig, args)
    except (OSError, ValueError, TypeError) as e:
        print(f"turnrl dispatch: {e}", file=sys.stderr)
        return 2
    print(f"dispatch training ({config.advantage}): {config.iterations} episodes of {config.n_vehicles} vehicles, "
          f"{config.orders_per_hour:g} orders/hour; metrics in {config.out_dir}/metrics.jsonl", flush=True)
    try:
        result = train_dispatch(config, lambda it, m: print(progress_line(it, config.iterations, m), flush=True))
    except FileNotFoundError as e:
        print(f"turnrl dispatch: {e}", file=sys.stderr)
        return 2
    m = result["eval"]
    if m:
        print(f"held-out seeds {result['eval_seeds']}: served {m['served']:.1f} of {m['orders']:.1f} orders, "
              f"pickup {m['mean_pickup_min']:.2f} min, reward {m['total_reward']:.1f}")
    print(f"policy weights: {result['policy']}")
    return 0
