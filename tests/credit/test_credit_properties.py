"""Property tests (hypothesis) of the relations between the methods."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from turnrl.batch import to_rows
from turnrl.credit import gae_arrays, gdpo, gigpo, grpo, returns, rloo, salt
from turnrl.credit.salt import edge_ids

SETTINGS = settings(max_examples=40, deadline=None)

step_spec = st.tuples(st.sampled_from("abcd"), st.sampled_from("xy"), st.integers(0, 3).map(float), st.booleans())
trajectory = st.lists(step_spec, min_size=1, max_size=6)
group = st.lists(trajectory, min_size=2, max_size=5)
batch = st.lists(group, min_size=1, max_size=3)


def build(groups, trajectory_of):
    """Nested lists (group -> trajectory -> step spec) -> StepRows through to_rows."""
    return to_rows([trajectory_of(f"g{i}", steps) for i, trajs in enumerate(groups) for steps in trajs])


def per_trajectory(rows, values):
    return np.array([part[0] for part in rows.split(values)])


@SETTINGS
@given(batch)
def test_gigpo_with_only_singleton_anchors_equals_grpo(trajectory_of, groups):
    unique = [[[(f"{obs}{g}.{t}.{k}", a, r, v) for k, (obs, a, r, v) in enumerate(steps)]
               for t, steps in enumerate(trajs)] for g, trajs in enumerate(groups)]
    rows = build(unique, trajectory_of)
    np.testing.assert_allclose(gigpo(rows), grpo(rows))


@SETTINGS
@given(trajectory, st.integers(2, 5), st.sampled_from(["transition", "prefix"]), st.integers(0, 2**31))
def test_salt_on_identical_trajectories_is_equal_across_them(trajectory_of, steps, n, merge, seed):
    rows = build([[steps] * n], trajectory_of)
    base = np.random.default_rng(seed).normal(size=len(rows))  # arbitrary base advantages
    by_step = np.stack(rows.split(salt(rows, base=base, merge=merge)))
    np.testing.assert_allclose(by_step, np.broadcast_to(by_step[0], by_step.shape))
    assert len(np.unique(edge_ids(rows, merge=merge))) <= len(steps)


@SETTINGS
@given(batch)
def test_grpo_sums_to_zero_per_group_when_each_trajectory_counts_once(trajectory_of, groups):
    rows = build(groups, trajectory_of)
    adv = per_trajectory(rows, grpo(rows, per="trajectory"))
    sums = np.bincount(rows.traj_group, weights=adv)
    np.testing.assert_allclose(sums, 0.0, atol=1e-6)


@SETTINGS
@given(group, st.randoms(use_true_random=False))
def test_permuting_trajectories_permutes_advantages(trajectory_of, trajs, rnd):
    perm = list(range(len(trajs)))
    rnd.shuffle(perm)
    rows = build([trajs], trajectory_of)
    shuffled = build([[trajs[i] for i in perm]], trajectory_of)
    for method in (grpo, rloo, gigpo, salt, gdpo, lambda r: salt(r, base="gigpo", merge="prefix")):
        original = rows.split(method(rows))
        moved = shuffled.split(method(shuffled))
        for new_index, old_index in enumerate(perm):
            np.testing.assert_allclose(moved[new_index], original[old_index], atol=1e-9)


@SETTINGS
@given(batch)
def test_rloo_is_scaled_mean_centred_grpo(trajectory_of, groups):
    rows = build(groups, trajectory_of)
    n = np.bincount(rows.traj_group)[rows.group]
    np.testing.assert_allclose(rloo(rows), n / (n - 1) * grpo(rows, norm="mean", per="trajectory"), atol=1e-9)


@SETTINGS
@given(st.lists(st.lists(trajectory, min_size=1, max_size=4), min_size=2, max_size=3),
       st.sampled_from(["step", "trajectory"]))
def test_gdpo_with_one_reward_is_grpo_then_batch_normalisation(trajectory_of, groups, per):
    rows = build(groups, trajectory_of)
    a = grpo(rows, per=per, eps=1e-4)
    a = a if per == "step" else per_trajectory(rows, a)  # the samples of the batch statistics
    expected = (a - a.mean()) / (a.std(ddof=1) + 1e-4) if np.ptp(a) > 0 else np.zeros_like(a)  # TRL's eps
    got = gdpo(rows, per=per)
    np.testing.assert_allclose(got if per == "step" else per_trajectory(rows, got), expected, atol=1e-9)


@SETTINGS
@given(batch, st.floats(0.0, 1.0))
def test_gae_with_lambda_one_is_return_minus_value(trajectory_of, groups, gamma):
    rows = build(groups, trajectory_of)
    values = np.linspace(-1, 1, len(rows))
    adv, _ = gae_arrays(rows.reward, values, rows.traj, rows.step, gamma=gamma, lam=1.0)
    np.testing.assert_allclose(adv, returns(rows, gamma) - values, atol=1e-9)
