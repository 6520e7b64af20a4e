"""Trajectories on disk: JSONL (one trajectory a line), written atomically; HF `datasets` export."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from turnrl.types import Trajectory


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes to a temporary file beside `path`, fsyncs and renames: a crash leaves old or new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=True) + "\n")


def _line(traj: Trajectory) -> str:
    # ensure_ascii keeps lone surrogates and control characters representable; allow_nan keeps
    # NaN rewards (which credit/ rejects loudly) round-tripping instead of failing the save.
    return json.dumps(traj.to_dict(), ensure_ascii=True, allow_nan=True)


def save_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory]) -> None:
    """Writes all trajectories as JSONL, atomically."""
    atomic_write_text(path, "".join(_line(t) + "\n" for t in trajectories))


def append_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory]) -> None:
    """Appends whole lines and fsyncs; a crash mid-append leaves at most one torn last line,
    which `load_trajectories(..., skip_torn_tail=True)` drops."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(_line(t) + "\n" for t in trajectories)
    with open(path, "a", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def load_trajectories(path: str | os.PathLike, skip_torn_tail: bool = False) -> list[Trajectory]:
    """Reads JSONL written by `save_trajectories`. A corrupt line raises ValueError naming it."""
    out: list[Trajectory] = []
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(Trajectory.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            if skip_torn_tail and i == len(lines) and not line.endswith("\n"):
                break
            raise ValueError(f"{path}:{i}: not a trajectory record ({e})") from e
    return out


def to_hf_dataset(trajectories: list[Trajectory]):
    """One row per trajectory, steps as a list of structs (needs the `datasets` package).

    Free-form dicts (`info`, `metadata`) are stored as JSON strings because Arrow needs one
    schema for every row.
    """
    import datasets

    rows = []
    for t in trajectories:
        d = t.to_dict()
        d["metadata"] = json.dumps(d["metadata"])
        for s in d["steps"]:
            s["info"] = json.dumps(s["info"])
            s["reward_components"] = json.dumps(s["reward_components"])
        rows.append(d)
    return datasets.Dataset.from_list(rows)


def from_hf_dataset(dataset) -> list[Trajectory]:
    """Inverse of `to_hf_dataset`."""
    out = []
    for row in dataset:
        d = dict(row)
        d["metadata"] = json.loads(d["metadata"])
        steps = []
        for s in d["steps"]:
            s = dict(s)
            s["info"] = json.loads(s["info"])
            s["reward_components"] = json.loads(s["reward_components"])
            steps.append(s)
        d["steps"] = steps
        out.append(Trajectory.from_dict(d))
    return out
