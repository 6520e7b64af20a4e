"""ALFWorld throughput: turnrl/ALFWorld-v0 versus ALFWorld's own `AlfredTWEnv`, in one run.

Both sides play the same games with the same scripted actions (the hand-coded expert's actions
with a random admissible action every third step and an inadmissible one every seventh), on the
same machine in the same process, interleaved game by game so that background load hits both
alike. Printed:
- steps/s of each side and the overhead ratio (direct steps/s / turnrl steps/s; target <= 1.10),
  once without an expert (AlfredTWEnv's eval mode) and once with the hand-coded expert computed
  every step (AlfredTWEnv's DAgger train mode, which adds `AlfredExpert`);
- whether every observation matched (turnrl strips only the welcome banner);
- per-env reset time (a new game, and the same game again) on each side;
- the time to list a split (turnrl's catalog versus AlfredTWEnv's `collect_game_files`);
- memory (RSS) per additional env copy in one process;
- aggregate steps/s through a 2-worker subprocess pool, when `turnrl.envs.pool` is present.

Run: `python benchmarks/alfworld_throughput.py [--games 6] [--steps 40]` with the data in
$ALFWORLD_DATA or $TURNRL_DATA/alfworld.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import io
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

from turnrl.envs.alfworld import games as catalog
from turnrl.envs.alfworld.env import ALFWorldEnv

DATA = catalog.alfworld_dir()
os.environ["ALFWORLD_DATA"] = str(DATA)  # AlfredTWEnv's config paths expand $ALFWORLD_DATA

from alfworld.agents.environment.alfred_tw_env import AlfredTWEnv

from turnrl.envs.alfworld import engine

SPLIT = "valid_unseen"


def alfworld_config() -> dict[str, Any]:
    """The keys of ALFWorld's base_config.yaml that AlfredTWEnv reads."""
    return {
        "env": {"goal_desc_human_anns_prob": 0, "task_types": list(catalog.TASK_TYPES), "domain_randomization": False,
                "expert_type": "handcoded"},
        "dataset": {"data_path": "$ALFWORLD_DATA/json_2.1.1/train",
                    "eval_id_data_path": "$ALFWORLD_DATA/json_2.1.1/valid_seen",
                    "eval_ood_data_path": "$ALFWORLD_DATA/json_2.1.1/valid_unseen",
                    "num_train_games": -1, "num_eval_games": -1},
        "general": {"training_method": "dagger"},
        "dagger": {"training": {"max_nb_steps_per_episode": 10_000}},
    }


@functools.cache
def alfred_tw_env(train_eval: str) -> AlfredTWEnv:
    """AlfredTWEnv as ALFWorld builds it (it walks and parses its whole split once)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return AlfredTWEnv(alfworld_config(), train_eval=train_eval)


def direct_env(game_file: str, expert: bool):
    """ALFWorld's own text env on one game; its DAgger train mode adds the AlfredExpert wrapper."""
    alfred = alfred_tw_env("train" if expert else "eval_out_of_distribution")
    alfred.game_files = [game_file]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return alfred.init_env(batch_size=1)


def scripts(game_ids: list[str], steps: int, seed: int) -> dict[str, list[str]]:
    """Per game, a fixed action list: expert actions mixed with random and inadmissible ones."""
    rng = np.random.default_rng(seed)
    env = ALFWorldEnv(split=SPLIT, expert="handcoded")
    out = {}
    for gid in game_ids:
        _, info = env.reset(seed=seed, options={"game": gid})
        actions: list[str] = []
        for t in range(steps):
            if t % 7 == 6:
                action = "dance with the fridge"
            elif t % 3 == 2 or not info["expert_action"]:
                action = str(rng.choice(info["admissible_actions"]))
            else:
                action = info["expert_action"]
            actions.append(action)
            _, _, terminated, _, info = env.step(action)
            if terminated:
                break
        out[gid] = actions
    env.close()
    return out


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


class Direct:
    """ALFWorld's own env on one game, with the same reset/step shape as the turnrl env."""

    def __init__(self, game_file: str, expert: bool):
        self.env = direct_env(game_file, expert)

    def reset(self) -> str:
        obs, _ = self.env.reset()  # textworld's gym env reloads the game on every reset
        return engine.strip_banner(obs[0])

    def step(self, action: str) -> str:
        return self.env.step([action])[0][0]


def compare(game_ids: list[str], files: dict[str, str], plan: dict[str, list[str]], expert: bool) -> float:
    """Both envs in lockstep, alternating which goes first, so machine load hits both alike.

    Returns turnrl's steps/s."""
    ours = ALFWorldEnv(split=SPLIT, expert="handcoded" if expert else "none")
    step_s: dict[str, list[float]] = {"direct": [], "turnrl": []}
    reset_new: dict[str, list[float]] = {"direct": [], "turnrl": []}
    reset_again: dict[str, list[float]] = {"direct": [], "turnrl": []}
    same = True
    for gid in game_ids:
        options = {"game": gid}
        direct, t_direct = timed(Direct, files[gid], expert)
        obs_d, t_first = timed(direct.reset)
        reset_new["direct"].append(t_direct + t_first)
        reset_again["direct"].append(timed(direct.reset)[1])
        reset_new["turnrl"].append(timed(functools.partial(ours.reset, seed=0, options=options))[1])
        (obs_t, _), t_again = timed(functools.partial(ours.reset, seed=0, options=options))
        reset_again["turnrl"].append(t_again)
        same &= obs_t == obs_d
        for j, action in enumerate(plan[gid]):
            sides = ("direct", "turnrl") if j % 2 == 0 else ("turnrl", "direct")
            seen = {}
            for side in sides:
                if side == "direct":
                    seen[side], dt = timed(direct.step, action)
                else:
                    result, dt = timed(ours.step, action)
                    seen[side] = result[0]
                step_s[side].append(dt)
            same &= seen["direct"] == seen["turnrl"]
        direct.env.close()
    ours.close()
    n_steps = len(step_s["turnrl"])
    sps = {side: n_steps / sum(times) for side, times in step_s.items()}
    median = {side: float(np.median(times)) for side, times in step_s.items()}
    label = "with hand-coded expert" if expert else "no expert"
    print(f"[{label}] {n_steps} steps on {len(game_ids)} games, lockstep; observations identical: {same}")
    for side in ("direct", "turnrl"):
        print(f"  {side:7s} {sps[side]:7.1f} steps/s (median step {median[side] * 1e3:5.1f} ms) | reset: new game "
              f"{np.mean(reset_new[side]) * 1e3:6.0f} ms, same game again {np.mean(reset_again[side]) * 1e3:6.0f} ms")
    print(f"  overhead ratio direct/turnrl: total time {sps['direct'] / sps['turnrl']:.3f}, "
          f"median step {median['turnrl'] / median['direct']:.3f} (target <= 1.10)")
    return sps["turnrl"]


def catalog_time() -> None:
    t0 = time.perf_counter()
    catalog._split_games.cache_clear()
    n_turnrl = len(catalog.list_games(SPLIT))
    t1 = time.perf_counter()
    n_direct = alfred_tw_env("eval_out_of_distribution").num_games
    t2 = time.perf_counter()
    print(f"[catalog] list {SPLIT}: turnrl {n_turnrl} games in {(t1 - t0) * 1e3:.0f} ms, "
          f"AlfredTWEnv.collect_game_files {n_direct} games in {(t2 - t1) * 1e3:.0f} ms")


def memory_per_copy(game_ids: list[str], copies: int) -> None:
    proc = psutil.Process()
    envs = [ALFWorldEnv(split=SPLIT, expert="none")]
    envs[0].reset(seed=0, options={"game": game_ids[0]})
    gc.collect()
    base = proc.memory_info().rss
    for k in range(copies):
        env = ALFWorldEnv(split=SPLIT, expert="none")
        env.reset(seed=0, options={"game": game_ids[k % len(game_ids)]})
        envs.append(env)
    gc.collect()
    per = (proc.memory_info().rss - base) / copies
    print(f"[memory] RSS {base / 2**20:.0f} MiB with 1 env; +{per / 2**20:.1f} MiB per additional env copy "
          f"({copies} copies, each with its own engine and fast-downward library)")
    for env in envs:
        env.close()


def pool_throughput(game_ids: list[str], plan: dict[str, list[str]], single_sps: float) -> None:
    try:
        from turnrl.envs.pool import make_pool
    except ImportError as e:
        print(f"[pool] blocked: turnrl.envs.pool is not importable in this checkout ({e})")
        return
    pairs = [(game_ids[i], game_ids[(i + 1) % len(game_ids)]) for i in range(0, len(game_ids), 2)]
    kwargs = {"split": SPLIT, "expert": "none", "data_dir": str(DATA)}
    with make_pool("turnrl/ALFWorld-v0", num_envs=2, backend="subprocess", env_kwargs=kwargs, num_workers=2) as pool:
        steps, elapsed = 0, 0.0
        for a, b in pairs:
            pool.reset([0, 0], [{"game": a}, {"game": b}])
            queues = [list(plan[a]), list(plan[b])]
            t0 = time.perf_counter()
            while any(queues):
                actions = [q.pop(0) if q else None for q in queues]
                pool.step(actions)
                steps += sum(x is not None for x in actions)
            elapsed += time.perf_counter() - t0
    print(f"[pool] 2-worker subprocess pool: {steps / elapsed:.1f} steps/s aggregate "
          f"({steps / elapsed / single_sps:.2f}x one in-process env at {single_sps:.1f} steps/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=6, help="games of valid_unseen, spread over task types")
    parser.add_argument("--steps", type=int, default=40, help="max scripted steps per game")
    parser.add_argument("--copies", type=int, default=4, help="extra env copies for the memory figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, data {DATA}")
    all_games = catalog.list_games(SPLIT)
    by_type: dict[str, list[catalog.Game]] = {}
    for g in all_games:
        by_type.setdefault(g.task_type, []).append(g)
    picked = [g for i in range(args.games) for g in [list(by_type.values())[i % 6][i // 6]]][: args.games]
    game_ids = [g.game_id for g in picked]
    files = {g.game_id: str(g.path) for g in picked}
    plan = scripts(game_ids, args.steps, args.seed)
    catalog_time()
    single_sps = compare(game_ids, files, plan, expert=False)
    compare(game_ids, files, plan, expert=True)
    memory_per_copy(game_ids, args.copies)
    pool_throughput(game_ids, plan, single_sps)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
