"""Registers every environment family. A family adds itself by listing its module here."""
from __future__ import annotations

import importlib

import gymnasium as gym

FAMILIES = [
    "turnrl.envs.textworld.register",
    "turnrl.envs.alfworld.register",
    "turnrl.envs.webshop.register",
    "turnrl.envs.scienceworld.register",
    "turnrl.envs.rideshare.register",
    "turnrl.envs.games.register",
]


def register_all() -> None:
    for module in FAMILIES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            # a family not installed in this checkout is skipped; one that is present but
            # fails to import (a missing dependency inside it) must fail loudly
            if not (e.name and module.startswith(e.name)):
                raise


def turnrl_env_ids() -> list[str]:
    return sorted(k for k in gym.registry if k.startswith("turnrl/"))
