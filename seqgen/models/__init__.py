"""Model families. `build_model(cfg)` maps a ModelConfig to its network."""
from .config import CELLS, FAMILIES, ModelConfig, TrainConfig
from .gan import RNNGAN
from .reference import SequenceClassifier, SequenceLM
from .vae import RNNVAE

_FAMILY_CLASSES = {"vae": RNNVAE, "gan": RNNGAN, "lm": SequenceLM, "classifier": SequenceClassifier}


def build_model(cfg: ModelConfig):
    cfg.validate()
    return _FAMILY_CLASSES[cfg.family](cfg)


__all__ = ["CELLS", "FAMILIES", "ModelConfig", "TrainConfig", "RNNGAN", "RNNVAE", "SequenceClassifier",
           "SequenceLM", "build_model"]
