"""The trained policy's weights as an inference engine loads them (vLLM's `load_weights`).

Rollouts on GPUs run through `agents.vllm.VLLMPolicy`, a separate engine holding its own copy of
the weights; after every update the trainer hands it the new ones. The engine expects the names of
a plain Hugging Face checkpoint, so LoRA adapters are merged here (W + scale * B @ A) and peft's
`base_model.model.` / `.base_layer.` prefixes are dropped. This is pure torch and tested on CPU.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

PEFT_PREFIX = "base_model.model."


def _lora_deltas(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """{checkpoint name of the base weight: merged delta} for every LoRA-wrapped layer of a peft model."""
    deltas: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        if not hasattr(module, "get_delta_weight") or not hasattr(module, "lora_A"):
            continue
        active = [a for a in getattr(module, "active_adapters", []) if a in module.lora_A]
        if active:
            delta = sum(module.get_delta_weight(a) for a in active)
            deltas[_checkpoint_name(f"{name}.weight")] = delta
    return deltas


def _checkpoint_name(name: str) -> str:
    return name.removeprefix(PEFT_PREFIX).replace(".base_layer.", ".")


@torch.no_grad()
def inference_weights(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """(plain checkpoint name, tensor) for every weight of the policy, LoRA merged, adapters left out.

    Tensors are detached; a merged weight is a new tensor, any other is the live parameter (the
    engine copies it). Tied weights appear once, as in `named_parameters`.
    """
    deltas = _lora_deltas(model)
    for name, param in model.named_parameters():
        if ".lora_" in name:
            continue
        key = _checkpoint_name(name)
        weight = param.detach()
        if key in deltas:
            weight = weight + deltas[key].to(weight.dtype)
        yield key, weight
