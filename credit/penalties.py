"""The invalid-action penalty: one mechanism and one sign for every credit method.

A step whose action was not understood (`valid` False) costs `coef` >= 0, SUBTRACTED from that
row's own score only: it is never discounted back to earlier steps and does not change the other
rows of its trajectory (verl-agent, coef 0.1). `compute_advantages(..., invalid_penalty=coef)`
applies it for every method: methods whose signature takes `invalid_penalty` put it inside
the row's own sample where the reference does (GRPO per="step", GiGPO's step return); every
other method gets it added to the row's final advantage (OSPO included: with two agents in a
minute, a lowered reward would normalise to the same +-1 and only move the fairness term). The env
wrapper `InvalidActionPolicy("penalize", penalty=coef)` uses the same sign on the env reward;
use one of the two, not both. Negative coefficients are refused, so a sign slip cannot turn
the penalty into a bonus.
"""
from __future__ import annotations

import math

import numpy as np

REFERENCE_COEF = 0.1


def check_coef(coef: float) -> float:
    """The coefficient as a float, refusing NaN, infinities and negative values."""
    if isinstance(coef, bool) or not isinstance(coef, (int, float, np.floating, np.integer)):
        raise TypeError(f"invalid-action penalty must be a number >= 0, got {type(coef).__name__}: {coef!r}")
    if not math.isfinite(coef) or coef < 0:
        raise ValueError(f"invalid-action penalty is a coefficient >= 0 that is subtracted from the invalid step's "
                         f"reward (reference 0.1), got {coef!r}")
    return float(coef)


def invalid_penalty(valid: np.ndarray, coef: float = REFERENCE_COEF) -> np.ndarray:
    """Per-row additive penalty: -coef where the action was invalid, 0 elsewhere."""
    return -check_coef(coef) * (1.0 - np.asarray(valid, dtype=np.float64))
