"""TextWorld env costs, measured side by side in one run.

1. Game generation: cold (generate + compile with TextWorld's challenge and Inform 7) per
   challenge at its default difficulty, then the cached lookup (file check) and a reset.
2. Per-step overhead (step calls only; resets are timed in 1): the same recorded action sequences replayed (a) on the bare `textworld`
   API with the env's own request infos, (b) on `TextWorldEnv`, (c) on `gymnasium.make`'s
   wrapped env; with the expert's policy search on and off. Runs alternate and the median of
   `--repeats` is reported, because other load on the machine shifts absolute figures.

    python benchmarks/textworld_env.py [--games 3] [--episodes 6] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import gymnasium
import numpy as np
import textworld

import turnrl.envs  # noqa: F401
from turnrl.envs.textworld import cache
from turnrl.envs.textworld.challenges import CHALLENGES, GameSpec
from turnrl.envs.textworld.env import TextWorldEnv, request_infos


def time_generation(root: Path, n_games: int) -> None:
    print(f"game generation (fresh cache, {n_games} games per challenge, difficulty medium)")
    print(f"{'challenge':20s} {'cold s/game':>12s} {'cached ms':>10s} {'reset ms':>9s}  (reset: game load + restart)")
    for challenge in CHALLENGES:
        specs = [GameSpec(challenge, "medium", "train", i) for i in range(n_games)]
        start = time.perf_counter()
        for spec in specs:
            cache.ensure_game(spec, root)
        cold = (time.perf_counter() - start) / n_games
        cache._VERIFIED.clear()  # time the first look-up a new process does (with the file check)
        start = time.perf_counter()
        for spec in specs:
            cache.ensure_game(spec, root)
        cached = (time.perf_counter() - start) / n_games * 1e3
        env = TextWorldEnv(challenge=challenge, cache_dir=root)
        env.reset(options={"game": specs[-1].index})  # engine start-up, once per env, not per reset
        start = time.perf_counter()
        for spec in specs:
            env.reset(options={"game": spec.index})
        reset = (time.perf_counter() - start) / n_games * 1e3
        env.close()
        print(f"{challenge:20s} {cold:12.2f} {cached:10.1f} {reset:9.1f}")


def record_episodes(root: Path, n_episodes: int, max_steps: int = 50) -> list[tuple[str, list[str]]]:
    """(game file, actions) of seeded random-admissible episodes on the default env."""
    env = TextWorldEnv(cache_dir=root, expert=False)
    rng = np.random.default_rng(0)
    episodes = []
    for seed in range(n_episodes):
        _, info = env.reset(seed=seed)
        actions = []
        for _ in range(max_steps):
            action = info["admissible_actions"][int(rng.integers(len(info["admissible_actions"])))]
            actions.append(action)
            _, _, terminated, _, info = env.step(action)
            if terminated:
                break
        episodes.append((str(cache.game_path(env.game_spec, root)), actions))
    env.close()
    return episodes


def steps_per_second_bare(episodes, expert: bool) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) of the step calls."""
    env = textworld.start(episodes[0][0], request_infos(expert))
    steps, wall, cpu = 0, 0.0, 0.0
    for path, actions in episodes:
        env.load(path)
        env.reset()
        start, start_cpu = time.perf_counter(), time.process_time()
        for action in actions:
            env.step(action)
        wall, cpu = wall + time.perf_counter() - start, cpu + time.process_time() - start_cpu
        steps += len(actions)
    env.close()
    return steps / wall, steps / cpu


def steps_per_second_env(episodes, expert: bool, root: Path, wrapped: bool) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) of the step calls."""
    if wrapped:
        env = gymnasium.make("turnrl/TextWorld-v0", cache_dir=root, expert=expert, max_episode_steps=10_000)
    else:
        env = TextWorldEnv(cache_dir=root, expert=expert)
    index = {str(cache.game_path(GameSpec("tw-treasure_hunter", "medium", "train", i), root)): i for i in range(100)}
    steps, wall, cpu = 0, 0.0, 0.0
    for path, actions in episodes:
        env.reset(options={"game": index[path]})
        start, start_cpu = time.perf_counter(), time.process_time()
        for action in actions:
            env.step(action)
        wall, cpu = wall + time.perf_counter() - start, cpu + time.process_time() - start_cpu
        steps += len(actions)
    env.close()
    return steps / wall, steps / cpu


def time_steps(root: Path, n_episodes: int, repeats: int) -> None:
    episodes = record_episodes(root, n_episodes)
    n_steps = sum(len(a) for _, a in episodes)
    print(f"\nper-step cost: {n_episodes} recorded episodes, {n_steps} steps, median of {repeats} alternating runs")
    print(f"{'expert':7s} {'clock':6s} {'bare TW steps/s':>16s} {'TextWorldEnv':>13s} {'ratio':>6s} "
          f"{'gym.make':>9s} {'ratio':>6s}")
    for expert in (False, True):
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "env": [], "made": []}
        for _ in range(repeats):
            runs["bare"].append(steps_per_second_bare(episodes, expert))
            runs["env"].append(steps_per_second_env(episodes, expert, root, wrapped=False))
            runs["made"].append(steps_per_second_env(episodes, expert, root, wrapped=True))
        for clock, i in (("wall", 0), ("CPU", 1)):
            bare, env, made = (statistics.median(r[i] for r in runs[k]) for k in ("bare", "env", "made"))
            print(f"{expert!s:7s} {clock:6s} {bare:16.0f} {env:13.0f} {bare / env:6.3f} {made:9.0f} {bare / made:6.3f}")
    print("ratio = bare steps/s over env steps/s (time per step relative to TextWorld alone; target <= 1.10);")
    print("the CPU-time ratio is the one to trust when other work shares the cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=3, help="games generated per challenge")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        root = Path(tmp)
        time_generation(root, args.games)
        time_steps(root, args.episodes, args.repeats)


if __name__ == "__main__":
    main()
