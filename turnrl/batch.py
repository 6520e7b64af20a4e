"""Lowering trajectories to flat per-step rows, the form `credit/` consumes.

One row per (trajectory, step), ordered trajectory by trajectory, step by step. Results computed
per row (advantages, returns) map back with `StepRows.split`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from turnrl.types import Trajectory


@dataclass
class StepRows:
    """Flat arrays, one entry per step row.

    group: dense group index (0..G-1) of each row; traj: dense trajectory index (0..T-1);
    step: step index inside its trajectory; reward: step reward; valid: was the action understood;
    done: last step of its trajectory; state_key / obs_key: object arrays of str (or None);
    components: named per-step reward components (missing -> 0.0);
    traj_return: episode return of each trajectory (length T), traj_group: its group (length T);
    action: object array of the action text of each row (None when built without it).
    """

    group: np.ndarray
    traj: np.ndarray
    step: np.ndarray
    reward: np.ndarray
    valid: np.ndarray
    done: np.ndarray
    state_key: np.ndarray
    obs_key: np.ndarray
    traj_return: np.ndarray
    traj_group: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    traj_components: dict[str, np.ndarray] = field(default_factory=dict)
    action: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def n_trajectories(self) -> int:
        return len(self.traj_return)

    @property
    def n_groups(self) -> int:
        return int(self.traj_group.max()) + 1 if len(self.traj_group) else 0

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-row values -> one array per trajectory (in trajectory order)."""
        values = np.asarray(values)
        if len(values) != len(self):
            raise ValueError(f"expected {len(self)} row values, got {len(values)}")
        bounds = np.flatnonzero(np.diff(self.traj)) + 1
        parts = np.split(values, bounds) if len(values) else []
        # trajectories with no steps get an empty array
        out = [np.empty(0, dtype=values.dtype)] * self.n_trajectories
        for idx, part in zip(np.unique(self.traj), parts):
            out[idx] = part
        return out


def to_rows(trajectories: list[Trajectory]) -> StepRows:
    """Lowers trajectories to rows. Groups are keyed by `group_id` (None: own group)."""
    group_index: dict[str, int] = {}
    traj_group = np.empty(len(trajectories), dtype=np.int64)
    for i, t in enumerate(trajectories):
        key = t.group_id if t.group_id is not None else f"__single_{i}"
        traj_group[i] = group_index.setdefault(key, len(group_index))

    lengths = np.array([len(t.steps) for t in trajectories], dtype=np.int64)
    n = int(lengths.sum())
    traj = np.repeat(np.arange(len(trajectories)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    step = np.arange(n) - starts
    done = np.zeros(n, dtype=bool)
    done[np.cumsum(lengths)[lengths > 0] - 1] = True

    steps = [s for t in trajectories for s in t.steps]
    reward = np.fromiter((s.reward for s in steps), dtype=np.float64, count=n)
    valid = np.fromiter((s.valid for s in steps), dtype=bool, count=n)
    state_key = np.empty(n, dtype=object)
    state_key[:] = [s.state_key for s in steps]
    obs_key = np.empty(n, dtype=object)
    obs_key[:] = [s.obs_key if s.obs_key is not None else s.observation for s in steps]
    action = np.empty(n, dtype=object)
    action[:] = [s.action for s in steps]

    names = sorted({k for s in steps for k in s.reward_components})
    components = {k: np.fromiter((s.reward_components.get(k, 0.0) for s in steps), dtype=np.float64, count=n)
                  for k in names}
    traj_return = np.array([t.episode_return for t in trajectories], dtype=np.float64)
    traj_components = {k: np.bincount(traj, weights=v, minlength=len(trajectories)) for k, v in components.items()}
    return StepRows(group=traj_group[traj], traj=traj, step=step, reward=reward, valid=valid, done=done,
                    state_key=state_key, obs_key=obs_key, traj_return=traj_return, traj_group=traj_group,
                    components=components, traj_components=traj_components, action=action)
