"""Registers every environment family. A family adds itself by listing its module here.

Each family's `register.py` registers its ids and declares `FAMILY` (`turnrl.envs.family.EnvFamily`:
its pip extra, prompt text and dataset); `families` and `family_of` read those declarations, so a
new family is one register.py plus one line in `FAMILIES`.

Step limits live in one place: each family registers its ids with `max_episode_steps` (the
env's default episode length), `default_max_steps` reads it (the CLI's default `--max-steps`),
and `make` builds an env with that limit applied by `StepLimit`, which says why it truncated
(`END_STEP_LIMIT`), where Gymnasium's own `make` would add a silent `TimeLimit`.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import gymnasium as gym

from turnrl.envs.family import EnvFamily

FAMILIES = [
    "turnrl.envs.textworld.register",
    "turnrl.envs.alfworld.register",
    "turnrl.envs.webshop.register",
    "turnrl.envs.scienceworld.register",
    "turnrl.envs.rideshare.register",
    "turnrl.envs.games.register",
]


def _import_family(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        # a family not installed in this checkout is skipped; one that is present but
        # fails to import (a missing dependency inside it) must fail loudly
        if not (e.name and module.startswith(e.name)):
            raise
        return None


def register_all() -> None:
    for module in FAMILIES:
        _import_family(module)


def _declared() -> list[tuple[str, EnvFamily]]:
    """(package, declaration) of every family present, in `FAMILIES` order."""
    found = []
    for module in FAMILIES:
        imported = _import_family(module)
        if imported is not None:
            found.append((module.rpartition(".")[0], imported.FAMILY))
    return found


def families() -> dict[str, EnvFamily]:
    """Every built-in family's declaration by name (`alfworld`, ...), in `FAMILIES` order."""
    return {family.name: family for _, family in _declared()}


def family_of(env_id: str | None) -> EnvFamily | None:
    """The built-in family whose package provides `env_id`'s entry point; None for an id that is
    not registered or that a user registered from their own code (`"my.module:me/Env-v0"` too)."""
    if not env_id:
        return None
    spec = gym.registry.get(env_id.rpartition(":")[2])
    if spec is None:
        return None
    entry = spec.entry_point
    module = entry.partition(":")[0] if isinstance(entry, str) else getattr(entry, "__module__", "") or ""
    for package, family in _declared():
        if module == package or module.startswith(package + "."):
            return family
    return None


def turnrl_env_ids() -> list[str]:
    return sorted(k for k in gym.registry if k.startswith("turnrl/"))


def env_spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec; `"some.module:turnrl/X-v0"` imports the module first (as `gym.make` does)."""
    module, sep, name = env_id.rpartition(":")
    if sep:
        importlib.import_module(module)
    try:
        return gym.spec(name if sep else env_id)
    except gym.error.Error as e:  # unknown id or version: a user error, said in Gymnasium's words
        raise ValueError(str(e)) from e


FALLBACK_MAX_STEPS = 50  # for an env registered elsewhere without max_episode_steps


def default_max_steps(env_id: str) -> int:
    """The step limit `env_id` registers (`max_episode_steps`; every turnrl env has one), else 50."""
    limit = env_spec(env_id).max_episode_steps
    return FALLBACK_MAX_STEPS if limit is None else int(limit)


def step_limit(env_id: str, given: int | None = None) -> int:
    """`given` (checked >= 1), else the limit `env_id` registers: the CLI's `--max-steps`."""
    if given is None:
        return default_max_steps(env_id)
    if int(given) < 1:
        raise ValueError(f"the step limit must be >= 1, got {given}")
    return int(given)


def make(env_id: str, max_steps: int | None = None, **kwargs: Any) -> gym.Env:
    """`gym.make(env_id, **kwargs)` wrapped in `StepLimit` instead of Gymnasium's `TimeLimit`, with
    the step limit `max_steps` (or Gymnasium's own `max_episode_steps=` keyword, else the
    registered one). Always wrapped, even with no limit given or registered, so that every env
    honours the limit an episode asks for in its reset options (what `collect` passes)."""
    from turnrl.envs.wrappers import StepLimit

    given = kwargs.pop("max_episode_steps", None)
    limit = max_steps if max_steps is not None else given if given is not None else env_spec(env_id).max_episode_steps
    env = gym.make(env_id, max_episode_steps=-1, **kwargs)  # -1: Gymnasium adds no TimeLimit
    return StepLimit(env, None if limit is None else int(limit))


def check_requirements(env_id: str, env_kwargs: dict[str, Any] | None = None) -> None:
    """Says in one line what `env_id` lacks before any env is built: `MissingExtra` when a module
    its family's extra installs is missing, `MissingData` when its family's dataset is in none of
    the places looked in and no `data_dir=` is given. Ids of no built-in family pass."""
    from turnrl import datadir
    from turnrl.envs.family import missing_extra

    family = family_of(env_id)
    if family is None:
        return
    missing = family.missing_modules()
    if missing and family.extra:
        raise missing_extra(family.name, family.extra, missing[0])
    if family.dataset is not None and not (env_kwargs or {}).get("data_dir"):
        datadir.data_dir(family.dataset.name)
