"""The weights a separate rollout engine (vLLM) receives after an update: plain checkpoint names,
LoRA merged. Checked on CPU by loading them into a fresh `transformers` model, strictly."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_trainers_update import make_rows, tiny_config
from transformers import AutoModelForCausalLM

from turnrl.agents.models import resolve_model
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer
from turnrl.trainers.weight_sync import inference_weights


def plain_model_with(weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    model = AutoModelForCausalLM.from_pretrained(resolve_model("tiny"), dtype=torch.float32)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not unexpected, unexpected
    assert all("rotary" in k or k == "lm_head.weight" for k in missing), missing  # buffers; tied head
    return model.eval()


@pytest.mark.parametrize("lora", [False, True])
def test_updated_weights_load_into_a_plain_checkpoint_model_and_give_the_same_logits(lora):
    trainer = Trainer(tiny_config(lora=lora, lora_r=4, lora_alpha=8, lr=5e-2))
    rows = make_rows(trainer, n=6)
    trainer.update(rows)
    trainer.update(rows)  # LoRA B is non-zero now, so merging matters
    weights = dict(inference_weights(trainer.model))
    assert not any("lora_" in k or "base_layer" in k or k.startswith("base_model") for k in weights)
    plain = plain_model_with(weights)
    ids = torch.tensor([rows[0].prompt_ids + rows[0].response_ids])
    trainer.model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(plain(ids).logits.numpy(), trainer.model(input_ids=ids).logits.numpy(), atol=1e-5)


def test_recomputed_behaviour_logprobs_are_the_trainers_own():
    trainer = Trainer(tiny_config())
    rows = make_rows(trainer, n=5)
    exact = [list(r.old_logprobs) for r in rows]
    for r in rows:  # as a bf16 engine would report them: close, not equal
        r.old_logprobs = [lp + 0.01 for lp in r.old_logprobs]
    trainer.recompute_behaviour_logprobs(rows)
    for r, lp in zip(rows, exact):
        np.testing.assert_allclose(r.old_logprobs, lp, atol=1e-5)


def test_vllm_rollouts_need_generate_mode_and_say_so():
    with pytest.raises(ValueError, match="policy_mode generate"):
        TrainConfig(rollout_engine="vllm", policy_mode="score")
    with pytest.raises(ValueError, match="rollout_engine"):
        TrainConfig(rollout_engine="sglang")
