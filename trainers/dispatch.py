"""Training the ride-sharing dispatch policy with PPO-clip: OSPO, GRPO and critic advantages.

One iteration: play one episode with the sampling policy (perturb-and-match over the learned
per-vehicle softmax), record it as Trajectories, compute advantages with `turnrl.credit`, then a
few epochs of full-batch PPO-clip (trainers.losses.clipped_policy_loss, clip range [0.8, 1.28])
with an entropy bonus on every vehicle's distribution that step.

The episode model: one `Trajectory` per vehicle of the fleet (all of it, so the fleet-wide
fairness term sees the vehicles never matched), all in one group (the episode); a vehicle's steps
are its matches in time order, each with the match's reward and `Step.t` = the minute. Per
decision would split a vehicle's reward-to-go over many trajectories; per vehicle keeps it one
backward recursion. The offered pairs (every vehicle's softmax needs them all) stay beside the
trajectories as tensors, and each step row points at its chosen pair.

Advantages (arXiv 2507.15351), each a `turnrl.credit.compute_advantages` method on the rows,
defaults as the reference (RS2002/OSPO):
- `ospo` -> credit "ospo" with the real minutes as time: one-step group-relative reward over
  the vehicles matched in the same minute (population std), minus the fairness term shared by
  that minute's vehicles (the change in the std of the fleet's cumulative rewards, weight 1);
- `grpo` -> credit "reward_to_go": rewards normalised over the batch (population std), each
  vehicle's reward-to-go discounted by gamma ** (minutes to its next match) (gamma 0.99);
- `critic` -> credit "gae" with lambda 1 (discounted return minus a learned value of the matched
  pair, same MLP shape), normalised over the batch.

`train_dispatch(config)` runs a whole training from a `DispatchTrainConfig` (YAML: `turnrl dispatch`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from turnrl.agents.dispatch import DispatchPolicy, PairScorer, grouped_log_softmax
from turnrl.batch import StepRows, to_rows
from turnrl.credit import compute_advantages, returns
from turnrl.credit.gdpo import batch_normalize
from turnrl.trainers.losses import clipped_policy_loss
from turnrl.trainers.yaml_config import YamlConfig
from turnrl.types import Step, Trajectory

ADVANTAGES = ("ospo", "grpo", "critic")


@dataclass
class DispatchTrainConfig(YamlConfig):
    """Defaults are the paper's (PPO-clip [0.8, 1.28], entropy 0.05, grad clip 1, Adam 1e-5); the
    run settings below them are what `turnrl dispatch` uses."""

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

    # ---- the run (turnrl dispatch) ----
    n_vehicles: int = 1000
    orders_per_hour: float = 8000.0
    episode_minutes: int = 30
    iterations: int = 8  # training episodes, demand seeds 0..iterations-1
    eval_seeds: int = 2  # held-out demand seeds eval_seed_offset, eval_seed_offset + 1, ...
    eval_seed_offset: int = 10_000
    data_dir: str | None = None  # folder holding nyc_taxi/ (default: $TURNRL_DATA)
    out_dir: str = "runs/dispatch"
    threads: int = 1

    def __post_init__(self) -> None:
        if self.advantage not in ADVANTAGES:
            raise ValueError(f"advantage must be one of {ADVANTAGES}, got {self.advantage!r}")
        if self.iterations < 0 or self.eval_seeds < 0:
            raise ValueError("iterations and eval_seeds must be >= 0")


@dataclass
class DispatchEpisode:
    """One episode: the fleet's trajectories (what credit sees) and the offered pairs (what the
    softmax needs). `chosen[i]` / `old_logp[i]` belong to step row i of `rows`."""

    trajectories: list[Trajectory]
    features: np.ndarray  # [pairs, 28]
    groups: np.ndarray  # [pairs] dense id of (minute, vehicle)
    n_groups: int
    chosen: np.ndarray  # [rows] pair of each match
    old_logp: np.ndarray  # [rows]
    metrics: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.chosen)

    @cached_property
    def rows(self) -> StepRows:
        return to_rows(self.trajectories)

    @property
    def minutes(self) -> np.ndarray:
        """Minute of each row's match (the time OSPO groups by and GRPO discounts over)."""
        return np.fromiter((s.t for t in self.trajectories for s in t.steps), dtype=np.int64, count=len(self))

    @property
    def rewards(self) -> np.ndarray:
        return self.rows.reward

    @property
    def vehicles(self) -> np.ndarray:
        return self.rows.traj


def fleet_trajectories(matches: list[list[tuple[int, int, int, float, float]]], seed: int) -> list[Trajectory]:
    """One trajectory per vehicle from its (minute, order, pair, reward, log-prob) matches."""
    group = f"rideshare-{seed}"
    return [Trajectory(task_id=group, seed=seed, group_id=group, player_id=f"vehicle-{v}", steps=[
        Step(observation=f"minute {minute}", action=f"order {order}", reward=reward, t=minute, info={"pair": pair})
        for minute, order, pair, reward, _ in mine]) for v, mine in enumerate(matches)]


def collect_episode(core, policy: DispatchPolicy, seed: int) -> DispatchEpisode:
    """Play one episode of `core` (a RideShareCore) with the sampling policy."""
    core.reset(seed)
    matches: list[list[tuple[int, int, int, float, float]]] = [[] for _ in range(core.config.n_vehicles)]
    feats, groups = [], []
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
        for i, reward in zip(result.matched, result.rewards, strict=True):
            vehicle = int(offer.vehicles[i])
            matches[vehicle].append((offer.time, int(offer.orders[i]), n_rows + i, float(reward), float(logp[i])))
        n_rows += len(offer)
        n_groups += int(dense.max()) + 1 if len(dense) else 0
    empty = np.zeros((0, feats[0].shape[1] if feats else 28), np.float32)
    in_rows = [m for mine in matches for m in mine]  # to_rows order: vehicle by vehicle, in time
    return DispatchEpisode(fleet_trajectories(matches, seed), np.concatenate(feats) if feats else empty,
                           np.concatenate(groups) if groups else np.zeros(0, int), n_groups,
                           np.array([m[2] for m in in_rows], dtype=int), np.array([m[4] for m in in_rows]),
                           core.sim.metrics())


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

    def advantages(self, batch: DispatchEpisode) -> np.ndarray:
        """One advantage per match (step row), from `turnrl.credit`."""
        cfg = self.config
        if len(batch) == 0:
            return np.zeros(0)
        if cfg.advantage == "ospo":
            return compute_advantages("ospo", batch.rows, time=batch.minutes, fairness=cfg.fairness,
                                      fairness_rule=cfg.fairness_rule)
        if cfg.advantage == "grpo":
            return compute_advantages("reward_to_go", batch.rows, time=batch.minutes, gamma=cfg.gamma)
        with torch.no_grad():
            values = self.critic(torch.as_tensor(batch.features[batch.chosen])).numpy().astype(np.float64)
        self._fit_critic(batch, returns(batch.rows, cfg.gamma))
        return batch_normalize(compute_advantages("gae", batch.rows, values=values, gamma=cfg.gamma, lam=1.0),
                               eps=1e-8, ddof=0)

    def _fit_critic(self, batch: DispatchEpisode, targets: np.ndarray) -> None:
        x, y = torch.as_tensor(batch.features[batch.chosen]), torch.as_tensor(targets, dtype=torch.float32)
        for _ in range(self.config.epochs):
            loss = torch.mean((self.critic(x) - y) ** 2)
            self.critic_optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.config.grad_clip)
            self.critic_optimizer.step()

    def update(self, batch: DispatchEpisode, advantages: np.ndarray) -> dict[str, float]:
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


def evaluate_dispatch(core, choose: Callable, seeds: list[int]) -> dict[str, float]:
    """Mean episode metrics of a dispatcher `choose(offer) -> pairs` over demand seeds."""
    runs = []
    for seed in seeds:
        core.reset(seed)
        while not core.sim.done:
            core.step(choose(core.offer))
        runs.append(core.sim.metrics())
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]} if runs else {}


def train_dispatch(config: DispatchTrainConfig, on_iteration: Callable[[int, dict], None] | None = None
                   ) -> dict[str, Any]:
    """A whole run: `iterations` training episodes, metrics to out_dir/metrics.jsonl, the held-out
    evaluation of the deterministic policy, and the scorer's weights in out_dir/policy.pt."""
    from turnrl.envs.rideshare.city import load_city
    from turnrl.envs.rideshare.offers import RideShareCore
    from turnrl.envs.rideshare.sim import RideConfig
    from turnrl.trainers.metrics import MetricsLogger

    torch.set_num_threads(config.threads)
    core = RideShareCore(RideConfig(n_vehicles=config.n_vehicles, orders_per_hour=config.orders_per_hour,
                                    episode_minutes=config.episode_minutes), load_city(config.data_dir))
    trainer = DispatchTrainer(core, config)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
    logger = MetricsLogger(out_dir, tensorboard=False)
    try:
        for it in range(config.iterations):
            metrics = trainer.iteration(seed=it)
            logger.log(it, metrics)
            if on_iteration is not None:
                on_iteration(it, metrics)
    finally:
        logger.close()
    seeds = [config.eval_seed_offset + i for i in range(config.eval_seeds)]
    evaluation = evaluate_dispatch(core, trainer.policy.choose, seeds)
    torch.save(trainer.policy.scorer.state_dict(), out_dir / "policy.pt")
    return {"eval": evaluation, "eval_seeds": seeds, "policy": str(out_dir / "policy.pt")}
