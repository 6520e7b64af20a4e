"""`turnrl demo` with the tiny model: held-out figures reach the console, metrics, TensorBoard and plot."""
from __future__ import annotations

import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")


def test_demo_measures_held_out_success_and_says_when_the_budget_cut_training(tmp_path, capsys):
    from turnrl.trainers.demo import run_demo
    from turnrl.trainers.metrics import HELD_OUT, read_metrics

    out = tmp_path / "demo"
    for _ in range(2):  # a rerun into the same folder starts the folder's metrics and TensorBoard afresh
        result = run_demo(str(out), budget_s=45.0, device="cpu", eval_episodes=3, model="tiny")
    text = capsys.readouterr().out
    assert "held-out success before training:" in text and "held-out success:" in text and "McNemar" in text
    assert result["cut_short"] and "budget cut training short" in text  # 45 s cannot hold 60 iterations
    assert len(result["before"]) == len(result["after"]) == 3
    records = read_metrics(out / "metrics.jsonl")
    held_out = [r for r in records if HELD_OUT in r]
    assert [r["iteration"] for r in held_out] == [-1, result["iterations"] - 1]
    assert all(r[f"{HELD_OUT}_low"] <= r[HELD_OUT] <= r[f"{HELD_OUT}_high"] for r in held_out)
    assert len([r for r in records if "success_rate" in r]) == result["iterations"]  # one run's lines only
    assert (out / "curves.png").stat().st_size > 10_000
    assert len(list((out / "tensorboard").iterdir())) == 2  # this run's training and held-out writers
