"""Which device a model runs on: one rule for training, sampling, evaluation and the app.

`auto` means the first CUDA GPU when there is one, else the CPU. Under torchrun each process takes the GPU
of its LOCAL_RANK, so N processes on one machine use N GPUs.

The app reads SEQGEN_DEVICE and defaults to the CPU even where there is a GPU: its decodes are small
batches, one per click, where a GPU's launch and copy overhead outweighs its speed, and the latent pad
decodes in the browser anyway."""
from __future__ import annotations

import os

import torch

from .models.config import DEVICE_CHOICES


def resolve_device(choice: str | None = "auto", local_rank: int = 0) -> torch.device:
    """auto | cpu | cuda -> a torch.device, or a ValueError that says what is missing."""
    choice = (choice or "auto").strip().lower()
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {', '.join(DEVICE_CHOICES)}, not {choice!r}")
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("--device cuda: this torch sees no CUDA GPU (a CPU-only wheel, or no driver); "
                         "use --device cpu or auto")
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise ValueError(f"process {local_rank} has no GPU of its own: this machine has {count}; "
                         f"start at most {count} processes per machine")
    return torch.device("cuda", local_rank)


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS has one (`taskset`, a container's
    cpuset), which can be fewer than the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on this OS
        return os.cpu_count() or 1


def app_device() -> torch.device:
    """The device the app's models are loaded on (SEQGEN_DEVICE: auto | cpu | cuda; default cpu)."""
    return resolve_device(os.environ.get("SEQGEN_DEVICE", "cpu"))
