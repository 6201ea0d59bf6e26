"""Greyscale 28x28 images as sequences: 28 rows (time steps) of 28 pixels (features) in [0, 1].

`ImageDomain` holds everything image domains share: the artifact (uint8 [28, 28]), mosaics, PNG files,
and the figures that judge generated images with the domain's reference classifier. A concrete image
domain (digits, fashion) only says where its data is and what its classes are called.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import metrics
from .base import SPLIT_SEED, Domain, check_split

SIZE = 28


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Pixels > 0.5 -> 1.0 else 0.0: the targets of the Bernoulli likelihood."""
    return (x > 0.5).float()


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


def as_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


class ImageDomain(Domain):
    kind = "image"
    discrete = False
    seq_len = SIZE
    n_features = SIZE
    explorer_grid = (3, 20, 12)
    class_word = "class"            # "requested_<class_word>_accuracy" in the metrics
    classes_word = "classes"        # "grid_<classes_word>_present"

    def to_artifact(self, seq) -> np.ndarray:
        """[28, 28] float in [0, 1] -> uint8 [28, 28] greyscale image (white on black)."""
        a = torch.as_tensor(seq, dtype=torch.float32).detach().cpu().reshape(SIZE, SIZE)
        return (a.clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    def from_artifact(self, img) -> torch.Tensor:
        """2-D greyscale image (uint8 0-255 or float 0-1, any size) -> float [28, 28] in [0, 1]."""
        a = np.asarray(img)
        if a.ndim != 2:
            raise ValueError(f"Expected a 2-D greyscale image, got an array of shape {a.shape}.")
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

    def picture(self, artifacts: Sequence, cols: int, scale: int = 1) -> np.ndarray:
        from ..render import image_grid, upscale
        return upscale(image_grid(np.stack(artifacts), cols=cols, pad=1, value=60), scale)

    def write_samples(self, artifacts, folder: Path, stem: str, **options) -> list[str]:
        from ..render import png_bytes
        path = Path(folder) / f"{stem}.png"
        path.write_bytes(png_bytes(self.picture(artifacts, cols=int(np.ceil(np.sqrt(len(artifacts)))), scale=3)))
        return [f"wrote {path} ({len(artifacts)} {self.item_noun_plural})"]

    item_noun_plural = "images"

    # ---------------------------------------------------------------- quality figures
    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        return self._vae_metrics(model) if model.cfg.family == "vae" else \
            self._gan_metrics(model, n, seed, 5 * n if slow else 0)

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        clf = metrics.reference(self)
        if model.cfg.family != "gan" or not model.cfg.conditional or clf is None:
            return {}
        samples, labels = metrics.sample_with_labels(model, n, seed)
        return {f"requested_{self.class_word}_accuracy": float((clf.predict(samples) == labels).float().mean())}

    def _gan_metrics(self, model, n: int, seed: int, tstr_n: int) -> dict:
        out = {}
        clf = metrics.reference(self)
        samples, labels = metrics.sample_with_labels(model, n, seed)
        test_x, test_y = self.dataset("test")
        if labels is None:
            return out
        out["spread_ratio"] = metrics.within_class_spread(samples, labels) / metrics.within_class_spread(test_x, test_y)
        if clf is not None:
            pred = clf.predict(samples)
            out[f"requested_{self.class_word}_accuracy"] = float((pred == labels).float().mean())
            out[f"per_{self.class_word}_accuracy"] = [round(float((pred[labels == c] == c).float().mean()), 3)
                                                     for c in range(self.n_labels)]
        if tstr_n:
            gen_x, gen_y = metrics.sample_with_labels(model, tstr_n, seed + 1)
            tstr = metrics.train_classifier(gen_x, gen_y, self, seed=seed)
            out["tstr_accuracy"] = float((tstr.predict(test_x) == test_y).float().mean())
        return out

    def _vae_metrics(self, model) -> dict:
        tx, ty = self.dataset("train")
        vx, vy = self.dataset("test")
        out = {"knn5_latent_accuracy": metrics.knn_accuracy(metrics.encoder_means(model, tx), ty,
                                                            metrics.encoder_means(model, vx), vy)}
        clf = metrics.reference(self)
        if clf is not None and model.cfg.latent == 2:
            out.update(metrics.latent_grid_quality(model, clf, self.classes_word))
        return out


