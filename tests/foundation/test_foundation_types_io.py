"""Trajectories survive JSONL and HF datasets losslessly; writes are atomic; corrupt files fail clearly."""
from __future__ import annotations

import math
import os

import pytest

from turnrl.io import append_trajectories, atomic_write_text, load_trajectories, save_trajectories
from turnrl.types import Step, Trajectory

ODD_TEXT = ["héllo wörld ✓ 日本語 🎲", "tab\tnew\nline\r\x00\x1b[31mred\x7f", "lone \ud800 surrogate", ""]


def odd_trajectory() -> Trajectory:
    steps = [Step(observation=text, action=text[::-1], reward=0.5 * i, reward_components={"score": 1.0, "ü": -2.0},
                  state_key=text, obs_key=text, t=i, info={"k": text, "nested": [1, {"x": None}]},
                  prompt_ids=[1, 2, 3], response_ids=[4], response_logprobs=[-0.25])
             for i, text in enumerate(ODD_TEXT)]
    steps[-1].terminated, steps[-1].end_reason = True, "won"
    steps[1].reward = math.nan
    steps[2].valid, steps[2].invalid_reason = False, "bad ✗"
    return Trajectory(task_id="t/1 ✓", seed=7, group_id="g", player_id="p0", task="find the 🔑", steps=steps,
                      won=True, metadata={"options": {"split": "valid"}, "inf": math.inf})


def same(a: Trajectory, b: Trajectory) -> bool:
    """Equality that treats NaN == NaN (JSON keeps NaN; Python compares it unequal)."""
    return repr(a.to_dict()) == repr(b.to_dict())


def test_jsonl_round_trip_keeps_unicode_control_chars_surrogates_and_nan(tmp_path):
    path = tmp_path / "t.jsonl"
    trajs = [odd_trajectory(), Trajectory(task_id="empty")]
    save_trajectories(path, trajs)
    back = load_trajectories(path)
    assert len(back) == 2 and all(same(a, b) for a, b in zip(trajs, back))
    assert math.isnan(back[0].steps[1].reward) and back[0].metadata["inf"] == math.inf
    assert path.read_text(encoding="utf-8").count("\n") == 2  # control chars escaped, one record a line


def test_hf_dataset_round_trip():
    datasets = pytest.importorskip("datasets")
    from turnrl.io import from_hf_dataset, to_hf_dataset

    traj = odd_trajectory()
    traj.steps[2].observation = "no surrogate here"  # Arrow stores UTF-8 and cannot hold lone surrogates
    traj.steps[2].state_key = traj.steps[2].obs_key = traj.steps[2].action = "x"
    traj.steps[2].info = {}
    ds = to_hf_dataset([traj])
    assert isinstance(ds, datasets.Dataset) and len(ds) == 1
    assert same(from_hf_dataset(ds)[0], traj)


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "out.jsonl"
    atomic_write_text(path, "old\n")

    def crash(*_):
        raise OSError("disk died mid-rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk died"):
        save_trajectories(path, [odd_trajectory()])
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]  # no temporary file left behind


def test_corrupt_file_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    save_trajectories(path, [Trajectory(task_id="a")])
    with open(path, "a") as f:
        f.write('{"task_id": "b", "steps": [{"observation": 3, "bogus": 1}]}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        load_trajectories(path)
    path.write_bytes(b"\xff\xfe not utf-8\n")
    with pytest.raises(ValueError):
        load_trajectories(path)


def test_torn_last_line_is_skipped_only_when_asked(tmp_path):
    path = tmp_path / "append.jsonl"
    append_trajectories(path, [Trajectory(task_id="a")])
    with open(path, "a") as f:
        f.write('{"task_id": "b", "ste')  # a crash mid-append
    with pytest.raises(ValueError, match=":2"):
        load_trajectories(path)
    assert [t.task_id for t in load_trajectories(path, skip_torn_tail=True)] == ["a"]


def test_append_after_a_torn_line_cuts_it_off_instead_of_burying_it(tmp_path):
    path = tmp_path / "append.jsonl"
    append_trajectories(path, [Trajectory(task_id="a")])
    with open(path, "a") as f:
        f.write('{"task_id": "b", "ste')  # a crash mid-append
    append_trajectories(path, [Trajectory(task_id="c")])
    assert [t.task_id for t in load_trajectories(path)] == ["a", "c"]  # no corrupt middle line
    path.write_text('{"task_id": "torn, and the only line')
    append_trajectories(path, [Trajectory(task_id="d")])
    assert [t.task_id for t in load_trajectories(path)] == ["d"]


def test_torn_tail_longer_than_a_read_block_is_found(tmp_path):
    from turnrl.io import truncate_torn_tail

    path = tmp_path / "long.jsonl"
    save_trajectories(path, [Trajectory(task_id="a")])
    whole = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"task_id": "' + b"x" * 200_000)
    assert truncate_torn_tail(path) == 200_013 and path.read_bytes() == whole
    assert truncate_torn_tail(path) == 0


def test_atomic_writes_get_the_mode_of_a_plain_open(tmp_path):
    import stat

    path = tmp_path / "r.json"
    atomic_write_text(path, "{}")
    plain = tmp_path / "plain"
    plain.write_text("{}")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_stale_temporary_files_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from turnrl.io import remove_stale

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale, live = tmp_path / f".r.json.{dead}.abc.tmp", tmp_path / f".r.json.{os.getpid()}.def.tmp"
    stale.write_text("half")
    live.write_text("being written")
    (tmp_path / "r.json").write_text("{}")
    assert remove_stale(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "r.json"])
