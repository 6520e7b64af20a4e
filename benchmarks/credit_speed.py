"""Times every credit method on about a million step rows and prints rows/s and peak memory.

Synthetic batch shaped like a GiGPO iteration scaled up: 4,096 groups x 8 trajectories x
22..40 steps (~1.0M rows). Observations are fresh ~200-character strings per row (as an env
would return them); at every step a trajectory either follows one of a few shared paths of its
group or wanders into a state of its own, giving roughly the >65% recurring states reported
for ALFWorld (the measured rate is printed).

    python benchmarks/credit_speed.py [--groups 4096] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import psutil

from turnrl.batch import StepRows
from turnrl.credit import compute_advantages, ospo_arrays
from turnrl.credit.anchors import exact_anchor_groups

TARGETS = {"grpo": 1.0, "rloo": 1.0, "gigpo": 1.0, "gdpo": 1.0, "salt": 5.0}
PREFIX = ("You are in the middle of a room. Looking quickly around you, you see a cabinet 4, a cabinet 3, "
          "a countertop 1, a drawer 2, a fridge 1, a garbagecan 1 and a toaster 1. ")


def synthetic_rows(n_groups: int, group_size: int = 8, min_len: int = 22, max_len: int = 40,
                   share: float = 0.8, seed: int = 0) -> StepRows:
    """A batch of step rows with shared and private states (see module docstring)."""
    rng = np.random.default_rng(seed)
    n_traj = n_groups * group_size
    traj_group = np.repeat(np.arange(n_groups), group_size)
    lengths = rng.integers(min_len, max_len + 1, size=n_traj)
    n = int(lengths.sum())
    traj = np.repeat(np.arange(n_traj), lengths)
    step = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    group = traj_group[traj]
    path = rng.integers(0, 3, size=n)  # one of three shared paths per step
    private = rng.random(n) >= share
    state_id = np.where(private, -1 - np.arange(n), path)
    obs = np.empty(n, dtype=object)
    obs[:] = [f"{PREFIX}Task {g}, step {t}, view {s}." for g, t, s in zip(group.tolist(), step.tolist(),
                                                                          state_id.tolist(), strict=True)]
    action = np.empty(n, dtype=object)
    action[:] = [f"go to cabinet {a}" for a in rng.integers(0, 4, size=n).tolist()]
    done = np.zeros(n, dtype=bool)
    done[np.cumsum(lengths) - 1] = True
    won = rng.random(n_traj) < 0.5
    reward = np.where(done, 10.0 * won[traj], 0.0)
    valid = rng.random(n) > 0.05
    components = {"success": reward, "invalid": -0.1 * (~valid)}
    traj_components = {k: np.bincount(traj, weights=v, minlength=n_traj) for k, v in components.items()}
    return StepRows(group=group, traj=traj, step=step, reward=reward, valid=valid, done=done,
                    state_key=obs.copy(), obs_key=obs, traj_return=np.bincount(traj, weights=reward, minlength=n_traj),
                    traj_group=traj_group, components=components, traj_components=traj_components, action=action)


def recurring_rate(rows: StepRows) -> float:
    """Share of rows whose observation occurs in at least one other row of its group."""
    ids = exact_anchor_groups(rows.obs_key, rows.group)
    return float(np.mean(np.bincount(ids)[ids] > 1))


def measure(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, float]:
    """(best wall time over `repeats`, peak traced MiB of one extra traced run)."""
    best = min(_timed(fn) for _ in range(repeats))
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def _timed(fn: Callable[[], np.ndarray]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    rows = synthetic_rows(args.groups)
    print(f"batch: {len(rows):,} rows, {rows.n_trajectories:,} trajectories, {rows.n_groups:,} groups, "
          f"recurring observations {recurring_rate(rows):.0%} (built in {time.perf_counter() - start:.1f} s)")
    values = np.random.default_rng(1).normal(size=len(rows))
    cases: dict[str, Callable[[], np.ndarray]] = {
        "grpo": lambda: compute_advantages("grpo", rows),
        "grpo per-trajectory": lambda: compute_advantages("grpo", rows, per="trajectory"),
        "rloo": lambda: compute_advantages("rloo", rows),
        "gigpo": lambda: compute_advantages("gigpo", rows, gamma=0.95),
        "gigpo state key": lambda: compute_advantages("gigpo", rows, anchor="state"),
        "gdpo": lambda: compute_advantages("gdpo", rows, weights={"success": 1.0, "invalid": 0.5}),
        "salt": lambda: compute_advantages("salt", rows),
        "salt prefix over gigpo": lambda: compute_advantages("salt", rows, base="gigpo", merge="prefix"),
        "gae": lambda: compute_advantages("gae", rows, values=values),
        "ospo (1000 agents x 1000 steps)": lambda: ospo_arrays(np.repeat(np.arange(1000), 1000), values[:1_000_000],
                                                               agent_ids=np.tile(np.arange(1000), 1000),
                                                               fairness=0.1),
    }
    print(f"{'method':34s} {'seconds':>8s} {'rows/s':>12s} {'target s':>9s} {'target/time':>11s} {'peak MiB':>9s}")
    for name, fn in cases.items():
        seconds, peak = measure(fn, args.repeats)
        n = 1_000_000 if name.startswith("ospo") else len(rows)
        target = TARGETS.get(name)
        ratio = f"{target / seconds:10.1f}x" if target else f"{'-':>11s}"
        print(f"{name:34s} {seconds:8.3f} {n / seconds:12,.0f} {target or '-':>9} {ratio} {peak:9.0f}")

    small = synthetic_rows(16, seed=2)
    seconds, peak = measure(lambda: compute_advantages("gigpo", small, threshold=0.95), 1)
    print(f"{'gigpo fuzzy 0.95 (16 groups)':34s} {seconds:8.3f} {len(small) / seconds:12,.0f} {'-':>9} "
          f"{'-':>11s} {peak:9.0f}")
    print(f"process resident memory at the end: {psutil.Process().memory_info().rss / 2**20:,.0f} MiB "
          "(the batch itself holds ~1M observation strings)")


if __name__ == "__main__":
    main()
