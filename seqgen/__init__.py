"""seqgen: recurrent GANs and VAEs over sequences (digit rows, name letters, melody notes, sound frames).

    import seqgen
    ckpt = seqgen.load("digits-vae")            # model + config + card info
    images = ckpt.model.decode(torch.zeros(1, 2))

Importing seqgen is cheap: it neither imports torch nor changes the environment. The names below load
their modules on first use; `python -m seqgen` (seqgen/__main__.py) and the app (app.py) set the thread
policy for their own processes before torch is imported.
"""
from __future__ import annotations

import importlib
import importlib.util

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Checkpoint": "checkpoints", "CheckpointError": "checkpoints", "save": "checkpoints",
    "load": "zoo", "list_checkpoints": "zoo",
    "get_domain": "domains",
    "ModelConfig": "models", "TrainConfig": "models", "build_model": "models",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:   # seqgen.domains, seqgen.explore, ...
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'seqgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
