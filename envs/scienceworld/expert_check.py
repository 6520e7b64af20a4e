"""Plays the engine's gold path on ScienceWorld variations and writes per-task results as JSON.

    python -m turnrl.envs.scienceworld.expert_check --split test --variations-per-task 1 \
        --out envs/scienceworld/results/expert_test_first_variation.json

The same check as `turnrl eval turnrl/ScienceWorld-v0 --agent expert`, kept here so the env's
own claim (every gold path the engine generates wins) can be re-run without the eval CLI: it
drives `gym.make("turnrl/ScienceWorld-v0")` with turnrl's generic `ExpertAgent`.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any

import gymnasium as gym

import turnrl.envs  # noqa: F401 - registers turnrl/ScienceWorld-v0
from turnrl.agents.scripted import ExpertAgent
from turnrl.envs.scienceworld.tasks import SCIENCEWORLD_VERSION, list_tasks
from turnrl.io import atomic_write_json
from turnrl.types import AgentInput


def play(env: gym.Env, agent: ExpertAgent, options: dict[str, Any], max_steps: int) -> dict[str, Any]:
    """One episode from `options`; its outcome, length, return and why it ended."""
    started = time.perf_counter()
    obs, info = env.reset(seed=0, options=options)
    reset_seconds = time.perf_counter() - started
    history: list[tuple[str, str]] = []
    total, end_reason = 0.0, "max_steps"
    for t in range(max_steps):
        out = agent.act([AgentInput(observation=obs, task=info["task"], history=list(history),
                                    admissible_actions=info["admissible_actions"], step=t, info=info,
                                    env_id="turnrl/ScienceWorld-v0")])[0]
        if not out.valid:
            end_reason = f"agent: {out.invalid_reason}"
            break
        history.append((obs, out.action))
        obs, reward, terminated, truncated, info = env.step(out.action)
        total += reward
        if terminated or truncated:
            end_reason = info.get("end_reason", "terminated" if terminated else "truncated")
            break
    gold_length = len(env.unwrapped.gold_path)
    return {"task_id": options["task_id"], "task": options["task"], "variation": options["variation"],
            "won": bool(info["won"]), "return": round(total, 4), "score": info["score"], "length": len(history),
            "gold_path_length": gold_length, "end_reason": end_reason,
            "last_observation": obs[-300:] if not info["won"] else None,
            "reset_seconds": round(reset_seconds, 2), "seconds": round(time.perf_counter() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", default="test")
    p.add_argument("--variations-per-task", default="1")
    p.add_argument("--task", default=None, help="comma-separated task names or ids (default: all 30)")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    tasks = list_tasks({"split": args.split, "variations_per_task": args.variations_per_task, "task": args.task})
    env, agent, results = gym.make("turnrl/ScienceWorld-v0", state_key="observation"), ExpertAgent(), []
    try:
        for options in tasks:
            r = play(env, agent, options, args.max_steps)
            results.append(r)
            print(f"{r['task_id']:<60} won={r['won']!s:<5} len={r['length']:<4} {r['end_reason']:<10} "
                  f"{r['seconds']:.1f}s", flush=True)
    finally:
        env.close()
    summary = {"env_id": "turnrl/ScienceWorld-v0", "agent": "expert", "split": args.split,
               "variations_per_task": args.variations_per_task, "scienceworld": SCIENCEWORLD_VERSION,
               "python": platform.python_version(), "n_episodes": len(results),
               "success_rate": sum(r["won"] for r in results) / max(1, len(results)),
               "not_won": [r["task_id"] for r in results if not r["won"]], "episodes": results}
    print(f"success {summary['success_rate']:.3f} over {len(results)}; not won: {summary['not_won']}")
    if args.out:
        atomic_write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
