"""Data-parallel training with `torch.distributed`: gloo on CPU, NCCL on GPUs.

Each rank rolls out its own share of the task groups (whole groups, so credit stays local),
computes gradients on its rows with the loss normalised by GLOBAL token and sequence counts,
and the gradients are summed across ranks. One step on 2 ranks therefore equals one step on
1 rank over the union of the rows (up to float summation order). Launch with `torchrun
--nproc_per_node N -m turnrl.cli train CONFIG.yaml`; without torchrun everything is a no-op.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def init_distributed(device: torch.device) -> World:
    """Joins the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR/PORT); single
    process when those are absent."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size())


def local_device(base: torch.device) -> torch.device:
    """One GPU per rank (LOCAL_RANK) on CUDA; CPU stays CPU."""
    if base.type == "cuda" and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return base


def all_reduce_sum(values: list[float], world: World, device: torch.device) -> list[float]:
    if not world.active:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def sum_gradients(model: torch.nn.Module, world: World) -> None:
    """Sums every trainable gradient across ranks (one flat all-reduce)."""
    if not world.active:
        return
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset:offset + n].view_as(p).clone()
        offset += n


def broadcast_parameters(model: torch.nn.Module, world: World) -> None:
    """Makes every rank start from rank 0's weights."""
    if not world.active:
        return
    for p in model.parameters():
        dist.broadcast(p.data, src=0)


def barrier(world: World) -> None:
    if world.active:
        dist.barrier()
