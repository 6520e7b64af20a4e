"""ScienceWorld throughput: turnrl's env against driving `scienceworld.ScienceWorldEnv` directly.

Both sides play the same actions (the engine's gold path of one variation) in the same run:
1. in-process: steps/s of the library, of turnrl with tree state keys (default) and with
   observation state keys, episodes interleaved so machine load falls on all three alike;
   overhead ratio = library steps/s / turnrl steps/s (target <= 1.10);
2. two workers: the library in two processes against turnrl's 2-worker subprocess pool;
3. JVM start time and resident memory (RSS of the java process) per env.

    python benchmarks/scienceworld_throughput.py [--task measure-melting-point-known-substance] [--episodes 2]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import psutil

TASK, VARIATION = "measure-melting-point-known-substance", 327


def gold_path(task: str, variation: int) -> list[str]:
    from scienceworld import ScienceWorldEnv

    env = ScienceWorldEnv("", envStepLimit=10**9)
    try:
        env.load(task, variation, "", generateGoldPath=True)
        return env.get_gold_action_sequence()
    finally:
        env.close()


class LibraryDriver:
    """The library driven as its README shows: load, reset, step."""

    def __init__(self, task: str, variation: int):
        from scienceworld import ScienceWorldEnv

        started = time.perf_counter()
        self.env = ScienceWorldEnv("", envStepLimit=10**9)
        self.start_s = time.perf_counter() - started
        self.task, self.variation = task, variation

    def reset(self) -> None:
        self.env.load(self.task, self.variation, "")
        self.env.reset()

    def step(self, action: str) -> None:
        self.env.step(action)

    def rss_mb(self) -> float:
        return psutil.Process(self.env._gateway.java_process.pid).memory_info().rss / 2**20

    def close(self) -> None:
        self.env.close()


class TurnrlDriver:
    def __init__(self, task: str, variation: int, state_key: str):
        from turnrl.envs.scienceworld.env import ScienceWorldTextEnv

        self.env = ScienceWorldTextEnv(task=task, split="test", variation=variation, expert=False,
                                       state_key=state_key)
        self.env.reset(seed=0)  # starts the JVM
        self.start_s = self.env.simulator.start_seconds

    def reset(self) -> None:
        self.env.reset(seed=0)

    def step(self, action: str) -> None:
        self.env.step(action)

    def rss_mb(self) -> float:
        return psutil.Process(self.env.simulator.pid).memory_info().rss / 2**20

    def close(self) -> None:
        self.env.close()


def interleaved(drivers: dict, actions: list[str], episodes: int) -> dict[str, float]:
    """Stepping seconds per driver, episodes run in rotating order so machine load hits all alike."""
    seconds = dict.fromkeys(drivers, 0.0)
    names = list(drivers)
    for e in range(episodes):
        for name in names[e % len(names):] + names[:e % len(names)]:
            d = drivers[name]
            d.reset()
            t = time.perf_counter()
            for a in actions:
                d.step(a)
            seconds[name] += time.perf_counter() - t
    return seconds


def library_run(task: str, variation: int, actions: list[str], episodes: int) -> dict[str, float]:
    d = LibraryDriver(task, variation)
    try:
        s = interleaved({"library": d}, actions, episodes)["library"]
    finally:
        d.close()
    return {"steps": episodes * len(actions), "step_seconds": s}


def _library_worker(args: tuple) -> dict[str, float]:
    return library_run(*args)


def library_two_processes(task: str, variation: int, actions: list[str], episodes: int) -> float:
    """Aggregate steps/s of two processes each driving the library (wall clock of the slower)."""
    with mp.get_context("spawn").Pool(2) as pool:
        t = time.perf_counter()
        runs = pool.map(_library_worker, [(task, variation, actions, episodes)] * 2)
        wall = time.perf_counter() - t
    # discount each worker's JVM start and loads: count only stepping time, per worker, in parallel
    return sum(r["steps"] for r in runs) / max(r["step_seconds"] for r in runs), wall


def turnrl_pool(task: str, variation: int, actions: list[str], episodes: int, state_key: str) -> float:
    from turnrl.envs.pool import make_pool

    kwargs = {"task": task, "split": "test", "variation": variation, "expert": False, "state_key": state_key}
    with make_pool("turnrl/ScienceWorld-v0", 2, backend="subprocess", env_kwargs=kwargs) as pool:
        step_s = 0.0
        for _ in range(episodes):
            pool.reset(seeds=[0, 0])
            t = time.perf_counter()
            for a in actions:
                results = pool.step([a, a])
                assert all(r is not None and "end_reason" not in r.info or r.info["end_reason"] == "won"
                           for r in results), results
            step_s += time.perf_counter() - t
    return 2 * episodes * len(actions) / step_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default=TASK)
    p.add_argument("--variation", type=int, default=VARIATION)
    p.add_argument("--episodes", type=int, default=3)
    args = p.parse_args()
    actions = gold_path(args.task, args.variation)
    print(f"task {args.task} variation {args.variation}: {len(actions)} gold actions x {args.episodes} episodes; "
          f"cpus {os.cpu_count()}, load avg {os.getloadavg()[0]:.2f}")

    drivers = {"library ScienceWorldEnv": LibraryDriver(args.task, args.variation),
               "turnrl state_key=tree": TurnrlDriver(args.task, args.variation, "tree"),
               "turnrl state_key=observation": TurnrlDriver(args.task, args.variation, "observation")}
    try:
        seconds = interleaved(drivers, actions, args.episodes)
        steps = args.episodes * len(actions)
        lib_sps = steps / seconds["library ScienceWorldEnv"]
        print("\n[in-process, interleaved]      steps/s   overhead ratio (library/turnrl)   JVM start s   JVM RSS MB")
        for name, d in drivers.items():
            sps = steps / seconds[name]
            print(f"{name:<30} {sps:7.2f}   {lib_sps / sps:32.2f}   {d.start_s:11.2f}   {d.rss_mb():10.0f}")
    finally:
        for d in drivers.values():
            d.close()

    lib2, wall = library_two_processes(args.task, args.variation, actions, args.episodes)
    print("\n[2 workers]             steps/s   ratio (library/turnrl)")
    print(f"library, 2 processes    {lib2:8.2f}   {'1.00':>22}   (wall {wall:.1f} s incl. JVM starts)")
    for mode in ("tree", "observation"):
        sps = turnrl_pool(args.task, args.variation, actions, args.episodes, mode)
        print(f"turnrl pool state_key={mode:<11} {sps:6.2f}   {lib2 / sps:22.2f}")
    print(f"\nload avg after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
