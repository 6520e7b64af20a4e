"""Invalid-action penalty, applied the way the GiGPO reference (verl-agent) does.

A step whose action was not understood (`valid` False) gets `coef` subtracted from that row's
own score only; it is not discounted back to earlier steps and does not change the other rows
of its trajectory. The reference uses coef = 0.1; the functions here default to 0 (off) so that
plain calls compute exactly the textbook formula, and trainer configs turn it on.
"""
from __future__ import annotations

import numpy as np

REFERENCE_COEF = 0.1


def invalid_penalty(valid: np.ndarray, coef: float = REFERENCE_COEF) -> np.ndarray:
    """Per-row additive penalty: -coef where the action was invalid, 0 elsewhere."""
    if not np.isfinite(coef) or coef < 0:
        raise ValueError(f"invalid-action penalty coef must be a finite number >= 0, got {coef!r}")
    return -coef * (1.0 - np.asarray(valid, dtype=np.float64))
