"""Lowering trajectories to per-step rows and mapping row values back."""
from __future__ import annotations

import numpy as np
import pytest

from turnrl.batch import to_rows
from turnrl.types import Step, Trajectory


def traj(group: str | None, rewards: list[float], comps: bool = False) -> Trajectory:
    steps = [Step(observation=f"o{i}", action=f"a{i}", reward=r, valid=i != 1, state_key=f"s{i}",
                  reward_components={"score": r * 2} if comps else {}) for i, r in enumerate(rewards)]
    return Trajectory(task_id="t", group_id=group, steps=steps)


def test_rows_index_groups_trajectories_and_steps():
    trajs = [traj("g1", [0.0, 1.0]), traj("g2", [2.0]), traj("g1", [3.0, 4.0, 5.0], comps=True), traj(None, [])]
    rows = to_rows(trajs)
    assert len(rows) == 6 and rows.n_trajectories == 4 and rows.n_groups == 3
    assert rows.group.tolist() == [0, 0, 1, 0, 0, 0]
    assert rows.traj.tolist() == [0, 0, 1, 2, 2, 2]
    assert rows.step.tolist() == [0, 1, 0, 0, 1, 2]
    assert rows.done.tolist() == [False, True, True, False, False, True]
    assert rows.valid.tolist() == [True, False, True, True, False, True]
    assert rows.traj_return.tolist() == [1.0, 2.0, 12.0, 0.0]
    assert rows.traj_group.tolist() == [0, 1, 0, 2]
    assert rows.components["score"].tolist() == [0, 0, 0, 6, 8, 10]  # missing components are 0
    assert rows.action.tolist() == ["a0", "a1", "a0", "a0", "a1", "a2"]


def test_split_maps_row_values_back_per_trajectory():
    trajs = [traj("g", [0.0, 1.0]), traj("g", []), traj("h", [2.0, 3.0, 4.0])]
    rows = to_rows(trajs)
    parts = rows.split(np.arange(len(rows)) * 10.0)
    assert [p.tolist() for p in parts] == [[0.0, 10.0], [], [20.0, 30.0, 40.0]]
    with pytest.raises(ValueError, match="expected 5"):
        rows.split(np.zeros(4))
