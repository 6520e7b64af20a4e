"""`turnrl train CONFIG.yaml [key=value ...] [--resume | --overwrite]`: the trainer on any env and credit method.

A fresh run needs an empty (or new) run directory: starting one where another run left its
checkpoints would mix the two (the new run prunes its own first checkpoint, and a later --resume
continues the old weights). `--resume` continues the run there; `--overwrite` deletes its files
(checkpoints, metrics, TensorBoard logs, plot, config) and starts afresh.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HELP = "train an LLM agent with group-based RL (GRPO, GiGPO, RLOO, ...) from a YAML config"
RUN_FILES = ("checkpoints", "metrics.jsonl", "tensorboard", "curves.png", "config.yaml")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML file with TrainConfig settings (see turnrl.trainers.config)")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="settings that replace the file's (value parsed as YAML), anywhere after CONFIG")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in out_dir")
    mode.add_argument("--overwrite", action="store_true",
                      help="delete the run files in out_dir (checkpoints, metrics, logs) and start afresh")
    p.add_argument("--out", help="run directory (overrides out_dir)")


def prepare_out_dir(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuses a fresh run in a used directory; clears it for --overwrite; for --resume removes the
    temporary files of checkpoint saves that a kill interrupted."""
    from turnrl.trainers.checkpoint import clean_checkpoint_dir

    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir {out_dir} is a file")
    used = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if resume:
        clean_checkpoint_dir(out_dir / "checkpoints")
    elif overwrite:
        for name in RUN_FILES:
            path = out_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    elif used:
        shown = ", ".join(used[:5]) + (", ..." if len(used) > 5 else "")
        raise ValueError(f"out_dir {out_dir} is not empty ({shown}): pass --resume to continue the run there, "
                         f"--overwrite to start it afresh, or --out for a new directory")


def run(args: argparse.Namespace) -> int:
    import sys

    from turnrl.cli.options import config_from_args
    from turnrl.trainers.config import TrainConfig

    try:
        config = config_from_args(TrainConfig, args)
        prepare_out_dir(Path(config.out_dir), args.resume, args.overwrite)
    except (OSError, ValueError, TypeError) as e:
        print(f"turnrl train: {e}", file=sys.stderr)
        return 2
    from turnrl.trainers.trainer import train

    print(f"training {config.model} on {config.env_id} ({config.credit}): {config.iterations} iterations of "
          f"{config.tasks_per_iter} tasks x {config.group_size} episodes; a line per iteration, metrics in "
          f"{config.out_dir}/metrics.jsonl", flush=True)
    history = train(config, resume=args.resume)
    if history:
        last = history[-1]
        print(f"done: {len(history)} iterations, last success {last['success_rate']:.1%}; "
              f"metrics in {config.out_dir}/metrics.jsonl")
    return 0
