"""Bach chorale soprano lines (the melody kind, seqgen.kinds.melody) on a 16th-note grid.

Each sequence is 4 whole bars of 4/4 (64 steps) from a chorale's soprano, transposed to C major / A minor.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ..kinds.base import check_split
from ..kinds.melody import (  # noqa: F401
    FIRST_NOTE,
    HOLD,
    REST,
    MelodyDomain,
    Note,
    interval_histogram,
    pitch_class_histogram,
    pitch_name,
    share_in_scale,
)
from ..locale import N_
from .base import DATA_DIR, SPLIT_SEED

MIN_PITCH, MAX_PITCH = 55, 84          # G3..C6 covers the transposed sopranos; rarer notes move by octaves
STEPS_PER_BEAT = 4
STEPS_PER_BAR = 4 * STEPS_PER_BEAT
SEQ_LEN = 4 * STEPS_PER_BAR            # 64
MAX_REST = 0.25                        # skip windows that are more than a quarter silence
MAJOR = frozenset({0, 2, 4, 5, 7, 9, 11})   # C major
MINOR = frozenset({9, 11, 0, 2, 4, 5, 7, 8})  # A natural minor + G# (harmonic)


def scale_pitch_classes(label: int | None = None) -> frozenset[int]:
    """Pitch classes of C major (0), A minor natural + harmonic (1), or their union (None)."""
    return {0: MAJOR, 1: MINOR, None: MAJOR | MINOR}[label]


def in_scale_ratio(notes_list, label: int | None = None) -> float:
    """Fraction of notes whose pitch class is in the scale (see scale_pitch_classes); 0.0 with no notes."""
    return share_in_scale(notes_list, scale_pitch_classes(label))


# ---------------------------------------------------------------- data
@cache
def _raw() -> dict[str, np.ndarray]:
    with np.load(DATA_DIR / "melodies.npz") as f:
        return {k: f[k] for k in f.files}


def _fit_range(p: np.ndarray) -> np.ndarray:
    """Move the few notes outside MIN_PITCH..MAX_PITCH by octaves."""
    p = p.copy()
    while (low := (p > 0) & (p < MIN_PITCH)).any():
        p[low] += 12
    while (high := p > MAX_PITCH).any():
        p[high] -= 12
    return p


def _soprano_tokens(i: int) -> np.ndarray:
    """Chorale i's soprano, transposed to C major / A minor, as tokens [T]."""
    d = _raw()
    a, b = d["offsets"][i], d["offsets"][i + 1]
    pitch = d["pitches"][a:b, 0].astype(np.int64)
    onset = d["onsets"][a:b, 0].astype(bool)
    target = 0 if d["mode"][i] == 0 else 9  # C or A
    shift = (target - int(d["tonic"][i])) % 12
    shift = shift - 12 if shift > 5 else shift  # smallest move: -6..+5 semitones
    pitch = _fit_range(np.where(pitch > 0, pitch + shift, 0))
    return np.where(pitch == 0, REST, np.where(onset, FIRST_NOTE + pitch - MIN_PITCH, HOLD))


def _full_bars(i: int) -> set[int]:
    """Start steps of chorale i's whole 16-step bars. A bar split in two at a repeat or phrase end
    (e.g. 3 beats + a 1-beat pickup) counts as one whole bar; the opening pickup does not."""
    d = _raw()
    a, b = d["bar_offsets"][i], d["bar_offsets"][i + 1]
    starts, lengths = d["bar_starts"][a:b].tolist(), d["bar_lengths"][a:b].tolist()
    bars, j = set(), 0
    while j < len(starts):
        if lengths[j] == STEPS_PER_BAR:
            bars.add(starts[j])
        elif j + 1 < len(starts) and lengths[j] + lengths[j + 1] == STEPS_PER_BAR:
            bars.add(starts[j])
            j += 1
        j += 1
    return bars


def _windows(i: int) -> np.ndarray:
    """Every run of 4 whole consecutive bars of a 4/4 chorale (one per bar line); mostly-rest windows skipped."""
    tokens = _soprano_tokens(i)
    bars = _full_bars(i)
    out = []
    for start in sorted(bars):
        if start + SEQ_LEN > len(tokens) or any(start + k * STEPS_PER_BAR not in bars for k in range(4)):
            continue
        w = tokens[start:start + SEQ_LEN].copy()
        if (w == REST).mean() > MAX_REST:
            continue
        if w[0] == HOLD:  # a note tied over the bar line starts afresh in this window
            w[0] = FIRST_NOTE + _held_pitch(tokens, start) - MIN_PITCH
        out.append(w)
    return np.stack(out) if out else np.zeros((0, SEQ_LEN), np.int64)


def _held_pitch(tokens: np.ndarray, t: int) -> int:
    while tokens[t] == HOLD:
        t -= 1
    return int(tokens[t]) - FIRST_NOTE + MIN_PITCH


def chorale_group(cid: str) -> str:
    """Versions of one chorale ("bwv248.23-2", "bwv248.23-s") share a group so they stay in one split."""
    return cid.split("-")[0]


@cache
def _chorale_splits() -> dict[str, np.ndarray]:
    """Indices of the 4/4 chorales in each split, 90/5/5 by chorale group, seeded."""
    d = _raw()
    usable = [i for i in range(len(d["ids"])) if (d["ts_num"][i], d["ts_den"][i]) == (4, 4)]
    groups = sorted({chorale_group(str(d["ids"][i])) for i in usable})
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(groups))
    n_hold = round(0.05 * len(groups))
    cut = {"test": perm[:n_hold], "val": perm[n_hold:2 * n_hold], "train": perm[2 * n_hold:]}
    which = {groups[g]: s for s, gs in cut.items() for g in gs}
    return {s: np.array([i for i in usable if which[chorale_group(str(d["ids"][i]))] == s]) for s in cut}


@cache
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(tokens int64 [N, 64], mode int64 [N], chorale index int64 [N])."""
    d = _raw()
    xs, ys, cs = [], [], []
    for i in _chorale_splits()[split]:
        w = _windows(i)
        xs.append(w)
        ys.append(np.full(len(w), d["mode"][i], np.int64))
        cs.append(np.full(len(w), i, np.int64))
    return tuple(torch.from_numpy(np.concatenate(a)) for a in (xs, ys, cs))


class MelodiesDomain(MelodyDomain):
    name = "melodies"
    title = N_("Bach chorale melodies")
    item_noun, item_noun_plural = N_("melody"), N_("melodies")
    picker_title = N_("Melodies (notes)")
    licence = "J. S. Bach chorales from the music21 corpus; public domain."
    seq_len = SEQ_LEN
    label_names = (N_("major"), N_("minor"))
    steps_per_beat = STEPS_PER_BEAT
    min_pitch, max_pitch = MIN_PITCH, MAX_PITCH
    scale = MAJOR | MINOR
    keys_words = N_("C major / A minor")

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y, _ = _split(check_split(split))
        return x, y

    def chorale_ids(self, split: str) -> list[str]:
        """The chorale each window of dataset(split) comes from (e.g. "bwv26.6")."""
        ids = _raw()["ids"]
        return [str(ids[i]) for i in _split(check_split(split))[2].tolist()]

    def item_texts(self, split: str) -> list[str]:
        _, y = self.dataset(split)
        return [f"{cid} ({self.label_names[int(c)]})" for cid, c in zip(self.chorale_ids(split), y.tolist())]
