"""Dispatch policy, matching and trainers: softmax per vehicle, Hungarian with no-order columns,
advantages, PPO direction, a short training run per advantage."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from turnrl.agents.dispatch import PairScorer, grouped_log_softmax, match
from turnrl.credit.ospo import normalized_reward_to_go, ospo_arrays
from turnrl.envs.rideshare.offers import RideShareCore
from turnrl.envs.rideshare.sim import RideConfig
from turnrl.trainers.dispatch import (
    DispatchTrainConfig,
    DispatchTrainer,
    collect_episode,
)


def test_grouped_softmax_sums_to_one_with_no_order():
    logits = torch.tensor([1.0, 2.0, -1.0, 0.5])
    groups = torch.tensor([0, 0, 1, 1])
    none = torch.tensor(0.3)
    logp, logp_none, entropy = grouped_log_softmax(logits, groups, 2, none)
    for g, rows in ((0, [0, 1]), (1, [2, 3])):
        p = torch.cat([logp[rows].exp(), logp_none[g].exp()[None]])
        assert p.sum().item() == pytest.approx(1.0, abs=1e-6)
        assert entropy[g].item() == pytest.approx(-(p * p.log()).sum().item(), abs=1e-6)


def _brute_force(scores, none, vehicles, orders):
    best, best_rows = -np.inf, []
    vids = sorted(set(vehicles))
    options = [[None] + [i for i in range(len(scores)) if vehicles[i] == v] for v in vids]
    for pick in itertools.product(*options):
        rows = [r for r in pick if r is not None]
        if len({orders[r] for r in rows}) < len(rows):
            continue
        total = sum(scores[r] for r in rows) + sum(none[k] for k, r in enumerate(pick) if r is None)
        if total > best:
            best, best_rows = total, sorted(rows)
    return best_rows


def test_hungarian_matches_brute_force_and_uses_no_order_columns():
    rng = np.random.default_rng(0)
    for _ in range(20):
        vehicles = rng.integers(0, 4, size=8)
        orders = rng.integers(0, 3, size=8)
        keep = np.unique(np.stack([vehicles, orders], 1), axis=0, return_index=True)[1]
        vehicles, orders = vehicles[keep], orders[keep]
        scores = rng.normal(size=len(vehicles))
        none = rng.normal(size=len(np.unique(vehicles)))
        assert match(scores, none, vehicles, orders) == _brute_force(scores, none, vehicles, orders)
    # a vehicle prefers staying free to a bad order
    assert match(np.array([-5.0]), np.array([-0.1]), np.array([7]), np.array([3])) == []


def test_grpo_advantage_is_normalised_reward_to_go_discounted_per_minute():
    # RS2002/OSPO GRPO: z = (r - mean) / np.std; vehicle 0 matched at minutes 0 and 2, so its
    # first match gets z0 + gamma^2 z1 (the reference's gamma ** delta_t), not z0 + gamma z1
    rewards, vehicles, times = np.array([1.0, 3.0, 2.0]), np.array([0, 0, 1]), np.array([0, 2, 1])
    z = (rewards - 2.0) / rewards.std()
    got = normalized_reward_to_go(times, rewards, vehicles, gamma=0.5)
    assert got == pytest.approx([z[0] + 0.25 * z[1], z[1], z[2]], abs=1e-6)
    assert got[0] == pytest.approx(-1.2247449 + 0.25 * 1.2247449, abs=1e-6)


@pytest.fixture(scope="module")
def small_core(city):
    return RideShareCore(RideConfig(n_vehicles=25, orders_per_hour=500.0, episode_minutes=6), city)


def test_ospo_advantages_are_one_step_groups(small_core):
    trainer = DispatchTrainer(small_core, DispatchTrainConfig(advantage="ospo"))
    batch = collect_episode(small_core, trainer.policy, seed=3)
    adv = trainer.advantages(batch)
    plain = ospo_arrays(batch.minutes, batch.rewards, fairness=0)
    assert len(batch) > 10
    for t in np.unique(batch.minutes):
        now = batch.minutes == t
        if now.sum() > 1:
            assert plain[now].mean() == pytest.approx(0.0, abs=1e-6)
        # the reference's fairness term: one value per minute, the change in the fleet's std (ddof 0)
        shift = plain[now] - adv[now]
        assert shift == pytest.approx(np.full(now.sum(), shift[0]), abs=1e-9)
    cumulative, fleet = np.zeros(small_core.config.n_vehicles), []
    for t in np.unique(batch.minutes):
        before = cumulative.std()
        np.add.at(cumulative, batch.vehicles[batch.minutes == t], batch.rewards[batch.minutes == t])
        fleet.append(cumulative.std() - before)
    shifts = [(plain - adv)[batch.minutes == t][0] for t in np.unique(batch.minutes)]
    assert shifts == pytest.approx(fleet, abs=1e-9)


def test_episode_is_one_trajectory_per_vehicle_and_credit_comes_from_credit(small_core):
    trainer = DispatchTrainer(small_core, DispatchTrainConfig(advantage="grpo", gamma=0.9))
    batch = collect_episode(small_core, trainer.policy, seed=3)
    assert len(batch.trajectories) == small_core.config.n_vehicles  # the whole fleet, matched or not
    assert {t.group_id for t in batch.trajectories} == {"rideshare-3"}
    steps = [s for t in batch.trajectories for s in t.steps]
    assert [s.info["pair"] for s in steps] == batch.chosen.tolist()  # each row points at its chosen pair
    assert all(np.all(np.diff([s.t for s in t.steps]) > 0) for t in batch.trajectories)  # in time order
    assert sum(len(t.steps) for t in batch.trajectories) == batch.metrics["served"]
    expected = normalized_reward_to_go(batch.minutes, batch.rewards, batch.vehicles, gamma=0.9)
    assert trainer.advantages(batch) == pytest.approx(expected)
    critic = DispatchTrainer(small_core, DispatchTrainConfig(advantage="critic"))
    adv = critic.advantages(batch)
    assert adv.mean() == pytest.approx(0.0, abs=1e-9) and adv.std() == pytest.approx(1.0, abs=1e-6)


def test_ppo_update_moves_probability_towards_positive_advantage(small_core):
    trainer = DispatchTrainer(small_core, DispatchTrainConfig(advantage="ospo", lr=1e-3, entropy_coef=0.0, epochs=1))
    batch = collect_episode(small_core, trainer.policy, seed=4)
    adv = np.where(np.arange(len(batch)) % 2 == 0, 1.0, -1.0)
    scorer = trainer.policy.scorer

    def chosen_logp() -> np.ndarray:
        with torch.no_grad():
            logp, _, _ = grouped_log_softmax(scorer(torch.as_tensor(batch.features)), torch.as_tensor(batch.groups),
                                             batch.n_groups, scorer.no_order)
        return logp[torch.as_tensor(batch.chosen)].numpy()

    assert chosen_logp() == pytest.approx(batch.old_logp, abs=1e-5)  # sampling and training agree
    trainer.update(batch, adv)
    delta = chosen_logp() - batch.old_logp
    assert delta[adv > 0].mean() > 0 > delta[adv < 0].mean()


@pytest.mark.parametrize("advantage", ["ospo", "grpo", "critic"])
def test_training_iteration_runs_and_changes_weights(small_core, advantage):
    trainer = DispatchTrainer(small_core, DispatchTrainConfig(advantage=advantage, lr=1e-3, fairness=0.1, epochs=1))
    before = [p.detach().clone() for p in trainer.policy.scorer.parameters()]
    stats = trainer.iteration(seed=1)
    assert stats["samples"] == stats["served"] > 0 and np.isfinite(stats["policy_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.policy.scorer.parameters()))


def test_unknown_advantage_rejected():
    with pytest.raises(ValueError, match="advantage"):
        DispatchTrainConfig(advantage="magic")


def test_scorer_shape():
    scorer = PairScorer()
    sizes = [tuple(p.shape) for p in scorer.mlp.parameters()]
    assert sizes == [(128, 28), (128,), (128, 128), (128,), (1, 128), (1,)]
