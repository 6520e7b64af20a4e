"""GiGPO vs GRPO on one environment and budget, several seeds each, through the regular Trainer.

Prints the success-rate curve of both methods side by side (mean over seeds, per iteration), the
final success, and the first iteration at which each method's seed-mean success (moving average
of --window iterations) reaches --target. The GiGPO paper claims it learns faster and ends
higher; this script reports what we measure, whichever way it falls.

    python benchmarks/learning_gigpo_vs_grpo.py [--iterations 20] [--seeds 3] [--level 3] [--target 0.6]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from turnrl.trainers.config import TrainConfig
from turnrl.trainers.grpo_trainer import Trainer

METHODS = {"grpo": {}, "gigpo": {"gamma": 0.95, "omega": 1.0, "anchor": "obs"}}


def config_for(method: str, seed: int, args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(env_id="turnrl/TextWorld-Coin-v0",
                       env_kwargs={"difficulty": args.level, "n_games": args.games, "expert": False},
                       num_envs=8, tasks_per_iter=4, group_size=4, max_steps=args.max_steps, model="tiny",
                       device="cpu", prompt="compact", history_window=0, credit=method,
                       credit_params=METHODS[method], lr=3e-3, dual_clip=None, iterations=args.iterations,
                       eval_every=0, save_every=0, tensorboard=False, plot=False, seed=seed,
                       out_dir=str(Path(args.out) / f"{method}-seed{seed}"))


def run_one(config: TrainConfig) -> list[float]:
    trainer = Trainer(config)
    try:
        return [m["success_rate"] for m in trainer.train()]
    finally:
        trainer.close()


def first_reaching(curve: np.ndarray, target: float, window: int) -> int | None:
    smooth = np.convolve(curve, np.ones(window) / window, mode="valid")
    hits = np.flatnonzero(smooth >= target)
    return int(hits[0]) + window - 1 if len(hits) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--level", type=int, default=3, help="Coin Collector level (3: two moves, then take the coin)")
    ap.add_argument("--games", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=6)
    ap.add_argument("--target", type=float, default=0.6)
    ap.add_argument("--window", type=int, default=3)
    ap.add_argument("--out", default="runs/bench_gigpo_vs_grpo")
    args = ap.parse_args()

    start = time.perf_counter()
    curves: dict[str, np.ndarray] = {}
    for method in METHODS:
        runs = []
        for seed in range(args.seeds):
            runs.append(run_one(config_for(method, seed, args)))
            print(f"{method} seed {seed}: {' '.join(f'{x:.2f}' for x in runs[-1])}", flush=True)
        curves[method] = np.array(runs)
    print(f"\nCoin Collector level {args.level}, {args.games} games, {args.iterations} iterations x 16 episodes, "
          f"{args.seeds} seeds, {(time.perf_counter() - start) / 60:.1f} min, load {os.getloadavg()[0]:.1f}")
    print(f"{'iter':>4} " + " ".join(f"{m:>14}" for m in METHODS))
    for it in range(args.iterations):
        cells = [f"{c[:, it].mean():.2f} +- {c[:, it].std():.2f}" for c in curves.values()]
        print(f"{it:>4} " + " ".join(f"{x:>14}" for x in cells))
    for method, c in curves.items():
        mean = c.mean(0)
        reach = first_reaching(mean, args.target, args.window)
        last = mean[-args.window:].mean()
        print(f"{method}: final success (last {args.window} iterations) {last:.2f}; reaches {args.target:.0%} "
              f"(moving average) at iteration {reach if reach is not None else 'never within budget'}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "curves.json").write_text(json.dumps({m: c.tolist() for m, c in curves.items()}))


if __name__ == "__main__":
    main()
