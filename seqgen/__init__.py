"""seqgen: recurrent GANs and VAEs over sequences (digit rows, name letters, melody notes).

    import seqgen
    ckpt = seqgen.load("digits-vae")            # model + config + card info
    images = ckpt.model.decode(torch.zeros(1, 2))
"""
import os
import sys


def wait_policy(argv: list[str]) -> str:
    """How torch's OpenMP threads wait for work, per use (OMP_WAIT_POLICY, read once, when torch loads).

    Spinning (ACTIVE) is what lets one training process use several threads at all: threads that sleep
    between the small matmuls of a recurrent step make two threads slower than one. But spinning threads
    make anything that shares the CPU with them several times slower. So only `python -m seqgen train`
    spins, and only in a process that will run several threads; the app, live training beside it, tests,
    benchmarks and notebooks wait passively. `train` usually runs one single-threaded process per core
    (seqgen/cli_train.py), where nothing spins. An OMP_WAIT_POLICY already set wins."""
    cli_train = len(argv) > 1 and argv[0] == "-m" and argv[1] == "train"  # `python -m seqgen train`, mid-import
    return "ACTIVE" if cli_train and os.environ.get("OMP_NUM_THREADS", "") != "1" else "PASSIVE"


# Only takes effect when seqgen is imported before torch (as `python -m seqgen` and the app do).
os.environ.setdefault("OMP_WAIT_POLICY", wait_policy(sys.argv))

from .checkpoints import Checkpoint, CheckpointError, list_checkpoints, load, save
from .domains import get_domain
from .models import ModelConfig, TrainConfig, build_model

__version__ = "0.1.0"
__all__ = ["Checkpoint", "CheckpointError", "ModelConfig", "TrainConfig", "build_model", "get_domain",
           "list_checkpoints", "load", "save"]
