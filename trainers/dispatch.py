"""Training the ride-sharing dispatch policy with PPO-clip: OSPO, GRPO and critic advantages.

One iteration: play one episode with the sampling policy (perturb-and-match over the learned
per-vehicle softmax), keep every matched (vehicle, order) pair as a sample with its per-match
reward and log-prob, compute advantages, then a few epochs of full-batch PPO-clip
(trainers.losses.clipped_policy_loss, clip range [0.8, 1.28]) with an entropy bonus on every
vehicle's distribution that step.

Advantages (arXiv 2507.15351), all from `turnrl.credit`, defaults as the reference (RS2002/OSPO):
- `ospo`: one-step group-relative reward over the vehicles matched at the same minute
  (population std), minus the fairness term shared by that minute's vehicles: the change in the
  std of the fleet's cumulative rewards, weight 1 (`fairness`, `fairness_rule`);
- `grpo`: rewards normalised over the batch (population std), then each vehicle's reward-to-go
  discounted by gamma ** (minutes to its next match) (credit.ospo.normalized_reward_to_go, gamma 0.99);
- `critic`: PPO with a learned value of the matched pair (same MLP shape) as the baseline of the
  raw discounted reward-to-go, advantages normalised over the batch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from turnrl.agents.dispatch import DispatchPolicy, PairScorer, grouped_log_softmax
from turnrl.credit.gae import discounted_returns
from turnrl.credit.ospo import normalized_reward_to_go, ospo_arrays
from turnrl.trainers.losses import clipped_policy_loss

ADVANTAGES = ("ospo", "grpo", "critic")


@dataclass
class DispatchTrainConfig:
    """Defaults are the paper's (PPO-clip [0.8, 1.28], entropy 0.05, grad clip 1, Adam 1e-5)."""

    advantage: str = "ospo"
    fairness: float = 1.0  # OSPO's fairness weight (reference 1; 0: off)
    fairness_rule: str = "shared"  # "shared" (reference) or "per_agent" (see credit/ospo.py)
    gamma: float = 0.99
    lr: float = 1e-5
    critic_lr: float = 1e-4
    clip_low: float = 0.2
    clip_high: float = 0.28
    entropy_coef: float = 0.05
    grad_clip: float = 1.0
    epochs: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.advantage not in ADVANTAGES:
            raise ValueError(f"advantage must be one of {ADVANTAGES}, got {self.advantage!r}")


@dataclass
class EpisodeBatch:
    """One episode's samples. Pair rows hold every offered pair (the softmax needs them all)."""

    features: np.ndarray  # [pairs, 28]
    groups: np.ndarray  # [pairs] dense id of (minute, vehicle)
    n_groups: int
    chosen: np.ndarray  # [matches] rows of the matched pairs
    old_logp: np.ndarray  # [matches]
    rewards: np.ndarray  # [matches]
    times: np.ndarray  # [matches] minute of the match
    vehicles: np.ndarray  # [matches]
    metrics: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.chosen)


def collect_episode(core, policy: DispatchPolicy, seed: int) -> EpisodeBatch:
    """Play one episode of `core` (a RideShareCore) with the sampling policy."""
    core.reset(seed)
    feats, groups, chosen, old_logp, rewards, times, vehicles = [], [], [], [], [], [], []
    n_rows = n_groups = 0
    while not core.sim.done:
        offer = core.offer
        picks, logp = policy.sample(offer)
        _, dense = np.unique(offer.vehicles, return_inverse=True)
        result = core.step(picks)
        if result.reason:
            raise RuntimeError(f"the policy produced an invalid matching: {result.reason}")
        feats.append(offer.features)
        groups.append(dense + n_groups)
        chosen.extend(n_rows + i for i in result.matched)
        old_logp.extend(logp[result.matched].tolist())
        rewards.extend(result.rewards)
        times.extend([offer.time] * len(result.matched))
        vehicles.extend(offer.vehicles[result.matched].tolist())
        n_rows += len(offer)
        n_groups += int(dense.max()) + 1 if len(dense) else 0
    empty = np.zeros((0, feats[0].shape[1] if feats else 28), np.float32)
    return EpisodeBatch(np.concatenate(feats) if feats else empty,
                        np.concatenate(groups) if groups else np.zeros(0, int), n_groups,
                        np.asarray(chosen, int), np.asarray(old_logp), np.asarray(rewards),
                        np.asarray(times, int), np.asarray(vehicles, int), core.sim.metrics())


class DispatchTrainer:
    """PPO-clip on the dispatch policy with the advantage named in the config."""

    def __init__(self, core, config: DispatchTrainConfig | None = None, policy: DispatchPolicy | None = None):
        self.core, self.config = core, config or DispatchTrainConfig()
        torch.manual_seed(self.config.seed)
        self.policy = policy or DispatchPolicy(PairScorer(), seed=self.config.seed)
        self.optimizer = torch.optim.Adam(self.policy.scorer.parameters(), lr=self.config.lr)
        self.critic: PairScorer | None = None
        if self.config.advantage == "critic":
            self.critic = PairScorer()
            self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=self.config.critic_lr)

    def advantages(self, batch: EpisodeBatch) -> np.ndarray:
        cfg = self.config
        if len(batch) == 0:
            return np.zeros(0)
        if cfg.advantage == "ospo":
            return ospo_arrays(batch.times, batch.rewards, batch.vehicles, fairness=cfg.fairness,
                               n_agents=self.core.config.n_vehicles, fairness_rule=cfg.fairness_rule)
        if cfg.advantage == "grpo":
            return normalized_reward_to_go(batch.times, batch.rewards, batch.vehicles, cfg.gamma)
        returns = discounted_returns(batch.rewards, batch.vehicles, batch.times, cfg.gamma)
        with torch.no_grad():
            values = self.critic(torch.as_tensor(batch.features[batch.chosen])).numpy()
        self._fit_critic(batch, returns)
        adv = returns - values
        return (adv - adv.mean()) / (adv.std() + 1e-8)

    def _fit_critic(self, batch: EpisodeBatch, returns: np.ndarray) -> None:
        x, y = torch.as_tensor(batch.features[batch.chosen]), torch.as_tensor(returns, dtype=torch.float32)
        for _ in range(self.config.epochs):
            loss = torch.mean((self.critic(x) - y) ** 2)
            self.critic_optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.config.grad_clip)
            self.critic_optimizer.step()

    def update(self, batch: EpisodeBatch, advantages: np.ndarray) -> dict[str, float]:
        """Full-batch PPO-clip epochs; returns the last epoch's loss terms."""
        cfg, scorer = self.config, self.policy.scorer
        if len(batch) == 0:
            return {"policy_loss": 0.0, "entropy": 0.0, "clip_frac": 0.0}
        features, groups = torch.as_tensor(batch.features), torch.as_tensor(batch.groups)
        chosen, old = torch.as_tensor(batch.chosen), torch.as_tensor(batch.old_logp, dtype=torch.float32)
        adv = torch.as_tensor(advantages, dtype=torch.float32)
        for _ in range(cfg.epochs):
            logp, _, entropy = grouped_log_softmax(scorer(features), groups, batch.n_groups, scorer.no_order)
            pg, clipped = clipped_policy_loss(logp[chosen], old, adv, cfg.clip_low, cfg.clip_high)
            loss = pg.mean() - cfg.entropy_coef * entropy.mean()
            self.optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(scorer.parameters(), cfg.grad_clip)
            self.optimizer.step()
        return {"policy_loss": pg.mean().item(), "entropy": entropy.mean().item(), "clip_frac": clipped.mean().item()}

    def iteration(self, seed: int) -> dict[str, float]:
        """Collect one episode, compute advantages, update; returns episode and loss figures."""
        start = time.perf_counter()
        batch = collect_episode(self.core, self.policy, seed)
        stats = self.update(batch, self.advantages(batch))
        return {**batch.metrics, **stats, "samples": len(batch), "seconds": time.perf_counter() - start}
