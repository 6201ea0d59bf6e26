"""MNIST digits as sequences: 28 rows (time steps) of 28 pixels (features) in [0, 1]."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .base import DATA_DIR, SPLIT_SEED, Domain, check_split

SIZE = 28
PER_CLASS = {"train": 400, "val": 50, "test": 50}  # 500 images per digit -> 4000 / 500 / 500


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Pixels > 0.5 -> 1.0 else 0.0: the targets of the Bernoulli likelihood."""
    return (x > 0.5).float()


@lru_cache(maxsize=None)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DATA_DIR / "digits.npz") as f:
        return f["images"], f["labels"]


@lru_cache(maxsize=None)
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = _raw()
    # Stratified: every split has the same number of each digit.
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in PER_CLASS}
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        a = PER_CLASS["train"]
        b = a + PER_CLASS["val"]
        parts["train"].append(idx[:a])
        parts["val"].append(idx[a:b])
        parts["test"].append(idx[b:])
    idx = rng.permutation(np.concatenate(parts[split]))  # mix the classes
    x = torch.from_numpy(images[idx].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[idx].astype(np.int64))
    return x, y


class DigitsDomain(Domain):
    name = "digits"
    title = "MNIST digits"
    discrete = False
    seq_len = SIZE
    n_features = SIZE
    label_names = tuple(str(d) for d in range(10))

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(check_split(split))

    def to_artifact(self, seq) -> np.ndarray:
        """[28, 28] float in [0, 1] -> uint8 [28, 28] grayscale image (white digit on black)."""
        a = torch.as_tensor(seq, dtype=torch.float32).detach().cpu().reshape(SIZE, SIZE)
        return (a.clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    def from_artifact(self, img) -> torch.Tensor:
        """2-D grayscale image (uint8 0-255 or float 0-1, any size) -> float [28, 28] in [0, 1]."""
        a = np.asarray(img)
        if a.ndim != 2:
            raise ValueError(f"Expected a 2-D grayscale image, got an array of shape {a.shape}.")
        if a.size == 0:
            raise ValueError("The image is empty.")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"Expected numeric pixels, got dtype {a.dtype}.")
        on_0_1 = a.dtype == bool or np.issubdtype(a.dtype, np.floating)
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError("The image contains NaN or infinite pixels.")
        if not on_0_1 or a.max() > 1.0:  # integer images, and float ones above 1, are on the 0-255 scale
            a = a / 255.0
        x = torch.from_numpy(a).clamp(0, 1)
        if x.shape != (SIZE, SIZE):
            x = F.interpolate(x[None, None], size=(SIZE, SIZE), mode="area")[0, 0]
        return x

    def describe(self, artifact) -> str:
        a = np.asarray(artifact)
        return f"{a.shape[0]}x{a.shape[1]} image, {int((a > 127).sum())} ink pixels"
