"""The Domain contract: raw data <-> model sequences, and everything about how the data looks.

Every domain is a sequence. A model only sees tensors:
  continuous domains: float32 [N, T, F] in [0, 1]  (images: T=28 rows of F=28 pixels)
  discrete domains:   int64   [N, T] token ids     (names: letters; melodies: note events)
A Domain turns raw data into those tensors and model output back into an artifact a person sees or
hears. It also owns its presentation (its kind of artifact, label names, licence, pictures of a batch,
the files the CLI writes) and its quality figures, so the app, the CLI and the metrics ask the domain
and never test which domain they hold. Models know nothing about pixels, letters or notes.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

SPLITS = ("train", "val", "test")
KINDS = ("image", "text", "melody")


class Domain(ABC):
    name: str                     # registry key, e.g. "digits"
    title: str                    # human title: "MNIST digits"
    kind: str                     # "image" | "text" | "melody": how the app shows an artifact
    discrete: bool                # True: int64 tokens [T]; False: float rows [T, F]
    seq_len: int                  # T
    n_features: int               # F (continuous) or vocabulary size (discrete)
    label_names: tuple[str, ...] = ()   # names of the label classes; () when unlabelled
    pad_id: int | None = None     # discrete only: padding token ignored by losses
    bos_id: int | None = None     # discrete only: start token fed to decoders at step 0
    item_noun: str = "example"    # one item in words: "digit", "name", "melody"
    picker_title: str = ""        # the Live training page's choice: "Digits (28 rows of pixels)"
    licence: str = ""             # data source and licence, for model cards
    reference_model: str | None = None   # checkpoint that judges samples (classifier / language model)
    explorer_grid: tuple[int, int, int] = (3, 12, 6)   # latent explorer n x n grid: min, max, default
    data_sources: tuple[str, ...] = ("bundled",)       # "full": a larger training set installed on the machine

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

    def training_data(self, source: str = "bundled") -> tuple[torch.Tensor, torch.Tensor | None]:
        """The training split, from the bundled data or (where the domain has one) a larger installed set."""
        if source not in self.data_sources:
            raise ValueError(f"{self.title} has no {source!r} data; it offers: {', '.join(self.data_sources)}")
        return self.dataset("train") if source == "bundled" else self.dataset("train", source=source)

    def artifacts(self, seqs) -> list:
        """A batch of model sequences (on any device) -> one artifact each."""
        if isinstance(seqs, torch.Tensor):
            seqs = seqs.cpu()
        return [self.to_artifact(s) for s in seqs]

    def describe(self, artifact: Any) -> str:
        """Short text for captions and the CLI."""
        return str(artifact)

    def item_texts(self, split: str) -> list[str]:
        """One line per item of dataset(split): what a map's hover shows."""
        x, y = self.dataset(split)
        if y is not None and self.label_names:
            return [f"#{i}: {self.label_names[int(c)]}" for i, c in enumerate(y.tolist())]
        return [f"#{i}" for i in range(len(x))]

    def picture(self, artifacts: Sequence, cols: int, scale: int = 1) -> np.ndarray | None:
        """A uint8 mosaic of artifacts (images, piano-roll thumbnails), or None where text reads better."""
        return None

    def write_samples(self, artifacts: Sequence, folder: Path, stem: str, **options) -> list[str]:
        """Write artifacts as files a person can open (the CLI's `sample`); -> lines to print."""
        path = Path(folder) / f"{stem}.txt"
        path.write_text("\n".join(self.describe(a) for a in artifacts) + "\n", encoding="utf-8")
        return [f"wrote {path}"]

    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        """The domain's own quality figures of a generator (VAE or GAN), on the test split."""
        return {}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        """Cheap sample-quality figures to watch during training and to guard shipped models."""
        return {}


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
