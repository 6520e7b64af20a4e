"""ALFWorld's hand-coded expert through turnrl's env versus through ALFWorld's own env, same games, same run.

The hand-coded expert draws random choices (which object to look at first, what to do when it
repeats itself), so one sweep of a split is one sample of its success. This plays every chosen game
with `--seeds` seeds on both sides: ALFWorld's `AlfredTWEnv` in DAgger train mode (the
`AlfredExpert` wrapper, `extra.expert_plan`, global `random` seeded per episode) and
`turnrl/ALFWorld-v0` with `expert="handcoded"` (the same expert fed the same states, its RNG seeded
by the reset seed), both capped at `--max-steps`. Printed: wins per task type and seed on each side.

    python benchmarks/alfworld_expert_parity.py [--split valid_unseen] [--task-types pick_two] [--seeds 3]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import random
import time
from collections import defaultdict

from alfworld_throughput import direct_env  # noqa: E402  (sets $ALFWORLD_DATA before importing alfworld)

from turnrl.envs.alfworld import games as catalog
from turnrl.envs.alfworld.env import ALFWorldEnv


def direct_episode(game_file: str, seed: int, max_steps: int) -> bool:
    """ALFWorld's own env playing its expert plan; a give-up of the expert counts as a loss."""
    random.seed(seed)
    env = direct_env(game_file, expert=True)
    with contextlib.redirect_stdout(io.StringIO()):
        _, infos = env.reset()
        for _ in range(max_steps):
            try:
                _, _, dones, infos = env.step([infos["extra.expert_plan"][0][0]])
            except Exception as e:  # noqa: BLE001 - AlfredExpert raises Exception("Timeout") when it gives up
                if "Timeout" in str(e):
                    return False
                raise
            if dones[0]:
                break
    env.close()
    return bool(infos["won"][0])


def turnrl_episode(env: ALFWorldEnv, game_id: str, seed: int, max_steps: int) -> bool:
    _, info = env.reset(seed=seed, options={"game": game_id})
    for _ in range(max_steps):
        if info["expert_action"] is None:  # the expert gave up
            return False
        _, _, terminated, _, info = env.step(info["expert_action"])
        if terminated:
            break
    return bool(info["won"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="valid_unseen")
    p.add_argument("--task-types", default="all", help="all, or aliases: pick, look, clean, heat, cool, pick_two")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=200)
    p.add_argument("--max-games", type=int, default=None, help="only the first N games (a quick look)")
    args = p.parse_args()

    games = catalog.list_games(args.split, args.task_types)[: args.max_games]
    env = ALFWorldEnv(split=args.split, expert="handcoded")
    wins: dict[tuple[str, str, int], int] = defaultdict(int)
    started = time.perf_counter()
    for seed in range(args.seeds):
        for game in games:
            wins["direct", game.task_type, seed] += direct_episode(str(game.path), seed, args.max_steps)
            wins["turnrl", game.task_type, seed] += turnrl_episode(env, game.game_id, seed, args.max_steps)
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", flush=True)
    env.close()

    counts = defaultdict(int)
    for game in games:
        counts[game.task_type] += 1
    print(f"\n{args.split}, {len(games)} games, {args.seeds} seeds, cap {args.max_steps} steps: wins per seed")
    print(f"{'task type':34s} {'games':>5s}  {'ALFWorld direct':>20s}  {'turnrl env':>20s}")
    for task_type, n in [*sorted(counts.items()), ("all", len(games))]:
        def per_seed(side: str) -> str:
            values = [sum(wins[side, t, s] for t in counts if task_type in ("all", t)) for s in range(args.seeds)]
            return " ".join(f"{v:3d}" for v in values) + f"  ({sum(values) / args.seeds:.1f})"
        print(f"{task_type:34s} {n:5d}  {per_seed('direct'):>20s}  {per_seed('turnrl'):>20s}")


if __name__ == "__main__":
    main()
