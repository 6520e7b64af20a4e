"""Per-step advantages to per-token advantages (every response token of a row gets its value)."""
from __future__ import annotations

import numpy as np


def broadcast_to_tokens(advantages: np.ndarray, response_mask: np.ndarray) -> np.ndarray:
    """(rows,) advantages and a (rows, tokens) 0/1 response mask -> (rows, tokens) advantages.

    Prompt and padding positions (mask 0) get 0. Accepts anything array-like (a CPU torch tensor
    converts through numpy without a copy).
    """
    adv = np.asarray(advantages, dtype=np.float64)
    mask = np.asarray(response_mask)
    if adv.ndim != 1:
        raise ValueError(f"advantages must be 1-D (one per row), got shape {adv.shape}")
    if mask.ndim != 2 or mask.shape[0] != adv.shape[0]:
        raise ValueError(f"response_mask must be (rows={adv.shape[0]}, tokens), got shape {mask.shape}")
    return adv[:, None] * mask.astype(np.float64)


def repeat_per_token(advantages: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flat form for packed sequences: row i's advantage repeated lengths[i] times."""
    adv = np.asarray(advantages, dtype=np.float64)
    lengths = np.asarray(lengths)
    bad_values = lengths.size and (not np.issubdtype(lengths.dtype, np.integer) or lengths.min() < 0)
    if lengths.shape != adv.shape or bad_values:
        raise ValueError(f"lengths must be non-negative integers, one per advantage ({adv.shape}), got {lengths.shape}")
    return np.repeat(adv, lengths)
