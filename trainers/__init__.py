"""Trainers: turn per-step advantages into new policy weights (PyTorch).

Python API: `from turnrl.trainers import TrainConfig, Trainer, train`. Names load lazily so that
reading a config does not import torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"TrainConfig": "turnrl.trainers.config", "Trainer": "turnrl.trainers.trainer",
            "train": "turnrl.trainers.trainer", "run_demo": "turnrl.trainers.demo"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'turnrl.trainers' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
