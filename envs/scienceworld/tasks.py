"""The 30 ScienceWorld tasks and their train / dev / test variations, as ScienceWorld defines them.

Task names and ids come from the `scienceworld` package (`tasks.json`). The variation splits are
asked from the engine (it loads each task to answer) and cached: in memory per process, and on
disk under `~/.cache/turnrl/scienceworld/` keyed by the package version, so a fresh worker does
not pay ~0.3 s per task again.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from scienceworld.constants import ID2TASK, TASKS
from scienceworld.utils import infer_task
from scienceworld.version import __version__ as SCIENCEWORLD_VERSION

from turnrl.datadir import cache_root
from turnrl.io import atomic_write_json

TASK_NAMES: tuple[str, ...] = tuple(ID2TASK.values())  # in ScienceWorld's id order (1-1 boil ... 10-2)
TASK_IDS: dict[str, str] = {name: tid for tid, name in ID2TASK.items()}
TOPICS: dict[str, str] = {t["task_name"]: f"{t['topic']} {t['task']}" for t in TASKS}
SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "dev": "dev", "valid": "dev", "validation": "dev", "test": "test"}

_splits: dict[str, dict[str, list[int]]] = {}  # task name -> split -> variation indices


def task_name(name_or_id: str) -> str:
    """The engine's name for a task given its name, id ("1-1"), paper title or "task-1-boil" form."""
    if not isinstance(name_or_id, str):
        raise TypeError(f"a ScienceWorld task is a name or id string, got {type(name_or_id).__name__}")
    name = infer_task(name_or_id.strip())
    if name not in TASK_IDS:
        raise ValueError(f"unknown ScienceWorld task {name_or_id!r}; known: {', '.join(TASK_NAMES)}")
    return name


def task_names(spec: str | Iterable[str] | None) -> tuple[str, ...]:
    """Task names from None (all 30), one name/id, a comma-separated string or a list."""
    if spec is None:
        return TASK_NAMES
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = tuple(dict.fromkeys(task_name(str(s)) for s in items if str(s).strip()))
    if not names:
        raise ValueError("no ScienceWorld task selected")
    return names


def split_name(split: str) -> str:
    try:
        return _SPLIT_ALIASES[str(split).lower()]
    except KeyError:
        raise ValueError(f"unknown ScienceWorld split {split!r}; known: {list(SPLITS)}") from None


def _cache_file():
    return cache_root() / "scienceworld" / f"variations-{SCIENCEWORLD_VERSION}.json"


def _load_disk_cache() -> None:
    try:
        data = json.loads(_cache_file().read_text())
        for name, splits in data.items():
            if name in TASK_IDS and set(splits) == set(SPLITS):
                _splits.setdefault(name, {s: [int(v) for v in splits[s]] for s in SPLITS})
    except (OSError, ValueError, TypeError, AttributeError):
        pass  # no cache or a corrupt one: ask the engine again and rewrite it


def variation_splits(names: Iterable[str], simulator: Any = None) -> dict[str, dict[str, list[int]]]:
    """{task: {split: [variation, ...]}} for `names`, asking `simulator` (or a temporary one)
    only for tasks no cache knows. Asking loads the task, so reload your episode afterwards."""
    names = [task_name(n) for n in names]
    if any(n not in _splits for n in names):
        _load_disk_cache()
    missing = [n for n in names if n not in _splits]
    if missing:
        from turnrl.envs.scienceworld.engine import Simulator
        own = simulator is None
        simulator = simulator or Simulator()
        try:
            for n in missing:
                _splits[n] = simulator.variation_splits(n)
        finally:
            if own:
                simulator.close()
        try:
            atomic_write_json(_cache_file(), dict(sorted(_splits.items())))
        except OSError:
            pass  # a read-only home still works, just without the disk cache
    return {n: _splits[n] for n in names}


def list_tasks(options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reset options for per-variation evaluation, task by task in ScienceWorld's id order.

    `options`: `task` (None = all 30, a name/id, comma-separated names or a list), `split`
    (default "test", the usual evaluation split) and `variations_per_task` (default 1: the first
    variation of the split; an int or "all"). Each dict can be passed to `reset(options=...)` and
    names its episode with `task_id` ("<task>/<split>/<variation>").
    """
    options = dict(options or {})
    split = split_name(options.get("split", "test"))
    per_task = options.get("variations_per_task", 1)
    limit = None if str(per_task) == "all" else int(per_task)
    if limit is not None and limit < 1:
        raise ValueError(f"variations_per_task must be >= 1 or 'all', got {per_task!r}")
    out = []
    for name, splits in variation_splits(task_names(options.get("task"))).items():
        for v in splits[split][:limit]:
            out.append({"task": name, "split": split, "variation": v, "task_id": f"{name}/{split}/{v}"})
    return out
