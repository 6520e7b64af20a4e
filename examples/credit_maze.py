"""A small deterministic text maze where step-level credit matters: dead ends, detours, revisited rooms.

Eleven rooms. The way from the hall to the garden is four moves (north, east, north, west), and
every room on it has side exits into dead ends (one or two rooms deep) that only lead back. An
episode that wanders into a dead end and comes back revisits the junction, so the same room
(observation) recurs within and across the episodes of a group: the anchor states GiGPO groups
on. A random walk rarely reaches the garden within the step limit (see `random_walk_success`).

Reward 1 on entering the garden (the episode ends), else 0. The observation names the room and
its exits; the admissible actions are "go <direction>" for those exits. The maze is the same for
every seed: a policy has to learn, room by room, which exit leads on.

    python examples/credit_maze.py     # gymnasium's env check, random-walk and expert success
"""
from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from turnrl.envs.base import TextEnv

ENV_ID = "turnrl/CreditMaze-v0"
START, GOAL = "hall", "garden"
# room -> {direction: neighbouring room}; every link is listed from both ends
MAZE: dict[str, dict[str, str]] = {
    "hall": {"north": "library", "east": "closet", "west": "cellar"},
    "closet": {"west": "hall"},
    "cellar": {"east": "hall", "north": "crypt"},
    "crypt": {"south": "cellar"},
    "library": {"south": "hall", "east": "gallery", "north": "study"},
    "study": {"south": "library"},
    "gallery": {"west": "library", "north": "kitchen", "east": "attic"},
    "attic": {"west": "gallery", "north": "loft"},
    "loft": {"south": "attic"},
    "kitchen": {"south": "gallery", "west": GOAL, "east": "pantry"},
    "pantry": {"west": "kitchen"},
    GOAL: {},
}
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}


def check_maze(maze: dict[str, dict[str, str]]) -> None:
    """Every link has its way back (the maze is undirected), so dead ends are detours, not traps."""
    for room, exits in maze.items():
        for direction, other in exits.items():
            if other != GOAL and maze[other].get(OPPOSITE[direction]) != room:
                raise ValueError(f"{room} -{direction}-> {other} has no way back")


def shortest_path(maze: dict[str, dict[str, str]] = MAZE, start: str = START) -> list[str]:
    """The actions of a shortest way from `start` to the goal (breadth-first search)."""
    previous: dict[str, tuple[str, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        room = queue.popleft()
        if room == GOAL:
            break
        for direction, other in maze[room].items():
            if other not in previous:
                previous[other] = (room, f"go {direction}")
                queue.append(other)
    actions, room = [], GOAL
    while previous[room] is not None:
        room, action = previous[room]
        actions.append(action)
    return actions[::-1]


def random_walk_success(max_steps: int, maze: dict[str, dict[str, str]] = MAZE, start: str = START) -> float:
    """Exact probability that a uniform random walk over the exits reaches the goal within `max_steps`."""
    rooms = list(maze)
    p = np.zeros(len(rooms))
    p[rooms.index(start)] = 1.0
    reached = 0.0
    for _ in range(max_steps):
        nxt = np.zeros_like(p)
        for i, room in enumerate(rooms):
            exits = maze[room]
            for other in exits.values():
                nxt[rooms.index(other)] += p[i] / len(exits)
        reached += nxt[rooms.index(GOAL)]
        nxt[rooms.index(GOAL)] = 0.0
        p = nxt
    return float(reached)


class CreditMazeEnv(TextEnv):
    """Walk from the hall to the garden; see the module docstring."""

    metadata = {"render_modes": ["ansi"], "snapshot": "replay"}

    def __init__(self, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        check_maze(MAZE)
        self.room = START
        self._best = shortest_path()

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.room = START
        return self._observation(), self._info(valid=True)

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        direction = action.strip().lower().removeprefix("go ").strip()
        if direction not in MAZE[self.room]:
            return f"You cannot go that way. {self._observation()}", 0.0, False, False, self._info(valid=False)
        self.room = MAZE[self.room][direction]
        if self.room == GOAL:
            return "You step into the garden. You made it!", 1.0, True, False, self._info(valid=True, won=True)
        return self._observation(), 0.0, False, False, self._info(valid=True)

    def render(self) -> str:
        return self._observation()

    def _observation(self) -> str:
        return f"You are in the {self.room}. Exits: {', '.join(MAZE[self.room])}."

    def _expert_action(self) -> str | None:
        return shortest_path(start=self.room)[0] if self.room != GOAL else None

    def _info(self, valid: bool, won: bool = False) -> dict[str, Any]:
        return {"admissible_actions": [f"go {d}" for d in MAZE[self.room]], "won": won, "valid": valid,
                "state_key": self.room, "obs_key": self._observation(), "task": "Find the way to the garden.",
                "expert_action": self._expert_action()}


if ENV_ID not in gym.registry:  # imported as __main__ and again by id
    gym.register(id=ENV_ID, entry_point=CreditMazeEnv, max_episode_steps=12)


if __name__ == "__main__":
    from gymnasium.utils.env_checker import check_env

    check_env(gym.make(ENV_ID).unwrapped, skip_render_check=True)
    print(f"shortest way: {', '.join(shortest_path())}")
    for steps in (6, 8, 10, 12, 16, 20):
        print(f"random walk reaches the garden within {steps:2d} steps: {random_walk_success(steps):.3f}")
