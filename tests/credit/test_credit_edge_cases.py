"""Edge cases: empty batches, singleton and all-equal groups, bad numbers, uneven lengths."""
from __future__ import annotations

import numpy as np
import pytest

from turnrl.batch import to_rows
from turnrl.credit import compute_advantages, discounted_returns, ospo_arrays, returns, salt
from turnrl.credit.tournament import single_elimination

ROW_METHODS = ["grpo", "rloo", "gigpo", "salt", "gdpo", "ospo"]


@pytest.mark.parametrize("name", [*ROW_METHODS, "gae"])
def test_empty_batch_gives_empty_advantages(name):
    params = {"values": np.zeros(0)} if name == "gae" else {}
    out = compute_advantages(name, to_rows([]), **params)
    assert out.shape == (0,)


@pytest.mark.parametrize("name", ROW_METHODS)
def test_all_equal_rewards_give_exact_zeros(rows_of, name):
    rows = rows_of([("g", [("a", "x", 0.1), ("b", "y", 0.1)]), ("g", [("a", "x", 0.1), ("c", "z", 0.1)]),
                    ("g", [("d", "w", 0.1), ("b", "y", 0.1)])])
    out = compute_advantages(name, rows)
    assert np.all(out == 0.0), out


@pytest.mark.parametrize("name", ROW_METHODS)
def test_singleton_groups_give_finite_advantages(rows_of, name):
    rows = rows_of([("solo", [("a", "x", 2.0), ("b", "y", 1.0)]), ("other", [("a", "x", 0.0)])])
    out = compute_advantages(name, rows)
    assert out.shape == (3,) and np.isfinite(out).all()


@pytest.mark.parametrize("name", [*ROW_METHODS, "gae"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_rewards_raise_a_clear_error(rows_of, name, bad):
    rows = rows_of([("g", [("a", "x", bad)]), ("g", [("a", "x", 1.0)])])
    params = {"values": np.zeros(2)} if name == "gae" else {}
    with pytest.raises(ValueError, match="NaN or infinite"):
        compute_advantages(name, rows, **params)


def test_very_different_lengths_match_the_return_recursion(rows_of):
    rng = np.random.default_rng(0)
    long_rewards = rng.normal(size=300).tolist()
    rows = rows_of([("g", [("s", "x", r) for r in long_rewards]), ("g", [("s", "x", 1.0)]),
                    ("g", [("t", "y", 2.0), ("u", "y", -1.0)])])
    expected, g = [], 0.0
    for r in reversed(long_rewards):  # G_t = r_t + gamma G_{t+1}, written out
        g = r + 0.9 * g
        expected.append(g)
    got = returns(rows, 0.9)
    np.testing.assert_allclose(got[:300], expected[::-1])
    np.testing.assert_allclose(got[300:], [1.0, 2.0 - 0.9, -1.0])
    for name in ROW_METHODS:
        assert np.isfinite(compute_advantages(name, rows)).all()


def test_rows_out_of_order_are_handled_by_step_index():
    traj, step = np.array([1, 0, 1, 0]), np.array([1, 1, 0, 0])
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0, 4.0]), traj, step, 0.5),
                               [1.0, 2.0, 3.5, 5.0])


def test_bad_parameters_raise_clear_errors(rows_of):
    rows = rows_of([("g", [("a", "x", 1.0)]), ("g", [("a", "x", 0.0)])])
    with pytest.raises(ValueError, match="norm must be"):
        compute_advantages("grpo", rows, norm="l2")
    with pytest.raises(ValueError, match="per must be"):
        compute_advantages("grpo", rows, per="token")
    with pytest.raises(ValueError, match="anchor key must be"):
        compute_advantages("gigpo", rows, anchor="history")
    with pytest.raises(ValueError, match="merge must be"):
        compute_advantages("salt", rows, merge="fuzzy")
    with pytest.raises(ValueError, match="SALT base must be"):
        salt(rows, base="ppo")
    with pytest.raises(ValueError, match="one value per row"):
        salt(rows, base=np.zeros(5))
    with pytest.raises(ValueError, match="similarity threshold"):
        compute_advantages("gigpo", rows, threshold=1.5)
    with pytest.raises(ValueError, match="coefficient >= 0"):
        compute_advantages("grpo", rows, invalid_penalty=-1.0)
    with pytest.raises(TypeError):
        compute_advantages("grpo", rows, gamma_typo=0.9)


def test_odd_keys_and_huge_strings_do_not_break_anchoring(rows_of):
    huge = "x" * 1_000_000
    rows = rows_of([("g", [(huge, "a" * 10_000, 1.0, True, None), ("\x00\u2603", "b", 0.0)]),
                    ("g", [(huge, "a" * 10_000, 0.0, True, None), ("\x00\u2603", "b", 0.0)])])
    assert np.isfinite(compute_advantages("gigpo", rows, anchor="state")).all()  # None state keys: singletons
    out = compute_advantages("gigpo", rows, norm="mean")
    assert out[0] == pytest.approx(-out[2]) and out[0] > 0


def test_ospo_checks_inputs():
    with pytest.raises(ValueError, match="one entry per reward"):
        ospo_arrays(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="out of range"):
        ospo_arrays(np.array([0, 0]), np.array([1.0, 2.0]), agent_ids=np.array([0, 5]), fairness=1.0, n_agents=2)
    assert ospo_arrays(np.array([3]), np.array([7.0]), fairness=0).tolist() == [0.0]  # alone at its time step


def test_judge_exceptions_propagate_and_single_candidate_needs_no_calls():
    assert single_elimination(["only"], lambda a, b: 1.0).judge_calls == 0

    def broken(a, b):
        raise RuntimeError("judge model crashed")
    with pytest.raises(RuntimeError, match="judge model crashed"):
        single_elimination([0, 1, 2], broken)


def test_unhashable_keys_raise_a_clear_error(rows_of):
    rows = rows_of([("g", [("a", "x", 1.0)]), ("g", [("b", "x", 0.0)])])
    rows.obs_key[0] = ["not", "hashable"]
    with pytest.raises(TypeError, match="keys must be hashable"):
        compute_advantages("gigpo", rows)


def test_compute_advantages_rejects_wrong_or_inconsistent_rows(rows_of):
    with pytest.raises(TypeError, match="StepRows"):
        compute_advantages("grpo", [1.0, 2.0])
    rows = rows_of([("g", [("a", "x", 1.0)]), ("h", [("a", "x", 0.0)])])
    rows.group = rows.group[::-1].copy()
    with pytest.raises(ValueError, match="disagrees"):
        compute_advantages("grpo", rows)
    rows = rows_of([("g", [("a", "x", 1.0)]), ("g", [("a", "x", 0.0)])])
    rows.valid = rows.valid[:1]
    with pytest.raises(ValueError, match="valid has 1 entries"):
        compute_advantages("grpo", rows)
