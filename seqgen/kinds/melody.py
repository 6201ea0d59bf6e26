"""The melody kind: one-voice melodies as note-event tokens on a sixteenth-note grid.

Tokens: REST=0, HOLD=1 (the previous note goes on), 2 + (pitch - min_pitch) = a note starts. `MelodyDomain`
holds everything melody domains share: the artifact (a list of `Note`s), piano-roll pictures, WAV and MIDI
files, a MIDI file or a played start turned into notes, and the figures that compare generated melodies
with the data (pitch-class and interval histograms, the share of notes in the data's keys). A concrete
melody domain (Bach chorales) says where its melodies come from, their pitch range and their keys.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from .. import metrics
from ..locale import N_, Plural, Sentence
from ..render import image_grid, upscale
from .base import Domain, Entry
from .midi import MAX_MIDI_BYTES, Reading, read_melody, too_large
from .notes import NOTE_NAMES, Note, estimated_key, interval_histogram, pitch_class_histogram, pitch_name, share_in_scale

REST, HOLD = 0, 1
FIRST_NOTE = 2                         # token of the lowest pitch


class MelodyDomain(Domain):
    kind = "melody"
    discrete = True
    pad_id = None
    bos_id = None
    step_noun, step_noun_plural = N_("sixteenth"), N_("sixteenths")
    explorer_grid = (2, 8, 5)
    steps_per_beat = 4
    beats_per_bar = 4
    min_pitch: int                     # the lowest and highest MIDI pitch a melody may have
    max_pitch: int
    scale: frozenset[int] = frozenset(range(12))   # the pitch classes of the data's keys
    keys_words = ""                    # those keys in words, for messages: "C major / A minor"
    start_flag, start_help = "midi", "a MIDI file (top voice, quantised to 16ths)"
    keep_flag, keep_help = "bars", "bars to keep (default 1)"
    upload_types = ("mid", "midi")
    most_rests = 0.5                   # a window of a file with more rests than this is silence, not a melody

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar

    @property
    def bars(self) -> int:
        return self.seq_len // self.steps_per_bar

    @property
    def n_features(self) -> int:
        return FIRST_NOTE + self.max_pitch - self.min_pitch + 1

    @property
    def default_prefix_length(self) -> int:
        return 1          # a continuation keeps the first bar unless told

    def in_scale(self, notes_list) -> float:
        """Share of the notes in the data's keys."""
        return share_in_scale(notes_list, self.scale)

    # ---------------------------------------------------------------- artifacts
    def to_artifact(self, seq) -> list[Note]:
        """Tokens [T] -> notes. A HOLD after a rest (or at step 0) is a rest; unknown ids are rests."""
        notes: list[Note] = []
        cur: list[int] | None = None  # [pitch, start, length] of the sounding note
        for t, tok in enumerate(torch.as_tensor(seq).reshape(-1).tolist()):
            if tok == HOLD and cur is not None:
                cur[2] += 1
                continue
            if cur is not None:
                notes.append(Note(*cur))
                cur = None
            if FIRST_NOTE <= tok < self.n_features:
                cur = [tok - FIRST_NOTE + self.min_pitch, t, 1]
        if cur is not None:
            notes.append(Note(*cur))
        return notes

    def from_artifact(self, notes: Iterable[Note]) -> torch.Tensor:
        """Notes -> tokens int64 [T]. ValueError on pitches out of range, overlaps or notes past the end."""
        tokens = torch.full((self.seq_len,), REST, dtype=torch.int64)
        last_end = 0
        for n in sorted(notes, key=lambda n: n.start):
            p, s, L = int(n.pitch), int(n.start), int(n.length)
            if not self.min_pitch <= p <= self.max_pitch:
                raise ValueError(Sentence("Pitch {p} ({name}) is outside the melody range {low}–{high} (MIDI "
                                          "{min}–{max}).", p=p, name=pitch_name(p), low=pitch_name(self.min_pitch),
                                          high=pitch_name(self.max_pitch), min=self.min_pitch, max=self.max_pitch))
            if s < 0 or L < 1:
                raise ValueError(Sentence("Note at step {step} with length {length}: start must be ≥ 0 and length "
                                          "≥ 1.", step=s, length=L))
            if s + L > self.seq_len:
                raise ValueError(Sentence("Note at step {step} of length {length} runs past the {steps} steps ({bars} "
                                          "bars).", step=s, length=L, steps=self.seq_len, bars=self.bars))
            if s < last_end:
                raise ValueError(Sentence("Notes overlap at step {step}: a melody plays one note at a time.", step=s))
            tokens[s] = FIRST_NOTE + p - self.min_pitch
            tokens[s + 1:s + L] = HOLD
            last_end = s + L
        return tokens

    def prefix(self, notes: Iterable[Note], length: int | None = None) -> torch.Tensor:
        """The first `length` bars of a melody -> tokens int64 [steps_per_bar * length]: what a continuation
        keeps. A note held over the cut ends there. ValueError says what to fix."""
        bars = int(self.default_prefix_length if length is None else length)
        if not 1 <= bars < self.bars:
            raise ValueError(Sentence("Keep between 1 and {most} bars of the {all} (got {n}).", most=self.bars - 1,
                                      all=self.bars, n=bars))
        cut = bars * self.steps_per_bar
        kept = [Note(n.pitch, n.start, min(n.length, cut - n.start)) for n in notes if n.start < cut]
        if not kept:
            raise ValueError(Plural("The first bar has no notes: play at least one note there (or keep more bars).",
                                    "The first {n} bars have no notes: play at least one note there (or keep more "
                                    "bars).", bars, n=bars))
        return self.from_artifact(kept)[:cut]

    def from_midi(self, data: bytes) -> Reading:
        """A MIDI file's top voice as this domain's notes, with the changes made (see seqgen.kinds.midi)."""
        return read_melody(data, self)

    def read_file(self, name: str, data: bytes) -> list[Entry]:
        """A MIDI file's top voice cut into melodies of `bars` bars, one starting at each bar line (as the
        bundled melodies are cut from whole chorales); mostly silent windows are left out."""
        if len(data) > MAX_MIDI_BYTES:
            raise ValueError(too_large(len(data)))
        notes = read_melody(data, self, whole=True).notes
        end = max(n.start + n.length for n in notes)
        out = []
        for start in range(0, max(end - self.seq_len, 0) + 1, self.steps_per_bar):
            window = [Note(n.pitch, n.start - start, min(n.length, start + self.seq_len - n.start))
                      for n in notes if start <= n.start < start + self.seq_len]
            if sum(n.length for n in window) >= (1 - self.most_rests) * self.seq_len:
                out.append(Entry(f"{name} @{start // self.steps_per_bar + 1}", window))
        if not out:
            raise ValueError(Sentence("{name} has no {bars} bars with notes in most of them.", name=name,
                                      bars=self.bars))
        return out

    def read_start(self, path: str) -> tuple[list[Note], list[str]]:
        size = Path(path).stat().st_size
        if size > MAX_MIDI_BYTES:
            raise ValueError(too_large(size))
        reading = self.from_midi(Path(path).read_bytes())
        return reading.notes, reading.changes

    def describe(self, notes: Sequence[Note]) -> str:
        if not notes:
            return "silence"
        lo, hi = min(n.pitch for n in notes), max(n.pitch for n in notes)
        key = estimated_key(notes)
        in_key = f"in {NOTE_NAMES[key[0]]} {key[1]}, " if key else ""
        return f"{in_key}{len(notes)} notes, {pitch_name(lo)}–{pitch_name(hi)}"

    def roll_bitmap(self, tokens) -> np.ndarray:
        """Tokens -> uint8 [pitches, steps] thumbnail: notes white, their onsets brighter, bar lines grey."""
        n_pitches = self.max_pitch - self.min_pitch + 1
        img = np.zeros((n_pitches, self.seq_len), np.uint8)
        img[:, ::self.steps_per_bar] = 45
        cur = None
        for t, tok in enumerate(list(tokens)[:self.seq_len]):
            if tok == HOLD and cur is not None:
                img[n_pitches - 1 - cur, t] = 200
                continue
            cur = None
            if tok != REST and FIRST_NOTE <= tok < self.n_features:
                cur = tok - FIRST_NOTE
                img[n_pitches - 1 - cur, t] = 255
        return img

    def picture(self, artifacts: Sequence, cols: int, scale: int = 2) -> np.ndarray:
        """Piano-roll thumbnails: time across, pitch up."""
        rolls = [self.roll_bitmap(self.from_artifact(notes).tolist()) for notes in artifacts]
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

    def pad_spec(self) -> dict:
        """The pitch each token starts (None for REST and HOLD), the HOLD ids, and the grid."""
        pitch = [None] * FIRST_NOTE + list(range(self.min_pitch, self.max_pitch + 1))
        return {"kind": "melody", "pitch": pitch, "hold": [HOLD], "steps": self.seq_len,
                "steps_per_beat": self.steps_per_beat, "steps_per_bar": self.steps_per_bar,
                "min_pitch": self.min_pitch, "max_pitch": self.max_pitch, "tempo": 90,
                "grid": int(self.explorer_grid[2])}

    # ---------------------------------------------------------------- quality figures
    def statistics(self, note_lists: list) -> dict:
        return {"pitch_classes": pitch_class_histogram(note_lists), "intervals": interval_histogram(note_lists),
                "in_scale": self.in_scale(note_lists)}

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
        onset = test_x >= FIRST_NOTE  # positions where a note starts (not rest/hold)
        return {"teacher_forced_accuracy": float((pred == test_x).float().mean()),
                "teacher_forced_onset_accuracy": float((pred[onset] == test_x[onset]).float().mean())}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, 1.0)
        return {"in_scale_samples": self.in_scale(self.artifacts(seqs))}


__all__ = ["FIRST_NOTE", "HOLD", "REST", "MelodyDomain", "Note", "interval_histogram", "pitch_class_histogram",
           "pitch_name", "share_in_scale"]
