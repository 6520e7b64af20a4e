"""The CUDA paths: bf16 generation and updates, vLLM rollouts with weight sync, NCCL data parallel.

No GPU is available to this project's CI, so every test here skips, saying why, unless CUDA is
present; the code they cover is shared with the CPU paths tested elsewhere (log-probs against a
forward pass, the PPO direction, weight names and LoRA merging, gloo data parallel).
"""
from __future__ import annotations

import importlib.util
import os
import socket

import numpy as np
import pytest
import torch

from turnrl.agents.logprobs import response_logprobs_list
from turnrl.types import AgentInput

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")]
needs_vllm = pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs the vllm extra")
BF16_ATOL = 0.1  # bf16 keeps ~3 significant digits; log-probs of a random tiny model sit near -log(vocab)


def _inputs(n: int) -> list[AgentInput]:
    return [AgentInput(observation="You see a door. " * (1 + 2 * i), task="open the door",
                       admissible_actions=["open door", "go north"], step=i, env_id="turnrl/TextWorld-v0")
            for i in range(n)]


def _tiny_config(**overrides):
    from turnrl.trainers.config import TrainConfig

    values = dict(model="tiny", device="cuda", lr=1e-2, tensorboard=False, plot=False, seed=0, dual_clip=None,
                  micro_batch_tokens=256, policy_mode="generate", max_new_tokens=8)
    return TrainConfig(**{**values, **overrides})


def test_hf_policy_runs_bf16_on_cuda_and_its_logprobs_match_a_forward_pass():
    from turnrl.agents.generation import SamplingParams
    from turnrl.agents.hf import HFPolicy
    from turnrl.agents.models import resolve_model

    policy = HFPolicy.from_pretrained(resolve_model("tiny"), device="cuda", sampling=SamplingParams(max_new_tokens=8))
    assert next(policy.model.parameters()).dtype == torch.bfloat16
    outs = policy.act(_inputs(4))
    ref = response_logprobs_list(policy.model, [o.prompt_ids for o in outs], [o.response_ids for o in outs],
                                 policy.pad_id)
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o.response_logprobs, r, atol=BF16_ATOL)


def test_bf16_update_on_cuda_moves_positive_tokens_up_and_negative_down():
    from turnrl.trainers.batching import TokenRow
    from turnrl.trainers.trainer import Trainer

    trainer = Trainer(_tiny_config(ppo_epochs=2))
    assert trainer.dtype == torch.bfloat16 and trainer.device.type == "cuda"
    g = np.random.default_rng(0)
    prompts = [g.integers(5, 200, 6).tolist() for _ in range(6)]
    responses = [g.integers(5, 200, 3).tolist() for _ in range(6)]
    lps = response_logprobs_list(trainer.model, prompts, responses, trainer.pad_id)
    rows = [TokenRow(p, r, lp, 1.0 if i % 2 == 0 else -1.0)
            for i, (p, r, lp) in enumerate(zip(prompts, responses, lps))]
    trainer.recompute_behaviour_logprobs(rows)
    before = np.array([sum(lp) for lp in response_logprobs_list(trainer.model, prompts, responses, trainer.pad_id)])
    trainer.update(rows)
    after = np.array([sum(lp) for lp in response_logprobs_list(trainer.model, prompts, responses, trainer.pad_id)])
    signs = np.array([r.advantage for r in rows])
    assert np.all((after - before)[signs > 0] > 0) and np.all((after - before)[signs < 0] < 0)


@needs_vllm
def test_vllm_rollouts_train_and_the_engine_follows_the_updated_weights():
    from turnrl.trainers.trainer import Trainer

    trainer = Trainer(_tiny_config(rollout_engine="vllm", env_id="turnrl/TextWorld-Coin-v0",
                                   env_kwargs={"difficulty": 1, "n_games": 1}, num_envs=4, tasks_per_iter=2,
                                   group_size=2, max_steps=2, lora=True, lora_r=4, lora_alpha=8, lr=5e-2,
                                   vllm_gpu_memory_utilization=0.2))
    try:
        metrics = trainer.train_iteration()
        assert metrics["rows"] > 0 and np.isfinite(metrics["policy_loss"])
        outs = trainer.policy.with_sampling(temperature=1.0).act(_inputs(3))  # the engine after the sync
        ref = response_logprobs_list(trainer.model, [o.prompt_ids for o in outs], [o.response_ids for o in outs],
                                     trainer.pad_id)
        for o, r in zip(outs, ref):
            np.testing.assert_allclose(o.response_logprobs, r, atol=BF16_ATOL)
    finally:
        trainer.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nccl_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    from turnrl.trainers.batching import TokenRow
    from turnrl.trainers.trainer import Trainer

    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    trainer = Trainer(_tiny_config(dtype="float32", loss_agg="seq-mean-token-mean"))
    g = np.random.default_rng(0)
    rows = [TokenRow(g.integers(5, 200, 5).tolist(), g.integers(5, 200, 2).tolist(), [-5.0, -5.0], float(i % 2) - 0.5)
            for i in range(8)]
    trainer.recompute_behaviour_logprobs(rows)
    trainer.update(rows[rank::world_size])
    if rank == 0:
        torch.save({n: p.detach().cpu() for n, p in trainer.model.named_parameters()}, os.path.join(out_dir, "dp.pt"))
    torch.distributed.destroy_process_group()


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_two_gpu_nccl_update_equals_one_process(tmp_path):
    import torch.multiprocessing as mp

    mp.start_processes(_nccl_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    dp = torch.load(tmp_path / "dp.pt")
    mp.start_processes(_nccl_worker, args=(1, _free_port(), str(tmp_path)), nprocs=1, join=True, start_method="spawn")
    single = torch.load(tmp_path / "dp.pt")
    for name, p in single.items():
        assert torch.allclose(dp[name], p, atol=1e-4), name
