"""seqgen: recurrent GANs and VAEs over sequences (digit rows, name letters, melody notes).

    import seqgen
    ckpt = seqgen.load("digits-vae")            # model + config + card info
    images = ckpt.model.decode(torch.zeros(1, 2))
"""
import os

# Busy-waiting OpenMP threads slow torch several-fold when anything else runs beside it;
# this only takes effect when seqgen is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .checkpoints import Checkpoint, CheckpointError, list_checkpoints, load, save
from .domains import get_domain
from .models import ModelConfig, TrainConfig, build_model

__version__ = "0.1.0"
__all__ = ["Checkpoint", "CheckpointError", "ModelConfig", "TrainConfig", "build_model", "get_domain",
           "list_checkpoints", "load", "save"]
