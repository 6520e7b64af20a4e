"""Building the trainable policy from a config: device, dtype, model, and what part of it trains.

The two parametrisations of an LLM agent live in `agents/`: `agents.hf.HFPolicy` generates
`<think>..</think><action>..</action>` freely (trained by the token-level loss), and
`agents.scoring.ScoringPolicy` is an exact softmax over the admissible actions (trained by the
action-level loss of `trainers.choices`).

On CPU a 135M model trains at tens of tokens per second, so `load_model` can train only the top
k decoder layers (the rest frozen: with frozen embeddings and lower layers, autograd records
nothing below the first trainable layer) or LoRA adapters, optionally only on those top layers.
"""
from __future__ import annotations

from typing import Any

import torch

from turnrl.agents.prompts import COMPACT_TEMPLATE  # noqa: F401  (re-exported for the trainers)
from turnrl.agents.scoring import ScoringPolicy  # noqa: F401  (re-exported for the trainers)


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ValueError(f"dtype must be auto, float32, bfloat16 or float16, not {name!r}") from None


def load_model(model_spec: str, device: torch.device, dtype: torch.dtype, lora: dict[str, Any] | None = None,
               train_layers: int | None = None):
    """(model, tokenizer) from `tiny`, `smollm2` or a local directory.

    `train_layers=k` leaves only the top k decoder layers and the final norm trainable; with `lora`,
    adapters go on those k layers only. None trains everything (or every layer's adapters).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from turnrl.agents.models import resolve_model

    path = resolve_model(model_spec)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device)
    n_layers = len(decoder_layers(model))
    if train_layers is not None and not 1 <= train_layers <= n_layers:
        raise ValueError(f"train_layers must be in 1..{n_layers} for this model, not {train_layers}")
    if lora is not None:
        from peft import LoraConfig, get_peft_model

        extra = {} if train_layers is None else {"layers_to_transform": list(range(n_layers - train_layers, n_layers))}
        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", bias="none", **lora, **extra))
    elif train_layers is not None:
        freeze_below_top(model, train_layers)
    return model, tokenizer


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The stack of decoder blocks of a causal LM (Llama-style `model.model.layers` and kin)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else getattr(base, "model", base)
    layers = getattr(decoder, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise ValueError(f"cannot find the decoder layers of {type(base).__name__}")
    return layers


def freeze_below_top(model: torch.nn.Module, k: int) -> None:
    """Trains only the top k decoder layers and the final norm; embeddings and the tied head stay fixed."""
    model.requires_grad_(False)
    layers = decoder_layers(model)
    for layer in layers[len(layers) - k:]:
        layer.requires_grad_(True)
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model.model
    norm = getattr(decoder, "norm", None)
    if isinstance(norm, torch.nn.Module):
        norm.requires_grad_(True)
