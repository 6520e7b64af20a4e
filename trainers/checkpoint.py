"""Atomic checkpoints: trainable weights (full model or LoRA adapter), optimiser, scheduler, every
RNG the loop draws from, the iteration and the config.

Each checkpoint is one file `ckpt-<iteration>.pt` written with `turnrl.io.atomic_write`, so a
kill -9 at any moment leaves the previous checkpoint intact: at most the iteration in progress is
lost. A checkpoint holds tensors only, plus one JSON string for everything else (iteration,
config, scheduler, optimiser settings, Python/NumPy RNG states), and is read with
`torch.load(weights_only=True)`: a crafted file cannot run code when loaded, since no pickled
object of any other type is built. `latest_checkpoint` picks the newest readable one, and says so
when it has to pass over a corrupt newer one.
"""
from __future__ import annotations

import json
import random
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turnrl.io import atomic_write, remove_stale

FORMAT = 2  # 1: one pickled dict (read with weights_only=False); 2: tensors + a JSON string
_NAME = re.compile(r"^ckpt-(\d{6,})\.pt$")
_OLD_TEMP = re.compile(r"^\.ckpt-[^.]+\.tmp$")  # format-1 temporary names: no pid, and nothing writes them now


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Only the parameters that train (the adapter under LoRA, everything under full fine-tuning)."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k in names}


def load_trainable_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in state]
    if missing:
        raise ValueError(f"checkpoint lacks trainable parameters {missing[:5]} (different model or LoRA setting?)")
    model.load_state_dict(state, strict=False)


def rng_state(generator: np.random.Generator | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every RNG the loop draws from, split into (JSON-able states, tensor states)."""
    version, keys, gauss = random.getstate()
    name, mt, pos, has_gauss, cached = np.random.get_state()
    plain: dict[str, Any] = {"python": [version, list(keys), gauss],
                             "numpy": [name, mt.tolist(), pos, has_gauss, cached]}
    if generator is not None:
        plain["trainer"] = generator.bit_generator.state
    tensors: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors["cuda"] = torch.cuda.get_rng_state_all()
    return plain, tensors


def set_rng_state(plain: dict[str, Any], tensors: dict[str, Any], generator: np.random.Generator | None = None) -> None:
    version, keys, gauss = plain["python"]
    random.setstate((version, tuple(keys), gauss))
    name, mt, pos, has_gauss, cached = plain["numpy"]
    np.random.set_state((name, np.asarray(mt, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch"])
    if "cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(tensors["cuda"])
    if generator is not None and "trainer" in plain:
        generator.bit_generator.state = plain["trainer"]


def save_checkpoint(directory: str | Path, iteration: int, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, config: dict[str, Any],
                    generator: np.random.Generator | None = None, keep: int = 2) -> Path:
    """Writes `ckpt-<iteration>.pt` atomically and deletes all but the newest `keep` checkpoints
    (and the temporary files of saves that a kill interrupted)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clean_checkpoint_dir(directory)
    optim = optimizer.state_dict()
    rng_plain, rng_tensors = rng_state(generator)
    state = {"format": FORMAT, "iteration": iteration, "config": config, "rng": rng_plain,
             "optimizer_param_groups": optim["param_groups"],
             "scheduler": scheduler.state_dict() if scheduler is not None else None}
    payload = {"format": FORMAT, "model": trainable_state(model), "optimizer_state": optim["state"],
               "rng": rng_tensors, "state_json": json.dumps(state)}
    path = directory / f"ckpt-{iteration:06d}.pt"
    atomic_write(path, lambda f: torch.save(payload, f))
    for old in list_checkpoints(directory)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def clean_checkpoint_dir(directory: str | Path) -> list[Path]:
    """Deletes temporary files of checkpoint saves whose writer is gone (kill -9 mid-save; each is
    checkpoint-sized). Safe while another process saves: its own temporary file names a live pid."""
    directory = Path(directory)
    return remove_stale(directory) + remove_stale(directory, _OLD_TEMP)


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary files of an interrupted save are ignored)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def read_checkpoint(path: str | Path, mmap: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensors, state) of a checkpoint; ValueError naming the file when it is not a readable one.

    `weights_only=True` builds tensors and plain containers only, so a crafted file cannot run code."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:  # a truncated, corrupt, foreign or malicious file
        first = str(e).split(". ")[0].splitlines()[0] if str(e) else ""
        raise ValueError(f"{path}: not a readable turnrl checkpoint ({type(e).__name__}: {first})") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or not isinstance(payload.get("state_json"), str):
        raise ValueError(f"{path}: not a turnrl checkpoint of format {FORMAT} (one written before format 2 "
                         f"stored pickled objects; it cannot be loaded safely)")
    try:
        state = json.loads(payload["state_json"])
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a readable turnrl checkpoint (its state is not JSON: {e})") from e
    missing = {"model", "optimizer_state", "rng"} - set(payload) or {"iteration", "rng"} - set(state)
    if missing:
        raise ValueError(f"{path}: not a turnrl checkpoint (missing {sorted(missing)})")
    return payload, state


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The newest checkpoint that reads; a newer corrupt one is passed over with a warning naming it."""
    found = list_checkpoints(directory)
    for i, path in enumerate(reversed(found)):
        try:
            read_checkpoint(path, mmap=True)  # mmap: the structure is checked, tensor data is not read
        except ValueError as e:
            older = found[-i - 2].name if i + 1 < len(found) else None
            warnings.warn(f"{e}; {f'falling back to {older}' if older else 'no older checkpoint to fall back to'}",
                          RuntimeWarning, stacklevel=2)
            continue
        return path
    return None


def _restore_tuples(saved: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON turns tuples (Adam's betas) into lists: give them back the type the optimiser has now."""
    return [{k: tuple(v) if isinstance(now.get(k), tuple) and isinstance(v, list) else v for k, v in group.items()}
            for group, now in zip(saved, current)]


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    generator: np.random.Generator | None = None) -> dict[str, Any]:
    """Restores everything `save_checkpoint` wrote; returns the JSON state (iteration, config, ...)."""
    payload, state = read_checkpoint(path)
    load_trainable_state(model, payload["model"])
    groups = state.get("optimizer_param_groups", [])
    optimizer.load_state_dict({"state": payload["optimizer_state"],
                               "param_groups": _restore_tuples(groups, optimizer.state_dict()["param_groups"])})
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"], payload["rng"], generator)
    return state
