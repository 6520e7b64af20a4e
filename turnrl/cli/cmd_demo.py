"""`turnrl demo`: train a tiny LLM policy on a TextWorld game on CPU and show success before/after."""
from __future__ import annotations

import argparse

HELP = "train a small LLM policy on a built-in TextWorld game (CPU, minutes) and plot its learning curve"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/demo", help="run directory (metrics.jsonl, curves.png, checkpoints)")
    p.add_argument("--budget", type=float, default=540.0,
                   help="wall-clock seconds for the whole demo (evaluation, training, evaluation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--eval-episodes", type=int, default=32)


def run(args: argparse.Namespace) -> int:
    from turnrl.trainers.demo import run_demo

    result = run_demo(args.out, args.budget, args.seed, args.device, args.eval_episodes)
    return 0 if result["iterations"] > 0 else 1
