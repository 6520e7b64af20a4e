"""Offline methods side by side on one dataset: behaviour cloning, trajectory DPO, OREO, OREO + value-guided K.

Scale (CPU, minutes): TextWorld Coin Collector (level 3 by default, a pool of `--games` generated
games), one dataset from a noisy expert (`expert:0.6,random:0.4` per step, each task run
`--group-size` times so tasks have won and failed episodes), the tiny 2-layer Llama of
`agents.models` (random init) as policy and critic backbone, `--iterations` optimiser steps per
method, success measured on `--eval-tasks` held-out seeds with the greedy scoring policy (and,
for OREO, value-guided selection with K sampled candidates). Each seed re-initialises the models
and the batch order; the dataset is the same for all. Paper reference (ALFWorld, MiniCPM-2B,
unseen): OREO 79.1, DPO 69.4, rejection sampling 68.7; this is a much smaller setting.

    python benchmarks/offline_methods.py --seeds 3 --iterations 20 --out runs/offline_bench.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="turnrl/TextWorld-Coin-v0")
    p.add_argument("--difficulty", type=int, default=3)
    p.add_argument("--games", type=int, default=4)
    p.add_argument("--agents", default="expert:0.6,random:0.4")
    p.add_argument("--tasks", type=int, default=8, help="dataset tasks")
    p.add_argument("--group-size", type=int, default=4, help="dataset episodes per task")
    p.add_argument("--max-steps", type=int, default=8)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--batch", type=int, default=4, help="trajectories (pairs) per optimiser step")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--eval-tasks", type=int, default=8)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--model", default="tiny")
    p.add_argument("--methods", default="bc,dpo,oreo")
    p.add_argument("--out", default=None, help="JSON with every figure")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from turnrl.trainers.offline.collection import collect_dataset, parse_mixture
    from turnrl.trainers.offline.config import OfflineConfig
    from turnrl.trainers.offline.trainer import OfflineTrainer

    a = parse_args(argv)
    env_kwargs = {"difficulty": a.difficulty, "n_games": a.games}
    start = time.perf_counter()
    data = collect_dataset(a.env, parse_mixture(a.agents), a.tasks, group_size=a.group_size, max_steps=a.max_steps,
                           env_kwargs=env_kwargs)
    won = sum(t.won for t in data)
    print(f"dataset: {a.env} {env_kwargs}, {len(data)} episodes of {a.tasks} tasks x {a.group_size}, "
          f"{won} won ({won / len(data):.0%}), {sum(t.length for t in data)} steps, agents {a.agents} "
          f"[{time.perf_counter() - start:.0f}s]", flush=True)
    rows: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    for seed in range(a.seeds):
        for method in a.methods.split(","):
            t0 = time.perf_counter()
            config = OfflineConfig(env_id=a.env, env_kwargs=env_kwargs, method=method, model=a.model, device="cpu",
                                   prompt="compact", history_window=0, iterations=a.iterations,
                                   batch_trajectories=a.batch, lr=a.lr, value_lr=a.lr, eval_tasks=a.eval_tasks,
                                   max_steps=a.max_steps, out_dir=f"runs/offline_bench/{method}-{seed}",
                                   plot=False, seed=seed)
            trainer = OfflineTrainer(config, data)
            for _ in range(a.iterations):
                trainer.step()
            names = {method: trainer.evaluate()["success_rate"]}
            if method == "oreo" and a.k:
                names[f"oreo+V K={a.k}"] = trainer.evaluate(k=a.k)["success_rate"]
            for name, success in names.items():
                rows.setdefault(name, []).append(success)
            seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - t0
            print(f"seed {seed} {method}: " + ", ".join(f"{n} {s:.3f}" for n, s in names.items())
                  + f" [{time.perf_counter() - t0:.0f}s]", flush=True)
    print(f"\nsuccess on {a.eval_tasks} held-out seeds, {a.seeds} training seeds, {a.iterations} steps of "
          f"{a.batch} trajectories, model {a.model}")
    print(f"{'method':<14} {'mean':>6} {'std':>6}  per seed")
    for name, values in rows.items():
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{name:<14} {statistics.mean(values):6.3f} {std:6.3f}  {' '.join(f'{v:.3f}' for v in values)}")
    if "oreo" in rows and "dpo" in rows:
        print(f"OREO - DPO: {statistics.mean(rows['oreo']) - statistics.mean(rows['dpo']):+.3f}; "
              f"OREO - BC: {statistics.mean(rows['oreo']) - statistics.mean(rows.get('bc', [0.0])):+.3f}")
    print("wall seconds per method (all seeds): " + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"args": vars(a), "dataset_won": won, "dataset_episodes": len(data),
                                           "success": rows, "seconds": seconds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
