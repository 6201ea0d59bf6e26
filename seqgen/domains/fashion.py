"""Fashion-MNIST: 28 rows of 28 pixels of clothes, shoes and bags in ten labelled classes.

The bundled subset (seqgen/domains/data/fashion.npz) holds 12,000 / 2,000 / 2,000 images, stratified; the
training and validation images come from the official 60,000 training images, the test images from the
official 10,000 test images. With Debian's dataset-fashion-mnist installed, `source="full"` trains on all
60,000 official training images except the bundled validation images, so validation and test stay the same.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import torch

from ..kinds.base import check_split
from ..kinds.image import ImageDomain
from ..locale import N_
from .base import DATA_DIR, as_tensors

FULL_DATA = Path("/usr/share/datasets/fashion-mnist")
FULL_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
LABELS = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"), N_("Shirt"),
          N_("Sneaker"), N_("Bag"), N_("Ankle boot"))


@cache
def _bundled() -> dict[str, np.ndarray]:
    with np.load(DATA_DIR / "fashion.npz") as f:
        return {k: f[k] for k in f.files}


@cache
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    d = _bundled()
    perm = np.random.default_rng(0).permutation(len(d[f"{split}_labels"]))   # mix the classes
    return as_tensors(d[f"{split}_images"][perm], d[f"{split}_labels"][perm])


def read_idx(path: Path) -> np.ndarray:
    """An idx file (the MNIST container: zero bytes, type 0x08 = uint8, rank, sizes, data) -> array."""
    import gzip
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte idx file")
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: {data.size} bytes for shape {shape}")
    return data.reshape(shape)


@cache
def _full_train() -> tuple[torch.Tensor, torch.Tensor]:
    missing = [f for f in FULL_FILES if not (FULL_DATA / f).is_file()]
    if missing:
        raise ValueError(f"The full Fashion-MNIST data is not installed ({FULL_DATA} lacks {', '.join(missing)}). "
                         "Install it with `apt-get install dataset-fashion-mnist`, or train on the bundled "
                         "subset (leave out --data full).")
    images, labels = read_idx(FULL_DATA / FULL_FILES[0]), read_idx(FULL_DATA / FULL_FILES[1])
    keep = np.setdiff1d(np.arange(len(labels)), _bundled()["val_source_index"])
    perm = np.random.default_rng(0).permutation(keep)
    return as_tensors(images[perm], labels[perm])


class FashionDomain(ImageDomain):
    name = "fashion"
    title = N_("Fashion-MNIST clothes")
    label_names = LABELS
    item_noun, item_noun_plural = N_("piece of clothing"), N_("pieces of clothing")
    picker_title = N_("Clothes (28 rows of pixels)")
    reference_model = "fashion-classifier"
    licence = ("Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, Zalando Research, 2017), via Debian's "
               "dataset-fashion-mnist; MIT licence.")
    data_sources = ("bundled", "full")

    def dataset(self, split: str, source: str = "bundled") -> tuple[torch.Tensor, torch.Tensor]:
        check_split(split)
        if source == "full" and split == "train":
            return _full_train()
        return _split(split)
