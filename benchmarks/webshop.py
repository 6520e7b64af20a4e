"""WebShop speed and memory, measured side by side in one run.

Prints:
- steps/s of one env stepped directly (search uncached and cached), and of the expert driven by
  `turnrl.rollout.collect` through an in-process pool of 1 env and a subprocess pool of 2
  workers, with the ratio between the two;
- resident memory of one fresh process holding 1, 8 and 32 env copies (target: each extra copy
  under 5 MB), beside what a private parsed catalog per copy would cost;
- the private (USS) and shared memory of each subprocess pool worker, and the private memory
  the catalog adds to a process whose libraries are already loaded;
- BM25 search latency per query (uncached and cached).

    TURNRL_DATA=../shared/data python benchmarks/webshop.py [--steps 20000] [--out result.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MB = 1 << 20
N_TEST = 500  # goals in the test split


def play_expert(env, steps: int) -> int:
    """Expert steps over consecutive test goals; returns the steps taken."""
    done, goal, n = True, 0, 0
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


def worker_memory(pids: list[int]) -> list[dict[str, float]]:
    import psutil

    out = []
    for pid in pids:
        try:
            m = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue
        out.append({"pid": pid, "rss": m.rss / MB, "uss": m.uss / MB, "shared": m.shared / MB})
    return out


def rollout_rate(backend: str, num_envs: int, episodes: int) -> tuple[float, list[dict[str, float]]]:
    """Expert steps/s through `collect` on a pool; with the memory of its workers (subprocess)."""
    from turnrl.agents.scripted import ExpertAgent
    from turnrl.envs.pool import make_pool
    from turnrl.rollout import TaskSpec, collect

    tasks = [TaskSpec(seed=0, options={"goal_index": i % N_TEST}) for i in range(episodes)]
    with make_pool("turnrl/WebShop-v0", num_envs, backend=backend) as pool:
        collect(pool, ExpertAgent(), tasks[:N_TEST], max_steps=15, progress=False)  # start, warm the caches
        t = time.perf_counter()
        trajectories = collect(pool, ExpertAgent(), tasks, max_steps=15, progress=False)
        elapsed = time.perf_counter() - t
        memory = worker_memory(pool.worker_pids()) if hasattr(pool, "worker_pids") else []
    return sum(len(tr.steps) for tr in trajectories) / elapsed, memory


COPIES_SCRIPT = """
import gc, json, sys, psutil
import bm25s, rapidfuzz, Stemmer  # libraries first, so the catalog's own cost shows apart
from turnrl.envs.webshop.catalog import load_catalog
from turnrl.envs.webshop.env import WebShopEnv
proc = psutil.Process()
rss = lambda: proc.memory_info().rss / (1 << 20)
uss = lambda: proc.memory_full_info().uss / (1 << 20)
out = {"after_import": rss()}
before = uss()
load_catalog()
out["catalog_private"] = uss() - before
envs = []
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
    return {"n": n_queries, "median_ms": 1e3 * statistics.median(times),
            "p95_ms": 1e3 * times[int(0.95 * len(times))], "cached_us": 1e6 * cached}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20000, help="steps per throughput figure")
    p.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = p.parse_args()

    from turnrl.envs.webshop.catalog import load_catalog

    t = time.perf_counter()
    load_catalog()  # builds the on-disk index on first use
    load_s = time.perf_counter() - t
    episodes = args.steps // 5  # the expert takes about 5 steps per goal
    cold, one = single_env_rate(args.steps)
    pool1, _ = rollout_rate("inprocess", 1, episodes)
    pool2, workers = rollout_rate("subprocess", 2, episodes)
    mem = copies_memory()
    lat = search_latency()
    per_copy_8 = (mem["8"] - mem["1"]) / 7
    per_copy_32 = (mem["32"] - mem["1"]) / 31

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end "
          "(other processes skew the parallel figure)")
    print(f"catalog load (index cached or built): {load_s:.2f} s")
    print(f"steps/s, 1 env stepped directly: {one:8.0f} with repeated queries cached, {cold:.0f} with every search new")
    print(f"steps/s, expert via rollout.collect: in-process pool of 1 {pool1:8.0f}; subprocess pool of 2 {pool2:8.0f}; "
          f"ratio {pool2 / pool1:.2f}")
    for w in workers:
        print(f"  pool worker {w['pid']}: rss {w['rss']:.1f} MB = private (uss) {w['uss']:.1f} MB "
              f"+ shared {w['shared']:.1f} MB (libraries, mapped catalog and index)")
    print(f"private memory the catalog adds to a process with its libraries loaded: {mem['catalog_private']:.1f} MB")
    print(f"rss after import {mem['after_import']:.1f} MB; 1 env {mem['1']:.1f} MB; 8 envs {mem['8']:.1f} MB; "
          f"32 envs {mem['32']:.1f} MB")
    print(f"per extra copy: {per_copy_8:.3f} MB (1->8), {per_copy_32:.3f} MB (1->32); target < 5 MB "
          f"{'met' if max(per_copy_8, per_copy_32) < 5 else 'MISSED'}; spaCy loaded by env play: {mem['spacy_loaded']}")
    print(f"a private parsed catalog would add {mem['parsed_catalog']:.1f} MB per copy: "
          f"{mem['parsed_catalog'] / max(per_copy_32, 1e-3):.0f}x the shared one")
    print(f"search latency (uncached BM25, {lat['n']} instruction queries): median {lat['median_ms']:.2f} ms, "
          f"p95 {lat['p95_ms']:.2f} ms; cached {lat['cached_us']:.1f} us")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"load_s": load_s, "steps_per_s_1env": one, "steps_per_s_1env_cold": cold,
                       "steps_per_s_inprocess1": pool1, "steps_per_s_subprocess2": pool2, "workers": workers,
                       "rss_mb": mem, "per_copy_mb": [per_copy_8, per_copy_32], "search": lat}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
