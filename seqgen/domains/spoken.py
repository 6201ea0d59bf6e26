"""Spoken digits: "zero" to "nine" in English and 零 to 九 in Mandarin, synthesised by espeak-ng, as log-mel
spectrograms of 48 frames × 48 mel bands (seqgen.kinds.sound has the sound itself).

Labels 0-9 are the English digits and 10-19 the Mandarin ones, so label % 10 is the digit. The bundled
file (seqgen/domains/data/spoken.npz, built by `python scripts/build_data.py sound`) holds 144 clips per
label, split here 108 / 18 / 18 per label (train / val / test), seeded. `source="full"` trains on the larger
set that `scripts/build_data.py sound --full` writes to this machine's data folder, minus every clip that is
also in the bundled validation or test split, so those splits stay the same.
"""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import torch

from ..kinds.base import check_split
from ..kinds.sound import SoundDomain
from ..locale import N_
from .base import DATA_DIR, SPLIT_SEED

ENGLISH = (N_("zero"), N_("one"), N_("two"), N_("three"), N_("four"), N_("five"), N_("six"), N_("seven"), N_("eight"),
           N_("nine"))
# Mandarin labels keep their pinyin for English readers; Chinese readers see the character first.
MANDARIN = (N_("líng 零"), N_("yī 一"), N_("èr 二"), N_("sān 三"), N_("sì 四"), N_("wǔ 五"), N_("liù 六"), N_("qī 七"),
            N_("bā 八"), N_("jiǔ 九"))
PER_LABEL = {"train": 108, "val": 18, "test": 18}
BUNDLED_FILE = DATA_DIR / "spoken.npz"
FULL_FILE = "spoken-full.npz"
# what a data file records about how its spectrograms were made; the domain refuses a file made otherwise
SETTINGS = ("sample_rate", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "db_floor", "db_top", "trim_db",
            "seq_len")


def data_dir() -> Path:
    """Where machine-local data sets live: $SEQGEN_DATA_DIR, else ~/.cache/seqgen."""
    return Path(os.environ.get("SEQGEN_DATA_DIR") or Path.home() / ".cache" / "seqgen")


def full_data_path() -> Path:
    return data_dir() / FULL_FILE


def spectrogram_settings() -> dict[str, float]:
    """SETTINGS as this domain makes its spectrograms: what a data file records, and must match."""
    return {name: getattr(SpokenDigitsDomain, name) for name in SETTINGS}


def read_data(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    for name, wanted in spectrogram_settings().items():
        made, wanted = float(data[name]), float(wanted)
        if made != wanted:
            raise ValueError(f"{path} was built with {name} = {made:g}, but the spoken-digits domain uses "
                             f"{wanted:g}; rebuild it with `python scripts/build_data.py sound"
                             f"{' --full' if path.name == FULL_FILE else ''}`.")
    return data


@cache
def _bundled() -> dict[str, np.ndarray]:
    return read_data(BUNDLED_FILE)


@cache
def _split_indices() -> dict[str, np.ndarray]:
    """Each split holds PER_LABEL[split] clips of every label, drawn at random (seeded), then mixed."""
    labels = _bundled()["labels"]
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in PER_LABEL}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for s, n in PER_LABEL.items():
            parts[s].append(idx[start:start + n])
            start += n
    return {s: rng.permutation(np.concatenate(p)) for s, p in parts.items()}


def _tensors(mel: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(mel.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


@cache
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    d, idx = _bundled(), _split_indices()[split]
    return _tensors(d["mel"][idx], d["labels"][idx])


def clip_keys(data: dict[str, np.ndarray], idx: np.ndarray | None = None) -> list[tuple]:
    """(label, voice, variant, speed, pitch) of each clip: what makes a clip, whichever file it is in."""
    idx = np.arange(len(data["labels"])) if idx is None else idx
    return [(int(data["labels"][i]), str(data["voices"][data["voice"][i]]), str(data["variants"][data["variant"][i]]),
             int(data["speeds"][data["speed"][i]]), int(data["pitches"][data["pitch"][i]])) for i in idx]


@cache
def _full_train() -> tuple[torch.Tensor, torch.Tensor]:
    path = full_data_path()
    if not path.is_file():
        raise ValueError(f"The full spoken-digits set is not built on this machine (there is no {path}). Build it "
                         "with `python scripts/build_data.py sound --full` (espeak-ng needed; about ten minutes), "
                         "or train on the bundled set (leave out --data full).")
    full, held_out = read_data(path), set()
    for split in ("val", "test"):
        held_out.update(clip_keys(_bundled(), _split_indices()[split]))
    keep = np.array([i for i, key in enumerate(clip_keys(full)) if key not in held_out])
    keep = np.random.default_rng(SPLIT_SEED).permutation(keep)
    return _tensors(full["mel"][keep], full["labels"][keep])


class SpokenDigitsDomain(SoundDomain):
    name = "spoken"
    title = N_("Spoken digits (English and Mandarin)")
    label_names = ENGLISH + MANDARIN
    item_noun, item_noun_plural = N_("spoken digit"), N_("spoken digits")
    picker_title = N_("Spoken digits (48 frames of a spectrogram)")
    meaning_word, meanings_word = "digit", "digits"
    reference_model = "spoken-classifier"
    licence = ("Synthesised for seqgen with espeak-ng 1.51 (Debian package espeak-ng 1.51+dfsg-10+deb12u2), "
               "which is licensed GPL-3.0-or-later; the data holds only log-mel spectrograms of the speech it "
               "produced, no espeak-ng code or voice data (see seqgen/domains/data/NOTICE).")
    data_sources = ("bundled", "full")

    def meaning(self, labels: torch.Tensor) -> torch.Tensor:
        """The digit said, whatever the language: a Mandarin 七 (label 17) means 7."""
        return labels % 10

    def dataset(self, split: str, source: str = "bundled") -> tuple[torch.Tensor, torch.Tensor]:
        check_split(split)
        if source == "full" and split == "train":
            return _full_train()
        return _split(split)

    def item_texts(self, split: str) -> list[str]:
        """"#3: seven (en-gb+m3, 170 words/min, pitch 35)": the label and the voice that said it."""
        d = _bundled()
        keys = clip_keys(d, _split_indices()[check_split(split)])
        return [f"#{i}: {self.label_names[label]} ({voice}+{variant}, {speed} words/min, pitch {pitch})"
                for i, (label, voice, variant, speed, pitch) in enumerate(keys)]
