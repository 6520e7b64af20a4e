"""WebShop speed and memory, measured side by side in one run.

Prints: steps per second of one env and of a 2-worker subprocess pool (expert play over test
goals), resident memory of 1, 8 and 32 env copies in one fresh process (target: each extra copy
under 5 MB), the memory a subprocess worker holds privately versus what it shares through the
memory-mapped catalog, and BM25 search latency per query (uncached).

    TURNRL_DATA=../shared/data python benchmarks/webshop.py [--steps 20000] [--out result.json]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time

MB = 1 << 20


def play_expert(env, steps: int, first_goal: int = 0) -> int:
    """Expert steps over consecutive test goals; returns the steps taken."""
    done, goal, n = True, first_goal, 0
    info: dict = {}
    while n < steps:
        if done:
            _, info = env.reset(options={"goal_index": goal % env.num_tasks})
            goal += 1
        _, _, term, trunc, info = env.step(info["expert_action"])
        done, n = term or trunc, n + 1
    return n


def single_env_rate(steps: int) -> tuple[float, float]:
    """(cold, warm) steps/s of one env: cold = every query searched anew, warm = repeats cached."""
    from turnrl.envs.webshop.env import WebShopEnv

    env = WebShopEnv()
    env.catalog.search.cache_clear()
    t = time.perf_counter()
    n = play_expert(env, 2000)  # about 400 distinct test goals, each searched for the first time
    cold = n / (time.perf_counter() - t)
    t = time.perf_counter()
    n = play_expert(env, steps)
    return cold, n / (time.perf_counter() - t)


def _worker(args: tuple[int, int]) -> tuple[int, float, dict[str, float]]:
    # the libraries first, so that the catalog's own memory is measured apart from them
    import bm25s  # noqa: F401
    import psutil
    import rapidfuzz  # noqa: F401
    import Stemmer  # noqa: F401

    from turnrl.envs.webshop.catalog import load_catalog
    from turnrl.envs.webshop.env import WebShopEnv

    steps, first_goal = args
    uss = lambda: psutil.Process().memory_full_info().uss / MB
    before = uss()
    load_catalog()
    catalog_private = uss() - before
    env = WebShopEnv()
    play_expert(env, 200, first_goal)
    t = time.perf_counter()
    n = play_expert(env, steps, first_goal)
    elapsed = time.perf_counter() - t
    m = psutil.Process().memory_full_info()
    return n, elapsed, {"rss": m.rss / MB, "uss": m.uss / MB, "pss": m.pss / MB, "shared": m.shared / MB,
                        "catalog_private": catalog_private}


def pool_rate(steps: int, workers: int = 2) -> tuple[float, str, list[dict[str, float]]]:
    """Steps/s of `workers` subprocess envs driven by turnrl's rollout loop, when it is present."""
    try:
        from turnrl.agents.scripted import ExpertAgent
        from turnrl.envs.pool import make_pool
        from turnrl.rollout import TaskSpec, collect
    except ImportError:
        # the pool/rollout modules are not in this checkout yet: the same work in plain processes
        pool = mp.get_context("spawn").Pool(workers)
        out = pool.map(_worker, [(steps, 0) for _ in range(workers)])  # each does the single env's work
        pool.close()
        pool.join()
        rate = sum(n for n, _, _ in out) / max(e for _, e, _ in out)
        return rate, "multiprocessing, turnrl.envs.pool absent", [m for _, _, m in out]
    tasks = [TaskSpec(seed=0, options={"goal_index": i % 500}) for i in range(workers * steps // 5)]
    with make_pool("turnrl/WebShop-v0", workers, backend="subprocess") as pool:
        collect(pool, ExpertAgent(), tasks[:20], max_steps=15, progress=False)  # start workers, warm up
        t = time.perf_counter()
        trajectories = collect(pool, ExpertAgent(), tasks, max_steps=15, progress=False)
        elapsed = time.perf_counter() - t
    return sum(len(tr.steps) for tr in trajectories) / elapsed, "turnrl.envs.pool subprocess + rollout", []


COPIES_SCRIPT = """
import gc, json, sys, psutil
from turnrl.envs.webshop.env import WebShopEnv
proc = psutil.Process()
rss = lambda: proc.memory_info().rss / (1 << 20)
base = rss()
envs, out = [], {"after_import": base}
for n in (1, 8, 32):
    while len(envs) < n:
        env = WebShopEnv()
        env.reset(options={"goal_index": len(envs)})
        env.step(f"search[{env.goal.instruction_text}]")
        envs.append(env)
    gc.collect()
    out[str(n)] = rss()
out["spacy_loaded"] = "spacy" in sys.modules
# what one env copy would add if it parsed the catalog itself instead of sharing it
before = rss()
own = [json.loads(line) for line in open(envs[0].catalog.data_dir / "products.jsonl", "rb")]
out["parsed_catalog"] = rss() - before
print(json.dumps(out))
"""


def copies_memory() -> dict[str, float]:
    """RSS (MB) of a fresh process holding 1, 8 and 32 envs, each reset and on a results page."""
    res = subprocess.run([sys.executable, "-c", COPIES_SCRIPT], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def search_latency(n_queries: int = 300) -> dict[str, float]:
    from turnrl.envs.webshop.catalog import load_catalog
    from turnrl.envs.webshop.goals import load_goals

    catalog = load_catalog()
    goals = load_goals(catalog, "synthetic")
    queries = [goals.goal(i).instruction_text.lower() for i in range(n_queries)]
    times = []
    for q in queries:
        t = time.perf_counter()
        catalog._search(q)  # the uncached search; `catalog.search` memoises repeated queries
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    for q in queries:
        catalog.search(q)
    cached = (time.perf_counter() - t) / n_queries
    times.sort()
    return {"median_ms": 1e3 * statistics.median(times), "p95_ms": 1e3 * times[int(0.95 * len(times))],
            "cached_us": 1e6 * cached}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = p.parse_args()

    from turnrl.envs.webshop.catalog import load_catalog

    t = time.perf_counter()
    load_catalog()  # builds the on-disk index on first use
    load_s = time.perf_counter() - t

    cold, one = single_env_rate(args.steps)
    two, how, worker_mem = pool_rate(args.steps)
    mem = copies_memory()
    lat = search_latency()
    per_copy_8 = (mem["8"] - mem["1"]) / 7
    per_copy_32 = (mem["32"] - mem["1"]) / 31

    print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.2f} "
          "(other processes on the machine skew the 2-worker figure)")
    print(f"catalog load (index cached or built): {load_s:.2f} s")
    print(f"steps/s, 1 env in-process:     {one:10.0f}   (first visit of each query, search uncached: {cold:.0f})")
    print(f"steps/s, 2 workers ({how}): {two:10.0f}   ratio to 1 env: {two / one:.2f}")
    for i, m in enumerate(worker_mem):
        print(f"  worker {i}: rss {m['rss']:.1f} MB, private (uss) {m['uss']:.1f} MB, "
              f"proportional (pss) {m['pss']:.1f} MB, shared {m['shared']:.1f} MB; "
              f"private memory added by loading the catalog: {m['catalog_private']:.1f} MB")
    print(f"rss after import {mem['after_import']:.1f} MB; 1 env {mem['1']:.1f} MB; "
          f"8 envs {mem['8']:.1f} MB; 32 envs {mem['32']:.1f} MB")
    print(f"per extra copy: {per_copy_8:.3f} MB (1->8), {per_copy_32:.3f} MB (1->32); target < 5 MB: "
          f"{'met' if max(per_copy_8, per_copy_32) < 5 else 'MISSED'}; spaCy loaded by env play: {mem['spacy_loaded']}")
    print(f"a private parsed catalog would add {mem['parsed_catalog']:.1f} MB per copy: "
          f"{mem['parsed_catalog'] / max(per_copy_32, 1e-3):.0f}x the shared one")
    print(f"search latency (uncached BM25, {300} instruction queries): median {lat['median_ms']:.2f} ms, "
          f"p95 {lat['p95_ms']:.2f} ms; cached {lat['cached_us']:.1f} us")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"load_s": load_s, "steps_per_s_1env": one, "steps_per_s_1env_cold": cold, "steps_per_s_2workers": two, "pool": how,
                       "worker_memory_mb": worker_mem, "rss_mb": mem, "per_copy_mb": [per_copy_8, per_copy_32],
                       "search": lat}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
