"""A pretrained LM (SmolLM2-135M-Instruct) learns through turnrl: held-out success before -> after.

The policy is the exact scoring policy (softmax over the admissible actions, agents/scoring.py),
trained with GRPO through the regular Trainer; only the top `--train-layers` decoder layers train,
in bf16 autocast over float32 weights. Evaluation is greedy (temperature 0) on held-out games that
training never sees, the same episodes before and after, so the change is a paired comparison:
Wilson 95% intervals per rate, a paired-bootstrap 95% interval of the change and the exact
McNemar p-value.

    python benchmarks/learning_real_lm.py --env textworld            # Coin Collector, level 2
    python benchmarks/learning_real_lm.py --env alfworld              # BC warm start, then RL
    python benchmarks/learning_real_lm.py --seed 1 --out runs/lrl_s1  # another training seed
    python benchmarks/learning_real_lm.py --summarize runs/learning_real_lm/textworld/result.json \
        runs/lrl_s1/textworld/result.json                             # seeds side by side, pooled

textworld: TextWorld Coin Collector (level 2: follow the directions in the task, take the coin),
train split games -> `valid` split games (generated with disjoint seeds).
alfworld: pick_and_place_simple + look_at_obj_in_light, 600-game train split -> valid_unseen and
valid_seen games of those types; the 135M model starts near 0%, so a behaviour-cloning warm start on
expert trajectories of train games comes first (trainers/sft.py), and before/after is reported for
both phases.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from turnrl.rollout import TaskSpec, collect
from turnrl.stats import compare_paired, describe_change, format_rate
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer

ALFWORLD_TYPES = ["pick_and_place_simple", "look_at_obj_in_light"]


def textworld_config(args: argparse.Namespace) -> tuple[TrainConfig, list[TaskSpec]]:
    common = {"difficulty": args.level, "expert": False}
    config = base_config(args, env_id="turnrl/TextWorld-Coin-v0",
                         env_kwargs={**common, "split": "train", "n_games": 200},
                         eval_env_kwargs={**common, "split": "valid", "n_games": args.eval_episodes},
                         max_steps=8)
    return config, [TaskSpec(seed=i, options={"game": i}) for i in range(args.eval_episodes)]


def alfworld_config(args: argparse.Namespace) -> tuple[TrainConfig, list[TaskSpec]]:
    from turnrl.envs.alfworld.games import list_tasks

    common = {"task_types": ALFWORLD_TYPES, "expert": "none"}
    config = base_config(args, env_id="turnrl/ALFWorld-v0", env_kwargs={**common, "split": "train"},
                         eval_env_kwargs={**common}, max_steps=args.alfworld_max_steps)
    options = list_tasks({"split": "valid_unseen", "task_types": ALFWORLD_TYPES}) + \
        list_tasks({"split": "valid_seen", "task_types": ALFWORLD_TYPES})
    tasks = [TaskSpec(seed=i, options=o) for i, o in enumerate(options)]
    return config, tasks[: args.eval_episodes]


def base_config(args: argparse.Namespace, **env: Any) -> TrainConfig:
    return TrainConfig(
        **env, num_envs=8, tasks_per_iter=args.tasks_per_iter, group_size=args.group_size, model=args.model,
        policy_mode="score", prompt="compact", history_window=1, max_prompt_tokens=640, autocast=args.autocast,
        train_layers=args.train_layers, credit="grpo", lr=args.lr, ppo_epochs=1, mini_batches=args.mini_batches,
        dual_clip=None, micro_batch_tokens=4096, iterations=args.iterations, time_limit_s=args.train_minutes * 60,
        eval_every=0, save_every=0, tensorboard=False, plot=True, seed=args.seed,
        out_dir=str(Path(args.out) / args.env))


def evaluate(trainer: Trainer, tasks: list[TaskSpec]) -> list[bool]:
    """Greedy held-out episodes; wins in task order."""
    return [bool(t.won) for t in trainer.evaluate_episodes(tasks, temperature=0.0)]


def compare(label: str, before: list[bool], after: list[bool]) -> dict[str, Any]:
    print(describe_change(label, before, after), flush=True)
    return compare_paired(before, after)


def warm_start(trainer: Trainer, args: argparse.Namespace) -> dict[str, Any]:
    """Behaviour cloning of the scoring policy on won expert episodes of training games."""
    from turnrl.agents.registry import make_agent
    from turnrl.trainers.offline.collection import MixtureAgent
    from turnrl.trainers.sft import behaviour_clone

    expert = MixtureAgent([make_agent("expert")], [1.0], ["expert"])  # keeps the admissible actions on each step
    tasks = [TaskSpec(seed=10_000 + i) for i in range(args.bc_episodes)]
    from turnrl.envs.pool import make_pool

    c = trainer.config
    with make_pool(c.env_id, c.num_envs, "inprocess", env_kwargs={**c.env_kwargs, "expert": "handcoded+planner"}
                   if "alfworld" in c.env_id.lower() else c.env_kwargs) as pool:
        episodes = collect(pool, expert, tasks, group_size=1, max_steps=c.max_steps, progress=False)
    expert.annotate(episodes)
    started = time.perf_counter()
    stats = behaviour_clone(trainer, episodes, epochs=args.bc_epochs, lr=args.bc_lr, seed=args.seed)
    stats["seconds"] = time.perf_counter() - started
    print(f"behaviour cloning: {stats['episodes']} won expert episodes of {len(episodes)}, {stats['steps']} steps "
          f"({stats['skipped_steps']} skipped), {args.bc_epochs} epochs, action NLL {stats['nll_before']:.3f} -> "
          f"{stats['nll_after']:.3f}, {stats['seconds'] / 60:.1f} min", flush=True)
    return stats


def summarize(paths: list[str]) -> None:
    """Training seeds of one setting side by side: per seed before -> after, the mean change with a
    t-interval over seeds, and the pooled (seed x game) after-rate with its Wilson interval."""
    from turnrl.stats import t_interval

    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("| seed | iterations | minutes | before | after | change (paired bootstrap) | McNemar p |")
    print("|---|---|---|---|---|---|---|")
    changes, pooled_after, before = [], [], []
    for run in runs:
        c = run["final_vs_base"]
        wins = run.get("wins", {})
        pooled_after += wins.get("after", [])
        before = before or wins.get("before", [])  # the base model on the same games: once, not per seed
        changes.append(c["change"])
        low, high = c["change_ci"] if "change_ci" in c else (c["change_low"], c["change_high"])  # older files
        print(f"| {run['args']['seed']} | {run['iterations']} | {run['minutes']:.0f} | {c['before']:.1%} | "
              f"{c['after']:.1%} | {c['change']:+.1%} [{low:+.1%}, {high:+.1%}] | "
              f"{c['mcnemar_p']:.2g} |")
    if len(changes) > 1:
        mean, half = t_interval(changes)
        print(f"\nmean change over {len(changes)} seeds: {mean:+.1%} ± {half:.1%} (95% t)")
    if pooled_after:
        print(f"base model {format_rate(before)} (n = {len(before)}); after, pooled over the seeds that stored "
              f"episodes ((seed, game) pairs, the same games each seed): {format_rate(pooled_after)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", choices=["textworld", "alfworld"], default="textworld")
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--level", type=int, default=2, help="Coin Collector level (textworld)")
    ap.add_argument("--eval-episodes", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=12)
    ap.add_argument("--train-minutes", type=float, default=50.0, help="no iteration starts past this")
    ap.add_argument("--tasks-per-iter", type=int, default=8)
    ap.add_argument("--group-size", type=int, default=4)
    ap.add_argument("--mini-batches", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--train-layers", type=int, default=4)
    ap.add_argument("--autocast", default="bf16", choices=["off", "bf16"])
    ap.add_argument("--alfworld-max-steps", type=int, default=12)
    ap.add_argument("--bc-episodes", type=int, default=48)
    ap.add_argument("--bc-epochs", type=int, default=2)
    ap.add_argument("--bc-lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/learning_real_lm")
    ap.add_argument("--summarize", nargs="+", default=None, metavar="RESULT_JSON",
                    help="print earlier runs' result.json files side by side; run nothing")
    args = ap.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return

    start = time.perf_counter()
    config, eval_tasks = (textworld_config if args.env == "textworld" else alfworld_config)(args)
    trainer = Trainer(config)
    result: dict[str, Any] = {"args": vars(args), "machine": f"{os.cpu_count()} CPU cores"}
    try:
        print(f"{args.env}: {config.env_id} {config.env_kwargs} -> held-out {config.eval_env_kwargs}; "
              f"{args.model} on {trainer.device}, top {args.train_layers} layers, autocast {args.autocast}", flush=True)
        before = evaluate(trainer, eval_tasks)
        print(f"held-out success before: {format_rate(before)}", flush=True)
        reference = before
        if args.env == "alfworld":
            result["bc"] = warm_start(trainer, args)
            after_bc = evaluate(trainer, eval_tasks)
            result["bc_vs_base"] = compare("after behaviour cloning", before, after_bc)
            reference = after_bc
        history = trainer.train()
        result["iterations"] = len(history)
        result["train_success"] = [m["success_rate"] for m in history]
        result["rollout_tokens_per_s"] = [m["rollout_tokens_per_s"] for m in history]
        result["update_tokens_per_s"] = [m["update_tokens_per_s"] for m in history]
        after = evaluate(trainer, eval_tasks)
    finally:
        trainer.close()
    minutes = (time.perf_counter() - start) / 60
    print(f"\n== {args.env}: {len(history)} RL iterations x {args.tasks_per_iter * args.group_size} episodes, "
          f"seed {args.seed}, {minutes:.0f} min, load {os.getloadavg()[0]:.1f} ==")
    print("train success per iteration: " + " ".join(f"{x:.2f}" for x in result["train_success"]))
    if history:
        tps = result["rollout_tokens_per_s"], result["update_tokens_per_s"]
        print(f"tokens/s: rollout {sum(tps[0]) / len(tps[0]):.0f}, update {sum(tps[1]) / len(tps[1]):.0f} (means)")
    if args.env == "alfworld":
        result["rl_vs_bc"] = compare("RL after behaviour cloning", reference, after)
    result["final_vs_base"] = compare("held-out success, base model -> final", before, after)
    result["minutes"] = minutes
    result["wins"] = {"before": before, "after": after, **({"after_bc": reference} if args.env == "alfworld" else {})}
    out = Path(args.out) / args.env / "result.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
