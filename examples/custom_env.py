"""Bring your own environment: write a text env, register it, evaluate it the gym way, train on it.

A key-and-door corridor: walk to the key, take it, walk to the door, open it. Everything below is
the public API a researcher uses for an env of their own; copy the file and replace the game.

    python examples/custom_env.py                 # env check, random vs expert, GRPO vs GiGPO credit
    python examples/custom_env.py --train 20      # plus 20 GRPO iterations of the tiny policy (CPU)
    python examples/custom_env.py --pool subprocess:2
"""
from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import turnrl
from turnrl.agents import make_agent
from turnrl.credit import compute_advantages
from turnrl.envs.base import TextEnv
from turnrl.envs.pool import make_pool, parse_pool_spec
from turnrl.rollout import TaskSpec, collect, summarize

# "module:id" lets worker processes (subprocess and Ray pools) import the module that registers it.
ENV_ID = "custom_env:example/KeyDoor-v0"


class KeyDoorEnv(TextEnv):
    """Rooms 0..length-1 in a row; the key lies in one room, the door is at the far end."""

    def __init__(self, length: int = 5, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.length = length
        self.pos = self.key = 0
        self.has_key = False

    # The two hooks of TextEnv: the base class seeds self.np_random, checks action text and the info keys.
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.key = int(options.get("key", self.np_random.integers(1, self.length - 1)))
        self.pos, self.has_key = 0, False
        return self._observation(), self._info(valid=True)

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        action = action.strip().lower()
        if action not in self._admissible():
            return "Nothing happens.", 0.0, False, False, self._info(valid=False)
        if action == "go east":
            self.pos += 1
        elif action == "go west":
            self.pos -= 1
        elif action == "take key":
            self.has_key = True
        elif action == "open door":
            return "The door opens. You are free!", 1.0, True, False, self._info(valid=True, won=True)
        return self._observation(), 0.0, False, False, self._info(valid=True)

    def _admissible(self) -> list[str]:
        actions = []
        if self.pos > 0:
            actions.append("go west")
        if self.pos < self.length - 1:
            actions.append("go east")
        if self.pos == self.key and not self.has_key:
            actions.append("take key")
        if self.pos == self.length - 1 and self.has_key:
            actions.append("open door")
        return actions

    def _observation(self) -> str:
        sees = " You see a key." if self.pos == self.key and not self.has_key else ""
        door = " A locked door leads out." if self.pos == self.length - 1 else ""
        return f"You are in room {self.pos + 1} of {self.length}.{sees}{door}"

    def _expert_action(self) -> str:
        if not self.has_key:
            return "take key" if self.pos == self.key else ("go east" if self.pos < self.key else "go west")
        return "open door" if self.pos == self.length - 1 else "go east"

    def _info(self, valid: bool, won: bool = False) -> dict[str, Any]:
        obs = self._observation()
        return {"admissible_actions": self._admissible(), "won": won, "valid": valid,
                "state_key": f"{self.pos}|{int(self.has_key)}|{self.key}",  # the true state (GiGPO anchors)
                "obs_key": obs, "task": "Find the key and leave through the door.",
                "expert_action": self._expert_action()}  # what the `expert` agent plays


if "example/KeyDoor-v0" not in gym.registry:  # this file may be imported twice: as __main__ and by id
    gym.register(id="example/KeyDoor-v0", entry_point=KeyDoorEnv, max_episode_steps=30)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", default="inprocess:4", help="BACKEND:N (inprocess, subprocess, ray)")
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--group-size", type=int, default=4)
    p.add_argument("--train", type=int, default=0, help="GRPO iterations of the tiny policy (0: none)")
    args = p.parse_args(argv)

    check_env(gym.make("example/KeyDoor-v0").unwrapped, skip_render_check=True)  # Gymnasium's own checks
    backend, n = parse_pool_spec(args.pool)
    tasks = [TaskSpec(seed=s) for s in range(args.tasks)]
    results: dict[str, Any] = {}
    with make_pool(ENV_ID, n, backend=backend) as pool:
        for spec in ("random", "expert"):
            trajectories = collect(pool, make_agent(spec, seed=0), tasks, group_size=args.group_size,
                                   max_steps=20, progress=False)
            summary = summarize(trajectories)
            results[spec] = summary["success_rate"]
            print(f"{spec:>6}: success {summary['success_rate']:.2f}  mean length {summary['mean_length']:.1f}")
            if spec == "random":  # credit on the random agent's groups: successes and failures to compare
                rows = turnrl.to_rows(trajectories)
                for method, params in (("grpo", {}), ("gigpo", {"gamma": 0.95, "anchor": "state"})):
                    adv = compute_advantages(method, rows, **params)
                    results[method] = adv
                    print(f"        {method:>5} advantages: mean |A| {np.abs(adv).mean():.3f} over {len(adv)} steps")
    if args.train:
        from turnrl.trainers import TrainConfig, Trainer

        config = TrainConfig(env_id=ENV_ID, env_kwargs={"length": 4}, model="tiny", policy_mode="score",
                             prompt="compact", history_window=0, num_envs=8, tasks_per_iter=4, group_size=4,
                             max_steps=8, credit="grpo", lr=3e-3, dual_clip=None, iterations=args.train,
                             eval_every=0, eval_tasks=16, eval_temperature=1.0, save_every=0,
                             out_dir="runs/custom_env", tensorboard=False, plot=True, progress=True)
        trainer = Trainer(config)
        try:
            before = trainer.evaluate()["success_rate"]
            trainer.train()
            after = trainer.evaluate()["success_rate"]
        finally:
            trainer.close()
        results.update(before=before, after=after)
        print(f"tiny policy success: {before:.2f} before, {after:.2f} after {args.train} iterations "
              f"(curves: runs/custom_env/curves.png)")
    return results


if __name__ == "__main__":
    main()
