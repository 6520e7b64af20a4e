"""Checkpoint/resume through the real loop (TextWorld Coin Collector, tiny model), config and metrics files."""
import json

import pytest
import torch

from turnrl.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint
from turnrl.trainers.config import TrainConfig, parse_override
from turnrl.trainers.metrics import plot_curves, read_metrics

pytest.importorskip("textworld", reason="the resume test plays TextWorld games (pip install turnrl[textworld])")

COMPARED = ("success_rate", "mean_return", "mean_length", "policy_loss", "entropy", "grad_norm", "clip_fraction",
            "rows", "adv_abs_mean")


def small_config(out_dir, iterations: int) -> TrainConfig:
    return TrainConfig(env_id="turnrl/TextWorld-Coin-v0", env_kwargs={"difficulty": 2, "n_games": 2, "expert": False},
                       num_envs=4, tasks_per_iter=2, group_size=2, max_steps=2, model="tiny", device="cpu",
                       prompt="compact", history_window=0, lr=3e-3, iterations=iterations, save_every=1,
                       eval_every=0, out_dir=str(out_dir), tensorboard=False, plot=False, seed=3)


def run(config: TrainConfig, resume: bool = False) -> list[dict]:
    from turnrl.trainers.trainer import Trainer

    trainer = Trainer(config)
    try:
        return trainer.train(resume=resume)
    finally:
        trainer.close()


def test_resume_after_crash_reproduces_the_uninterrupted_run(tmp_path):
    straight = run(small_config(tmp_path / "a", 2))
    run(small_config(tmp_path / "b", 1))  # "crashes" after iteration 0 was checkpointed
    ckpt_dir = tmp_path / "b" / "checkpoints"
    (ckpt_dir / ".ckpt-x.tmp").write_bytes(b"half a checkpoint")  # a save interrupted by kill -9
    with open(tmp_path / "b" / "metrics.jsonl", "a") as f:
        f.write('{"iteration": 1, "success_rate": 0.')  # a torn metrics line
    resumed = run(small_config(tmp_path / "b", 2), resume=True)
    assert len(resumed) == 1
    for key in COMPARED:
        assert resumed[0][key] == pytest.approx(straight[1][key], rel=1e-5, abs=1e-7), key
    records = read_metrics(tmp_path / "b" / "metrics.jsonl")
    assert [r["iteration"] for r in records] == [0, 1]
    assert [p.name for p in list_checkpoints(ckpt_dir)] == ["ckpt-000000.pt", "ckpt-000001.pt"]


def _tiny_run(directory, iterations: int):
    """A Linear model trained a step per iteration, checkpointed after each."""
    from turnrl.trainers.checkpoint import save_checkpoint

    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    for it in range(iterations):
        model(torch.ones(1, 2)).sum().backward()
        opt.step()
        save_checkpoint(directory, it, model, opt, None, {"it": it}, keep=5)
    return model


def _fresh():
    model = torch.nn.Linear(2, 2)
    return model, torch.optim.AdamW(model.parameters(), lr=0.1)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "ckpt-000004.pt").write_bytes(b"\x00garbage")
    with pytest.warns(RuntimeWarning, match="no older checkpoint to fall back to"):
        assert latest_checkpoint(tmp_path) is None
    with pytest.raises(ValueError, match="not a readable turnrl checkpoint"):
        load_checkpoint(tmp_path / "ckpt-000004.pt", *_fresh(), None)


class Payload:
    """What an attacker pickles: unpickling it calls `open(marker, "w")`, i.e. runs code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_a_crafted_checkpoint_runs_no_code_and_the_newest_intact_one_is_used(tmp_path):
    trained = _tiny_run(tmp_path, 2)
    marker = tmp_path.parent / f"{tmp_path.name}-pwned"
    crafted = tmp_path / "ckpt-000002.pt"
    torch.save({"format": 2, "model": Payload(marker)}, crafted)
    torch.load(crafted, weights_only=False)  # the file is real: an unsafe load runs its code
    assert marker.exists()
    marker.unlink()
    with pytest.warns(RuntimeWarning, match=r"ckpt-000002.pt: not a readable turnrl checkpoint.*falling back to "
                                            r"ckpt-000001.pt"):
        newest = latest_checkpoint(tmp_path)
    assert newest.name == "ckpt-000001.pt" and not marker.exists()
    with pytest.raises(ValueError, match="not a readable turnrl checkpoint"):
        load_checkpoint(crafted, *_fresh(), None)
    assert not marker.exists()
    model, opt = _fresh()
    assert load_checkpoint(newest, model, opt, None)["iteration"] == 1
    assert torch.equal(model.weight, trained.weight) and opt.state_dict()["state"][0]["step"] == 2


def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(tmp_path):
    _tiny_run(tmp_path, 3)
    newest = tmp_path / "ckpt-000002.pt"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="falling back to ckpt-000001.pt"):
        assert latest_checkpoint(tmp_path).name == "ckpt-000001.pt"


def test_checkpoints_hold_tensors_and_json_only(tmp_path):
    import json
    import pickletools
    import zipfile

    _tiny_run(tmp_path, 1)
    path = tmp_path / "ckpt-000000.pt"
    with zipfile.ZipFile(path) as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    globals_used = {arg for op, arg, _ in pickletools.genops(data) if op.name in ("GLOBAL", "STACK_GLOBAL") and arg}
    assert all(g.startswith(("torch", "collections OrderedDict")) for g in globals_used), globals_used
    state = json.loads(torch.load(path, weights_only=True)["state_json"])
    assert state["iteration"] == 0 and state["config"] == {"it": 0}


def test_saving_removes_temporary_files_of_killed_saves(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    tmp_path.mkdir(exist_ok=True)
    for name in (f".ckpt-000003.pt.{dead}.x1.tmp", ".ckpt-a1b2c3.tmp"):  # today's and the old temp names
        (tmp_path / name).write_bytes(b"half a checkpoint")
    _tiny_run(tmp_path, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-000000.pt"]


def test_config_yaml_round_trip_and_errors(tmp_path):
    config = TrainConfig(credit="gigpo", credit_params={"gamma": 0.95}, lora=True)
    path = tmp_path / "c.yaml"
    path.write_text(config.to_yaml())
    assert TrainConfig.from_yaml(path) == config
    assert TrainConfig.from_yaml(path, {"lr": 0.5}).lr == 0.5
    path.write_text("lr: 1e-4\nclip_hihg: 0.3\n")
    with pytest.raises(ValueError, match="clip_hihg"):
        TrainConfig.from_yaml(path)
    path.write_text("lr: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        TrainConfig.from_yaml(path)
    with pytest.raises(ValueError, match="loss_agg"):
        TrainConfig(loss_agg="mean")
    assert parse_override("credit_params={gamma: 0.9}") == ("credit_params", {"gamma": 0.9})
    with pytest.raises(ValueError):
        parse_override("no-equals-sign")


def test_plot_curves_writes_a_png(tmp_path):
    records = [{"iteration": i, "success_rate": i / 10, "kl": 0.01 * i, "entropy": 1.0, "grad_norm": 0.5}
               for i in range(5)]
    records[-1]["eval_success_rate"] = 0.6
    out = plot_curves(records, tmp_path / "curves.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + '{"iter')
    assert len(read_metrics(tmp_path / "m.jsonl")) == 5


def test_train_command_rejects_bad_configs(tmp_path, capsys):
    from turnrl.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("credit: grpo\nlearning_rate: 0.1\n")
    assert main(["train", str(bad)]) == 2
    assert "learning_rate" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert main(["train", str(bad), "oops"]) == 2


def test_kill_9_mid_run_loses_at_most_the_running_iteration(tmp_path):
    """A real `turnrl train` process killed with SIGKILL once a checkpoint exists; `--resume` finishes the run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    config = small_config(tmp_path / "run", 6)
    config.tensorboard = False
    path = tmp_path / "c.yaml"
    path.write_text(config.to_yaml())
    ckpts = tmp_path / "run" / "checkpoints"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "turnrl", "train", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not list_checkpoints(ckpts) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # somewhere inside the next iteration (or its checkpoint write)
    finally:
        proc.wait(30)
    done = latest_checkpoint(ckpts)
    first = int(done.stem.split("-")[1]) + 1  # every iteration up to the newest checkpoint survives
    resumed = subprocess.run([sys.executable, "-m", "turnrl", "train", str(path), "--resume"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"done: {6 - first} iterations" in resumed.stdout
    assert [r["iteration"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl")] == list(range(6))
    assert latest_checkpoint(ckpts).name == "ckpt-000005.pt"


def test_a_fresh_run_in_a_used_out_dir_is_refused_unless_resumed_or_overwritten(tmp_path, capsys):
    from turnrl.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(small_config(tmp_path / "run", 5).to_yaml())
    old = tmp_path / "run"
    _tiny_run(old / "checkpoints", 1)
    (old / "metrics.jsonl").write_text('{"iteration": 0}\n')
    (old / "notes.txt").write_text("mine")
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "is not empty (checkpoints, metrics.jsonl, notes.txt)" in err and "--overwrite" in err
    assert (old / "checkpoints" / "ckpt-000000.pt").exists()  # nothing touched
    # --overwrite: the old run's files go, other files stay; KEY=VALUE after an option is an override
    assert main(["train", str(cfg), "--overwrite", "iterations=0"]) == 0
    assert sorted(p.name for p in old.iterdir()) == ["config.yaml", "notes.txt"]
    assert "iterations: 0" in (old / "config.yaml").read_text()
    with pytest.raises(SystemExit):  # argparse: not allowed together
        main(["train", str(cfg), "--resume", "--overwrite"])
    assert "not allowed with argument --resume" in capsys.readouterr().err


def test_resume_over_only_corrupt_checkpoints_refuses_instead_of_restarting(tmp_path):
    from turnrl.trainers.config import TrainConfig
    from turnrl.trainers.trainer import Trainer

    trainer = Trainer(TrainConfig(model="tiny", device="cpu", out_dir=str(tmp_path), tensorboard=False, plot=False))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "ckpt-000004.pt").write_bytes(b"\x00garbage")
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match="no checkpoint there is intact"):
        trainer.resume()
    (tmp_path / "checkpoints" / "ckpt-000004.pt").unlink()
    assert trainer.resume() == 0  # no checkpoints at all: a fresh start
