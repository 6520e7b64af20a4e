"""The fleet as a PettingZoo `ParallelEnv`: one agent per vehicle.

Each vehicle sees up to `orders_per_vehicle` candidate orders (rows of 28 pair features plus a
validity column, nearest pickup first) and picks one or 0 for "no order". When several vehicles
pick the same order it goes to the one that reaches it soonest; the others get nothing that
minute (`infos[agent]["conflict"]`). Each vehicle's reward is its own match reward.
"""
from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from turnrl.envs.rideshare.city import City
from turnrl.envs.rideshare.features import N_FEATURES
from turnrl.envs.rideshare.offers import RideShareCore
from turnrl.envs.rideshare.sim import RideConfig


class RideShareParallelEnv(ParallelEnv):
    metadata = {"render_modes": [], "name": "rideshare_v0", "is_parallelizable": True}  # noqa: RUF012 (PettingZoo API)

    def __init__(self, config: RideConfig | dict | None = None, orders_per_vehicle: int = 8,
                 city: City | None = None, data_dir: str | Path | None = None):
        config = RideConfig(**config) if isinstance(config, dict) else config
        self.core = RideShareCore(config, city, data_dir)
        self.k = int(orders_per_vehicle)
        self.possible_agents = [f"vehicle_{i}" for i in range(self.core.config.n_vehicles)]
        self.agents: list[str] = []
        self._rows: dict[int, list[int]] = {}
        self._observation_space = gym.spaces.Box(-np.inf, np.inf, (self.k, N_FEATURES + 1), np.float32)
        self._action_space = gym.spaces.Discrete(self.k + 1)

    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self._observation_space  # one shared object, as PettingZoo's API test expects

    def action_space(self, agent: str) -> gym.spaces.Discrete:
        return self._action_space

    def _observe(self) -> dict[str, np.ndarray]:
        offer = self.core.offer
        self._rows = {}
        for row in np.argsort([ins.pickup_min for ins in offer.insertions], kind="stable"):
            rows = self._rows.setdefault(int(offer.vehicles[row]), [])
            if len(rows) < self.k:
                rows.append(int(row))
        obs = {}
        for agent in self.agents:
            o = np.zeros((self.k, N_FEATURES + 1), np.float32)
            rows = self._rows.get(int(agent.rsplit("_", 1)[1]), [])
            o[:len(rows), :N_FEATURES] = offer.features[rows]
            o[:len(rows), N_FEATURES] = 1.0
            obs[agent] = o
        return obs

    def reset(self, seed: int | None = None, options: dict | None = None):
        self.core.reset(seed)
        self.agents = list(self.possible_agents)
        return self._observe(), {a: {} for a in self.agents}

    def _resolve(self, actions: dict[str, int]) -> tuple[list[int], set[str]]:
        """Offer rows to match, and the agents that lost their order to a sooner vehicle."""
        claims: dict[int, list[tuple[float, str, int]]] = {}
        for agent, action in actions.items():
            if agent not in self.agents:
                raise ValueError(f"unknown or finished agent {agent!r}")
            if not isinstance(action, (int, np.integer)) or not 0 <= action <= self.k:
                raise ValueError(f"action of {agent} must be an int in 0..{self.k}, got {action!r}")
            rows = self._rows.get(int(agent.rsplit("_", 1)[1]), [])
            if action == 0 or action > len(rows):  # 0 or an empty slot: no order
                continue
            row = rows[action - 1]
            claims.setdefault(int(self.core.offer.orders[row]), []).append(
                (self.core.offer.insertions[row].pickup_min, agent, row))
        chosen, lost = [], set()
        for contenders in claims.values():
            contenders.sort()
            chosen.append(contenders[0][2])
            lost.update(agent for _, agent, _ in contenders[1:])
        return chosen, lost

    def step(self, actions: dict[str, int]):
        chosen, lost = self._resolve(actions)
        offered_vehicles = self.core.offer.vehicles
        result = self.core.step(chosen)
        rewards = {a: 0.0 for a in self.agents}
        for row, reward in zip(result.matched, result.rewards):
            rewards[f"vehicle_{int(offered_vehicles[row])}"] = float(reward)
        done = self.core.sim.done
        terminations = {a: False for a in self.agents}
        truncations = {a: done for a in self.agents}
        infos = {a: {"conflict": a in lost} for a in self.agents}
        if done:
            self.agents = []
            observations = {a: np.zeros((self.k, N_FEATURES + 1), np.float32) for a in truncations}
        else:
            observations = self._observe()
        return observations, rewards, terminations, truncations, infos
