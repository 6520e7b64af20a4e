"""`turnrl demo`: train an LLM policy on TextWorld games on CPU and show held-out success before/after."""
from __future__ import annotations

import argparse

HELP = "train SmolLM2 (or --model tiny) on TextWorld games on CPU within minutes; held-out success before/after"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/demo", help="run directory (metrics.jsonl, curves.png, checkpoints)")
    p.add_argument("--budget", type=float, default=540.0,
                   help="wall-clock seconds for the whole demo (evaluation, training, evaluation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--eval-episodes", type=int, default=32, help="held-out games (valid split), the same before and after")
    p.add_argument("--model", default="smollm2", choices=["smollm2", "tiny"],
                   help="smollm2: SmolLM2-135M-Instruct, top 4 layers (default); tiny: a random 2-layer Llama")


def run(args: argparse.Namespace) -> int:
    from turnrl.trainers.demo import run_demo

    result = run_demo(args.out, args.budget, args.seed, args.device, args.eval_episodes, args.model)
    return 0 if result["iterations"] > 0 else 1
