"""Dispatch policies for the ride-sharing market: the learned pair scorer and two baselines.

All of them read an offer (the step's candidate pairs: `features` [P, 28], `vehicles` [P],
`orders` [P], `insertions[i].pickup_min`) and return the indices of the pairs to match, one
order per vehicle and one vehicle per order.

The learned policy (arXiv 2507.15351): an MLP scores every pair (28 -> 128 -> 128 -> 1,
LeakyReLU); per vehicle, a softmax over its candidate orders and a learned "no order" logit
gives pi(order | vehicle); the matching maximises the summed log-probabilities with scipy's
`linear_sum_assignment`, where every vehicle also has its own "no order" column. Sampling for
training adds Gumbel noise to the log-probabilities before matching (perturb-and-match).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

N_FEATURES = 28
_FORBIDDEN = 1e9  # cost of a (vehicle, order) cell that is not offered


class OfferLike(Protocol):
    features: np.ndarray
    vehicles: np.ndarray
    orders: np.ndarray
    insertions: list


class PairScorer(nn.Module):
    """Logit of each (vehicle, order) pair, plus one learned logit for "no order"."""

    def __init__(self, n_features: int = N_FEATURES, hidden: int = 128):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_features, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(), nn.Linear(hidden, 1))
        self.no_order = nn.Parameter(torch.zeros(()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features).squeeze(-1)


def grouped_log_softmax(logits: torch.Tensor, groups: torch.Tensor, n_groups: int, none_logit: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per group (one vehicle at one step): log pi of each pair, log pi of "no order", entropy.

    Each group's distribution is over its pairs plus the shared "no order" logit.
    """
    top = torch.full((n_groups,), -torch.inf, dtype=logits.dtype).scatter_reduce(0, groups, logits, "amax")
    top = torch.maximum(top, none_logit.detach().expand(n_groups))
    exp = torch.exp(logits - top[groups])
    total = torch.zeros(n_groups, dtype=logits.dtype).index_add(0, groups, exp) + torch.exp(none_logit - top)
    log_z = top + torch.log(total)
    logp = logits - log_z[groups]
    logp_none = none_logit - log_z
    plogp = torch.zeros(n_groups, dtype=logits.dtype).index_add(0, groups, torch.exp(logp) * logp)
    entropy = -(plogp + torch.exp(logp_none) * logp_none)
    return logp, logp_none, entropy


def match(pair_scores: np.ndarray, none_scores: np.ndarray, vehicles: np.ndarray, orders: np.ndarray) -> list[int]:
    """Pairs maximising the summed score, each vehicle matched once or to its "no order" column.

    pair_scores [P]; none_scores [V] indexed by the dense vehicle index (order of first appearance
    in np.unique(vehicles)).
    """
    if len(pair_scores) == 0:
        return []
    vids, v_idx = np.unique(vehicles, return_inverse=True)
    oids, o_idx = np.unique(orders, return_inverse=True)
    n_v, n_o = len(vids), len(oids)
    cost = np.full((n_v, n_o + n_v), _FORBIDDEN)
    cost[v_idx, o_idx] = -pair_scores
    cost[np.arange(n_v), n_o + np.arange(n_v)] = -none_scores
    rows, cols = linear_sum_assignment(cost)
    row_of_pair = {(v, o): i for i, (v, o) in enumerate(zip(v_idx.tolist(), o_idx.tolist()))}
    return sorted(row_of_pair[(r, c)] for r, c in zip(rows.tolist(), cols.tolist())
                  if c < n_o and cost[r, c] < _FORBIDDEN)


class DispatchPolicy:
    """The scorer plus matching: `choose(offer)` for evaluation, `sample(offer)` for training."""

    def __init__(self, scorer: PairScorer | None = None, seed: int = 0):
        self.scorer = scorer or PairScorer()
        self.rng = np.random.default_rng(seed)

    @torch.no_grad()
    def log_probs(self, offer: OfferLike) -> tuple[np.ndarray, np.ndarray]:
        """log pi(order | vehicle) per pair and log pi(no order) per dense vehicle index."""
        _, groups = np.unique(offer.vehicles, return_inverse=True)
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        logits = self.scorer(torch.as_tensor(offer.features, dtype=torch.float32))
        logp, logp_none, _ = grouped_log_softmax(logits, torch.as_tensor(groups), n_groups, self.scorer.no_order)
        return logp.numpy(), logp_none.numpy()

    def choose(self, offer: OfferLike) -> list[int]:
        if len(offer.vehicles) == 0:
            return []
        logp, logp_none = self.log_probs(offer)
        return match(logp, logp_none, offer.vehicles, offer.orders)

    def sample(self, offer: OfferLike) -> tuple[list[int], np.ndarray]:
        """A stochastic matching (Gumbel-perturbed log-probs) and the log-prob of every offered pair."""
        if len(offer.vehicles) == 0:
            return [], np.zeros(0)
        logp, logp_none = self.log_probs(offer)
        noisy = logp + self.rng.gumbel(size=logp.shape)
        noisy_none = logp_none + self.rng.gumbel(size=logp_none.shape)
        return match(noisy, noisy_none, offer.vehicles, offer.orders), logp


def greedy_nearest(offer: OfferLike) -> list[int]:
    """Baseline: take pairs by shortest pickup first, skipping vehicles and orders already used."""
    pickup = np.array([ins.pickup_min for ins in offer.insertions])
    return _first_free(offer, np.argsort(pickup, kind="stable"))


class RandomDispatcher:
    """Baseline: pairs in random order, each taken if its vehicle and order are still free."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, offer: OfferLike) -> list[int]:
        return _first_free(offer, self.rng.permutation(len(offer.vehicles)))


def _first_free(offer: OfferLike, order: np.ndarray) -> list[int]:
    used_v, used_o, chosen = set(), set(), []
    for i in order.tolist():
        v, o = int(offer.vehicles[i]), int(offer.orders[i])
        if v not in used_v and o not in used_o:
            used_v.add(v)
            used_o.add(o)
            chosen.append(i)
    return sorted(chosen)
