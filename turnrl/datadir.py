"""Where third-party data lives, and how users with internet fetch it.

The project never ships third-party data. Each dataset is looked up, in order, in: an explicit
path (a flag or env option), its own environment variable (e.g. `ALFWORLD_DATA`),
`$TURNRL_DATA/<name>`, and the user cache `~/.cache/turnrl/<name>` (`$XDG_CACHE_HOME` honoured).
`turnrl data download NAME` runs the dataset's downloader into the user cache.

Each env family declares its dataset (a `DatasetSpec`) in its own register.py; `datasets()`
collects them. Specs hold names and a "module:function" downloader only, loaded on use.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    env_var: str | None  # a dataset-specific override, e.g. ALFWORLD_DATA
    downloader: str  # "module:function(target: Path) -> None"
    description: str


class MissingData(FileNotFoundError):
    """A dataset is in none of the places looked in; the message says how to get it."""


def datasets() -> dict[str, DatasetSpec]:
    """Every dataset an env family declares, by name (`alfworld`, `webshop`, `nyc_taxi`)."""
    from turnrl.envs.registration import families  # the families import this module: look up on use

    return {f.dataset.name: f.dataset for f in families().values() if f.dataset is not None}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "turnrl"


def default_dir(name: str) -> Path:
    """Where `download` puts a dataset (and where it is looked for last)."""
    return cache_root() / name


def data_dir(name: str, override: str | os.PathLike | None = None, must_exist: bool = True) -> Path:
    """The directory of dataset `name`; raises MissingData (a FileNotFoundError) saying how to get it."""
    spec = datasets().get(name)
    candidates: list[tuple[str, Path]] = []
    if override:
        candidates.append(("argument", Path(override)))
    if spec and spec.env_var and os.environ.get(spec.env_var):
        candidates.append((f"${spec.env_var}", Path(os.environ[spec.env_var])))
    if os.environ.get("TURNRL_DATA"):
        candidates.append(("$TURNRL_DATA", Path(os.environ["TURNRL_DATA"]) / name))
    candidates.append(("user cache", default_dir(name)))
    for _, path in candidates:
        if path.is_dir():
            return path
    if not must_exist:
        return candidates[0][1]
    tried = ", ".join(f"{src}: {p}" for src, p in candidates)
    hint = f" or set ${spec.env_var}" if spec and spec.env_var else ""
    raise MissingData(f"dataset {name!r} not found (looked in {tried}). "
                      f"Run `turnrl data download {name}`{hint}, or set $TURNRL_DATA to a folder holding {name}/.")


def download(name: str, target: str | os.PathLike | None = None) -> Path:
    spec = datasets().get(name)
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(datasets())}")
    target = Path(target) if target else default_dir(name)
    module, _, attr = spec.downloader.partition(":")
    getattr(importlib.import_module(module), attr)(target)
    return target
