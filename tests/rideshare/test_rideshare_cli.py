"""`turnrl dispatch`: the ride-sharing trainer from a YAML, like every other trainer (issue 19 item 5)."""
from __future__ import annotations

import json

import pytest
import torch

from turnrl.cli import main


def test_dispatch_command_trains_from_yaml(city, tmp_path, capsys):
    config = tmp_path / "dispatch.yaml"
    config.write_text("advantage: grpo\nn_vehicles: 25\norders_per_hour: 500\nepisode_minutes: 6\n"
                      "iterations: 3\nlr: 1.0e-3\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["dispatch", str(config), "eval_seeds=1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "episode 3/3: served" in printed and "held-out seeds [10000]" in printed
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 3 and all(m["samples"] == m["served"] for m in metrics)
    weights = torch.load(out / "policy.pt", weights_only=True)
    assert weights["mlp.0.weight"].shape == (128, 28)
    assert "advantage: grpo" in (out / "config.yaml").read_text()


def test_dispatch_command_rejects_unknown_settings(tmp_path, capsys):
    config = tmp_path / "dispatch.yaml"
    config.write_text("advantage: magic\n", encoding="utf-8")
    assert main(["dispatch", str(config)]) == 2
    assert "advantage must be one of" in capsys.readouterr().err
    config.write_text("vehicles: 10\n", encoding="utf-8")
    assert main(["dispatch", str(config)]) == 2
    assert "unknown config keys ['vehicles']" in capsys.readouterr().err


@pytest.mark.parametrize("advantage", ["ospo", "critic"])
def test_dispatch_config_round_trips_through_yaml(tmp_path, advantage):
    from turnrl.trainers.dispatch import DispatchTrainConfig

    config = DispatchTrainConfig(advantage=advantage, n_vehicles=12)
    path = tmp_path / "c.yaml"
    path.write_text(config.to_yaml(), encoding="utf-8")
    assert DispatchTrainConfig.from_yaml(path) == config
