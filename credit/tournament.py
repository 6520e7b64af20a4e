"""Tournament ranking of a group's trajectories (ArenaRL, arXiv 2601.06487).

For open-ended tasks with no checkable reward, a pairwise judge compares candidates. A seeded
single-elimination bracket ranks N candidates with about 2N - 2 judge calls (N - 1 against an
anchor to seed, N - 1 matches), against N(N - 1)/2 for a full round robin. Ranks become rewards
r = 1 - rank / max rank, normalised within the group into advantages.

A judge is any callable judge(a, b) -> float in [0, 1]: the score of `a` against `b` (1: a is
better, 0: b is better, 0.5: tie); `b` scores 1 - judge(a, b). An LLM judge, a scripted score,
a game engine all fit.

The rules follow the ArenaRL reference (Alibaba-NLP/qqr, reward_models/arena):
- seeding: candidates 1..N-1 are judged against candidate 0; candidate 0's seed score is the
  mean of its own scores in those comparisons; seeds sort by mean points, ties by index;
- a candidate's points are all its judged scores, the seeding score included, and their mean
  breaks ties between candidates knocked out in the same round (then the match order);
- a match scored exactly 0.5 goes to the first of the pair (the one earlier in the bracket);
- byes (N not a power of 2), byes="reference": the seeded bracket of the next power of 2 with
  the empty slots removed; each round pairs neighbours, an odd one out at the end advances
  unplayed and is listed first in the next round. byes="top_seeds" (turnrl's earlier rule)
  keeps the empty slots, so the top seeds get the byes of round 1;
- round robin: 1 point per win, 0.5 each for a tie, shared ("min") ranks for equal wins, and
  r = (max rank - rank) / (max rank - 1) (all 0 when everyone ties). scoring="points" is
  turnrl's earlier rule (mean judged score, distinct ranks by candidate order).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from turnrl.batch import StepRows

from ._groups import standardize
from .penalties import invalid_penalty as penalty_of

T = TypeVar("T")
Judge = Callable[[T, T], float]
Mode = Literal["single_elimination", "round_robin"]
Byes = Literal["reference", "top_seeds"]
Scoring = Literal["wins", "points"]


@dataclass
class Ranking:
    """ranks[i]: place of candidate i (0 = best; round robin by wins may share places);
    points[i]: the mean of its judged scores (seeding included)."""

    ranks: np.ndarray
    points: np.ndarray
    judge_calls: int


class _CountingJudge:
    """Wraps a judge: validates every score and counts the calls."""

    def __init__(self, judge: Judge):
        self.judge, self.calls = judge, 0

    def __call__(self, a, b) -> float:
        self.calls += 1
        score = self.judge(a, b)
        if isinstance(score, bool) or not isinstance(score, (int, float, np.floating, np.integer)):
            raise TypeError(f"judge must return a float in [0, 1], got {type(score).__name__}: {score!r}")
        if not 0.0 <= float(score) <= 1.0:  # also rejects NaN
            raise ValueError(f"judge must return a float in [0, 1], got {score!r}")
        return float(score)


def bracket_order(size: int) -> list[int]:
    """Seed positions of a standard bracket of `size` (a power of 2): seed 0 meets seed size-1
    in round 1 and the top two seeds can only meet in the final."""
    order = [0]
    while len(order) < size:
        n = 2 * len(order)
        order = [s for seed in order for s in (seed, n - 1 - seed)]
    return order


def seed_points(candidates: Sequence[T], judge: _CountingJudge, anchor: T | None = None) -> list[list[float]]:
    """Each candidate's seeding score, as the first entry of its list of points.

    Without an explicit anchor, candidate 0 is the anchor (pivot): the others are judged against
    it and its own score is the mean of its scores in those N - 1 comparisons. With an anchor
    (e.g. a greedy rollout outside the group) every candidate is judged against it.
    """
    n = len(candidates)
    points: list[list[float]] = [[] for _ in range(n)]
    if anchor is not None:
        for i, c in enumerate(candidates):
            points[i].append(judge(c, anchor))
        return points
    if n < 2:
        return points
    pivot_scores = []
    for i in range(1, n):
        score = judge(candidates[i], candidates[0])
        points[i].append(score)
        pivot_scores.append(1.0 - score)
    points[0].append(float(np.mean(pivot_scores)))
    return points


def _mean(points: list[float]) -> float:
    return float(np.mean(points)) if points else 0.0


def _bracket(n: int, seeds: list[int], byes: Byes) -> list[int | None]:
    """First-round slots (candidate indices; None: an empty slot with byes="top_seeds")."""
    size = 1
    while size < n:
        size *= 2
    slots = [seeds[pos] if pos < n else None for pos in bracket_order(size)]
    if byes == "reference":
        return [c for c in slots if c is not None]
    if byes == "top_seeds":
        return slots
    raise ValueError(f"byes must be 'reference' or 'top_seeds', got {byes!r}")


def _play_round(alive: list[int | None], play: Callable[[int, int], bool]) -> tuple[list[int | None], list[int]]:
    """One round: (who goes on, in bracket order; who was knocked out, in match order)."""
    advanced: list[int | None] = []
    winners: list[int | None] = []
    losers: list[int] = []
    pairs = len(alive) // 2
    for k in range(pairs):
        a, b = alive[2 * k], alive[2 * k + 1]
        if a is None or b is None:  # an empty slot (top_seeds byes)
            winners.append(a if b is None else b)
            continue
        first_wins = play(a, b)
        winners.append(a if first_wins else b)
        losers.append(b if first_wins else a)
    if len(alive) % 2:  # the odd one out (reference byes): unplayed, listed first next round
        advanced.append(alive[-1])
    return advanced + winners, losers


def single_elimination(candidates: Sequence[T], judge: Judge, anchor: T | None = None,
                       byes: Byes = "reference") -> Ranking:
    """Seeded single-elimination bracket, ranked champion first, then the final's loser, then
    the losers of each earlier round (by mean points, then match order)."""
    n = len(candidates)
    counted = _CountingJudge(judge)
    points = seed_points(candidates, counted, anchor)
    seeds = sorted(range(n), key=lambda i: -_mean(points[i]))  # stable: ties by index

    def play(a: int, b: int) -> bool:
        score = counted(candidates[a], candidates[b])
        points[a].append(score)
        points[b].append(1.0 - score)
        return score >= 1.0 - score

    alive = _bracket(n, seeds, byes)
    knocked_out: list[list[int]] = []
    while len(alive) > 1:
        alive, losers = _play_round(alive, play)
        if losers:
            knocked_out.append(losers)
    order = [c for c in alive if c is not None]
    for losers in reversed(knocked_out):
        order += sorted(losers, key=lambda i: -_mean(points[i]))  # stable: ties by match order
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n)
    return Ranking(ranks, np.array([_mean(p) for p in points]), counted.calls)


def round_robin(candidates: Sequence[T], judge: Judge, scoring: Scoring = "wins") -> Ranking:
    """Every pair judged once.

    scoring="wins" (reference): 1 per won match, 0.5 each for a tie, equal wins share the best
    of their places ("min" ranks). scoring="points": by mean judged score, ties by candidate order.
    """
    n = len(candidates)
    counted = _CountingJudge(judge)
    points_sum, wins = np.zeros(n), np.zeros(n)
    for i in range(n):
        for j in range(i + 1, n):
            score = counted(candidates[i], candidates[j])
            points_sum[[i, j]] += (score, 1.0 - score)
            wins[[i, j]] += (1.0, 0.0) if score > 0.5 else (0.0, 1.0) if score < 0.5 else (0.5, 0.5)
    points = points_sum / max(n - 1, 1)
    if scoring == "wins":
        ranks = np.array([int(np.sum(wins > w)) for w in wins], dtype=np.int64)  # "min" ranks, 0-based
    elif scoring == "points":
        order = np.lexsort((np.arange(n), -points))
        ranks = np.empty(n, dtype=np.int64)
        ranks[order] = np.arange(n)
    else:
        raise ValueError(f"scoring must be 'wins' or 'points', got {scoring!r}")
    return Ranking(ranks, points, counted.calls)


def rank_rewards(ranks: np.ndarray) -> np.ndarray:
    """r = 1 - rank / max rank: 1 for the best, 0 for the worst; all 0 when every rank is equal
    (with distinct ranks this is 1 - rank / (N - 1))."""
    ranks = np.asarray(ranks, dtype=np.float64)
    top = float(ranks.max(initial=0.0))
    return 1.0 - ranks / top if top > 0 else np.zeros(len(ranks))


def tournament(rows: StepRows, judge: Judge[int], mode: Mode = "single_elimination", eps: float = 1e-6,
               ddof: int = 1, byes: Byes = "reference", scoring: Scoring = "wins",
               invalid_penalty: float = 0.0) -> np.ndarray:
    """Tournament advantage of every step row, ranking each group's trajectories.

    The judge receives trajectory indices (rows.traj ids), so it can look the trajectories up in
    whatever form it needs. The group's first trajectory is the seeding anchor (put a greedy
    rollout first to use it as the anchor). A = (r - mean_g r) / (std_g r + eps), minus the
    invalid-action penalty on the invalid step's own row.
    """
    if len(rows) == 0:
        return np.zeros(0)
    per_traj = np.zeros(rows.n_trajectories)
    for g in range(rows.n_groups):
        members = np.flatnonzero(rows.traj_group == g).tolist()
        if mode == "single_elimination":
            ranking = single_elimination(members, judge, None, byes)
        elif mode == "round_robin":
            ranking = round_robin(members, judge, scoring)
        else:
            raise ValueError(f"mode must be 'single_elimination' or 'round_robin', got {mode!r}")
        per_traj[members] = rank_rewards(ranking.ranks)
    advantages = standardize(per_traj, rows.traj_group, rows.n_groups, eps=eps, ddof=ddof, singleton="zero")
    return advantages[rows.traj] + penalty_of(rows.valid, invalid_penalty) if invalid_penalty else advantages[rows.traj]
