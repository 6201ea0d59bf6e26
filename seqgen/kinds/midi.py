"""Reading your own melody from a MIDI file (with mido): the top voice, on a melody domain's grid, in its
keys and range, with a plain list of what was changed to get there (the melody kind's way in for files).

Timing is read in beats (ticks / ticks per beat), so tempo changes do not move notes on the grid.
Drums (channel 10) are left out. Bad files raise ValueError with a sentence the user can act on.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .notes import Note, pitch_name

MAX_MIDI_BYTES = 1_000_000      # a melody is a few kB; .streamlit/config.toml's maxUploadSize matches (1 MB)
MAX_VOICES = 8                  # more notes at once than this is an orchestra, not a line with chords
DRUM_CHANNEL = 9
MAX_MESSAGES = 200_000


@dataclass(frozen=True)
class Reading:
    notes: list[Note]           # the melody, at most 4 bars, in the models' range
    changes: list[str]          # what was changed, one sentence each


def _raw_notes(data: bytes) -> tuple[list[tuple[float, float, int]], bool]:
    """(start beat, end beat, pitch) of every pitched note, and whether the file had drum notes."""
    import mido

    if len(data) > MAX_MIDI_BYTES:
        raise ValueError(f"The file is {len(data) / 1e6:.1f} MB; a melody's MIDI file is a few kB (the limit is "
                         f"{MAX_MIDI_BYTES / 1e6:g} MB). Export only the melody track.")
    if data[:4] != b"MThd":
        raise ValueError("This is not a MIDI file (it does not start with a MIDI header). Upload a .mid file.")
    try:
        f = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as e:  # noqa: BLE001 - mido raises many kinds for damaged files; all mean the same here
        raise ValueError(f"This MIDI file could not be read ({type(e).__name__}). Export it again from your "
                         "music program.") from None
    if f.type == 2:
        raise ValueError("This is a type-2 MIDI file (independent patterns); export it as type 0 or 1.")
    tpb = f.ticks_per_beat or 480
    out, drums, count = [], False, 0
    for track in f.tracks:
        tick, sounding = 0, {}
        for msg in track:
            count += 1
            if count > MAX_MESSAGES:
                raise ValueError("This MIDI file has too many events for a melody. Export only the melody track.")
            tick += msg.time
            if msg.type not in ("note_on", "note_off"):
                continue
            if msg.channel == DRUM_CHANNEL:
                drums = drums or msg.type == "note_on"
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                sounding.setdefault(key, tick)
            elif key in sounding:
                start = sounding.pop(key)
                if tick > start:
                    out.append((start / tpb, tick / tpb, msg.note))
        out += [(s / tpb, tick / tpb, note) for (_, note), s in sounding.items() if tick > s]
    return out, drums


def _max_voices(raw) -> int:
    events = sorted([(s, 1) for s, _, _ in raw] + [(e, -1) for _, e, _ in raw])
    now = most = 0
    for _, d in events:
        now += d
        most = max(most, now)
    return most


def _top_voice(raw, steps_per_beat: int) -> tuple[list[Note], int]:
    """Skyline on the 16th grid: at each onset step the highest note starting there; each note lasts until
    it ends or the next melody note starts. -> notes, how many lower notes were dropped."""
    by_step: dict[int, tuple[int, int]] = {}
    for s, e, p in raw:
        a = int(round(s * steps_per_beat))
        b = max(a + 1, int(round(e * steps_per_beat)))
        if a not in by_step or p > by_step[a][0]:
            by_step[a] = (p, b)
    starts = sorted(by_step)
    notes = []
    for i, a in enumerate(starts):
        p, b = by_step[a]
        nxt = starts[i + 1] if i + 1 < len(starts) else b
        notes.append(Note(p, a, max(1, min(b, nxt) - a)))
    return notes, len(raw) - len(notes)


def _transposition(notes: list[Note], scale: frozenset[int]) -> int:
    """Semitones (-6..+5) that put the most notes into `scale`, the training melodies' keys (smallest move on
    ties)."""
    pcs = np.array([n.pitch % 12 for n in notes])
    best = max(range(-6, 6), key=lambda t: (np.isin((pcs + t) % 12, list(scale)).sum(), -abs(t)))
    return best


def read_melody(data: bytes, domain) -> Reading:
    """MIDI file bytes -> the melody `domain` (a MelodyDomain) can take. ValueError says what is wrong with
    the file."""
    bar, steps = domain.steps_per_bar, domain.seq_len
    low, high = domain.min_pitch, domain.max_pitch
    raw, drums = _raw_notes(bytes(data))
    if not raw:
        raise ValueError("This MIDI file has only drums: upload a file with a melody on a pitched instrument."
                         if drums else "This MIDI file has no notes. Upload a file with a melody in it.")
    voices = _max_voices(raw)
    if voices > MAX_VOICES:
        raise ValueError(f"This file plays up to {voices} notes at once; the models take one melody line (files "
                         f"with chords of up to {MAX_VOICES} notes are fine). Export only the melody track.")
    changes = []
    if drums:
        changes.append("Left out the drums.")
    notes, dropped = _top_voice(raw, domain.steps_per_beat)
    if dropped:
        changes.append(f"Kept the top voice: {dropped} lower or repeated note{'s' if dropped != 1 else ''} left out.")
    first_bar = notes[0].start // bar
    if first_bar:
        notes = [Note(n.pitch, n.start - first_bar * bar, n.length) for n in notes]
        changes.append(f"Skipped {first_bar} empty bar{'s' if first_bar > 1 else ''} at the start.")
    if any(n.start + n.length > steps for n in notes):
        total = -(-max(n.start + n.length for n in notes) // bar)
        notes = [Note(n.pitch, n.start, min(n.length, steps - n.start)) for n in notes if n.start < steps]
        changes.append(f"Cut to the first {steps // bar} bars (the melody has {total}).")
    shift = _transposition(notes, domain.scale)
    if shift:
        changes.append(f"Moved {'up' if shift > 0 else 'down'} {abs(shift)} semitone{'s' if abs(shift) > 1 else ''} "
                       f"into {domain.keys_words}, the keys the models learned.")
    pitches = [n.pitch + shift for n in notes]
    moved = 0
    for i, p in enumerate(pitches):
        while p < low:
            p += 12
        while p > high:
            p -= 12
        moved += p != pitches[i]
        pitches[i] = p
    if moved:
        changes.append(f"Moved {moved} note{'s' if moved > 1 else ''} by octaves into the models' range "
                       f"{pitch_name(low)}–{pitch_name(high)}.")
    notes = [Note(p, n.start, n.length) for p, n in zip(pitches, notes)]
    return Reading(notes, changes)
