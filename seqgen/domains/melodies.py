"""Bach chorale soprano lines as note-event tokens on a 16th-note grid.

Each sequence is 4 whole bars of 4/4 (64 steps) from a chorale's soprano, transposed to C major / A minor:
  REST=0, HOLD=1 (the previous note goes on), 2 + (pitch - MIN_PITCH) = a note starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from .. import metrics
from .base import DATA_DIR, SPLIT_SEED, Domain, check_split

REST, HOLD = 0, 1
MIN_PITCH, MAX_PITCH = 55, 84          # G3..C6 covers the transposed sopranos; rarer notes move by octaves
N_PITCHES = MAX_PITCH - MIN_PITCH + 1  # 30
VOCAB = 2 + N_PITCHES                  # 32
STEPS_PER_BEAT = 4
STEPS_PER_BAR = 4 * STEPS_PER_BEAT
SEQ_LEN = 4 * STEPS_PER_BAR            # 64
MAX_REST = 0.25                        # skip windows that are more than a quarter silence
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR = frozenset({0, 2, 4, 5, 7, 9, 11})   # C major
MINOR = frozenset({9, 11, 0, 2, 4, 5, 7, 8})  # A natural minor + G# (harmonic)


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


def scale_pitch_classes(label: int | None = None) -> frozenset[int]:
    """Pitch classes of C major (0), A minor natural + harmonic (1), or their union (None)."""
    return {0: MAJOR, 1: MINOR, None: MAJOR | MINOR}[label]


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


def in_scale_ratio(notes_list, label: int | None = None) -> float:
    """Fraction of notes whose pitch class is in the scale (see scale_pitch_classes); 0.0 with no notes."""
    scale = scale_pitch_classes(label)
    pcs = [n.pitch % 12 for m in _flatten(notes_list) for n in m]
    return sum(pc in scale for pc in pcs) / len(pcs) if pcs else 0.0


# ---------------------------------------------------------------- data
@lru_cache(maxsize=None)
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
    return np.where(pitch == 0, REST, np.where(onset, 2 + pitch - MIN_PITCH, HOLD))


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
            w[0] = 2 + _held_pitch(tokens, start) - MIN_PITCH
        out.append(w)
    return np.stack(out) if out else np.zeros((0, SEQ_LEN), np.int64)


def _held_pitch(tokens: np.ndarray, t: int) -> int:
    while tokens[t] == HOLD:
        t -= 1
    return int(tokens[t]) - 2 + MIN_PITCH


def chorale_group(cid: str) -> str:
    """Versions of one chorale ("bwv248.23-2", "bwv248.23-s") share a group so they stay in one split."""
    return cid.split("-")[0]


@lru_cache(maxsize=None)
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


@lru_cache(maxsize=None)
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


def roll_bitmap(tokens, n_steps: int = SEQ_LEN) -> np.ndarray:
    """Tokens -> uint8 [pitches, steps] thumbnail: notes white, their onsets brighter, bar lines grey."""
    img = np.zeros((N_PITCHES, n_steps), np.uint8)
    img[:, ::STEPS_PER_BAR] = 45
    cur = None
    for t, tok in enumerate(list(tokens)[:n_steps]):
        if tok == HOLD and cur is not None:
            img[N_PITCHES - 1 - cur, t] = 200
            continue
        cur = None
        if tok != REST and 2 <= tok < VOCAB:
            cur = tok - 2
            img[N_PITCHES - 1 - cur, t] = 255
    return img


class MelodiesDomain(Domain):
    name = "melodies"
    title = "Bach chorale melodies"
    kind = "melody"
    item_noun = "melody"
    picker_title = "Melodies (notes)"
    licence = "J. S. Bach chorales from the music21 corpus; public domain."
    explorer_grid = (2, 8, 5)
    discrete = True
    seq_len = SEQ_LEN
    n_features = VOCAB
    label_names = ("major", "minor")
    pad_id = None
    bos_id = None
    steps_per_beat = STEPS_PER_BEAT
    min_pitch, max_pitch = MIN_PITCH, MAX_PITCH

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y, _ = _split(check_split(split))
        return x, y

    def chorale_ids(self, split: str) -> list[str]:
        """The chorale each window of dataset(split) comes from (e.g. "bwv26.6")."""
        ids = _raw()["ids"]
        return [str(ids[i]) for i in _split(check_split(split))[2].tolist()]

    def to_artifact(self, seq) -> list[Note]:
        """Tokens [64] -> notes. A HOLD after a rest (or at step 0) is a rest; unknown ids are rests."""
        notes: list[Note] = []
        cur: list[int] | None = None  # [pitch, start, length] of the sounding note
        for t, tok in enumerate(torch.as_tensor(seq).reshape(-1).tolist()):
            if tok == HOLD and cur is not None:
                cur[2] += 1
                continue
            if cur is not None:
                notes.append(Note(*cur))
                cur = None
            if 2 <= tok < VOCAB:
                cur = [tok - 2 + MIN_PITCH, t, 1]
        if cur is not None:
            notes.append(Note(*cur))
        return notes

    def from_artifact(self, notes: Iterable[Note]) -> torch.Tensor:
        """Notes -> tokens int64 [64]. ValueError on pitches out of range, overlaps or notes past 4 bars."""
        tokens = torch.full((SEQ_LEN,), REST, dtype=torch.int64)
        last_end = 0
        for n in sorted(notes, key=lambda n: n.start):
            p, s, L = int(n.pitch), int(n.start), int(n.length)
            if not MIN_PITCH <= p <= MAX_PITCH:
                raise ValueError(f"Pitch {p} ({pitch_name(p)}) is outside the melody range "
                                 f"{pitch_name(MIN_PITCH)}–{pitch_name(MAX_PITCH)} (MIDI {MIN_PITCH}–{MAX_PITCH}).")
            if s < 0 or L < 1:
                raise ValueError(f"Note at step {s} with length {L}: start must be ≥ 0 and length ≥ 1.")
            if s + L > SEQ_LEN:
                raise ValueError(f"Note at step {s} of length {L} runs past the {SEQ_LEN} steps (4 bars).")
            if s < last_end:
                raise ValueError(f"Notes overlap at step {s}: a melody plays one note at a time.")
            tokens[s] = 2 + p - MIN_PITCH
            tokens[s + 1:s + L] = HOLD
            last_end = s + L
        return tokens

    def prefix(self, notes: Iterable[Note], length: int = 1) -> torch.Tensor:
        """The first `length` bars of a melody -> tokens int64 [16 * length]: what a continuation keeps.
        A note held over the cut ends there. ValueError says what to fix."""
        bars = int(length)
        if not 1 <= bars < SEQ_LEN // STEPS_PER_BAR:
            raise ValueError(f"Keep between 1 and {SEQ_LEN // STEPS_PER_BAR - 1} bars of the "
                             f"{SEQ_LEN // STEPS_PER_BAR} (got {bars}).")
        cut = bars * STEPS_PER_BAR
        kept = [Note(n.pitch, n.start, min(n.length, cut - n.start)) for n in notes if n.start < cut]
        if not kept:
            raise ValueError(f"The first {bars} bar{'s' if bars > 1 else ''} have no notes: play at least one "
                             "note there (or keep more bars).")
        return self.from_artifact(kept)[:cut]

    def describe(self, notes: Sequence[Note]) -> str:
        if not notes:
            return "silence"
        lo, hi = min(n.pitch for n in notes), max(n.pitch for n in notes)
        return f"{len(notes)} notes, {pitch_name(lo)}–{pitch_name(hi)}"

    def item_texts(self, split: str) -> list[str]:
        _, y = self.dataset(split)
        return [f"{cid} ({self.label_names[int(c)]})" for cid, c in zip(self.chorale_ids(split), y.tolist())]

    def picture(self, artifacts: Sequence, cols: int, scale: int = 2) -> np.ndarray:
        """Piano-roll thumbnails: time across (4 bars), pitch up."""
        from ..render import image_grid, upscale
        rolls = [roll_bitmap(self.from_artifact(notes).tolist()) for notes in artifacts]
        return upscale(image_grid(np.stack(rolls), cols=cols, pad=2, value=90), scale)

    def write_samples(self, artifacts, folder: Path, stem: str, tempo: float = 90.0, instrument: str = "piano",
                      **options) -> list[str]:
        from ..audio import MIDI_PROGRAMS, synthesize, to_midi_bytes, to_wav_bytes
        lines = []
        for i, notes in enumerate(artifacts):
            wave = synthesize(notes, tempo_bpm=tempo, instrument=instrument, n_steps=self.seq_len)
            (Path(folder) / f"{stem}-{i:02d}.wav").write_bytes(to_wav_bytes(wave, 22050))
            (Path(folder) / f"{stem}-{i:02d}.mid").write_bytes(
                to_midi_bytes(notes, tempo_bpm=tempo, program=MIDI_PROGRAMS.get(instrument, 0)))
            lines.append(f"{stem}-{i:02d}: {self.describe(notes)}")
        return lines + [f"wrote {len(artifacts)} WAV and MIDI files to {folder}"]

    # ---------------------------------------------------------------- quality figures
    @staticmethod
    def statistics(note_lists: list) -> dict:
        return {"pitch_classes": pitch_class_histogram(note_lists), "intervals": interval_histogram(note_lists),
                "in_scale": in_scale_ratio(note_lists)}

    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        seqs, _ = metrics.sample_with_labels(model, min(n, 500), seed, temperature)
        fake_notes = self.artifacts(seqs)
        test_x, test_y = self.dataset("test")
        real_notes = self.artifacts(test_x)
        fake, real = self.statistics(fake_notes), self.statistics(real_notes)
        out = {"pitch_class_tv": metrics.total_variation(fake["pitch_classes"], real["pitch_classes"]),
               "interval_tv": metrics.total_variation(fake["intervals"], real["intervals"]),
               "in_scale_samples": fake["in_scale"], "in_scale_data": real["in_scale"],
               "notes_per_melody_samples": float(np.mean([len(m) for m in fake_notes])),
               "notes_per_melody_data": float(np.mean([len(m) for m in real_notes]))}
        if model.cfg.family == "vae":
            out.update(self._teacher_forced(model, test_x, test_y))
        return out

    @staticmethod
    def _teacher_forced(model, test_x, test_y) -> dict:
        with torch.inference_mode():
            mu, _ = model.encode(test_x)
            logits, _ = model.decode_logits(mu, test_x, test_y if model.cfg.conditional else None)
        pred = logits.argmax(-1)
        onset = test_x >= 2  # positions where a note starts (not rest/hold)
        return {"teacher_forced_accuracy": float((pred == test_x).float().mean()),
                "teacher_forced_onset_accuracy": float((pred[onset] == test_x[onset]).float().mean())}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, 1.0)
        return {"in_scale_samples": in_scale_ratio(self.artifacts(seqs))}
