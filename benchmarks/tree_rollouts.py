"""Flat groups vs tree groups: anchor-state coverage and cost, then learning curves on the tiny model.

Part 1 (TextWorld and ALFWorld, the tiny model's scoring policy untrained, temperature 1): each
task is played as a tree (`collect_tree`: a trunk, `--branches - 1` continuations every
`--every` steps) and as a flat group whose size is chosen so that it spends about the same env
steps. Printed per arm: episodes (leaves), env steps and generated tokens actually spent, the
share of the env steps that land in a non-singleton anchor group (steps of one group acting in
the same true state, `state_key`, or seeing the same observation, `obs_key`, GiGPO's anchor; a
tree's copied prefixes are not counted, they were not stepped), the mean size of those groups, and what the tree saved against running its leaves as
flat episodes.

Part 2 (TextWorld Coin Collector level 3): the regular Trainer,
flat groups with GiGPO vs tree groups with tree credit, about the same env steps per iteration,
`--seeds` seeds; greedy success on held-out seeds every `--eval-every` iterations.

    TURNRL_DATA=/work/shared/data nice -n 15 python benchmarks/tree_rollouts.py [--seeds 5] [--iterations 12]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from turnrl.rollout import TaskSpec, collect
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer
from turnrl.tree_rollout import collect_tree, generated_steps, tree_cost
from turnrl.types import Trajectory

ENVS = {
    "textworld": ("turnrl/TextWorld-v0", {"difficulty": "easy", "n_games": 8, "expert": False}),
    "alfworld": ("turnrl/ALFWorld-v0", {"split": "valid_unseen", "expert": "none"}),
}


# ---- part 1: coverage and cost ---------------------------------------------------------------
def anchor_stats(trajectories: list[Trajectory], key: str = "state_key") -> tuple[float, float]:
    """Share of stepped rows whose (group, anchor key) holds >= 2 stepped rows, and the mean size
    of those non-singleton groups. `key`: "state_key" (true state) or "obs_key" (GiGPO's anchor)."""
    keys = [(t.group_id, getattr(s, key)) for t in trajectories for s in generated_steps(t)]
    counts = Counter(keys)
    shared = [counts[k] for k in keys if counts[k] >= 2]
    return len(shared) / max(len(keys), 1), (float(np.mean(shared)) if shared else 0.0)


def row(name: str, trajs: list[Trajectory]) -> dict[str, Any]:
    cost = tree_cost(trajs)
    share, size = anchor_stats(trajs, "state_key")
    obs_share, obs_size = anchor_stats(trajs, "obs_key")
    return {"arm": name, "episodes": len(trajs), "env_steps": cost["env_steps"], "tokens": cost["tokens"],
            "anchored": share, "group_size": size, "obs_anchored": obs_share, "obs_group_size": obs_size,
            "steps_saved": 1 - cost["env_steps"] / max(cost["flat_env_steps"], 1),
            "tokens_saved": 1 - cost["tokens"] / max(cost["flat_tokens"], 1)}


def coverage(env: str, args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    env_id, kwargs = ENVS[env]
    config = TrainConfig(env_id=env_id, env_kwargs={**kwargs, **({"cache_dir": str(out / "tw")} if env == "textworld"
                                                                  else {})},
                         num_envs=args.num_envs, model="tiny", device="cpu", prompt="compact", history_window=0,
                         max_steps=args.max_steps, eval_every=0, save_every=0, tensorboard=False, plot=False,
                         seed=0, out_dir=str(out / f"coverage-{env}"))
    trainer = Trainer(config)
    try:
        trainer.policy.with_sampling(temperature=1.0)
        tasks = [TaskSpec(seed=s) for s in range(args.tasks)]
        tree = collect_tree(trainer.pool, trainer.policy, tasks, branches=args.branches, every=args.every,
                            max_steps=args.max_steps)
        trunks = [t for t in tree if t.metadata["tree"]["branch_step"] is None]
        mean_len = np.mean([t.length for t in trunks])
        group = max(2, round(tree_cost(tree)["env_steps"] / len(tasks) / mean_len))
        flat = collect(trainer.pool, trainer.policy, tasks, group_size=group, max_steps=args.max_steps, progress=False)
    finally:
        trainer.close()
    return [row(f"flat x{group}", flat), row(f"tree M={args.branches} k={args.every}", tree)]


def print_coverage(env: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{env}: {'arm':<16} {'episodes':>8} {'env steps':>9} {'tokens':>7} {'state anch':>10} {'size':>6} "
          f"{'obs anch':>8} {'size':>6} {'steps saved':>11} {'tokens saved':>12}")
    for r in rows:
        print(f"{'':<{len(env) + 1}} {r['arm']:<16} {r['episodes']:>8} {r['env_steps']:>9} {r['tokens']:>7} "
              f"{r['anchored']:>10.1%} {r['group_size']:>6.2f} {r['obs_anchored']:>8.1%} {r['obs_group_size']:>6.2f} "
              f"{r['steps_saved']:>11.1%} {r['tokens_saved']:>12.1%}", flush=True)


# ---- part 2: learning curves -----------------------------------------------------------------
class FlatTrainer(Trainer):
    """The regular Trainer, counting the env steps its training rollouts spend."""

    env_steps = 0

    def rollout(self, tasks, temperature, group_size, pool=None):
        trajs = super().rollout(tasks, temperature, group_size, pool)
        if group_size > 1:
            self.env_steps += tree_cost(trajs)["env_steps"]
        return trajs


class TreeTrainer(FlatTrainer):
    """Training rollouts are tree groups (evaluation stays flat, one episode per task)."""

    branches, every = 2, 2

    def rollout(self, tasks, temperature, group_size, pool=None):
        if group_size == 1:  # evaluation
            return super().rollout(tasks, temperature, group_size, pool)
        self.model.eval()
        self.policy.with_sampling(temperature=temperature)
        trajs = collect_tree(pool or self.pool, self.policy, tasks, branches=self.branches, every=self.every,
                             max_steps=self.config.max_steps)
        self.env_steps += tree_cost(trajs)["env_steps"]
        return trajs


ARMS = {  # name -> (trainer class, credit, credit params, group size)
    "flat gigpo": (FlatTrainer, "gigpo", {"gamma": 0.95, "omega": 1.0, "anchor": "state"}, 4),
    "tree tree": (TreeTrainer, "tree", {"gamma": 0.95}, 2),
}


def learning_run(arm: str, seed: int, args: argparse.Namespace, out: Path) -> tuple[list[float], int]:
    cls, credit, params, group = ARMS[arm]
    config = TrainConfig(env_id="turnrl/TextWorld-Coin-v0",
                         env_kwargs={"difficulty": 3, "n_games": 2, "expert": False, "cache_dir": str(out / "tw")},
                         num_envs=8, tasks_per_iter=4, group_size=group, max_steps=6, model="tiny", device="cpu",
                         prompt="compact", history_window=0, credit=credit, credit_params=params, lr=3e-3,
                         dual_clip=None, iterations=args.iterations, eval_every=args.eval_every, eval_tasks=8,
                         save_every=0, tensorboard=False, plot=False, seed=seed, progress=False,
                         out_dir=str(out / f"{arm.replace(' ', '-')}-{seed}"))
    trainer = cls(config)
    try:
        history = trainer.train()
    finally:
        trainer.close()
    steps = trainer.env_steps
    curve = [m["eval_success_rate"] for m in history if "eval_success_rate" in m]
    return curve, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", default="textworld,alfworld")
    ap.add_argument("--tasks", type=int, default=6)
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--max-steps", type=int, default=10)
    ap.add_argument("--branches", type=int, default=3)
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=12)
    ap.add_argument("--eval-every", type=int, default=2)
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="tree_rollouts_"))
    start = time.perf_counter()
    for env in [e for e in args.envs.split(",") if e]:
        print_coverage(env, coverage(env, args, out))
    print(f"(part 1: {(time.perf_counter() - start) / 60:.1f} min, load {os.getloadavg()[0]:.1f})", flush=True)
    if args.skip_learning:
        return
    curves: dict[str, np.ndarray] = {}
    spent: dict[str, list[int]] = {}
    for arm in ARMS:
        runs = []
        for seed in range(args.seeds):
            curve, steps = learning_run(arm, seed, args, out)
            runs.append(curve)
            spent.setdefault(arm, []).append(steps)
            print(f"{arm} seed {seed}: {' '.join(f'{x:.2f}' for x in curve)} ({steps} env steps)", flush=True)
        curves[arm] = np.array(runs)
    print(f"\nCoin Collector level 3, 2 games, {args.iterations} iterations x 4 tasks, {args.seeds} seeds; greedy "
          f"eval success on 8 held-out seeds every {args.eval_every} iterations "
          f"({(time.perf_counter() - start) / 60:.1f} min, load {os.getloadavg()[0]:.1f})")
    print(f"{'iter':>4} " + " ".join(f"{a:>14}" for a in ARMS))
    for i in range(min(c.shape[1] for c in curves.values())):
        cells = [f"{c[:, i].mean():.2f} +- {c[:, i].std():.2f}" for c in curves.values()]
        print(f"{(i + 1) * args.eval_every:>4} " + " ".join(f"{x:>14}" for x in cells))
    print("env steps per iteration: " + ", ".join(f"{a} {np.mean(v) / args.iterations:.1f}" for a, v in spent.items()))


if __name__ == "__main__":
    main()
