"""`turnrl demo`: an LLM policy learns a TextWorld game on CPU, measured on held-out games before and after.

- environment: TextWorld Coin Collector, level 2 (follow the directions in the task text, then
  take the coin). Training draws games of the `train` split; success is measured greedily on
  games of the `valid` split, which training never sees, the same games before and after;
- policy: the exact scoring policy (softmax over the admissible commands, agents/scoring.py)
  with a compact prompt; `smollm2` (SmolLM2-135M-Instruct, the default) trains its top 4
  layers in bf16 autocast, `tiny` (a random 2-layer Llama, seconds per iteration) everything;
- algorithm: the regular `Trainer` (same code path as `turnrl train`), GRPO credit.

The whole demo fits a wall-clock budget: training gets what remains after the first evaluation
minus the expected cost of the second; when that cuts training short the demo says so. Held-out
success before and after (with Wilson 95% intervals, the paired change and its exact McNemar
p-value) go to the console, metrics.jsonl, TensorBoard and curves.png.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from turnrl.trainers.config import TrainConfig

DEMO_MODELS: dict[str, dict[str, Any]] = {
    "smollm2": dict(model="smollm2", train_layers=4, autocast="bf16", lr=5e-5, tasks_per_iter=4, group_size=4,
                    mini_batches=2, iterations=6),
    "tiny": dict(model="tiny", lr=3e-3, tasks_per_iter=4, group_size=4, mini_batches=1, iterations=60),
}


def demo_config(out_dir: str = "runs/demo", time_limit_s: float = 420.0, seed: int = 0, device: str = "auto",
                model: str = "smollm2", eval_episodes: int = 32) -> TrainConfig:
    if model not in DEMO_MODELS:
        raise ValueError(f"demo model must be one of {sorted(DEMO_MODELS)}, not {model!r}")
    level = {"difficulty": 2, "expert": False}
    return TrainConfig(
        env_id="turnrl/TextWorld-Coin-v0", env_kwargs={**level, "split": "train", "n_games": 200},
        eval_env_kwargs={**level, "split": "valid", "n_games": eval_episodes}, num_envs=8, max_steps=8,
        policy_mode="score", prompt="compact", history_window=1, max_prompt_tokens=640, device=device,
        credit="grpo", max_grad_norm=1.0, dual_clip=None, micro_batch_tokens=4096, time_limit_s=time_limit_s,
        eval_every=0, save_every=0, out_dir=out_dir, tensorboard=True, plot=True, seed=seed, **DEMO_MODELS[model])


def run_demo(out_dir: str = "runs/demo", budget_s: float = 540.0, seed: int = 0, device: str = "auto",
             eval_episodes: int = 32, model: str = "smollm2") -> dict[str, Any]:
    """Evaluate, train, evaluate again, all within `budget_s` seconds; prints and returns the figures."""
    from turnrl.rollout import TaskSpec
    from turnrl.stats import compare_paired, describe_change, format_rate, wilson_interval
    from turnrl.trainers.trainer import Trainer
    from turnrl.trainers.metrics import HELD_OUT, MetricsLogger, plot_curves, read_metrics

    start = time.perf_counter()
    config = demo_config(out_dir, budget_s, seed, device, model, eval_episodes)
    tasks = [TaskSpec(seed=i, options={"game": i}) for i in range(eval_episodes)]
    trainer = Trainer(config)
    try:
        print(f"turnrl demo: {config.env_id} level 2, model={model} on {trainer.device}, credit={config.credit}; "
              f"held-out: {eval_episodes} games of the valid split, greedy", flush=True)
        began = time.perf_counter()
        before = [bool(t.won) for t in trainer.evaluate_episodes(tasks, temperature=0.0)]
        eval_s = time.perf_counter() - began
        print(f"held-out success before training: {format_rate(before)} ({eval_s:.0f}s)", flush=True)
        config.time_limit_s = budget_s - (time.perf_counter() - start) - 1.1 * eval_s - 10.0

        def show(it: int, m: dict[str, Any]) -> None:
            print(f"  iter {it:3d}  success {m['success_rate']:.2f}  len {m['mean_length']:.1f}  "
                  f"entropy {m['entropy']:.3f}  grad {m['grad_norm']:.3f}  rollout {m['time_rollout']:.0f}s "
                  f"({m['rollout_tokens_per_s']:.0f} tok/s)  update {m['time_update']:.0f}s "
                  f"({m['update_tokens_per_s']:.0f} tok/s)", flush=True)

        history = trainer.train(on_iteration=show)
        after = [bool(t.won) for t in trainer.evaluate_episodes(tasks, temperature=0.0)]
    finally:
        trainer.close()
    elapsed = time.perf_counter() - start
    cut_short = len(history) < config.iterations
    if cut_short:
        print(f"the {budget_s:.0f}s budget cut training short: {len(history)} of {config.iterations} iterations "
              f"(a larger --budget trains longer)")
    change = compare_paired(before, after)
    logger = MetricsLogger(out_dir, config.tensorboard, resume_from=10**9)  # keeps the run's lines, appends these
    for iteration, wins in ((-1, before), (len(history) - 1, after)):
        lo, hi = wilson_interval(sum(wins), len(wins))
        logger.log(iteration, {HELD_OUT: sum(wins) / len(wins), f"{HELD_OUT}_low": lo, f"{HELD_OUT}_high": hi})
    logger.close()
    curve = plot_curves(read_metrics(Path(out_dir) / "metrics.jsonl"), Path(out_dir) / "curves.png",
                        title=f"turnrl demo: {config.env_id} level 2, {model}, GRPO")
    print(describe_change("held-out success", before, after))
    print(f"{len(history)} iterations x {config.tasks_per_iter * config.group_size} episodes in {elapsed / 60:.1f} min; "
          f"curves: {curve}  metrics: {Path(out_dir) / 'metrics.jsonl'}")
    print(f"process CPU time {time.process_time() / 60:.1f} min; machine load average {os.getloadavg()[0]:.1f} "
          f"(wall time grows with other work on the machine)")
    return {"before": before, "after": after, "change": change, "iterations": len(history), "cut_short": cut_short,
            "seconds": elapsed, "curve": str(curve)}
