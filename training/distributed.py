"""Process-group setup for torchrun (DistributedDataParallel); a no-op in one process."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessInfo:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device: str) -> ProcessInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return ProcessInfo(0, 1, torch.device(device))
    rank = int(os.environ["RANK"])
    if device == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl")
        return ProcessInfo(rank, world_size, torch.device("cuda", local_rank))
    dist.init_process_group("gloo")
    return ProcessInfo(rank, world_size, torch.device(device))


def stop(info: ProcessInfo) -> None:
    """Leave the process group together: a gloo rank that tears down while its peer is
    still connected aborts the process ("terminate called without an active exception")."""
    if info.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def gather_objects(info: ProcessInfo, value: object) -> list[object]:
    """Every rank's `value`, in rank order (just [value] in one process)."""
    if not info.distributed:
        return [value]
    values: list[object] = [None] * info.world_size
    dist.all_gather_object(values, value)
    return values


def any_rank(info: ProcessInfo, flag: bool) -> bool:
    """True on every rank when `flag` is true on any (to stop all ranks together)."""
    if not info.distributed:
        return flag
    tensor = torch.tensor([1 if flag else 0])
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def wrap_model(model: torch.nn.Module, info: ProcessInfo) -> torch.nn.Module:
    """The model in DistributedDataParallel when there are several processes, else itself."""
    if not info.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [info.device.index] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)
