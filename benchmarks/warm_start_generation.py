"""Generation mode for a small model: SmolLM2's invalid-action rate and success before and after a warm start.

SmolLM2-135M-Instruct, asked for `<think>..</think><action>..</action>`, rarely keeps the format.
This script clones expert steps (`trainers/sft.py`, generate mode: NLL of `<action>a</action><eos>`)
and then continues with GRPO from that checkpoint, measuring on the same held-out games (greedy)
after each phase: invalid-action rate (steps whose text did not parse to an admissible action)
and success, with Wilson 95% intervals and paired before/after tests.

    python benchmarks/warm_start_generation.py [--bc-episodes 48] [--rl-iterations 4]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from turnrl.rollout import TaskSpec
from turnrl.stats import describe_change, format_rate, wilson_interval
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer

ENV = "turnrl/TextWorld-Coin-v0"


def phase(label: str, trainer: Trainer, tasks: list[TaskSpec]) -> dict:
    started = time.perf_counter()
    trajectories = trainer.evaluate_episodes(tasks, temperature=0.0)
    steps = [s for t in trajectories for s in t.steps]
    invalid = sum(not s.valid for s in steps)
    lo, hi = wilson_interval(invalid, len(steps))
    wins = [bool(t.won) for t in trajectories]
    print(f"{label:>22}: invalid actions {invalid}/{len(steps)} = {invalid / max(len(steps), 1):.1%} "
          f"[{lo:.1%}, {hi:.1%}], held-out success {format_rate(wins)} "
          f"({time.perf_counter() - started:.0f}s)", flush=True)
    return {"wins": wins, "invalid": invalid, "steps": len(steps)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--level", type=int, default=2)
    ap.add_argument("--eval-episodes", type=int, default=32)
    ap.add_argument("--bc-episodes", type=int, default=48)
    ap.add_argument("--bc-epochs", type=int, default=2)
    ap.add_argument("--bc-lr", type=float, default=1e-4)
    ap.add_argument("--rl-iterations", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--train-layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/warm_start_generation")
    args = ap.parse_args()

    from turnrl.trainers.offline.collection import collect_dataset
    from turnrl.trainers.offline.datasets import save_dataset

    start = time.perf_counter()
    common = {"difficulty": args.level, "expert": False}
    data_dir = Path(args.out) / "expert"
    expert = collect_dataset(ENV, [("expert", 1.0)], episodes=args.bc_episodes, seed=10_000, max_steps=8,
                             env_kwargs={"difficulty": args.level, "split": "train", "n_games": 200})
    save_dataset(data_dir, expert)
    config = TrainConfig(
        env_id=ENV, env_kwargs={**common, "split": "train", "n_games": 200},
        eval_env_kwargs={**common, "split": "valid", "n_games": args.eval_episodes}, num_envs=8, tasks_per_iter=4,
        group_size=4, max_steps=8, model=args.model, policy_mode="generate", prompt="compact", history_window=1,
        max_prompt_tokens=640, max_new_tokens=40, autocast="bf16", train_layers=args.train_layers, credit="grpo",
        lr=args.lr, dual_clip=None, micro_batch_tokens=4096, iterations=args.rl_iterations, eval_every=0,
        save_every=0, tensorboard=False, plot=True, seed=args.seed, sft_dataset=str(data_dir),
        sft_epochs=args.bc_epochs, sft_lr=args.bc_lr, out_dir=args.out)
    tasks = [TaskSpec(seed=i, options={"game": i}) for i in range(args.eval_episodes)]
    trainer = Trainer(config)
    results = {}
    try:
        print(f"{args.model}, generate mode, {ENV} level {args.level}: {len(expert)} expert episodes "
              f"({sum(t.won for t in expert)} won), held-out valid games: {args.eval_episodes}", flush=True)
        results["base"] = phase("base model", trainer, tasks)
        results["sft"] = trainer.warm_start()
        results["after_sft"] = phase("after warm start", trainer, tasks)
        config.sft_dataset = None  # done: train() goes straight to RL from the warm-started weights
        history = trainer.train()
        results["after_rl"] = phase(f"after {len(history)} RL iterations", trainer, tasks)
    finally:
        trainer.close()
    print(f"\n== {time.perf_counter() - start:.0f} s, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} ==")
    print(describe_change("held-out success, base -> warm start", results["base"]["wins"],
                          results["after_sft"]["wins"]))
    print(describe_change("held-out success, warm start -> RL", results["after_sft"]["wins"],
                          results["after_rl"]["wins"]))
    out = Path(args.out) / "result.json"
    out.write_text(json.dumps({"args": vars(args), **results}, indent=1, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
