"""One dispatch round as every view sees it: the offered pairs, their features, and applying a choice.

All three views (central gym, PettingZoo, text) go through `RideShareCore`, so they share one
validation path and the same reward and metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from turnrl.envs.rideshare.city import City, load_city
from turnrl.envs.rideshare.features import N_FEATURES, pair_features
from turnrl.envs.rideshare.sim import Insertion, RideConfig, RideSim


@dataclass
class Offer:
    """The candidate (vehicle, order) pairs of one step; row i of every array is pair i."""

    insertions: list[Insertion]
    features: np.ndarray  # [pairs, 28] float32
    vehicles: np.ndarray  # [pairs] vehicle ids
    orders: np.ndarray  # [pairs] order ids
    time: int  # the step (minute) these pairs belong to

    def __len__(self) -> int:
        return len(self.insertions)

    @property
    def pair_set(self) -> set[tuple[int, int]]:
        return set(zip(self.vehicles.tolist(), self.orders.tolist()))


@dataclass
class RoundResult:
    matched: list[int]  # indices into the offer
    rewards: list[float]  # one per matched pair
    reason: str | None  # why the assignment was rejected (then nothing was matched)


class RideShareCore:
    """A simulator plus the offer of its current step."""

    def __init__(self, config: RideConfig | None = None, city: City | None = None,
                 data_dir: str | Path | None = None):
        self.sim = RideSim(city if city is not None else load_city(data_dir), config)
        self.offer = self._empty_offer()

    @property
    def config(self) -> RideConfig:
        return self.sim.config

    def _empty_offer(self) -> Offer:
        return Offer([], np.zeros((0, N_FEATURES), np.float32), np.zeros(0, int), np.zeros(0, int), 0)

    def _make_offer(self) -> Offer:
        if self.sim.done:
            return self._empty_offer()
        insertions = [ins for v, o in self.sim.candidate_pairs() if (ins := self.sim.best_insertion(v, o))]
        return Offer(insertions, pair_features(self.sim, insertions),
                     np.array([i.vehicle for i in insertions], dtype=int),
                     np.array([i.order for i in insertions], dtype=int), self.sim.minute)

    def reset(self, seed: int | None = None) -> Offer:
        self.sim.reset(seed)
        self.offer = self._make_offer()
        return self.offer

    def step(self, chosen: list[int]) -> RoundResult:
        """Match the offered pairs at indices `chosen` (all or nothing), then advance one minute."""
        if self.sim.done:
            raise RuntimeError("the episode is over; call reset() first")
        reason = self.check(chosen)
        matched = [] if reason else sorted(set(chosen))
        rewards = self.sim.apply([self.offer.insertions[i] for i in matched])
        if reason:
            self.sim.log["invalid"] += 1
        self.sim.advance()
        self.offer = self._make_offer()
        return RoundResult(matched, rewards, reason)

    def check(self, chosen: list[int]) -> str | None:
        """Why indices `chosen` are not a valid matching of the current offer, or None."""
        n = len(self.offer)
        bad = [i for i in chosen if not isinstance(i, (int, np.integer)) or not 0 <= i < n]
        if bad:
            return f"pair index {bad[0]!r} is not in the offer (0..{n - 1})"
        if len(set(chosen)) != len(chosen):
            return "a pair is chosen twice"
        pairs = [(int(self.offer.vehicles[i]), int(self.offer.orders[i])) for i in chosen]
        return self.sim.check_assignment(pairs, self.offer.pair_set)
