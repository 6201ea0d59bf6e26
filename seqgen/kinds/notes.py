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
