"""Trajectories on disk: JSONL (one trajectory a line), written atomically or appended as episodes
finish; HF `datasets` export. Also the one atomic file write the package uses (results,
checkpoints) and the clean-up of temporary files that a killed writer left behind."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from turnrl.types import Trajectory

# `.<name>.<pid>.<random>.tmp`: the writer's pid tells a stale temporary file from one being written
_TEMP = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.tmp$")


def _umask() -> int:
    """The process umask, read without setting it (`os.umask` sets it, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Calls `write(f)` on a temporary file beside `path`, fsyncs and renames it over `path`: a crash
    leaves the old file or the new one, never half of one. The file gets the mode a plain `open`
    would give (0644 under the usual umask), not mkstemp's private 0600, so results are readable by
    the group like any other output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """`text` to `path` as UTF-8, atomically (see `atomic_write`)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=True) + "\n")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(directory: str | os.PathLike, pattern: re.Pattern[str] = _TEMP) -> list[Path]:
    """Deletes the entries of `directory` whose name matches `pattern` and whose writer, the pid in
    the pattern's `pid` group, is no longer running: what a kill -9 left mid-write (a pattern
    without a `pid` group marks every match stale). Files and folders alike; returns what it
    removed. Only for folders on this machine: a pid means nothing on another host."""
    directory = Path(directory)
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        m = pattern.match(entry.name)
        pid = m.groupdict().get("pid") if m else None
        if m is None or (pid and pid_alive(int(pid))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # its owner, or another cleaner, got there first
            continue
        removed.append(entry)
    return removed


def _line(traj: Trajectory) -> str:
    # ensure_ascii keeps lone surrogates and control characters representable; allow_nan keeps
    # NaN rewards (which credit/ rejects loudly) round-tripping instead of failing the save.
    return json.dumps(traj.to_dict(), ensure_ascii=True, allow_nan=True)


def save_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory]) -> None:
    """Writes all trajectories as JSONL, atomically."""
    atomic_write_text(path, "".join(_line(t) + "\n" for t in trajectories))


def truncate_torn_tail(path: str | os.PathLike) -> int:
    """Cuts a last line that has no newline (a write cut short by a crash) off the file, so that
    the next append starts a line of its own instead of turning the torn one into a corrupt
    middle line. Returns the number of bytes removed (0 for a whole file or none)."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        return 0
    with f:
        size = f.seek(0, os.SEEK_END)
        end, block = size, 1 << 16
        while end > 0:  # backwards, a block at a time, to the last newline
            start = max(0, end - block)
            f.seek(start)
            chunk = f.read(end - start)
            if end == size and chunk.endswith(b"\n"):
                return 0
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        return size - keep


def append_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory]) -> None:
    """Appends whole lines and fsyncs, after cutting off a torn last line that an earlier crash
    left (`truncate_torn_tail`); a crash mid-append leaves at most one torn last line, which
    `load_trajectories(..., skip_torn_tail=True)` drops and the next append removes."""
    with TrajectoryLog(path) as log:
        log.append(trajectories)


class TrajectoryLog:
    """A JSONL file that grows as episodes finish, each write flushed and fsynced at once, so a run
    killed midway keeps every episode it finished. Opening it cuts a torn last line off."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        truncate_torn_tail(self.path)
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")

    def append(self, trajectories: Iterable[Trajectory]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path}: the log is closed")
        self._file.write("".join(_line(t) + "\n" for t in trajectories))
        self._file.flush()
        os.fsync(self._file.fileno())

    def write(self, traj: Trajectory) -> None:
        self.append([traj])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TrajectoryLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    return datasets.Dataset.from_list(rows, features=hf_features())


def hf_features():
    """Fixed Arrow schema for `to_hf_dataset`, so exports of different runs concatenate.

    Inferring the schema makes an all-None column `null`, which `concatenate_datasets`
    cannot align with an `int64` column from another run.
    """
    import datasets

    v = datasets.Value
    step = {
        "observation": v("string"), "action": v("string"), "reward": v("float64"),
        "reward_components": v("string"), "terminated": v("bool"), "truncated": v("bool"),
        "end_reason": v("string"), "valid": v("bool"), "invalid_reason": v("string"),
        "state_key": v("string"), "obs_key": v("string"), "t": v("int64"), "info": v("string"),
        "prompt_ids": datasets.Sequence(v("int64")),
        "response_ids": datasets.Sequence(v("int64")),
        "response_logprobs": datasets.Sequence(v("float64")),
        "candidate_ids": datasets.Sequence(datasets.Sequence(v("int64"))),
        "action_logprob": v("float64"),
    }
    return datasets.Features({
        "task_id": v("string"), "seed": v("int64"), "group_id": v("string"),
        "player_id": v("string"), "task": v("string"), "steps": [step],
        "won": v("bool"), "metadata": v("string"),
    })


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
