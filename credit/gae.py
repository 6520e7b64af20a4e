"""Discounted returns and Generalized Advantage Estimation (Schulman et al. 2016) over step rows.

Both are backward recursions along each trajectory. They are vectorised across trajectories:
the loop runs over step positions (at most the longest episode), never over rows.
"""
from __future__ import annotations

import numpy as np

from turnrl.batch import StepRows

from ._groups import check_finite, next_row


def backward_recursion(x: np.ndarray, coef: float | np.ndarray, traj: np.ndarray, step: np.ndarray,
                       tail: np.ndarray | None = None) -> np.ndarray:
    """y_t = x_t + coef * y_{t+1} along each trajectory; after the last row y = tail[row].

    coef is one number or one per row (the discount from that row to the next).
    """
    coef = coef if np.isscalar(coef) else np.asarray(coef, dtype=np.float64)
    y = np.zeros(len(x))
    if len(x) == 0:
        return y
    nxt = next_row(traj, step)
    tail = np.zeros(len(x)) if tail is None else tail
    order = np.argsort(step, kind="stable")[::-1]  # later steps first: their successors are done
    sorted_steps = step[order]
    cuts = np.flatnonzero(np.diff(sorted_steps)) + 1
    for rows in np.split(order, cuts):
        following = nxt[rows]
        later = np.where(following >= 0, y[np.maximum(following, 0)], tail[rows])
        y[rows] = x[rows] + (coef if np.isscalar(coef) else coef[rows]) * later
    return y


def discounted_returns(reward: np.ndarray, traj: np.ndarray, step: np.ndarray, gamma: float = 1.0,
                       bootstrap: np.ndarray | None = None, times: np.ndarray | None = None) -> np.ndarray:
    """G_t = r_t + gamma * G_{t+1} per trajectory on flat arrays.

    bootstrap: optional value of the state after each trajectory's last step (indexed by
    trajectory id), for truncated episodes; 0 otherwise.
    times: optional time of each row (e.g. the minute of a vehicle's match); the discount to the
    next row is then gamma ** (time elapsed), G_k = r_k + gamma ** (t_{k+1} - t_k) G_{k+1}, as
    the OSPO paper's GRPO reference (RS2002/OSPO) discounts by the minutes between matches.
    """
    reward = check_finite(reward)
    traj = np.asarray(traj, dtype=np.int64)
    step = np.asarray(step, dtype=np.int64)
    tail = None if bootstrap is None else check_finite(bootstrap, "bootstrap values")[traj]
    coef: float | np.ndarray = gamma
    if times is not None:
        times = check_finite(times, "times")
        if times.shape != reward.shape:
            raise ValueError(f"times must have one entry per reward: {times.shape} vs {reward.shape}")
        nxt = next_row(traj, step)
        elapsed = np.where(nxt >= 0, times[np.maximum(nxt, 0)] - times, 0.0) if len(reward) else times
        if (elapsed < 0).any():
            raise ValueError("times must not decrease along a trajectory")
        coef = gamma ** elapsed
    return backward_recursion(reward, coef, traj, step, tail)


def returns(rows: StepRows, gamma: float = 1.0, bootstrap: np.ndarray | None = None) -> np.ndarray:
    """Discounted reward-to-go of every step row (gamma=1: the undiscounted return-to-go)."""
    return discounted_returns(rows.reward, rows.traj, rows.step, gamma, bootstrap)


def gae_arrays(reward: np.ndarray, values: np.ndarray, traj: np.ndarray, step: np.ndarray, gamma: float = 0.99,
               lam: float = 0.95, bootstrap: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """GAE on flat arrays. Returns (advantages, value targets = advantages + values).

    delta_t = r_t + gamma * V(s_{t+1}) - V(s_t), A_t = delta_t + gamma * lam * A_{t+1}. The value
    after the last step is bootstrap[traj] (pass the critic's value for truncated episodes) or 0.
    """
    reward = check_finite(reward)
    values = check_finite(values, "values")
    if values.shape != reward.shape:
        raise ValueError(f"values must have one entry per row: {values.shape} vs {reward.shape}")
    traj = np.asarray(traj, dtype=np.int64)
    step = np.asarray(step, dtype=np.int64)
    nxt = next_row(traj, step)
    after_last = np.zeros(len(reward)) if bootstrap is None else check_finite(bootstrap, "bootstrap values")[traj]
    next_value = np.where(nxt >= 0, values[np.maximum(nxt, 0)], after_last) if len(reward) else after_last
    delta = reward + gamma * next_value - values
    advantages = backward_recursion(delta, gamma * lam, traj, step)
    return advantages, advantages + values


def gae(rows: StepRows, values: np.ndarray, gamma: float = 0.99, lam: float = 0.95,
        bootstrap: np.ndarray | None = None) -> np.ndarray:
    """GAE advantages of every step row given the critic's value per row (targets: adv + values)."""
    advantages, _ = gae_arrays(rows.reward, values, rows.traj, rows.step, gamma, lam, bootstrap)
    return advantages
