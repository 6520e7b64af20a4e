"""Tree credit on a hand-built tree: a trunk x-y-z (return 1), a branch w-v off the root (return
0) and a branch q off the trunk's third state (return 0), the latter carrying copies of x-y.

Worked out by hand (gamma 1): at the root the edges are x (rows T0.0 and T2.0, return-to-go 1
and 0: V = 0.5) and w (V = 0): mean 0.25, so A(x) = +0.25, A(w) = -0.25. After x-y the edges
are z (V = 1) and q (V = 0): A(z) = +0.5, A(q) = -0.5. Steps with one way on (y, v) get 0.
"""
from __future__ import annotations

import numpy as np
import pytest

from turnrl.batch import to_rows
from turnrl.credit import compute_advantages
from turnrl.credit.tree import tree
from turnrl.types import Step, Trajectory


def traj(steps: list[tuple[str, str, float]], group: str = "g") -> Trajectory:
    return Trajectory(task_id="t", group_id=group,
                      steps=[Step(observation=o, action=a, reward=r, obs_key=o) for o, a, r in steps])


TRUNK = [("o0", "x", 0.0), ("o1", "y", 0.0), ("o2", "z", 1.0)]
ROOT_BRANCH = [("o0", "w", 0.0), ("o3", "v", 0.0)]
LATE_BRANCH = TRUNK[:2] + [("o2", "q", 0.0)]


def rows():
    return to_rows([traj(TRUNK), traj(ROOT_BRANCH), traj(LATE_BRANCH)])


def test_branch_advantage_is_return_minus_sibling_mean():
    got = tree(rows())
    #                     T0: x     y    z    T1: w     v   T2: x(copy) y   q
    np.testing.assert_allclose(got, [0.25, 0.0, 0.5, -0.25, 0.0, 0.0, 0.0, -0.5])


def test_shared_all_gives_every_copy_the_value_and_std_scales():
    np.testing.assert_allclose(tree(rows(), shared="all"), [0.25, 0, 0.5, -0.25, 0, 0.25, 0, -0.5])
    got = tree(rows(), norm="std", eps=0.0)  # sibling values {0.5, 0} and {1, 0}: std 0.25 and 0.5
    np.testing.assert_allclose(got, [1.0, 0, 1.0, -1.0, 0, 0, 0, -1.0])


def test_groups_do_not_mix_and_registry_runs_it():
    both = to_rows([traj(TRUNK, "a"), traj(ROOT_BRANCH, "b")])  # one trajectory per group: no branch point
    np.testing.assert_array_equal(compute_advantages("tree", both), np.zeros(5))
    np.testing.assert_allclose(compute_advantages("tree", rows()), tree(rows()))


def test_discounting_uses_return_to_go():
    got = tree(rows(), gamma=0.5)  # V(x) = mean(0.25, 0) -> A(x) = 0.0625; V(z) = 1 -> A(z) = 0.5
    np.testing.assert_allclose(got, [0.0625, 0, 0.5, -0.0625, 0, 0, 0, -0.5])


def test_refuses_bad_parameters():
    with pytest.raises(ValueError):
        tree(rows(), norm="max")  # type: ignore[arg-type]


def test_invalid_penalty_reaches_the_generated_row_not_its_copies():
    trunk = [("o0", "x", 0.0), ("o1", "bad", 0.0), ("o1", "z", 1.0)]
    late = trunk[:2] + [("o1", "q", 0.0)]
    trajs = [traj(trunk), traj(late)]
    for t in trajs:
        t.steps[1].valid = False
    r = to_rows(trajs)
    got = tree(r, invalid_penalty=0.1) - tree(r)
    np.testing.assert_allclose(got, [0, -0.1, 0, 0, 0, 0])
    np.testing.assert_allclose(tree(r, invalid_penalty=0.1, shared="all") - tree(r, shared="all"),
                               [0, -0.1, 0, 0, -0.1, 0])
