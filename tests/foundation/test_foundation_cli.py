"""`turnrl eval` and `turnrl play` end to end on the toy env (in this process, through `main`)."""
from __future__ import annotations

import importlib.util
import io
import json
import sys

import pytest

from turnrl.cli import main
from turnrl.io import load_trajectories


def test_eval_writes_summary_and_trajectories(toy_env_id, tmp_path, capsys):
    out = tmp_path / "res" / "expert.json"
    code = main(["eval", toy_env_id, "--agent", "expert", "--episodes", "3", "--group-size", "2",
                 "--pool", "inprocess:2", "--env-arg", "size=4", "--out", str(out), "--no-progress"])
    assert code == 0
    summary = json.loads(out.read_text())
    assert {"success_rate", "mean_return", "mean_length", "invalid_rate", "n_episodes", "per_task"} <= set(summary)
    assert summary["success_rate"] == 1.0 and summary["n_episodes"] == 6
    assert summary["config"]["env_kwargs"] == {"size": 4}
    trajs = load_trajectories(tmp_path / "res" / "expert.trajectories.jsonl")
    assert len(trajs) == 6 and all(t.won for t in trajs)
    assert "success_rate" in capsys.readouterr().out


def test_eval_all_tasks_uses_the_env_task_list(toy_env_id, tmp_path):
    out = tmp_path / "all.json"
    assert main(["eval", toy_env_id, "--agent", "random", "--all-tasks", "--env-arg", "size=5", "--max-steps", "3",
                 "--out", str(out), "--no-progress"]) == 0
    summary = json.loads(out.read_text())
    assert sorted(summary["per_task"]) == ["target-1", "target-2", "target-3", "target-4"]


@pytest.mark.parametrize("argv, message", [
    (["--pool", "gpu:2"], "unknown pool backend"),
    (["--env-arg", "novalue"], "KEY=VALUE"),
    (["--agent-arg", "temperature"], "--agent-arg expects KEY=VALUE"),
    (["--agent", "telepathy"], "unknown agent"),
    pytest.param(["--agent", "hf:/no/such/model"], "neither a known name",
                 marks=pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                          reason="without torch the hf agent stops at its import (tested below)")),
    (["--episodes", "0"], "no tasks"),
    (["--split", "valid_unseen"], "unexpected keyword argument 'split'"),  # --split reaches the env's constructor
])
def test_eval_bad_arguments_exit_2_with_a_message(toy_env_id, argv, message, capsys):
    assert main(["eval", toy_env_id, "--no-progress", *argv]) == 2
    assert message in capsys.readouterr().err


def test_an_agent_whose_extra_is_missing_names_the_extra(toy_env_id, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ModuleNotFoundError, as without the extra
    monkeypatch.delitem(sys.modules, "turnrl.agents.hf", raising=False)
    assert main(["eval", toy_env_id, "--no-progress", "--agent", "hf:smollm2"]) == 2
    assert "the 'hf' agent needs 'torch', which is not installed: pip install 'turnrl[torch]'" in capsys.readouterr().err


def test_eval_all_tasks_without_a_task_list_is_explained(capsys):
    import gymnasium as gym

    gym.register("turnrl_test/NoList-v0", entry_point="tests.foundation.toy_env:CounterEnv")
    from tests.foundation import toy_env

    real = toy_env.CounterEnv.list_tasks
    try:
        del toy_env.CounterEnv.list_tasks
        assert main(["eval", "turnrl_test/NoList-v0", "--all-tasks", "--no-progress"]) == 2
    finally:
        toy_env.CounterEnv.list_tasks = real
    assert "has no task list" in capsys.readouterr().err


def test_play_reads_numbers_and_commands_and_records(toy_env_id, tmp_path, monkeypatch, capsys):
    record = tmp_path / "play.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n:hint\nfly\n" + "inc\n" * 6 + ":quit\n"))
    assert main(["play", toy_env_id, "--seed", "2", "--record", str(record)]) == 0
    out = capsys.readouterr().out
    assert "1) inc" in out and "expert: " in out and "Nothing happens." in out and "episode won" in out
    (traj,) = load_trajectories(record)
    assert traj.won and traj.steps[0].action == "inc" and not traj.steps[1].valid


def test_play_max_steps_is_the_one_step_limit(toy_env_id, tmp_path, monkeypatch, capsys):
    from turnrl.envs import pool
    from turnrl.envs.wrappers import StepLimit
    from turnrl.types import END_STEP_LIMIT

    made = []  # the env play builds, to count its StepLimit wrappers
    real_make_env = pool.make_env
    monkeypatch.setattr(pool, "make_env", lambda *a, **k: made.append(real_make_env(*a, **k)) or made[-1])
    record = tmp_path / "play.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("fly\nfly\n:quit\n"))
    assert main(["play", toy_env_id, "--max-steps", "2", "--record", str(record)]) == 0
    assert f"episode {END_STEP_LIMIT}" in capsys.readouterr().out
    (traj,) = load_trajectories(record)
    assert traj.length == 2 and traj.truncated
    wrappers, env = [], made[0]
    while hasattr(env, "env"):
        wrappers.append(type(env))
        env = env.env
    assert wrappers.count(StepLimit) == 1


def test_play_survives_end_of_input_and_a_crashing_engine(toy_env_id, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("raise\nwait\n"))
    assert main(["play", toy_env_id, "--env-arg", "faults=true"]) == 0
    assert "the environment failed: RuntimeError" in capsys.readouterr().out


def test_data_command_names_known_datasets_and_explains_missing_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TURNRL_DATA", raising=False)
    monkeypatch.delenv("WEBSHOP_DATA", raising=False)
    with pytest.raises(SystemExit):  # argparse: not one of alfworld, nyc_taxi, webshop
        main(["data", "path", "imagenet"])
    assert "invalid choice" in capsys.readouterr().err
    assert main(["data", "path", "webshop"]) == 1
    assert "turnrl data download webshop" in capsys.readouterr().err


def test_eval_all_tasks_goes_on_past_a_task_whose_reset_fails(toy_env_id, tmp_path):
    out = tmp_path / "broken.json"
    assert main(["eval", toy_env_id, "--agent", "expert", "--all-tasks", "--env-arg", "size=5", "--env-arg", "broken=2",
                 "--pool", "subprocess:2", "--out", str(out), "--no-progress"]) == 0
    summary = json.loads(out.read_text())
    assert summary["n_episodes"] == 4 and summary["success_rate"] == 0.75
    assert summary["end_reasons"]["reset failed: ValueError: task file for target 2 is corrupt"] == 1
    assert summary["config"]["step_timeout"] == 60.0 and summary["config"]["reset_timeout"] == 300.0  # defaults
    trajs = load_trajectories(tmp_path / "broken.trajectories.jsonl")
    assert [t.task_id for t in trajs] == ["target-1", "target-2", "target-3", "target-4"]
    assert trajs[1].steps == [] and trajs[1].metadata["truncated"]


def _eval_argv(toy_env_id: str, out, *extra: str) -> list[str]:
    return ["eval", toy_env_id, "--agent", "expert", "--episodes", "30", "--env-arg", "step_delay=0.03",
            "--pool", "subprocess:2", "--out", str(out), "--no-progress", *extra]


def test_kill_9_mid_eval_keeps_finished_episodes_and_resume_completes_the_rest(toy_env_id, tmp_path):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out, log = tmp_path / "run.json", tmp_path / "run.trajectories.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "turnrl", *_eval_argv(toy_env_id, out)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and \
                (not log.exists() or log.read_text().count("\n") < 8):
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    kept = load_trajectories(log, skip_torn_tail=True)
    assert 8 <= len(kept) < 30 and not out.exists()  # finished episodes survive; no summary yet
    with open(log, "a") as f:
        f.write('{"task_id": "torn')  # as if the kill had landed mid-write
    assert main(_eval_argv(toy_env_id, out, "--resume")) == 0
    summary = json.loads(out.read_text())
    assert summary["n_episodes"] == 30 and summary["config"]["resumed_episodes"] == len(kept)
    resumed = load_trajectories(log)
    by_id = {t.group_id: t.to_dict() for t in resumed}
    assert all(by_id[t.group_id] == t.to_dict() for t in kept)  # kept as they were, not run again
    clean = tmp_path / "clean.json"
    assert main(_eval_argv(toy_env_id, clean)) == 0
    assert [t.to_dict() for t in resumed] == [t.to_dict() for t in load_trajectories(tmp_path / "clean.trajectories.jsonl")]


def test_resume_refuses_the_episodes_of_another_run(toy_env_id, tmp_path, capsys):
    out = tmp_path / "a.json"
    assert main(["eval", toy_env_id, "--agent", "expert", "--episodes", "3", "--out", str(out), "--no-progress"]) == 0
    assert main(["eval", toy_env_id, "--agent", "expert", "--episodes", "3", "--seed", "7", "--out", str(out),
                 "--no-progress", "--resume"]) == 2
    assert "different run" in capsys.readouterr().err
    assert main(["eval", toy_env_id, "--resume", "--no-progress"]) == 2
    assert "give --out" in capsys.readouterr().err


def test_result_files_are_readable_by_the_group(toy_env_id, tmp_path):
    import stat

    out = tmp_path / "r.json"
    assert main(["eval", toy_env_id, "--episodes", "2", "--out", str(out), "--no-progress"]) == 0
    for path in (out, tmp_path / "r.trajectories.jsonl"):
        assert path.stat().st_mode & stat.S_IRGRP, oct(path.stat().st_mode)


def test_eval_table_keeps_its_width_when_piped(monkeypatch, capsys):
    from turnrl.cli.cmd_eval import print_summary
    from turnrl.rollout import summarize
    from turnrl.types import Trajectory

    name = "pick_clean_then_place_in_recep-Mug-None-CoffeeMachine-10/trial_T20190909"
    trajs = [Trajectory(task_id=name), Trajectory(task_id="short")]
    print_summary(summarize(trajs), "piped")  # capsys's stdout is not a terminal, as under a pipe
    assert name in capsys.readouterr().out  # on one line, not folded a few characters a line


def test_collect_writes_episodes_as_they_finish_and_resume_runs_the_rest(toy_env_id, tmp_path):
    # the expert alone, so that the resumed run must equal the uninterrupted one; a random mixture's
    # draws after a resume differ from the uninterrupted run's (one RNG across episodes, not saved)
    argv = ["collect", toy_env_id, "--agent", "expert", "--episodes", "4", "--group-size", "2",
            "--max-steps", "6", "--pool", "subprocess:2", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "full")]) == 0
    full = (tmp_path / "full" / "trajectories.jsonl").read_text().splitlines(keepends=True)
    assert len(full) == 8
    part = tmp_path / "part"
    part.mkdir()
    (part / "trajectories.jsonl").write_text("".join(full[:3]) + full[3][:40])  # killed while writing the 4th
    assert main([*argv, "--out", str(part), "--resume"]) == 0
    assert (part / "trajectories.jsonl").read_text() == "".join(full)
    meta = json.loads((part / "meta.json").read_text())
    assert meta["agents"] == "expert" and meta["step_timeout"] == 60.0
    assert main([*argv[:3], "expert:0.7", "random:0.3", *argv[4:], "--out", str(tmp_path / "mix")]) == 0
    assert json.loads((tmp_path / "mix" / "meta.json").read_text())["agents"] == "expert:0.7,random:0.3"


@pytest.mark.parametrize("argv, old, new", [
    (["collect", "E", "--out", "x", "--agents", "expert:1"], "--agents", "--agent"),
    (["arena", "tictactoe", "--agents", "random", "minimax"], "--agents", "--agent"),
    (["arena", "tictactoe", "--agent", "random", "minimax", "--game-arg", "a=1"], "--game-arg", "--env-arg"),
    (["arena", "tictactoe", "--agent", "random", "minimax", "--max-moves", "9"], "--max-moves", "--max-steps"),
])
def test_an_old_flag_spelling_names_the_new_one(argv, old, new, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert f"{old} was renamed: use {new}" in capsys.readouterr().err


@pytest.mark.parametrize("leave", ["quit\n", "exit\n", ":quit\n", ""])  # "": end of input, as Ctrl-D gives
def test_play_says_how_to_leave_and_leaves_cleanly(toy_env_id, leave, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("wait\n" + leave + ("inc\n" * 9 if leave else "")))
    assert main(["play", toy_env_id, "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert ":quit (or quit, exit, Ctrl-D) leaves" in " ".join(out.split("You are at")[0].split())  # said first
    assert out.count("You are at") == 2, out  # the start and one step; nothing after the leave is read


def test_list_table_keeps_whole_ids_when_piped(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out  # not a terminal, as under a pipe
    row = next(line for line in out.splitlines() if "turnrl/ALFWorld-v0" in line)
    assert "turnrl[alfworld]" in row and ("data download alfworld" in row or "present (" in row)  # not folded
