"""The offline trainer on a tiny real Llama: each method learns on a fixed batch, and the exported OREO
run loads as the value-guided agent that executes the argmax of V."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from turnrl.trainers.offline.config import OfflineConfig
from turnrl.trainers.offline.datasets import ADMISSIBLE_KEY
from turnrl.trainers.offline.trainer import OfflineTrainer
from turnrl.types import AgentInput, Step, Trajectory

ACTIONS = ["go north", "take coin", "look"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    from turnrl.agents.models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("offline-tiny"), seed=0)


def episode(actions: list[str], won: bool, task_id: str = "t0") -> Trajectory:
    steps = [Step(observation=f"Room {i}. A coin.", action=a, t=i, info={ADMISSIBLE_KEY: ACTIONS}) for i, a in
             enumerate(actions)]
    steps[-1].reward, steps[-1].terminated = float(won), won
    steps[-1].truncated = not won
    return Trajectory(task_id=task_id, task="take the coin", steps=steps, won=won, group_id=task_id)


DATA = [episode(["go north", "take coin"], True), episode(["look", "look"], False)]


def trainer(tiny_dir: Path, method: str, tmp_path: Path, **kw) -> OfflineTrainer:
    config = OfflineConfig(env_id="turnrl/TextWorld-Coin-v0", method=method, model=str(tiny_dir), device="cpu",
                           history_window=1, lr=3e-3, value_lr=3e-3, batch_trajectories=2, out_dir=str(tmp_path),
                           **kw)
    return OfflineTrainer(config, DATA)


@pytest.mark.parametrize("method, key", [("oreo", "value_loss"), ("dpo", "loss"), ("simpo", "loss"), ("bc", "loss")])
def test_each_method_lowers_its_loss_on_a_fixed_batch(tiny_dir, tmp_path, method, key):
    t = trainer(tiny_dir, method, tmp_path)
    losses = [t.step()[key] for _ in range(6)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]


def test_methods_without_usable_data_say_why(tiny_dir, tmp_path):
    config = OfflineConfig(method="dpo", model=str(tiny_dir), device="cpu", out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="both a won and a failed"):
        OfflineTrainer(config, [DATA[0]])


def test_exported_run_loads_as_value_guided_agent_choosing_argmax_v(tiny_dir, tmp_path):
    from turnrl.agents.prompts import fit_prompt_ids
    from turnrl.agents.registry import make_agent

    t = trainer(tiny_dir, "oreo", tmp_path)
    t.step()
    t.export()
    agent = make_agent(f"oreo:{tmp_path},k=64")
    with torch.no_grad():  # a critic that clearly prefers one action, so the argmax is unambiguous
        agent.value_model.head.bias.fill_(0.0)
        agent.value_model.head.weight.normal_(0, 1.0)
    x = AgentInput(observation="Room 0. A coin.", task="take the coin", admissible_actions=ACTIONS,
                   env_id="turnrl/TextWorld-Coin-v0")
    prompt = fit_prompt_ids(agent.policy.tokenizer, x, agent.policy.history_window, agent.policy.max_prompt_tokens,
                            agent.policy.template).ids
    values = agent.candidate_values(prompt, [agent.policy.candidate_ids(a) for a in ACTIONS])
    out = agent.act([x])[0]
    assert out.action == ACTIONS[max(range(3), key=values.__getitem__)]
    assert out.response_ids == agent.policy.candidate_ids(out.action)
    with pytest.raises(ValueError, match="k=<int>"):
        make_agent(f"oreo:{tmp_path},beam=3")


def test_step_level_oreo_trains_the_value_at_step_starts_only(tiny_dir, tmp_path):
    from turnrl.trainers.offline import oreo
    from turnrl.trainers.offline.batching import pack_steps, state_values

    t = trainer(tiny_dir, "oreo", tmp_path, oreo_variant="step")
    batch = pack_steps(t.items, t.pad_id)
    logratio = torch.zeros_like(batch.mask)
    with torch.no_grad():
        values = state_values(t.value_model, batch)
        values = values + torch.arange(values.shape[1], dtype=values.dtype)  # differ inside each turn
        got = t.value_loss(values, logratio, batch)
        starts_only = oreo.value_loss(values, logratio, batch.mask, batch.traj, batch.reward, t.config.beta,
                                      step_level=True)
        every_token = oreo.value_loss(values, logratio, batch.mask, batch.traj, batch.reward, t.config.beta)
    assert got.item() == pytest.approx(starts_only.item()) and got.item() != pytest.approx(every_token.item())


def test_train_layers_trains_only_the_top_of_policy_and_critic_in_bf16(tiny_dir, tmp_path):
    """With `train_layers: 1` an OREO step moves the top decoder layer (and the critic's head) only;
    embeddings and lower layers of both models stay bit-identical, and bf16 autocast keeps losses finite."""
    t = trainer(tiny_dir, "oreo", tmp_path, train_layers=1, autocast="bf16")
    before = {f"policy.{n}": p.detach().clone() for n, p in t.model.named_parameters()}
    before |= {f"value.{n}": p.detach().clone() for n, p in t.value_model.named_parameters()}
    for _ in range(2):  # the critic's head starts at zero, so its backbone gets a gradient from step 2 on
        metrics = t.step()
        assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    after = {f"policy.{n}": p for n, p in t.model.named_parameters()}
    after |= {f"value.{n}": p for n, p in t.value_model.named_parameters()}
    moved = {n for n in before if not torch.equal(before[n], after[n])}
    top = "layers.1."  # the tiny model has 2 decoder layers
    assert moved, "nothing trained"
    assert all(top in n or n.endswith("norm.weight") or n.startswith("value.head") for n in moved), moved
    assert any(n.startswith("policy.") and top in n for n in moved) and any(n.startswith("value.head") for n in moved)
    assert any(n.startswith("value.backbone") and top in n for n in moved)
