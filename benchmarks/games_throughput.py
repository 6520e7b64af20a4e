"""Agent-steps per second of each text game versus the bare PettingZoo env, same moves, same run.

For every game a script of random legal games is recorded once on the bare engine (the engine
action id and its text for every move, `None` for PettingZoo's finishing steps). Both sides then
replay it: the bare side does `env.last()` + `env.step(action_id)` (the numpy observation an RL
agent reads), the text side `env.last()` + `env.step(move_text)` (the rendered observation, legal
move list and parsing). Each figure is the best of `--repeats` interleaved runs (the machine is
shared: the best run is the one least disturbed by other load, as `timeit` reports).

Target (issue 10): text overhead (bare steps/s / text steps/s) <= 2x for every game but chess.

    python benchmarks/games_throughput.py [--steps 3000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

import numpy as np

from turnrl.envs.games.catalog import GAMES, game_class, make_game

ENGINE_GAMES = [g for g in GAMES if g != "negotiation"]  # negotiation has no bare engine to compare with
Script = list[tuple[int, list[tuple[int | None, str | None]]]]


def record(game: str, min_steps: int, seed: int = 0) -> Script:
    """Random legal games on the bare env until `min_steps` moves: per game its seed and moves."""
    codec = game_class(game)()
    env = codec.make()
    rng = np.random.default_rng(seed)
    script: Script = []
    for k in itertools.count():
        if sum(len(m) for _, m in script) >= min_steps:
            break
        env.reset(seed=seed + k)
        moves: list[tuple[int | None, str | None]] = []
        for agent in env.agent_iter():
            _, _, terminated, truncated, _ = env.last(observe=False)
            if terminated or truncated:
                moves.append((None, None))
                env.step(None)
                continue
            legal = codec.legal_moves(env, agent)
            text = list(legal)[int(rng.integers(len(legal)))]
            moves.append((legal[text], text))
            env.step(legal[text])
        script.append((seed + k, moves))
    env.close()
    return script


def replay(env: Any, script: Script, text: bool) -> float:
    """Agent-steps per second replaying the script (finishing None steps included on both sides)."""
    steps, start = 0, time.perf_counter()
    for seed, moves in script:
        env.reset(seed=seed)
        for action_id, move_text in moves:
            env.last()
            env.step(move_text if text else action_id)
            steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="recorded moves per game (a tenth for chess)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'game':14s} {'steps':>6s} {'bare steps/s':>13s} {'text steps/s':>13s} {'overhead':>9s}  target")
    for game in ENGINE_GAMES:
        script = record(game, args.steps // 10 if game == "chess" else args.steps)
        bare, text = game_class(game)().make(), make_game(game)
        runs: dict[str, list[float]] = {"bare": [], "text": []}
        for r in range(args.repeats):
            order = [("bare", bare, False), ("text", text, True)]
            for name, env, is_text in order if r % 2 == 0 else order[::-1]:
                runs[name].append(replay(env, script, is_text))
        b, t = max(runs["bare"]), max(runs["text"])
        target = "exempt" if game == "chess" else ("ok" if b / t <= 2.0 else "MISSED (<= 2x)")
        print(f"{game:14s} {sum(len(m) for _, m in script):6d} {b:13.0f} {t:13.0f} {b / t:8.2f}x  {target}")


if __name__ == "__main__":
    main()
