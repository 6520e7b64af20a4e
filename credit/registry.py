"""Credit methods by name, so trainer configs select them with a string.

Every method is a plain function `method(rows: StepRows, **params) -> np.ndarray` with one
advantage per step row.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from turnrl.batch import StepRows

from .gae import gae
from .gdpo import gdpo
from .gigpo import gigpo
from .grpo import grpo
from .ospo import ospo
from .rloo import rloo
from .salt import salt
from .tournament import tournament

Method = Callable[..., np.ndarray]

_METHODS: dict[str, Method] = {
    "grpo": grpo,
    "rloo": rloo,
    "gigpo": gigpo,
    "salt": salt,
    "gdpo": gdpo,
    "tournament": tournament,
    "ospo": ospo,
    "gae": gae,
}


def register_method(name: str, fn: Method, overwrite: bool = False) -> None:
    """Adds a method under `name` (refuses to replace one unless overwrite=True)."""
    if name in _METHODS and not overwrite:
        raise ValueError(f"credit method {name!r} is already registered")
    _METHODS[name] = fn


def list_methods() -> list[str]:
    return sorted(_METHODS)


def get_method(name: str) -> Method:
    try:
        return _METHODS[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown credit method {name!r}; known: {', '.join(list_methods())}") from None


def compute_advantages(name: str, rows: StepRows, **params) -> np.ndarray:
    """Runs method `name` on `rows` with its keyword parameters; checks the result's shape."""
    advantages = np.asarray(get_method(name)(rows, **params), dtype=np.float64)
    if advantages.shape != (len(rows),):
        raise RuntimeError(f"credit method {name!r} returned shape {advantages.shape}, expected ({len(rows)},)")
    return advantages
