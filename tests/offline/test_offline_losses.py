"""OREO, DPO/SimPO and BC losses checked against hand computations and autograd."""
from __future__ import annotations

import math

import pytest
import torch

from turnrl.trainers.offline import bc, dpo, oreo

BETA = 0.5


def two_trajectories():
    """Three steps: trajectory 0 has steps with 2 and 1 response tokens, trajectory 1 one step of 3."""
    lr = torch.tensor([[0.2, -0.4, 0.0], [0.3, 0.0, 0.0], [0.1, 0.5, -0.2]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    traj = torch.tensor([0, 0, 1])
    reward = torch.tensor([1.0, 1.0, 0.0])
    return lr, mask, traj, reward


def test_future_step_sums_stay_inside_each_trajectory():
    sums = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0])
    traj = torch.tensor([0, 0, 0, 1, 1])
    assert oreo.future_step_sums(sums, traj).tolist() == [6.0, 4.0, 0.0, 16.0, 0.0]


def test_telescoped_targets_by_hand():
    lr, mask, traj, reward = two_trajectories()
    target = oreo.telescoped_targets(lr, mask, traj, reward, BETA)
    # trajectory 0, step 0, before token 0: all of its log-ratios from here on: 0.2 - 0.4 + 0.3
    assert target[0, 0].item() == pytest.approx(1.0 - BETA * 0.1)
    assert target[0, 1].item() == pytest.approx(1.0 - BETA * (-0.4 + 0.3))
    assert target[0, 2].item() == pytest.approx(1.0 - BETA * 0.3)  # after the whole first action
    assert target[1, 0].item() == pytest.approx(1.0 - BETA * 0.3)
    assert target[1, 1].item() == pytest.approx(1.0)
    assert target[2, 0].item() == pytest.approx(0.0 - BETA * 0.4)


def test_value_loss_is_zero_at_the_telescoped_target_and_positive_elsewhere():
    lr, mask, traj, reward = two_trajectories()
    target = oreo.telescoped_targets(lr, mask, traj, reward, BETA)
    values = target.clone().requires_grad_(True)
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA).item() == pytest.approx(0.0, abs=1e-12)
    shifted = (target + 0.1).requires_grad_(True)
    loss = oreo.value_loss(shifted, lr, mask, traj, reward, BETA)
    assert loss.item() == pytest.approx(0.01)
    loss.backward()
    assert lr.grad is None  # the critic's loss never reaches the policy's log-ratios


def test_value_positions_past_a_response_are_ignored():
    lr, mask, traj, reward = two_trajectories()
    values = oreo.telescoped_targets(lr, mask, traj, reward, BETA)
    values[1, 2:] = 100.0  # row 1 has one token: positions 0 and 1 only
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA).item() == pytest.approx(0.0, abs=1e-12)


def uneven_trajectories():
    """Trajectory 0: two steps of 3 tokens (6 value positions); trajectory 1: one step of 1 token."""
    lr = torch.zeros(3, 3)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    return lr, mask, torch.tensor([0, 0, 1]), torch.tensor([1.0, 1.0, 0.0])


def test_value_loss_averages_per_trajectory_then_over_the_batch():
    # jwhj/OREO: sum over a sequence's state positions / their count, then the batch mean.
    # Offsets 0.1 on trajectory 0 (6 positions) and 0.3 on trajectory 1 (1 position):
    # reference (0.01 + 0.09) / 2 = 0.05; turnrl's earlier mean over positions (6 * 0.01 + 0.09) / 7
    lr, mask, traj, reward = uneven_trajectories()
    values = oreo.telescoped_targets(lr, mask, traj, reward, BETA) + torch.tensor([[0.1], [0.1], [0.3]])
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA).item() == pytest.approx(0.05)
    by_position = oreo.value_loss(values, lr, mask, traj, reward, BETA, average="position")
    assert by_position.item() == pytest.approx(0.15 / 7)


def test_value_loss_skips_the_state_after_each_action_and_step_level_trains_step_starts_only():
    lr, mask, traj, reward = uneven_trajectories()
    values = oreo.telescoped_targets(lr, mask, traj, reward, BETA)
    values[0, 3] = values[1, 3] = values[2, 1] = 100.0  # k = n_b: the state right after each action
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA).item() == pytest.approx(0.0, abs=1e-12)
    # with after_action (turnrl's earlier rule) those count: trajectory 0 has 8 positions, 2 off by
    # 100 - 1 = 99; trajectory 1 has 2, 1 off by 100 - 0: (2 * 99^2 / 8 + 100^2 / 2) / 2
    old = oreo.value_loss(values, lr, mask, traj, reward, BETA, after_action=True)
    assert old.item() == pytest.approx((2 * 99 ** 2 / 8 + 100 ** 2 / 2) / 2)
    values = oreo.telescoped_targets(lr, mask, traj, reward, BETA)
    values[:, 1:] = 50.0  # inside the turn: ignored by the step-level variant
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA, step_level=True).item() == pytest.approx(0.0)
    values[0, 0] += 0.2  # a step start counts: trajectory 0 mean 0.04 / 2 steps, batch (0.02 + 0) / 2
    assert oreo.value_loss(values, lr, mask, traj, reward, BETA, step_level=True).item() == pytest.approx(0.01)


def test_token_policy_loss_gradient_flows_only_through_the_current_token():
    lr, mask, traj, reward = two_trajectories()
    values = torch.randn(3, 4, requires_grad=True)
    loss = oreo.policy_loss_token(lr, mask, traj, reward, values, BETA)
    loss.backward()
    assert values.grad is None or not values.grad.any()
    # residual_k = beta * lr_k + beta * (fixed later log-ratios) + V_k - R; d/d lr_k = 2 beta residual_k / n_tokens
    fixed = oreo.token_suffix_sums(lr.detach(), mask)[:, 1:] + oreo.future_step_sums(
        (lr.detach() * mask).sum(-1), traj)[:, None]
    residual = BETA * lr.detach() + BETA * fixed + values.detach()[:, :-1] - reward[:, None]
    expected = 2 * BETA * residual * mask / mask.sum()
    assert torch.allclose(lr.grad, expected, atol=1e-6)


def test_step_policy_loss_gradient_is_the_same_for_every_token_of_a_turn():
    lr, mask, traj, reward = two_trajectories()
    values = torch.randn(3, 4)
    oreo.policy_loss_step(lr, mask, traj, reward, values, BETA).backward()
    step_lr = (lr.detach() * mask).sum(-1)
    future = oreo.future_step_sums(step_lr, traj)
    residual = BETA * step_lr + BETA * future + values[:, 0] - reward
    # per trajectory, then over the 2 trajectories: trajectory 0's two turns weigh 1/4 each, trajectory 1's 1/2
    weight = torch.tensor([1 / 4, 1 / 4, 1 / 2])
    expected = (2 * BETA * residual * weight)[:, None] * mask
    assert torch.allclose(lr.grad, expected, atol=1e-6)
    # later turns are held fixed: the first turn's gradient does not depend on the second turn's
    # log-ratio through the future sum (only through its own residual value).
    assert lr.grad[0, 2] == 0 and lr.grad[1, 1] == 0


def test_exact_kl_is_zero_for_equal_models_and_matches_by_hand():
    logits = torch.tensor([[[0.0, math.log(3.0)]]])
    ref = torch.zeros(1, 1, 2)
    mask = torch.ones(1, 1)
    assert oreo.exact_kl(ref, ref, mask).item() == pytest.approx(0.0)
    p = torch.tensor([0.25, 0.75])
    assert oreo.exact_kl(logits, ref, mask).item() == pytest.approx(float((p * (p / 0.5).log()).sum()), rel=1e-5)


def test_dpo_loss_equals_the_closed_form_on_a_hand_computed_pair():
    # policy: chosen -3.0, rejected -5.0; reference: chosen -4.0, rejected -4.5; beta 0.1
    loss, margin = dpo.dpo_loss(torch.tensor([-3.0]), torch.tensor([-5.0]), torch.tensor([-4.0]),
                                torch.tensor([-4.5]), beta=0.1)
    z = 0.1 * ((-3.0 + 4.0) - (-5.0 + 4.5))  # 0.15
    assert margin.item() == pytest.approx(z)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-z)))


def test_simpo_loss_equals_the_closed_form_on_a_hand_computed_pair():
    loss, margin = dpo.simpo_loss(torch.tensor([-6.0]), torch.tensor([-6.0]), torch.tensor([3.0]),
                                  torch.tensor([2.0]), beta=2.0, gamma=0.5)
    z = 2.0 * (-6.0 / 3 - -6.0 / 2) - 0.5  # 1.5
    assert margin.item() == pytest.approx(z)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-z)))


def test_bc_loss_is_the_token_mean_negative_log_likelihood():
    lp = torch.tensor([[-1.0, -2.0], [-3.0, 99.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    assert bc.bc_loss(lp, mask).item() == pytest.approx(2.0)
