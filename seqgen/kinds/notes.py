"""Notes and their statistics: what the melody kind's artifacts are made of (seqgen.kinds.melody), and what
a MIDI file is read into (seqgen.kinds.midi)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class Note:
    pitch: int   # MIDI number
    start: int   # 16th steps from the start
    length: int  # 16th steps, >= 1

    @property
    def end(self) -> int:
        return self.start + self.length


def pitch_name(p: int) -> str:
    return f"{NOTE_NAMES[p % 12]}{p // 12 - 1}"


def _flatten(notes_list) -> list[list[Note]]:
    """Accept one melody (list[Note]) or many (list[list[Note]])."""
    notes_list = list(notes_list)
    if notes_list and isinstance(notes_list[0], Note):
        return [notes_list]
    return [list(m) for m in notes_list]


def _normalise(h: np.ndarray) -> np.ndarray:
    return h / h.sum() if h.sum() > 0 else h


def pitch_class_histogram(notes_list) -> np.ndarray:
    """Share of notes on each of the 12 pitch classes (C=0), float64 [12] summing to 1 (zeros if no notes)."""
    h = np.zeros(12)
    for m in _flatten(notes_list):
        for n in m:
            h[n.pitch % 12] += 1
    return _normalise(h)


def interval_histogram(notes_list) -> np.ndarray:
    """Share of successive intervals within each melody, clipped to ±12 semitones: float64 [25], bin 12 = unison."""
    h = np.zeros(25)
    for m in _flatten(notes_list):
        p = np.array([n.pitch for n in sorted(m, key=lambda n: n.start)])
        if len(p) > 1:
            np.add.at(h, np.clip(np.diff(p), -12, 12) + 12, 1)
    return _normalise(h)


def share_in_scale(notes_list, scale: frozenset[int]) -> float:
    """Fraction of notes whose pitch class is in `scale`; 0.0 with no notes."""
    pcs = [n.pitch % 12 for m in _flatten(notes_list) for n in m]
    return sum(pc in scale for pc in pcs) / len(pcs) if pcs else 0.0


# Krumhansl and Kessler's probe-tone ratings (1982): how well each pitch class, from the tonic up, fits a major
# and a minor key. A melody's key is the tonic and mode whose profile best correlates with its time on each
# pitch class (the Krumhansl-Schmuckler key-finding algorithm).
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MIN_PITCH_CLASSES_FOR_A_KEY = 3     # two pitch classes fit many keys equally well
KEYS = [(tonic, mode) for mode in ("major", "minor") for tonic in range(12)]
# each key's profile rotated to its tonic and standardised, so one matrix product gives all 24 correlations
_ROTATED = np.stack([np.roll(MAJOR_PROFILE if mode == "major" else MINOR_PROFILE, tonic) for tonic, mode in KEYS])
_STANDARD_PROFILES = (_ROTATED - _ROTATED.mean(1, keepdims=True)) / _ROTATED.std(1, keepdims=True)


def estimated_key(notes) -> tuple[int, str] | None:
    """(tonic pitch class, "major" or "minor") of one melody, or None when it has too few pitch classes to tell."""
    durations = np.zeros(12)
    for n in notes:
        durations[n.pitch % 12] += n.length
    if (durations > 0).sum() < MIN_PITCH_CLASSES_FOR_A_KEY:
        return None
    fits = _STANDARD_PROFILES @ ((durations - durations.mean()) / durations.std()) / 12   # Pearson's r
    _fit, tonic, mode = max((float(r), tonic, mode) for r, (tonic, mode) in zip(fits, KEYS))
    return tonic, mode
