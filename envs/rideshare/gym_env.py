"""One central dispatcher as a Gymnasium env (`turnrl/RideShareDispatch-v0`).

Observation: the step's candidate pairs padded to `max_pairs` rows (`features`, `vehicle`,
`order`, `mask`). Action: a 0/1 vector over those rows, the pairs to match. A selection that
gives one vehicle or one order twice, or picks a padding row, is rejected as a whole (no match,
`info["invalid_reason"]` says why) and the clock still advances: the market does not wait.
Reward: the sum of the paper's per-match rewards.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from turnrl.envs.rideshare.city import City
from turnrl.envs.rideshare.features import N_FEATURES
from turnrl.envs.rideshare.offers import RideShareCore
from turnrl.envs.rideshare.sim import RideConfig


def selected_rows(action: Any, max_pairs: int) -> list[int]:
    """The rows a 0/1 selection vector picks. Anything but exactly 0 or 1 (NaN, -1, 0.5, text) is
    a malformed action, not a selection: a ValueError, as for a wrong shape (`flatnonzero` alone
    would read NaN, -1 and 0.5 as "selected")."""
    selected = np.asarray(action)
    if selected.dtype.kind not in "biuf":
        raise ValueError(f"action must be a numeric 0/1 vector, got dtype {selected.dtype}")
    if selected.size != max_pairs:
        raise ValueError(f"action must have {max_pairs} entries, got shape {selected.shape}")
    selected = selected.reshape(-1)
    bad = np.flatnonzero(~np.isin(selected, (0, 1)))
    if bad.size:
        raise ValueError(f"action entries must be 0 or 1; entry {int(bad[0])} is {selected[bad[0]]!r}")
    return np.flatnonzero(selected).tolist()


class DispatchEnv(gym.Env):
    metadata = {"render_modes": []}  # noqa: RUF012 (Gymnasium API)

    def __init__(self, config: RideConfig | dict | None = None, max_pairs: int = 8192,
                 city: City | None = None, data_dir: str | Path | None = None):
        config = RideConfig(**config) if isinstance(config, dict) else config
        self.core = RideShareCore(config, city, data_dir)
        self.max_pairs = int(max_pairs)
        n_ids = np.iinfo(np.int64).max
        self.observation_space = gym.spaces.Dict({
            "features": gym.spaces.Box(-np.inf, np.inf, (self.max_pairs, N_FEATURES), np.float32),
            "vehicle": gym.spaces.Box(0, n_ids, (self.max_pairs,), np.int64),
            "order": gym.spaces.Box(0, n_ids, (self.max_pairs,), np.int64),
            "mask": gym.spaces.MultiBinary(self.max_pairs),
        })
        self.action_space = gym.spaces.MultiBinary(self.max_pairs)

    def _obs(self) -> dict[str, np.ndarray]:
        offer, n = self.core.offer, min(len(self.core.offer), self.max_pairs)
        obs = {"features": np.zeros((self.max_pairs, N_FEATURES), np.float32),
               "vehicle": np.zeros(self.max_pairs, np.int64), "order": np.zeros(self.max_pairs, np.int64),
               "mask": np.zeros(self.max_pairs, np.int8)}
        obs["features"][:n], obs["vehicle"][:n], obs["order"][:n] = offer.features[:n], offer.vehicles[:n], offer.orders[:n]
        obs["mask"][:n] = 1
        return obs

    def _info(self) -> dict[str, Any]:
        return {"n_pairs": len(self.core.offer), "pairs_dropped": max(len(self.core.offer) - self.max_pairs, 0),
                "minute": self.core.sim.minute, "metrics": self.core.sim.metrics() if self.core.sim.done else None}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        self.core.reset(seed)
        return self._obs(), self._info()

    def step(self, action):
        chosen = selected_rows(action, self.max_pairs)  # a padding row is outside the offer: rejected by check
        result = self.core.step(chosen)
        info = self._info()
        info.update(valid=result.reason is None, matched=len(result.matched))
        if result.reason:
            info["invalid_reason"] = result.reason
        return self._obs(), float(sum(result.rewards)), False, self.core.sim.done, info
