"""The credit maze of examples/credit_maze.py (the GiGPO/GRPO/RLOO benchmark's task)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture()
def maze(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import credit_maze

    return credit_maze


def walk_success(maze_module, steps: int) -> Fraction:
    """Brute force over every walk: the chance a uniform random walk reaches the goal within `steps`."""
    graph, goal = maze_module.MAZE, maze_module.GOAL

    def go(room: str, left: int) -> Fraction:
        if room == goal:
            return Fraction(1)
        if left == 0:
            return Fraction(0)
        exits = graph[room]
        return sum((go(other, left - 1) for other in exits.values()), Fraction(0)) / len(exits)

    return go(maze_module.START, steps)


def test_passes_gymnasium_check_and_expert_walks_the_shortest_way(maze):
    env = gym.make(maze.ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    actions = []
    done = False
    while not done:
        actions.append(info["expert_action"])
        obs, reward, terminated, truncated, info = env.step(actions[-1])
        done = terminated or truncated
    assert actions == ["go north", "go east", "go north", "go west"] and reward == 1.0 and info["won"]


def test_dead_end_detour_revisits_the_same_observation_and_state(maze):
    env = gym.make(maze.ENV_ID)
    first, info = env.reset(seed=3)
    assert info["admissible_actions"] == ["go north", "go east", "go west"]
    obs, _, _, _, info = env.step("go east")
    assert obs == "You are in the closet. Exits: west." and info["admissible_actions"] == ["go west"]
    back, reward, terminated, _, info = env.step("go west")
    assert back == first and info["state_key"] == "hall" and reward == 0.0 and not terminated


def test_invalid_direction_changes_nothing(maze):
    env = gym.make(maze.ENV_ID)
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step("go south")
    assert not info["valid"] and info["state_key"] == "hall" and reward == 0.0 and not terminated


def test_step_limit_is_registered(maze):
    env = gym.make(maze.ENV_ID)
    env.reset(seed=0)
    truncated = False
    for _ in range(12):
        _, _, terminated, truncated, _ = env.step("go east" if env.unwrapped.room == "hall" else "go west")
    assert truncated and not terminated


def test_random_walk_success_matches_enumeration_and_hand_values(maze):
    # the maze is a tree: 4 moves on the way, each from a room with 3 exits -> (1/3)^4; a detour costs 2 moves
    assert maze.random_walk_success(4) == pytest.approx(1 / 81)
    assert maze.random_walk_success(5) == pytest.approx(1 / 81)
    for steps in (6, 8, 10):
        assert maze.random_walk_success(steps) == pytest.approx(float(walk_success(maze, steps)))
    assert maze.random_walk_success(10) < 0.1  # far below the ceiling for an untrained policy


def test_a_link_without_way_back_is_refused(maze):
    broken = {room: dict(exits) for room, exits in maze.MAZE.items()}
    broken["closet"] = {"north": "hall"}
    with pytest.raises(ValueError, match="no way back"):
        maze.check_maze(broken)
