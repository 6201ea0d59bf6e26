"""Data-parallel training across the processes of a `torchrun` launch (one machine or several).

    torchrun --standalone --nproc_per_node=2 -m seqgen train --preset digits-vae --steps 300 --name my-digits

(`python -m seqgen train` starts such a launch itself on a machine with several cores: seqgen/cli/train.py.)

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR; `Processes.from_environment()` reads them and
joins the process group (gloo on CPU, nccl on CUDA). Every process loads the data and builds the same model
from the same seed. Each step takes one global batch of `batch_size` examples and every process trains on
its own disjoint slice of it (`shard`), so N processes follow the same batches as one process would.

Gradients are averaged by PyTorch's DistributedDataParallel for the families whose step is one loss and one
backward (VAE, LM, classifier). A GAN step runs the discriminator twice before one backward and the
generator through two different methods, which DDP's one-forward-per-backward bookkeeping does not allow;
there the step averages the gradients itself after each backward, what DDP does without the overlap.

How the averages travel is the `gradient_exchange` setting. torch.distributed's all_reduce (gloo on CPU,
nccl on CUDA) works everywhere; CPU processes that share one x86-64 machine, what `python -m seqgen train`
starts, use a shared memory map instead by default (seqgen.training.shared_memory: no sockets, no thread
hand-offs). DDP stays the engine either way: the shared memory is a DDP communication hook.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

from . import shared_memory


class _TrainingLoss(nn.Module):
    """The model's training loss as a forward pass, so DistributedDataParallel can wrap it."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y, step, train):
        return self.model.loss(x, y, step, train)


@dataclass
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int | None = None     # processes of this launch on this machine (default: all of them)
    exchange: shared_memory.SharedMemoryExchange | None = field(default=None, repr=False)

    @property
    def is_main(self) -> bool:
        """Only this process logs, evaluates and saves."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @classmethod
    def from_environment(cls) -> Processes:
        """The launch torchrun describes in the environment, or a single process."""
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        except ValueError:
            raise ValueError("RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE must be integers "
                             "(torchrun sets them)") from None
        if world < 1 or not 0 <= rank < world:
            raise ValueError(f"RANK {rank} does not fit WORLD_SIZE {world}")
        return cls(rank, world, local_rank, local_world)

    def join(self, device: torch.device) -> None:
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def choose_exchange(self, choice: str, device: torch.device) -> None:
        """How the averages travel (TrainConfig.gradient_exchange): "backend" is torch.distributed's
        all_reduce; "shared-memory" needs CPU processes all on one x86-64 machine; "auto" takes the shared
        memory where it can. Collective once the exchange is used: call it in every process."""
        self.exchange = None
        if not self.active or choice == "backend":
            return
        why_not = self._why_not_shared_memory(device)
        if choice == "shared-memory" and why_not:
            raise ValueError(f"gradient_exchange shared-memory {why_not}; use auto or backend")
        if not why_not:
            self.exchange = shared_memory.SharedMemoryExchange(self.rank, self.world)

    def _why_not_shared_memory(self, device: torch.device) -> str | None:
        if device.type != "cpu":
            return f"is for CPU processes, and this one trains on {device.type}"
        if (self.local_world or self.world) != self.world:
            return f"needs every process on one machine, and this launch has {self.local_world} of {self.world} here"
        if not shared_memory.supported():
            return f"needs x86-64 memory ordering, and this machine is {platform.machine()}"
        return None

    def leave(self, wait_for_the_others: bool = True) -> None:
        """wait_for_the_others: meet at a barrier first, so that the others wait while process 0 evaluates
        and saves (a process that leaves early can make gloo abort process 0's save); False after an error
        in this process alone, when the others may never come."""
        if self.active and dist.is_initialized():
            if wait_for_the_others:
                dist.barrier()
            dist.destroy_process_group()

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This process's slice of one global batch of indices (the slices are disjoint and cover it)."""
        if not self.active:
            return batch
        size = len(batch) // self.world
        return batch[self.rank * size:(self.rank + 1) * size]

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.world:
            raise ValueError(f"batch_size {batch_size} does not split over {self.world} processes; "
                             f"use a multiple of {self.world}")

    def same_start(self, model: nn.Module) -> None:
        """Every process starts from process 0's weights."""
        if self.active:
            for tensor in model.state_dict().values():
                dist.broadcast(tensor, 0)

    def any(self, *flags: bool) -> list[bool]:
        """Each flag, true if it is true in any process: how the processes agree to stop at the same step."""
        if not self.active:
            return list(flags)
        t = torch.tensor([float(f) for f in flags])
        if self.exchange is not None:
            t = self.exchange.max("flags", t)
        else:
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]

    def mean(self, stats: dict[str, float]) -> dict[str, float]:
        """Per-step figures averaged over the processes, so the log shows the global batch's loss."""
        if not self.active or not stats:
            return stats
        t = torch.tensor(list(stats.values()), dtype=torch.float64)
        if self.exchange is not None:
            return dict(zip(stats, self.exchange.mean_("figures", t).tolist()))
        dist.all_reduce(t)
        return dict(zip(stats, (t / self.world).tolist()))


class DataParallel:
    """What a model's train_step uses to train on its slice of the global batch."""

    def __init__(self, model: nn.Module, processes: Processes):
        self.model, self.processes = model, processes
        self._ddp = None

    def loss(self, x, y, step, train):
        """model.loss(...) through DistributedDataParallel: its backward averages the gradients."""
        if self._ddp is None:
            device_ids = [self.model.device.index] if self.model.device.type == "cuda" else None
            self._ddp = nn.parallel.DistributedDataParallel(_TrainingLoss(self.model), device_ids=device_ids,
                                                            gradient_as_bucket_view=True)
            if self.processes.exchange is not None:
                self._ddp.register_comm_hook(self.processes.exchange, shared_memory.average_bucket)
        return self._ddp(x, y, step, train)

    def average_gradients(self, parameters) -> None:
        """After a backward made outside DDP: every process's gradients replaced by their mean."""
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        if self.processes.exchange is not None:
            self.processes.exchange.mean_("gradients", flat)
        else:
            dist.all_reduce(flat)
            flat /= self.processes.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
