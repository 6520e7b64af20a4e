"""`turnrl demo`: trains a small LLM policy on a built-in TextWorld game on CPU and shows it learning.

The setting is chosen so that learning is visible within minutes on two CPU cores:
- environment: TextWorld Coin Collector, level 2 (walk one room, take the coin), a pool of a few
  generated games; no data download (TextWorld generates them);
- policy: the tiny Llama of `agents.models` (random init, 2 layers) in scoring mode, i.e. the
  softmax over the log-likelihoods of the admissible commands, with a compact prompt;
- algorithm: the regular `Trainer` (same code path as `turnrl train`), GRPO credit, 4 tasks x 4
  episodes per iteration, AdamW at a high learning rate suited to a tiny model.

Success is measured before and after on held-out seeds over the same game pool with the policy's
own sampling, and the learning curves are saved as PNG. On CUDA the same code runs in bf16.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from turnrl.trainers.config import TrainConfig


def demo_config(out_dir: str = "runs/demo", time_limit_s: float = 420.0, seed: int = 0,
                device: str = "auto") -> TrainConfig:
    return TrainConfig(
        env_id="turnrl/TextWorld-Coin-v0",
        env_kwargs={"difficulty": 2, "n_games": 2, "expert": False},
        num_envs=8, tasks_per_iter=4, group_size=4, max_steps=5,
        model="tiny", policy_mode="score", prompt="compact", history_window=0, device=device,
        credit="grpo", lr=3e-3, max_grad_norm=1.0, dual_clip=None, micro_batch_tokens=8192,
        iterations=60, time_limit_s=time_limit_s, eval_every=0, eval_tasks=32, eval_temperature=1.0,
        save_every=10, out_dir=out_dir, tensorboard=True, plot=True, seed=seed)


def run_demo(out_dir: str = "runs/demo", budget_s: float = 540.0, seed: int = 0, device: str = "auto",
             eval_tasks: int = 32) -> dict[str, Any]:
    """Evaluate, train, evaluate again, all within `budget_s` seconds; prints and returns the figures.

    Training gets what the budget leaves after the first evaluation, minus the same again for the
    final one and a small margin; the trainer never starts an iteration it expects to overrun.
    """
    from turnrl.trainers.grpo_trainer import Trainer

    start = time.perf_counter()
    config = demo_config(out_dir, budget_s, seed, device)
    trainer = Trainer(config)
    try:
        print(f"turnrl demo: {config.env_id} (level {config.env_kwargs['difficulty']}, "
              f"{config.env_kwargs['n_games']} games), model={config.model} on {trainer.device}, credit={config.credit}")
        before = trainer.evaluate(eval_tasks)
        config.time_limit_s = budget_s - 2.2 * (time.perf_counter() - start) - 15.0
        print(f"success before training: {before['success_rate']:.1%} ({before['n_episodes']} episodes)", flush=True)

        def show(it: int, m: dict[str, Any]) -> None:
            print(f"  iter {it:3d}  success {m['success_rate']:.2f}  return {m['mean_return']:.2f}  "
                  f"len {m['mean_length']:.1f}  grad {m['grad_norm']:.3f}  "
                  f"rollout {m['time_rollout']:.1f}s update {m['time_update']:.1f}s", flush=True)

        history = trainer.train(on_iteration=show)
        after = trainer.evaluate(eval_tasks)
    finally:
        trainer.close()
    elapsed = time.perf_counter() - start
    cpu = time.process_time()
    curve = Path(out_dir) / "curves.png"
    print(f"success before training: {before['success_rate']:.1%}")
    print(f"success after  training: {after['success_rate']:.1%}  ({len(history)} iterations, {elapsed / 60:.1f} min)")
    print(f"learning curves: {curve}  metrics: {Path(out_dir) / 'metrics.jsonl'}")
    print(f"process CPU time {cpu / 60:.1f} min; machine load average {os.getloadavg()[0]:.1f} "
          f"(wall time grows with other work on the machine)")
    return {"before": before, "after": after, "iterations": len(history), "seconds": elapsed, "cpu_seconds": cpu,
            "curve": str(curve)}
