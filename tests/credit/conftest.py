"""Builds StepRows from compact trajectory specs through the real `turnrl.batch.to_rows`."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from turnrl.batch import StepRows, to_rows
from turnrl.types import Step, Trajectory

# A step spec: (obs, action, reward) with optional valid flag, state key and reward components.
StepSpec = tuple


def make_trajectory(group: str, steps: Sequence[StepSpec]) -> Trajectory:
    built = []
    for spec in steps:
        obs, action, reward, *rest = spec
        valid = rest[0] if len(rest) > 0 else True
        state = rest[1] if len(rest) > 1 else None
        components = rest[2] if len(rest) > 2 else {}
        built.append(Step(observation=obs, action=action, reward=reward, valid=valid, state_key=state,
                          obs_key=obs, reward_components=dict(components)))
    return Trajectory(task_id=group, group_id=group, steps=built)


def build_rows(spec: Sequence[tuple[str, Sequence[StepSpec]]]) -> StepRows:
    """[(group id, [step spec, ...]), ...] -> StepRows, one trajectory per entry, in order."""
    return to_rows([make_trajectory(group, steps) for group, steps in spec])


@pytest.fixture(scope="session")
def rows_of() -> Callable[[Sequence[tuple[str, Sequence[StepSpec]]]], StepRows]:
    return build_rows


@pytest.fixture(scope="session")
def trajectory_of() -> Callable[[str, Sequence[StepSpec]], Trajectory]:
    return make_trajectory
