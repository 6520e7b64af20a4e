"""Ride-sharing dispatch: baselines and trained policies on the same demand seeds, plus simulator speed.

One run prints one table: random, greedy-nearest, the untrained scorer, PPO with a critic, GRPO, OSPO and OSPO
without its fairness term (each trained from the same initial weights for the same number of episodes on the same
training seeds; OSPO's fairness term follows the reference: shared per minute, weight 1), each
evaluated on the same held-out demand seeds (deterministic matching for the learned policies).
Then the simulator's steps per second at the evaluation fleet size with the greedy dispatcher
(simulation and offer building only) and the process's peak memory.

  python benchmarks/rideshare.py                      # 1,000 vehicles, 8,000 orders/hour
  python benchmarks/rideshare.py --vehicles 200 --orders-per-hour 1600 --train-episodes 4
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np
import torch

from turnrl.agents.dispatch import (
    DispatchPolicy,
    PairScorer,
    RandomDispatcher,
    greedy_nearest,
)
from turnrl.envs.rideshare.city import load_city
from turnrl.envs.rideshare.offers import RideShareCore
from turnrl.envs.rideshare.sim import RideConfig
from turnrl.trainers.dispatch import DispatchTrainConfig, DispatchTrainer


def run_episode(core: RideShareCore, choose, seed: int) -> dict:
    core.reset(seed)
    while not core.sim.done:
        core.step(choose(core.offer))
    return core.sim.metrics()


def evaluate(core: RideShareCore, choose, seeds: list[int]) -> dict:
    runs = [run_episode(core, choose, s) for s in seeds]
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def sim_speed(core: RideShareCore, seed: int) -> tuple[float, int]:
    """Steps per second of one greedy episode (simulation, offers and features; no policy net)."""
    core.reset(seed)
    start, steps = time.perf_counter(), 0
    while not core.sim.done:
        core.step(greedy_nearest(core.offer))
        steps += 1
    return steps / (time.perf_counter() - start), steps


def sim_memory_mib(core: RideShareCore, seed: int) -> float:
    """Peak Python heap of one greedy episode (the simulator's own state), via tracemalloc."""
    tracemalloc.start()
    run_episode(core, greedy_nearest, seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vehicles", type=int, default=1000)
    ap.add_argument("--orders-per-hour", type=float, default=8000.0)
    ap.add_argument("--train-episodes", type=int, default=8)
    ap.add_argument("--eval-seeds", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-4, help="the paper uses 1e-5 for far longer training")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when output goes to a file
    torch.set_num_threads(args.threads)

    city = load_city()
    config = RideConfig(n_vehicles=args.vehicles, orders_per_hour=args.orders_per_hour)
    core = RideShareCore(config, city)
    eval_seeds = [10_000 + i for i in range(args.eval_seeds)]
    train_seeds = list(range(args.train_episodes))
    print(f"scale: {args.vehicles} vehicles, {args.orders_per_hour:g} orders/hour at 19:00, "
          f"{config.episode_minutes} one-minute steps, {city.n_zones} Manhattan zones fitted on {city.n_trips} trips")
    print(f"training: {args.train_episodes} episodes x {DispatchTrainConfig.epochs} PPO epochs each, lr {args.lr:g}; "
          f"evaluation: demand seeds {eval_seeds}")

    rows = {"random": evaluate(core, RandomDispatcher(0), eval_seeds),
            "greedy": evaluate(core, greedy_nearest, eval_seeds)}
    torch.manual_seed(0)
    init = PairScorer().state_dict()
    untrained = PairScorer()
    untrained.load_state_dict(init)
    rows["mlp-init"] = evaluate(core, DispatchPolicy(untrained).choose, eval_seeds)  # the start of all three
    learners = (("ppo-critic", "critic", {}), ("grpo", "grpo", {}), ("ospo", "ospo", {}),
                ("ospo-fair0", "ospo", {"fairness": 0.0}))
    for name, advantage, extra in learners:
        scorer = PairScorer()
        scorer.load_state_dict(init)
        config = DispatchTrainConfig(advantage=advantage, lr=args.lr, **extra)
        trainer = DispatchTrainer(core, config, DispatchPolicy(scorer))
        start = time.perf_counter()
        for seed in train_seeds:
            trainer.iteration(seed)
        rows[name] = evaluate(core, trainer.policy.choose, eval_seeds)
        rows[name]["train_s"] = time.perf_counter() - start

    print(f"\n{'policy':<11} {'served':>8} {'orders':>8} {'rate':>6} {'pickup':>7} {'detour':>7} "
          f"{'expired':>8} {'util':>6} {'reward':>9} {'train s':>8}")
    for name, m in rows.items():
        print(f"{name:<11} {m['served']:8.1f} {m['orders']:8.1f} {m['service_rate']:6.3f} {m['mean_pickup_min']:7.2f} "
              f"{m['mean_detour_min']:7.2f} {m['expired']:8.1f} {m['utilisation']:6.3f} {m['total_reward']:9.1f} "
              f"{m.get('train_s', 0.0):8.1f}")
    o, g = rows["ospo"], rows["grpo"]
    print(f"\nOSPO vs GRPO: served {o['served']:.1f} vs {g['served']:.1f} ({o['served'] / g['served']:.3f}x), "
          f"pickup {o['mean_pickup_min']:.2f} vs {g['mean_pickup_min']:.2f} min "
          f"(paper at 1,000 vehicles: 3,700 vs 3,643 served, 6.76 vs 6.97 min)")

    rate, steps = sim_speed(core, eval_seeds[0])
    print(f"simulator at {args.vehicles} vehicles (greedy dispatch, offers with features): "
          f"{rate:.1f} steps/s over {steps} steps")
    print(f"memory: simulator episode peak heap {sim_memory_mib(core, eval_seeds[0]):.1f} MiB; "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (incl. torch, 6 trained runs)")


if __name__ == "__main__":
    main()
