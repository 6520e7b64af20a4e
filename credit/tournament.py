"""Tournament ranking of a group's trajectories (ArenaRL, arXiv 2601.06487).

For open-ended tasks with no checkable reward, a pairwise judge compares candidates. A seeded
single-elimination bracket ranks N candidates with about 2N - 2 judge calls (N - 1 against an
anchor to seed, N - 1 matches), against N(N - 1)/2 for a full round robin. Ranks become rewards
r = 1 - rank / (N - 1), normalised within the group into advantages.

A judge is any callable judge(a, b) -> float in [0, 1]: the score of `a` against `b` (1: a is
better, 0: b is better, 0.5: tie). An LLM judge, a scripted score, a game engine all fit.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from turnrl.batch import StepRows

from ._groups import standardize

T = TypeVar("T")
Judge = Callable[[T, T], float]
Mode = Literal["single_elimination", "round_robin"]


@dataclass
class Ranking:
    """ranks[i]: place of candidate i (0 = best, all distinct); points[i]: its mean judged score."""

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


def seed_order(candidates: Sequence[T], judge: _CountingJudge, anchor: T | None,
               rng: np.random.Generator) -> np.ndarray:
    """Candidate indices from best to worst seed, by their score against the anchor.

    Without an explicit anchor candidate 0 is the anchor (scored 0.5 against itself, no call).
    Ties break in a random order drawn from `rng`.
    """
    n = len(candidates)
    scores = np.array([0.5 if anchor is None and i == 0 else judge(c, candidates[0] if anchor is None else anchor)
                       for i, c in enumerate(candidates)])
    tie_break = rng.permutation(n)
    return np.lexsort((tie_break, -scores))


def single_elimination(candidates: Sequence[T], judge: Judge, anchor: T | None = None,
                       rng: np.random.Generator | int | None = 0) -> Ranking:
    """Seeded single-elimination bracket with byes for the top seeds.

    Ranks: champion, final loser, then the losers of each earlier round, ties within a round
    broken by mean match points (then by seed). A match score of exactly 0.5 goes to the better seed.
    """
    n = len(candidates)
    if n == 0:
        return Ranking(np.zeros(0, dtype=np.int64), np.zeros(0), 0)
    counted = _CountingJudge(judge)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    seeds = seed_order(candidates, counted, anchor, rng)
    size = 1 << max(0, math.ceil(math.log2(n)))
    alive = [int(seeds[pos]) if pos < n else None for pos in bracket_order(size)]  # None: a bye
    seed_rank = np.empty(n, dtype=np.int64)
    seed_rank[seeds] = np.arange(n)
    points_sum, matches = np.zeros(n), np.zeros(n)
    out_round = np.full(n, np.iinfo(np.int64).max)  # champion never goes out
    round_no = 0
    while len(alive) > 1:
        winners = []
        for a, b in zip(alive[::2], alive[1::2], strict=True):
            if a is None or b is None:
                winners.append(a if b is None else b)
                continue
            score = counted(candidates[a], candidates[b])
            points_sum[[a, b]] += (score, 1.0 - score)
            matches[[a, b]] += 1
            a_wins = score > 0.5 or (score == 0.5 and seed_rank[a] < seed_rank[b])
            winner, loser = (a, b) if a_wins else (b, a)
            out_round[loser] = round_no
            winners.append(winner)
        alive, round_no = winners, round_no + 1
    points = np.divide(points_sum, matches, out=np.zeros(n), where=matches > 0)
    order = np.lexsort((seed_rank, -points, -out_round))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n)
    return Ranking(ranks, points, counted.calls)


def round_robin(candidates: Sequence[T], judge: Judge) -> Ranking:
    """Every pair judged once; ranked by mean points, ties by candidate order."""
    n = len(candidates)
    counted = _CountingJudge(judge)
    points_sum = np.zeros(n)
    for i in range(n):
        for j in range(i + 1, n):
            score = counted(candidates[i], candidates[j])
            points_sum[[i, j]] += (score, 1.0 - score)
    points = points_sum / max(n - 1, 1)
    order = np.lexsort((np.arange(n), -points))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n)
    return Ranking(ranks, points, counted.calls)


def rank_rewards(ranks: np.ndarray) -> np.ndarray:
    """r = 1 - rank / (N - 1): 1 for the best, 0 for the worst (a lone candidate gets 1)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return 1.0 - ranks / max(len(ranks) - 1, 1)


def tournament(rows: StepRows, judge: Judge[int], mode: Mode = "single_elimination", seed: int = 0,
               eps: float = 1e-6, ddof: int = 1) -> np.ndarray:
    """Tournament advantage of every step row, ranking each group's trajectories.

    The judge receives trajectory indices (rows.traj ids), so it can look the trajectories up in
    whatever form it needs. The group's first trajectory is the seeding anchor (put a greedy
    rollout first to use it as the anchor). A = (r - mean_g r) / (std_g r + eps).
    """
    if len(rows) == 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    per_traj = np.zeros(rows.n_trajectories)
    for g in range(rows.n_groups):
        members = np.flatnonzero(rows.traj_group == g).tolist()
        if mode == "single_elimination":
            ranking = single_elimination(members, judge, None, rng)
        elif mode == "round_robin":
            ranking = round_robin(members, judge)
        else:
            raise ValueError(f"mode must be 'single_elimination' or 'round_robin', got {mode!r}")
        per_traj[members] = rank_rewards(ranking.ranks)
    return standardize(per_traj, rows.traj_group, rows.n_groups, eps=eps, ddof=ddof, singleton="zero")[rows.traj]
