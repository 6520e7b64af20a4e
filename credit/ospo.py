"""OSPO: one-step group-relative advantages for many agents acting at once (arXiv 2507.15351).

In fleet dispatch every vehicle matched at the same time step faces the same market, so the
vehicles of one time step form the group: A_i = (r_i - mean_t r) / (std_t r + eps), with the
population standard deviation (ddof 0, numpy's default) as in the reference (RS2002/OSPO).

Fairness, following the reference by default (fairness=1, fairness_rule="shared"): every
agent matched at time step t gets the same term, minus the change that step made to the
standard deviation (ddof 0) of the whole fleet's cumulative rewards. fairness_rule="per_agent"
is turnrl's earlier variant: each agent gets minus the change its own reward alone would make.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from turnrl.batch import StepRows

from ._groups import check_finite, combine_ids, dense_ids, standardize
from .gae import discounted_returns

FairnessRule = Literal["shared", "per_agent"]


def _fleet(agent_ids: np.ndarray, rewards: np.ndarray, n_agents: int | None) -> tuple[np.ndarray, int]:
    """Checked integer agent ids and the fleet size."""
    agent_ids = np.asarray(agent_ids, dtype=np.int64)
    if agent_ids.shape != rewards.shape:
        raise ValueError(f"agent_ids must have one entry per reward: {agent_ids.shape} vs {rewards.shape}")
    if agent_ids.size and agent_ids.min() < 0:
        raise ValueError("agent_ids must be non-negative")
    n = int(agent_ids.max(initial=-1)) + 1 if n_agents is None else int(n_agents)
    if agent_ids.size and agent_ids.max() >= n:
        raise ValueError(f"agent id {int(agent_ids.max())} out of range for a fleet of {n}")
    return agent_ids, n


def _time_steps(time_ids: np.ndarray) -> list[np.ndarray]:
    """Sample indices of each time step, in increasing time."""
    order = np.argsort(time_ids, kind="stable")
    cuts = np.flatnonzero(np.diff(np.asarray(time_ids)[order])) + 1
    return np.split(order, cuts) if len(order) else []


def _population_std(x: np.ndarray) -> float:
    """np.std (ddof 0) without overflow for huge values: scaled by the largest deviation."""
    if x.size == 0 or x.max() == x.min():
        return 0.0  # exactly: a float mean of equal numbers can be off by one ulp
    centred = x - x.mean()
    scale = float(np.abs(centred).max(initial=0.0))
    return scale * float(np.sqrt(np.mean((centred / scale) ** 2))) if scale > 0 else 0.0


def shared_fairness(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray,
                    n_agents: int | None = None) -> np.ndarray:
    """Per sample: std(C_after_t) - std(C_before_t) of its time step t, shared by all its agents.

    C is the fleet's cumulative reward per agent (ddof 0 over all n_agents, unmatched agents
    included), updated with every reward of step t at once (RS2002/OSPO Platform.feedback).
    """
    agent_ids, n = _fleet(agent_ids, rewards, n_agents)
    cumulative = np.zeros(n)
    deltas = np.zeros(len(rewards))
    for idx in _time_steps(time_ids):
        before = _population_std(cumulative)
        cumulative += np.bincount(agent_ids[idx], weights=rewards[idx], minlength=n)
        deltas[idx] = _population_std(cumulative) - before
    return deltas


def fairness_deltas(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray,
                    n_agents: int | None = None) -> np.ndarray:
    """Per sample: std(C + r_i e_i) - std(C), with C the fleet's cumulative rewards before its step
    (the "per_agent" rule).

    Uses the closed form of the variance after changing one entry, so each time step costs
    O(agents matched then); the loop runs over time steps only.
    """
    agent_ids, n = _fleet(agent_ids, rewards, n_agents)
    cumulative = np.zeros(n)
    total, total_sq = 0.0, 0.0
    deltas = np.zeros(len(rewards))
    for idx in _time_steps(time_ids):
        mean = total / n
        var = max(total_sq / n - mean * mean, 0.0)
        d, x = rewards[idx], cumulative[agent_ids[idx]]
        new_var = np.maximum(var + (2 * d * (x - mean) + d * d * (1 - 1 / n)) / n, 0.0)
        deltas[idx] = np.sqrt(new_var) - np.sqrt(var)
        step_total = np.bincount(agent_ids[idx], weights=d, minlength=n)
        total_sq += float(np.sum(2 * cumulative * step_total + step_total ** 2))
        total += float(step_total.sum())
        cumulative += step_total
    return deltas


def fairness_terms(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray, n_agents: int | None,
                   rule: FairnessRule) -> np.ndarray:
    """The change in the fleet's reward spread each sample is charged with, by `rule`."""
    if rule == "shared":
        return shared_fairness(time_ids, rewards, agent_ids, n_agents)
    if rule == "per_agent":
        return fairness_deltas(time_ids, rewards, agent_ids, n_agents)
    raise ValueError(f"fairness_rule must be 'shared' or 'per_agent', got {rule!r}")


def ospo_arrays(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray | None = None,
                fairness: float = 1.0, n_agents: int | None = None, eps: float = 1e-8, ddof: int = 0,
                fairness_rule: FairnessRule = "shared") -> np.ndarray:
    """OSPO on plain arrays: one sample per (agent, time step) with its one-step reward.

    time_ids: any integers; samples sharing one form a group (an agent alone at its time step
    gets 0 before fairness). The fairness term (weight `fairness`, reference 1; 0 turns it off)
    needs agent_ids (0..n_agents-1, n_agents the whole fleet) and subtracts
    fairness * (change in the std of the fleet's cumulative rewards).
    """
    rewards = check_finite(rewards)
    time_ids = np.asarray(time_ids)
    if time_ids.shape != rewards.shape:
        raise ValueError(f"time_ids must have one entry per reward: {time_ids.shape} vs {rewards.shape}")
    if fairness and agent_ids is None:
        raise ValueError("the fairness term (default weight 1, as the reference) needs agent_ids and n_agents; "
                         "pass fairness=0 to leave it out")
    if rewards.size == 0:
        return np.zeros(0)
    groups, n_groups = dense_ids(time_ids)
    advantages = standardize(rewards, groups, n_groups, eps=eps, ddof=ddof, singleton="zero")
    if fairness:
        advantages = advantages - fairness * fairness_terms(time_ids, rewards, agent_ids, n_agents, fairness_rule)
    return advantages


def ospo(rows: StepRows, fairness: float = 1.0, eps: float = 1e-8, ddof: int = 0,
         fairness_rule: FairnessRule = "shared", time: np.ndarray | None = None) -> np.ndarray:
    """OSPO on step rows: the trajectories of one episode group are the agents (the fleet), each
    row's own reward the one-step reward, and the time step `time` per row (default `rows.step`,
    the position in the trajectory).

    Agents acting only now and then (a vehicle matched at some minutes) pass the real minute of
    each row as `time`, so the agents matched in the same minute share a group.
    """
    if len(rows) == 0:
        return np.zeros(0)
    when = rows.step if time is None else np.asarray(time, dtype=np.int64)
    if when.shape != (len(rows),):
        raise ValueError(f"time must have one entry per row ({len(rows)}), got shape {when.shape}")
    reward = rows.reward
    time_ids, _ = combine_ids(rows.group, when)
    advantages = ospo_arrays(time_ids, reward, eps=eps, ddof=ddof, fairness=0.0)
    if fairness:
        for g in range(rows.n_groups):  # each episode is its own fleet
            mine = np.flatnonzero(rows.group == g)
            fleet = int(np.count_nonzero(rows.traj_group == g))
            fleet_ids = np.flatnonzero(rows.traj_group == g)
            agents = np.searchsorted(fleet_ids, rows.traj[mine])
            advantages[mine] -= fairness * fairness_terms(when[mine], reward[mine], agents, fleet, fairness_rule)
    return advantages


def normalized_reward_to_go(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray, gamma: float = 0.99,
                            eps: float = 1e-8, ddof: int = 0) -> np.ndarray:
    """The OSPO paper's GRPO baseline (RS2002/OSPO GRPO/Worker.py): rewards normalised over the
    whole batch ((r - mean) / (std + eps), ddof 0), then each agent's reward-to-go discounted by
    gamma ** (time elapsed to its next sample). time_ids must be times (e.g. minutes)."""
    rewards = check_finite(rewards)
    if rewards.size == 0:
        return np.zeros(0)
    normalized = standardize(rewards, np.zeros(len(rewards), dtype=np.int64), 1, eps=eps, ddof=ddof,
                             singleton="zero")
    agent_ids = np.asarray(agent_ids, dtype=np.int64)
    order_in_agent = np.argsort(np.lexsort((np.asarray(time_ids), agent_ids)), kind="stable")
    times = np.asarray(time_ids, dtype=np.float64)
    return discounted_returns(normalized, agent_ids, order_in_agent, gamma, times=times)


def reward_to_go(rows: StepRows, gamma: float = 0.99, time: np.ndarray | None = None, eps: float = 1e-8,
                 ddof: int = 0) -> np.ndarray:
    """`normalized_reward_to_go` on step rows: each trajectory is an agent, `time` its rows' times
    (default `rows.step`); the OSPO paper's GRPO baseline for fleet dispatch."""
    if len(rows) == 0:
        return np.zeros(0)
    when = rows.step if time is None else np.asarray(time)
    if when.shape != (len(rows),):
        raise ValueError(f"time must have one entry per row ({len(rows)}), got shape {when.shape}")
    return normalized_reward_to_go(when, rows.reward, rows.traj, gamma, eps, ddof)
