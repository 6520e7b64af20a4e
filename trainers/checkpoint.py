"""Atomic checkpoints: trainable weights (full model or LoRA adapter), optimiser, scheduler, every
RNG the loop draws from, the iteration and the config.

Each checkpoint is one file `ckpt-<iteration>.pt` written to a temporary name, fsynced and renamed,
so a kill -9 at any moment leaves the previous checkpoint intact: at most the iteration in progress
is lost. `latest_checkpoint` picks the highest complete one.
"""
from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

_NAME = re.compile(r"^ckpt-(\d{6,})\.pt$")


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Only the parameters that train (the adapter under LoRA, everything under full fine-tuning)."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k in names}


def load_trainable_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in state]
    if missing:
        raise ValueError(f"checkpoint lacks trainable parameters {missing[:5]} (different model or LoRA setting?)")
    model.load_state_dict(state, strict=False)


def rng_state(generator: np.random.Generator | None = None) -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["trainer"] = generator.bit_generator.state
    return state


def set_rng_state(state: dict[str, Any], generator: np.random.Generator | None = None) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "trainer" in state:
        generator.bit_generator.state = state["trainer"]


def save_checkpoint(directory: str | Path, iteration: int, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, config: dict[str, Any],
                    generator: np.random.Generator | None = None, keep: int = 2) -> Path:
    """Writes `ckpt-<iteration>.pt` atomically and deletes all but the newest `keep` checkpoints."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"iteration": iteration, "model": trainable_state(model), "optimizer": optimizer.state_dict(),
               "scheduler": scheduler.state_dict() if scheduler is not None else None,
               "rng": rng_state(generator), "config": config}
    path = directory / f"ckpt-{iteration:06d}.pt"
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in list_checkpoints(directory)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary files of an interrupted save are ignored)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | Path) -> Path | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    generator: np.random.Generator | None = None) -> dict[str, Any]:
    """Restores everything `save_checkpoint` wrote; returns the payload (iteration, config)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file
        raise ValueError(f"{path}: not a readable turnrl checkpoint ({e})") from e
    if not isinstance(payload, dict) or not {"iteration", "model", "optimizer", "rng"} <= set(payload):
        raise ValueError(f"{path}: not a turnrl checkpoint (missing keys)")
    load_trainable_state(model, payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    if scheduler is not None and payload.get("scheduler") is not None:
        scheduler.load_state_dict(payload["scheduler"])
    set_rng_state(payload["rng"], generator)
    return payload
