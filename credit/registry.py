"""Credit methods by name, so trainer configs select them with a string.

Every method is a plain function `method(rows: StepRows, **params) -> np.ndarray` with one
advantage per step row. `compute_advantages` adds what every method shares: input checks, the
invalid-action penalty (credit/penalties.py) and a finite result.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from turnrl.batch import StepRows

from .gae import gae
from .gdpo import gdpo
from .gigpo import gigpo
from .grpo import grpo
from .ospo import ospo, reward_to_go
from .penalties import check_coef
from .penalties import invalid_penalty as penalty_of
from .rloo import rloo
from .salt import salt
from .tournament import tournament
from .tree import tree

Method = Callable[..., np.ndarray]

_METHODS: dict[str, Method] = {
    "grpo": grpo,
    "rloo": rloo,
    "gigpo": gigpo,
    "salt": salt,
    "gdpo": gdpo,
    "tournament": tournament,
    "ospo": ospo,
    "reward_to_go": reward_to_go,
    "gae": gae,
    "tree": tree,
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


def check_rows(rows: StepRows) -> None:
    """Raises a clear error when `rows` is not a consistent StepRows batch."""
    if not isinstance(rows, StepRows):
        raise TypeError(f"rows must be turnrl.batch.StepRows (see turnrl.batch.to_rows), got {type(rows).__name__}")
    n = len(rows)
    for field in ("group", "traj", "step", "valid", "done", "state_key", "obs_key"):
        if len(getattr(rows, field)) != n:
            raise ValueError(f"StepRows.{field} has {len(getattr(rows, field))} entries, reward has {n}")
    if len(rows.traj_group) != len(rows.traj_return):
        raise ValueError("StepRows.traj_group and traj_return must both have one entry per trajectory")
    if n and (rows.traj.min() < 0 or rows.traj.max() >= rows.n_trajectories):
        raise ValueError("StepRows.traj holds indices outside 0..n_trajectories-1")
    if n and not np.array_equal(rows.group, rows.traj_group[rows.traj]):
        raise ValueError("StepRows.group disagrees with traj_group[traj]")


def takes_penalty(method: Method) -> bool:
    """Whether `method` places the invalid-action penalty itself (inside its own samples)."""
    try:
        return "invalid_penalty" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def compute_advantages(name: str, rows: StepRows, invalid_penalty: float = 0.0, **params) -> np.ndarray:
    """Runs method `name` on `rows` with its keyword parameters; checks input and result.

    invalid_penalty (coefficient >= 0, subtracted; reference 0.1) applies to every method: the
    method places it itself when its signature takes it, else it is added to the invalid row's
    final advantage. A non-finite result (rewards too large to normalise) raises ValueError.
    """
    method = get_method(name)
    check_rows(rows)
    coef = check_coef(invalid_penalty)
    if coef and takes_penalty(method):
        params["invalid_penalty"] = coef
    advantages = np.asarray(method(rows, **params), dtype=np.float64)
    if advantages.shape != (len(rows),):
        raise RuntimeError(f"credit method {name!r} returned shape {advantages.shape}, expected ({len(rows)},)")
    if coef and not takes_penalty(method):
        advantages = advantages + penalty_of(rows.valid, coef)
    if not np.isfinite(advantages).all():
        largest = float(np.abs(rows.traj_return).max(initial=0))
        raise ValueError(f"credit method {name!r} produced non-finite advantages: the rewards are too large "
                         f"(largest |episode return| {largest:.3g}); rescale them")
    return advantages
