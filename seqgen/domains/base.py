"""The Domain contract: raw data <-> model sequences.

Every domain is a sequence. A model only sees tensors:
  continuous domains: float32 [N, T, F] in [0, 1]  (digits: T=28 rows of F=28 pixels)
  discrete domains:   int64   [N, T] token ids     (names: letters; melodies: note events)
A Domain turns raw data into those tensors and model output back into an artifact a person
sees or hears. Models know nothing about pixels, letters or notes.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

SPLITS = ("train", "val", "test")


class Domain(ABC):
    name: str                     # registry key: "digits", "names", "melodies"
    title: str                    # human title: "MNIST digits"
    discrete: bool                # True: int64 tokens [T]; False: float rows [T, F]
    seq_len: int                  # T
    n_features: int               # F (continuous) or vocabulary size (discrete)
    label_names: tuple[str, ...] = ()   # names of the label classes; () when unlabelled
    pad_id: int | None = None     # discrete only: padding token ignored by losses
    bos_id: int | None = None     # discrete only: start token fed to decoders at step 0

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @abstractmethod
    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fixed, seeded split ("train" | "val" | "test") as (x, y); y is int64 [N] or None."""

    @abstractmethod
    def to_artifact(self, seq: torch.Tensor) -> Any:
        """One model sequence ([T, F] float or [T] int) -> image (uint8 [H, W]) / str / notes."""

    @abstractmethod
    def from_artifact(self, artifact: Any) -> torch.Tensor:
        """Inverse of to_artifact. Raises ValueError with a message a user can act on."""

    def describe(self, artifact: Any) -> str:
        """Short text for captions and the CLI."""
        return str(artifact)


# ---------------------------------------------------------------- helpers shared by the domains
DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_SEED = 0


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def split_indices(n: int, n_val: int, n_test: int, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Seeded shuffle of range(n) cut into train / val / test index arrays."""
    perm = np.random.default_rng(seed).permutation(n)
    return {"test": perm[:n_test], "val": perm[n_test:n_test + n_val], "train": perm[n_test + n_val:]}
