"""Averaging between the training processes of one machine through shared memory instead of sockets.

gloo moves every all_reduce through loopback TCP and hands it between three threads in each process
(the caller, gloo's work loop, its socket loop). For a small model those wake-ups, not the arithmetic, are
most of what averaging costs, and on a machine whose every core runs a training process each of them also
waits for a core. Processes on one machine can instead write their vector into a memory map they all share
and read the others' straight back: one copy in, one sum out, no thread hand-off.

Each `Channel` is one such map: a flag per process (how many vectors it has written) and two slots per
process, used on alternate calls. A process that has written call k's vector and seen every flag reach k
reads the others' call-k slots; none of them can overwrite those before writing call k + 1 (the other slot)
and then waiting for this process to reach k + 1, which it only does after reading. So one wait per call is
enough. That reasoning needs stores to become visible in program order (the data before its flag), which
x86-64 guarantees; `supported()` says where the exchange may be used, and seqgen.training.distributed falls
back to torch.distributed's own all_reduce elsewhere.
"""
from __future__ import annotations

import mmap
import os
import platform
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist

# how long a wait spins (yielding the core) before it sleeps between looks: a peer that is a step behind
# arrives within milliseconds; one that is evaluating or saving may take seconds, and must get the core.
SPIN_SECONDS = 0.002
SLEEP_SECONDS = 0.0002
# as long as torch.distributed's default collective timeout: after that the peer is taken for gone
TIMEOUT_SECONDS = 30 * 60
_FLAG_STRIDE = 8   # int64s: one 64-byte cache line per process's flag, so writers do not share a line


def supported() -> bool:
    """Whether this machine's memory model keeps a vector's stores ahead of its flag (see the docstring)."""
    return platform.machine().lower() in ("x86_64", "amd64")


def _folder() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def _create(path: str) -> int:
    """A new file only this user can read (never through a link); a stale one of an earlier run is replaced."""
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_NOFOLLOW
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        os.unlink(path)
        return os.open(path, flags, 0o600)


class Channel:
    """One vector shape exchanged between every process of a torchrun launch on one machine."""

    def __init__(self, rank: int, world: int, numel: int, dtype: torch.dtype, memory):
        """memory: a writable buffer of `Channel.bytes_needed(...)` bytes that every process maps."""
        self.rank, self.world, self.numel, self.dtype = rank, world, numel, dtype
        flag_bytes = 8 * _FLAG_STRIDE * world
        self._flags = np.frombuffer(memory, dtype=np.int64, count=_FLAG_STRIDE * world)[::_FLAG_STRIDE]
        self._slots = torch.frombuffer(memory, dtype=dtype, offset=flag_bytes,
                                       count=2 * world * numel).view(2, world, numel)
        self._memory = memory
        self._calls = 0

    @staticmethod
    def bytes_needed(world: int, numel: int, dtype: torch.dtype) -> int:
        return 8 * _FLAG_STRIDE * world + 2 * world * numel * torch.empty(0, dtype=dtype).element_size()

    @classmethod
    def open(cls, rank: int, world: int, numel: int, dtype: torch.dtype, path: str) -> Channel:
        """Collective: every process opens the same channel at the same point of its run. Process 0 makes
        the file (readable by this user only) and removes its name once every process has it mapped, so
        nothing is left behind, even after a crash."""
        size = cls.bytes_needed(world, numel, dtype)
        if rank == 0:
            fd = _create(path)
            try:
                os.ftruncate(fd, size)
            finally:
                os.close(fd)
        dist.barrier()
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        try:
            memory = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        dist.barrier()
        if rank == 0:
            os.unlink(path)
        return cls(rank, world, numel, dtype, memory)

    def gather(self, values: torch.Tensor) -> torch.Tensor:
        """Every process's `values` (this one's included), as a (world, numel) view that stays valid until
        this channel's next call but one."""
        self._calls += 1
        slots = self._slots[self._calls % 2]
        slots[self.rank].copy_(values.reshape(-1))
        self._flags[self.rank] = self._calls
        self._wait_for(self._calls)
        return slots

    def _wait_for(self, calls: int) -> None:
        flags = self._flags
        if (flags >= calls).all():
            return
        start = time.monotonic()
        while not (flags >= calls).all():
            waited = time.monotonic() - start
            if waited < SPIN_SECONDS:
                os.sched_yield()
            elif waited < TIMEOUT_SECONDS:
                time.sleep(SLEEP_SECONDS)
            else:
                late = [r for r in range(self.world) if flags[r] < calls]
                raise RuntimeError(f"training process(es) {late} did not reach exchange {calls} within "
                                   f"{TIMEOUT_SECONDS:g} s")


class SharedMemoryExchange:
    """The channels of one launch, made on first use, one per (name, size, dtype)."""

    def __init__(self, rank: int, world: int):
        self.rank, self.world = rank, world
        run = os.environ.get("TORCHELASTIC_RUN_ID", "run")
        port = os.environ.get("MASTER_PORT", "0")
        self._prefix = os.path.join(_folder(), f"seqgen-{os.getuid()}-{port}-{run}-")
        self._channels: dict[tuple, Channel] = {}

    def gather(self, name: str, values: torch.Tensor) -> torch.Tensor:
        key = (name, values.numel(), values.dtype)
        channel = self._channels.get(key)
        if channel is None:
            path = f"{self._prefix}{len(self._channels)}"
            channel = self._channels[key] = Channel.open(self.rank, self.world, values.numel(), values.dtype,
                                                         path)
        return channel.gather(values)

    def mean_(self, name: str, values: torch.Tensor) -> torch.Tensor:
        """`values` replaced, in place, by their mean over the processes (the same bits in every process)."""
        everyone = self.gather(name, values)
        torch.sum(everyone, 0, out=values.view(-1))
        return values.div_(self.world)

    def max(self, name: str, values: torch.Tensor) -> torch.Tensor:
        return self.gather(name, values).amax(0)


def average_bucket(exchange: SharedMemoryExchange, bucket):  # DDP rejects a string return annotation
    """A DistributedDataParallel communication hook: the bucket's gradients averaged through shared memory.
    The work is done by the time the hook returns, so the future it gives back is already complete."""
    buffer = bucket.buffer()
    exchange.mean_(f"bucket{bucket.index()}", buffer)
    done = torch.futures.Future()
    done.set_result(buffer)
    return done
