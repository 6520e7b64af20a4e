"""ScienceWorld throughput: turnrl's env against driving `scienceworld.ScienceWorldEnv` directly.

Both sides play the same actions (the engine's gold path of one variation) in the same run:
1. in-process: steps/s of the library, of turnrl with tree state keys (default) and with
   observation state keys, after one warm-up episode, the three playing side by side a step at a
   time so machine load falls on all three alike; overhead ratio = turnrl seconds / library seconds for the same steps,
   over all episodes and for the median episode (robust to a burst of load; target <= 1.10);
2. two workers: turnrl's 2-worker subprocess pool, which steps both envs in lockstep (each step
   waits for the slower worker, as a group rollout must), against the library in two free-running
   processes and in two processes stepped in lockstep by a minimal pipe pool; alternating rounds;
3. JVM start time and resident memory (RSS of the java process) per env.

    python benchmarks/scienceworld_throughput.py [--task measure-melting-point-known-substance] [--episodes 6]
        [--in-process-only]   (part 1 only: the overhead ratio, a few minutes)
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
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


def interleaved(drivers: dict, actions: list[str], episodes: int) -> dict[str, list[float]]:
    """Stepping seconds of each episode per driver, after one warm-up episode (the JVM's JIT
    compiles the engine's hot paths during the first episodes). The drivers play the episode side
    by side, one step each in rotating order, so a burst of machine load hits all of them alike:
    the engine's step time swings 3x between episodes on a shared machine."""
    names = list(drivers)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for e in range(-1, episodes):
        for d in drivers.values():
            d.reset()
        spent = dict.fromkeys(names, 0.0)
        for i, a in enumerate(actions):
            for name in names[i % len(names):] + names[:i % len(names)]:
                t = time.perf_counter()
                drivers[name].step(a)
                spent[name] += time.perf_counter() - t
        if e >= 0:
            for name in names:
                seconds[name].append(spent[name])
    return seconds


def library_run(task: str, variation: int, actions: list[str], episodes: int) -> dict[str, float]:
    d = LibraryDriver(task, variation)
    try:
        s = sum(interleaved({"library": d}, actions, episodes)["library"])
    finally:
        d.close()
    return {"steps": episodes * len(actions), "step_seconds": s}


def _library_worker(args: tuple) -> dict[str, float]:
    return library_run(*args)


def library_two_processes(task: str, variation: int, actions: list[str], episodes: int) -> tuple[int, float]:
    """Steps of two processes each driving the library, and the stepping seconds of the slower one
    (JVM starts, loads and resets not counted, as for the pool)."""
    with mp.get_context("spawn").Pool(2) as pool:
        runs = pool.map(_library_worker, [(task, variation, actions, episodes)] * 2)
    return sum(r["steps"] for r in runs), max(r["step_seconds"] for r in runs)


def _lockstep_worker(conn, task: str, variation: int) -> None:
    d = LibraryDriver(task, variation)
    conn.send("ready")
    while (msg := conn.recv()) is not None:
        conn.send(d.reset() if msg == ("reset",) else d.env.step(msg[1]))
    d.close()


def library_lockstep(task: str, variation: int, actions: list[str], episodes: int) -> tuple[int, float]:
    """The library in two processes stepped in lockstep by a minimal pipe pool (the parent sends
    both actions, then waits for both results), the synchronisation a group rollout needs: the
    same work as turnrl's pool without turnrl. Steps and stepping seconds, resets not counted."""
    ctx = mp.get_context("spawn")
    pipes = [ctx.Pipe() for _ in range(2)]
    procs = [ctx.Process(target=_lockstep_worker, args=(child, task, variation)) for _, child in pipes]
    for proc in procs:
        proc.start()
    conns = [parent for parent, _ in pipes]
    try:
        for c in conns:
            c.recv()
        step_s = 0.0
        for e in range(-1, episodes):  # -1: JIT warm-up, as in `interleaved`
            for c in conns:
                c.send(("reset",))
            for c in conns:
                c.recv()
            t = time.perf_counter()
            for a in actions:
                for c in conns:
                    c.send(("step", a))
                for c in conns:
                    c.recv()
            if e >= 0:
                step_s += time.perf_counter() - t
    finally:
        for c in conns:
            c.send(None)
        for proc in procs:
            proc.join()
    return 2 * episodes * len(actions), step_s


def turnrl_pool(task: str, variation: int, actions: list[str], episodes: int, state_key: str) -> tuple[int, float]:
    """Steps of turnrl's 2-worker subprocess pool and its stepping seconds (resets not counted)."""
    from turnrl.envs.pool import make_pool

    kwargs = {"task": task, "split": "test", "variation": variation, "expert": False, "state_key": state_key}
    with make_pool("turnrl/ScienceWorld-v0", 2, backend="subprocess", env_kwargs=kwargs) as pool:
        step_s = 0.0
        for e in range(-1, episodes):  # -1: JIT warm-up, as in `interleaved`
            pool.reset(seeds=[0, 0])
            t = time.perf_counter()
            for a in actions:
                results = pool.step([a, a])
                assert all(r is not None and "end_reason" not in r.info or r.info["end_reason"] == "won"
                           for r in results), results
            if e >= 0:
                step_s += time.perf_counter() - t
    return 2 * episodes * len(actions), step_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default=TASK)
    p.add_argument("--variation", type=int, default=VARIATION)
    p.add_argument("--episodes", type=int, default=6)
    p.add_argument("--in-process-only", action="store_true", help="part 1 only (the tree-key overhead ratio)")
    args = p.parse_args()
    actions = gold_path(args.task, args.variation)
    print(f"task {args.task} variation {args.variation}: {len(actions)} gold actions x {args.episodes} episodes; "
          f"cpus {os.cpu_count()}, load avg {os.getloadavg()[0]:.2f}")

    drivers = {"library ScienceWorldEnv": LibraryDriver(args.task, args.variation),
               "turnrl state_key=tree": TurnrlDriver(args.task, args.variation, "tree"),
               "turnrl state_key=observation": TurnrlDriver(args.task, args.variation, "observation")}
    try:
        seconds = interleaved(drivers, actions, args.episodes)
        lib_s = seconds["library ScienceWorldEnv"]
        print("\n[in-process, interleaved]      steps/s  overhead ratio: total  median episode  "
              "JVM start s  JVM RSS MB")
        for name, d in drivers.items():
            sps = len(actions) * len(seconds[name]) / sum(seconds[name])
            total, median = sum(seconds[name]) / sum(lib_s), statistics.median(seconds[name]) / statistics.median(lib_s)
            print(f"{name:<30} {sps:7.2f}  {total:21.2f}  {median:14.2f}  {d.start_s:11.2f}  {d.rss_mb():10.0f}")
    finally:
        for d in drivers.values():
            d.close()

    if args.in_process_only:
        print(f"\nload avg after: {os.getloadavg()[0]:.2f}")
        return
    # Whole runs alternate here (two library processes cannot step side by side with a pool without
    # four JVMs sharing two cores), so the episodes are split over rounds to spread load bursts.
    rounds = 3
    runs = {"library, 2 processes": lambda n: library_two_processes(args.task, args.variation, actions, n),
            "library, 2 processes in lockstep": lambda n: library_lockstep(args.task, args.variation, actions, n),
            "turnrl pool state_key=tree": lambda n: turnrl_pool(args.task, args.variation, actions, n, "tree"),
            "turnrl pool state_key=observation": lambda n: turnrl_pool(args.task, args.variation, actions, n,
                                                                       "observation")}
    totals = {name: [0, 0.0] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            steps, seconds = run(max(1, args.episodes // rounds))
            totals[name][0] += steps
            totals[name][1] += seconds
    free_sps, lock_sps = (steps / seconds for steps, seconds in list(totals.values())[:2])
    print(f"\n[2 workers, {rounds} alternating rounds]   steps/s   ratio to library: free   lockstep")
    for name, (steps, seconds) in totals.items():
        print(f"{name:<34} {steps / seconds:8.2f}   {free_sps / (steps / seconds):18.2f}   "
              f"{lock_sps / (steps / seconds):8.2f}")
    print("(turnrl's pool steps in lockstep; the lockstep ratio is its overhead, the free ratio adds the cost "
          "of waiting for the slower worker at every step)")
    print(f"\nload avg after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
