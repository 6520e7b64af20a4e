"""The trainer hands the invalid-action penalty to every credit method (issue 17 item 8): one
coefficient, subtracted, never silently dropped (SALT over GiGPO, OSPO, RLOO ...)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from turnrl.batch import to_rows
from turnrl.credit import compute_advantages
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer
from turnrl.types import Step, Trajectory


def trajectories() -> list[Trajectory]:
    def traj(steps):
        return Trajectory(task_id="t", group_id="g", steps=[
            Step(observation=o, action=a, reward=r, valid=v, obs_key=o) for o, a, r, v in steps])
    return [traj([("a", "x", 0.0, True), ("b", "y", 1.0, False)]), traj([("a", "x", 0.0, True), ("c", "z", 0.0, True)]),
            traj([("a", "w", 1.0, True)])]


@pytest.mark.parametrize("credit,params", [("salt", {"base": "gigpo"}), ("ospo", {}), ("rloo", {}), ("grpo", {})])
def test_trainer_credit_applies_the_penalty_for_every_method(credit, params):
    trainer = SimpleNamespace(config=TrainConfig(credit=credit, credit_params=params, invalid_penalty=0.1))
    got = Trainer.credit(trainer, to_rows(trajectories()))
    rows = to_rows(trajectories())
    np.testing.assert_allclose(got, compute_advantages(credit, rows, invalid_penalty=0.1, **params))
    assert got[1] < compute_advantages(credit, rows, **params)[1]  # the invalid row pays


def test_trainer_credit_refuses_two_different_penalties():
    trainer = SimpleNamespace(config=TrainConfig(credit="grpo", credit_params={"invalid_penalty": 0.5},
                                                 invalid_penalty=0.1))
    with pytest.raises(ValueError, match="set it once"):
        Trainer.credit(trainer, to_rows(trajectories()))
    negative = SimpleNamespace(config=TrainConfig(credit="grpo", invalid_penalty=-0.1))
    with pytest.raises(ValueError, match="coefficient >= 0"):
        Trainer.credit(negative, to_rows(trajectories()))
