"""PPO updates on the tiny random Llama: direction of the change, batching alignment, and 2-process
gloo data parallelism against one process on the same global batch."""
import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp

from turnrl.agents.logprobs import response_logprobs_list
from turnrl.trainers.batching import TokenRow, micro_batches, padding_waste
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer, token_logprobs_and_entropy


def tiny_config(**overrides) -> TrainConfig:
    values = dict(model="tiny", device="cpu", lr=1e-2, tensorboard=False, plot=False, seed=0,
                  micro_batch_tokens=64, dual_clip=None)
    values.update(overrides)
    return TrainConfig(**values)


def make_rows(trainer: Trainer, n: int = 6, seed: int = 0) -> list[TokenRow]:
    """Random prompts/responses with behaviour log-probs from the current model; alternating +1/-1."""
    g = np.random.default_rng(seed)
    vocab = trainer.model.config.vocab_size
    prompts = [g.integers(5, vocab, int(g.integers(3, 9))).tolist() for _ in range(n)]
    responses = [g.integers(5, vocab, int(g.integers(1, 5))).tolist() for _ in range(n)]
    lps = response_logprobs_list(trainer.model, prompts, responses, trainer.policy.pad_id)
    return [TokenRow(p, r, lp, 1.0 if i % 2 == 0 else -1.0) for i, (p, r, lp) in enumerate(zip(prompts, responses, lps))]


def sequence_logprobs(trainer: Trainer, rows: list[TokenRow]) -> np.ndarray:
    lps = response_logprobs_list(trainer.model, [r.prompt_ids for r in rows], [r.response_ids for r in rows],
                                 trainer.policy.pad_id)
    return np.array([sum(lp) for lp in lps])


def test_micro_batches_align_targets_with_response_tokens():
    trainer = Trainer(tiny_config())
    rows = make_rows(trainer, n=5)
    batches = micro_batches(rows, range(len(rows)), trainer.policy.pad_id, budget=32)
    assert len(batches) > 1 and sorted(i for b in batches for i in b.rows) == list(range(5))
    assert 0.0 <= padding_waste(batches) < 1.0
    for b in batches:
        with torch.no_grad():
            logp, _ = token_logprobs_and_entropy(trainer.model, b.input_ids, b.attention_mask, b.targets_mask)
        for k, i in enumerate(b.rows):
            assert b.targets_mask[k].sum() == len(rows[i].response_ids)
            assert torch.allclose(logp[k][b.targets_mask[k]], torch.tensor(rows[i].old_logprobs), atol=1e-4)
            assert torch.all(b.advantages[k][b.targets_mask[k]] == rows[i].advantage)


def test_ppo_update_moves_positive_tokens_up_and_negative_down():
    trainer = Trainer(tiny_config(ppo_epochs=2, mini_batches=2))
    rows = make_rows(trainer, n=8)
    before = sequence_logprobs(trainer, rows)
    stats = trainer.update(rows)
    delta = sequence_logprobs(trainer, rows) - before
    signs = np.array([r.advantage for r in rows])
    assert np.all(delta[signs > 0] > 0), delta
    assert np.all(delta[signs < 0] < 0), delta
    assert stats["grad_norm"] > 0 and 0 <= stats["clip_fraction"] <= 1


def test_zero_advantages_do_not_change_weights():
    trainer = Trainer(tiny_config(entropy_coef=0.0, kl_coef=0.0, weight_decay=0.0))
    rows = [TokenRow(r.prompt_ids, r.response_ids, r.old_logprobs, 0.0) for r in make_rows(trainer)]
    before = [p.detach().clone() for p in trainer.model.parameters()]
    stats = trainer.update(rows)
    assert stats["grad_norm"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))


def test_kl_to_reference_is_zero_before_the_first_update():
    trainer = Trainer(tiny_config(kl_coef=0.1, lr=1e-3))
    rows = make_rows(trainer)
    trainer.add_reference_logprobs(rows)
    assert all(np.allclose(r.ref_logprobs, r.old_logprobs, atol=1e-4) for r in rows)
    first = trainer.update(rows)  # the first step starts at the reference: KL term exactly ~0
    assert abs(first["kl"]) < 1e-6
    second = trainer.update(rows)
    assert second["kl"] > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    trainer = Trainer(tiny_config(ppo_epochs=2, loss_agg="seq-mean-token-mean"))
    rows = make_rows(trainer, n=8)
    trainer.update(rows[rank::world_size])
    if rank == 0:
        torch.save({n: p.detach() for n, p in trainer.model.named_parameters()}, os.path.join(out_dir, "dp.pt"))
    torch.distributed.destroy_process_group()


def test_two_process_gloo_update_equals_one_process(tmp_path):
    single = Trainer(tiny_config(ppo_epochs=2, loss_agg="seq-mean-token-mean"))
    assert not single.world.active
    single.update(make_rows(single, n=8))
    mp.start_processes(_dp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    dp = torch.load(tmp_path / "dp.pt")
    start = Trainer(tiny_config())
    moved = 0.0
    for name, p in single.model.named_parameters():
        assert torch.allclose(dp[name], p.detach(), atol=1e-5), name
        moved = max(moved, float((p.detach() - dict(start.model.named_parameters())[name].detach()).abs().max()))
    assert moved > 1e-3  # the update really changed the weights


def test_lora_update_trains_only_the_adapter_and_checkpoints_only_it(tmp_path):
    from turnrl.trainers.checkpoint import load_checkpoint, save_checkpoint

    trainer = Trainer(tiny_config(lora=True, lora_r=4, lora_alpha=8, kl_coef=0.1, lr=5e-2))
    rows = make_rows(trainer)
    trainer.add_reference_logprobs(rows)  # base model with the adapters switched off
    assert all(np.allclose(r.ref_logprobs, r.old_logprobs, atol=1e-4) for r in rows)  # LoRA B starts at zero
    frozen = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if not p.requires_grad}
    trainer.update(rows)
    trainer.update(rows)
    assert all(torch.equal(p, frozen[n]) for n, p in trainer.model.named_parameters() if n in frozen)
    trainer.add_reference_logprobs(rows)  # the reference did not move with the adapter
    assert all(np.allclose(r.ref_logprobs, r.old_logprobs, atol=1e-4) for r in rows)
    path = save_checkpoint(tmp_path, 0, trainer.model, trainer.optimizer, trainer.scheduler, {})
    saved = torch.load(path, weights_only=False)["model"]
    assert saved and all("lora_" in k for k in saved)
    fresh = Trainer(tiny_config(lora=True, lora_r=4, lora_alpha=8))
    load_checkpoint(path, fresh.model, fresh.optimizer, fresh.scheduler)
    assert np.allclose(sequence_logprobs(fresh, rows), sequence_logprobs(trainer, rows), atol=1e-5)


def test_dynamic_sampling_masks_groups_without_signal():
    from turnrl.batch import to_rows
    from turnrl.trainers.batching import token_rows
    from turnrl.trainers.trainer import groups_with_signal
    from turnrl.types import Step, Trajectory

    def traj(group, n):
        return Trajectory(task_id=group, group_id=group, steps=[Step("o", "a", prompt_ids=[1], response_ids=[2],
                                                                     response_logprobs=[-1.0]) for _ in range(n)])

    trajs = [traj("a", 2), traj("b", 1), traj("a", 1), traj("b", 2)]  # groups interleaved on purpose
    adv = np.array([0.0, 0.0, 0.5, 0.0, 0.0, 0.0])  # rows: a(2) b(1) a(1) b(2); only group b has signal
    keep = groups_with_signal(to_rows(trajs), adv)
    assert keep.tolist() == [False, False, True, False, True, True]
    rows = token_rows([s for t in trajs for s in t.steps], adv, keep)
    assert [r.advantage for r in rows] == [0.5, 0.0, 0.0]


def test_a_mini_batch_without_signal_takes_no_optimiser_step():
    trainer = Trainer(tiny_config())
    rows = make_rows(trainer)
    for r in rows:
        r.advantage = 0.0
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.update(rows)  # a first step would set Adam's moments; with no signal there is none
    rows[0].advantage = 1.0
    stats = trainer.update(rows[1:])  # still no signal in these rows
    assert stats["skipped_steps"] == 1
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
    assert trainer.update(rows)["skipped_steps"] == 0
    assert not all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
