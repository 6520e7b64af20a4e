"""OSPO: one-step group-relative advantages for many agents acting at once (arXiv 2507.15351).

In fleet dispatch every vehicle matched at the same time step faces the same market, so the
vehicles of one time step form the group: A_i = (r_i - mean_t r) / (std_t r + eps). The
optional fairness term subtracts, for each agent, how much its reward alone would raise the
standard deviation of the whole fleet's cumulative rewards (agents already ahead are
discouraged from taking more).
"""
from __future__ import annotations

import numpy as np

from turnrl.batch import StepRows

from ._groups import check_finite, combine_ids, dense_ids, standardize


def fairness_deltas(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray,
                    n_agents: int | None = None) -> np.ndarray:
    """Per sample: std(C + r_i e_i) - std(C), with C the fleet's cumulative rewards before its step.

    Uses the closed form of the variance after changing one entry, so each time step costs
    O(agents matched then); the loop runs over time steps only.
    """
    agent_ids = np.asarray(agent_ids, dtype=np.int64)
    if agent_ids.shape != rewards.shape:
        raise ValueError(f"agent_ids must have one entry per reward: {agent_ids.shape} vs {rewards.shape}")
    if agent_ids.size and agent_ids.min() < 0:
        raise ValueError("agent_ids must be non-negative")
    n = int(agent_ids.max(initial=-1)) + 1 if n_agents is None else int(n_agents)
    if agent_ids.size and agent_ids.max() >= n:
        raise ValueError(f"agent id {int(agent_ids.max())} out of range for a fleet of {n}")
    cumulative = np.zeros(n)
    total, total_sq = 0.0, 0.0
    deltas = np.zeros(len(rewards))
    order = np.argsort(time_ids, kind="stable")
    cuts = np.flatnonzero(np.diff(np.asarray(time_ids)[order])) + 1
    for idx in np.split(order, cuts) if len(order) else []:
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


def ospo_arrays(time_ids: np.ndarray, rewards: np.ndarray, agent_ids: np.ndarray | None = None,
                fairness: float = 0.0, n_agents: int | None = None, eps: float = 1e-8, ddof: int = 1) -> np.ndarray:
    """OSPO on plain arrays: one sample per (agent, time step) with its one-step reward.

    time_ids: any integers; samples sharing one form a group (an agent alone at its time step
    gets 0). fairness > 0 needs agent_ids (0..n_agents-1) and adds -fairness * delta_std.
    """
    rewards = check_finite(rewards)
    time_ids = np.asarray(time_ids)
    if time_ids.shape != rewards.shape:
        raise ValueError(f"time_ids must have one entry per reward: {time_ids.shape} vs {rewards.shape}")
    if rewards.size == 0:
        return np.zeros(0)
    groups, n_groups = dense_ids(time_ids)
    advantages = standardize(rewards, groups, n_groups, eps=eps, ddof=ddof, singleton="zero")
    if fairness:
        if agent_ids is None:
            raise ValueError("the fairness term needs agent_ids")
        advantages = advantages - fairness * fairness_deltas(time_ids, rewards, agent_ids, n_agents)
    return advantages


def ospo(rows: StepRows, fairness: float = 0.0, eps: float = 1e-8, ddof: int = 1) -> np.ndarray:
    """OSPO on step rows: the trajectories of one episode group are the agents, each row's own
    reward the one-step reward, and `rows.step` (the position in the trajectory) the time step.

    That needs one row per agent per joint time step; agents acting only now and then should
    use `ospo_arrays` with the real time ids (as the dispatch trainer does)."""
    if len(rows) == 0:
        return np.zeros(0)
    time_ids, _ = combine_ids(rows.group, rows.step)
    advantages = ospo_arrays(time_ids, rows.reward, eps=eps, ddof=ddof)
    if fairness:
        for g in range(rows.n_groups):  # each episode is its own fleet
            mine = np.flatnonzero(rows.group == g)
            agents, n_agents = dense_ids(rows.traj[mine])
            advantages[mine] -= fairness * fairness_deltas(rows.step[mine], rows.reward[mine], agents, n_agents)
    return advantages
