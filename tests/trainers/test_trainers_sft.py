"""Supervised warm start on real expert trajectories (TextWorld Coin Collector) with the tiny model."""
from __future__ import annotations

import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")

from turnrl.trainers.config import TrainConfig  # noqa: E402
from turnrl.trainers.trainer import Trainer  # noqa: E402

ENV = "turnrl/TextWorld-Coin-v0"
ENV_KWARGS = {"difficulty": 2, "n_games": 3}


@pytest.fixture(scope="module")
def expert_dataset(tmp_path_factory):
    from turnrl.trainers.offline.collection import collect_dataset
    from turnrl.trainers.offline.datasets import save_dataset

    trajectories = collect_dataset(ENV, [("expert", 1.0)], episodes=4, max_steps=10, num_envs=2,
                                   env_kwargs=ENV_KWARGS)
    assert trajectories and all(t.won for t in trajectories)
    return save_dataset(tmp_path_factory.mktemp("expert"), trajectories)


def _config(tmp_path, mode: str, **overrides) -> TrainConfig:
    values = dict(env_id=ENV, env_kwargs=ENV_KWARGS, model="tiny", device="cpu", policy_mode=mode, prompt="compact",
                  history_window=1, num_envs=2, tasks_per_iter=1, group_size=2, max_steps=4, max_new_tokens=8,
                  out_dir=str(tmp_path / mode), tensorboard=False, plot=False, save_every=0, seed=0)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.mark.parametrize("mode", ["score", "generate"])
def test_behaviour_cloning_lowers_the_nll_of_expert_actions(tmp_path, expert_dataset, mode):
    from turnrl.trainers.offline.datasets import load_dataset
    from turnrl.trainers.sft import behaviour_clone, mean_nll, warm_start_rows

    trainer = Trainer(_config(tmp_path, mode))
    try:
        data = load_dataset(expert_dataset)
        stats = behaviour_clone(trainer, data, epochs=3, lr=3e-3, batch_rows=4)
        rows, skipped = warm_start_rows(data, trainer.policy, ENV, mode)
        assert skipped == 0 and stats["steps"] == len(rows) == sum(t.length for t in data)
        assert stats["nll_after"] < 0.7 * stats["nll_before"]
        assert mean_nll(trainer, rows) == pytest.approx(stats["nll_after"], rel=1e-5)
    finally:
        trainer.close()


def test_warm_start_is_a_phase_of_training_and_the_model_is_exported(tmp_path, expert_dataset):
    from turnrl.agents.registry import make_agent
    from turnrl.trainers.metrics import read_metrics

    config = _config(tmp_path, "score", sft_dataset=str(expert_dataset), sft_epochs=2, sft_lr=3e-3, iterations=1)
    trainer = Trainer(config)
    try:
        history = trainer.train()
    finally:
        trainer.close()
    records = read_metrics(tmp_path / "score" / "metrics.jsonl")
    assert records[0]["iteration"] == -1 and records[0]["sft_nll_after"] < records[0]["sft_nll_before"]
    assert len(history) == 1
    agent = make_agent(f"hf:{tmp_path / 'score' / 'model'}", mode="score", prompt="compact", history_window=1,
                       device="cpu", temperature=0)
    assert agent.model.config.num_hidden_layers == 2
