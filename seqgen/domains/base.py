"""What the bundled domains share about their data: where the files are, and seeded splits.

The Domain contract itself, and how each kind of artifact looks, lives in seqgen.kinds; a domain here
subclasses its kind and says where its data comes from.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_SEED = 0


def split_indices(n: int, n_val: int, n_test: int, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Seeded shuffle of range(n) cut into train / val / test index arrays."""
    perm = np.random.default_rng(seed).permutation(n)
    return {"test": perm[:n_test], "val": perm[n_test:n_test + n_val], "train": perm[n_test + n_val:]}


def stratified_split(images: np.ndarray, labels: np.ndarray, split: str, per_class: dict[str, int],
                     seed: int = SPLIT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Every split holds the same number of each class; the classes are then mixed (seeded)."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in per_class}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for s, n in per_class.items():
            parts[s].append(idx[start:start + n])
            start += n
    idx = rng.permutation(np.concatenate(parts[split]))
    return as_tensors(images[idx], labels[idx])


def as_tensors(items: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 items (0-255) -> float32 in [0, 1]; labels -> int64."""
    return torch.from_numpy(items.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))
