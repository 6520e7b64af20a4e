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
    from turnrl.trainers.grpo_trainer import Trainer

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


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "ckpt-000004.pt").write_bytes(b"\x00garbage")
    path = latest_checkpoint(tmp_path)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters())
    with pytest.raises(ValueError, match="not a readable turnrl checkpoint"):
        load_checkpoint(path, model, opt, None)


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
