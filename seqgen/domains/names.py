"""US first names: the 1990 census lists, each name as letters then EOS (the text kind, seqgen.kinds.text)."""
from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ..kinds.base import check_split
from ..kinds.text import TextDomain
from ..locale import N_
from .base import DATA_DIR, split_indices

SEQ_LEN = 12                   # longest name in the 1990 census lists has 11 letters, + EOS


@cache
def _raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(names lowercase str [N], sex uint8 [N] 0=female 1=male, frequency % [N])."""
    with np.load(DATA_DIR / "names.npz") as f:
        return f["names"], f["sex"], f["freq"]


@cache
def _known() -> frozenset[str]:
    return frozenset(str(n) for n in _raw()[0])


class NamesDomain(TextDomain):
    name = "names"
    title = N_("US first names")
    item_noun, item_noun_plural = N_("name"), N_("names")
    picker_title = N_("Names (letters)")
    reference_model = "names-lm"
    licence = "US Census 1990 first-name lists, via the `names` package; public domain."
    seq_len = SEQ_LEN
    label_names = (N_("female"), N_("male"))

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(check_split(split))

    def known_words(self) -> frozenset[str]:
        return _known()


@cache
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    names, sex, _ = _raw()
    n_hold = round(0.05 * len(names))
    idx = split_indices(len(names), n_hold, n_hold)[split]
    domain = NamesDomain()
    x = torch.from_numpy(np.stack([domain.encode(names[i]) for i in idx]))
    y = torch.from_numpy(sex[idx].astype(np.int64))
    return x, y
