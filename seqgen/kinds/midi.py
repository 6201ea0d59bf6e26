"""Reading your own melody from a MIDI file (with mido): the top voice, on a melody domain's grid, in its
keys and range, with a plain list of what was changed to get there (the melody kind's way in for files).

Timing is read in beats (ticks / ticks per beat), so tempo changes do not move notes on the grid.
Drums (channel 10) are left out. Bad files raise ValueError with a sentence the user can act on.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..locale import Plural, Sentence
from .notes import Note, pitch_name

MAX_MIDI_BYTES = 1_000_000      # a melody is a few kB; the app's MIDI uploaders take no more
MAX_VOICES = 8                  # more notes at once than this is an orchestra, not a line with chords
DRUM_CHANNEL = 9
MAX_MESSAGES = 200_000


@dataclass(frozen=True)
class Reading:
    notes: list[Note]           # the melody, at most 4 bars, in the models' range
    changes: list[str]          # what was changed, one Sentence each (shown in the reader's language)


def too_large(size: int) -> Sentence:
    return Sentence("The file is {mb} MB; a melody's MIDI file is a few kB (the limit is {limit} MB). Export only the "
                    "melody track.", mb=f"{size / 1e6:.1f}", limit=f"{MAX_MIDI_BYTES / 1e6:g}")


SMPTE_BEATS_PER_SECOND = 2     # a file timed in seconds is read at 120 beats a minute


def _ticks_per_beat(division: int | None) -> tuple[float, bool]:
    """The header's time division -> (ticks per beat, whether the file is timed in seconds). A negative division
    is SMPTE timing: its top byte is minus the frames a second, its low byte the ticks per frame."""
    if not division:
        raise ValueError(Sentence("This MIDI file's header gives no time unit. Export it again from your music "
                                  "program."))
    if division > 0:
        return float(division), False
    frames, ticks_per_frame = -(division >> 8), division & 0xFF
    if not (frames > 0 and ticks_per_frame):
        raise ValueError(Sentence("This MIDI file's header gives no time unit. Export it again from your music "
                                  "program."))
    return frames * ticks_per_frame / SMPTE_BEATS_PER_SECOND, True


def _raw_notes(data: bytes) -> tuple[list[tuple[float, float, int]], bool, bool]:
    """(start beat, end beat, pitch) of every pitched note, whether the file had drum notes, and whether it is
    timed in seconds (SMPTE) rather than beats."""
    import mido

    if len(data) > MAX_MIDI_BYTES:
        raise ValueError(too_large(len(data)))
    if data[:4] != b"MThd":
        raise ValueError(Sentence("This is not a MIDI file (it does not start with a MIDI header). Upload a .mid "
                                  "file."))
    try:
        f = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as e:  # noqa: BLE001 - mido raises many kinds for damaged files; all mean the same here
        raise ValueError(Sentence("This MIDI file could not be read ({error}). Export it again from your music "
                                  "program.", error=type(e).__name__)) from None
    if f.type == 2:
        raise ValueError(Sentence("This is a type-2 MIDI file (independent patterns); export it as type 0 or 1."))
    tpb, in_seconds = _ticks_per_beat(f.ticks_per_beat)
    out, drums, count = [], False, 0
    for track in f.tracks:
        tick, sounding = 0, {}
        for msg in track:
            count += 1
            if count > MAX_MESSAGES:
                raise ValueError(Sentence("This MIDI file has too many events for a melody. Export only the melody "
                                          "track."))
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
    return out, drums, in_seconds


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


def read_melody(data: bytes, domain, whole: bool = False) -> Reading:
    """MIDI file bytes -> the melody `domain` (a MelodyDomain) can take: its first `domain.bars` bars, or with
    `whole` all of it (to be cut into windows). ValueError says what is wrong with the file."""
    bar, steps = domain.steps_per_bar, domain.seq_len
    low, high = domain.min_pitch, domain.max_pitch
    raw, drums, in_seconds = _raw_notes(bytes(data))
    if not raw:
        raise ValueError(Sentence("This MIDI file has only drums: upload a file with a melody on a pitched "
                                  "instrument.") if drums else
                         Sentence("This MIDI file has no notes. Upload a file with a melody in it."))
    voices = _max_voices(raw)
    if voices > MAX_VOICES:
        raise ValueError(Sentence("This file plays up to {n} notes at once; the models take one melody line (files "
                                  "with chords of up to {most} notes are fine). Export only the melody track.",
                                  n=voices, most=MAX_VOICES))
    changes = []
    if in_seconds:
        changes.append(Sentence("The file times its notes in seconds (SMPTE), not beats: read at {bpm} beats a "
                                "minute.", bpm=60 * SMPTE_BEATS_PER_SECOND))
    if drums:
        changes.append(Sentence("Left out the drums."))
    notes, dropped = _top_voice(raw, domain.steps_per_beat)
    if dropped:
        changes.append(Plural("Kept the top voice: {n} lower or repeated note left out.",
                              "Kept the top voice: {n} lower or repeated notes left out.", dropped, n=dropped))
    first_bar = notes[0].start // bar
    if first_bar:
        notes = [Note(n.pitch, n.start - first_bar * bar, n.length) for n in notes]
        changes.append(Plural("Skipped {n} empty bar at the start.", "Skipped {n} empty bars at the start.",
                              first_bar, n=first_bar))
    if not whole and any(n.start + n.length > steps for n in notes):
        total = -(-max(n.start + n.length for n in notes) // bar)
        notes = [Note(n.pitch, n.start, min(n.length, steps - n.start)) for n in notes if n.start < steps]
        changes.append(Sentence("Cut to the first {bars} bars (the melody has {total}).", bars=steps // bar,
                                total=total))
    shift = _transposition(notes, domain.scale)
    if shift:
        changes.append(Plural("Moved up {n} semitone into {keys}, the keys the models learned.",
                              "Moved up {n} semitones into {keys}, the keys the models learned.", shift,
                              n=shift, keys=Sentence(domain.keys_words)) if shift > 0 else
                       Plural("Moved down {n} semitone into {keys}, the keys the models learned.",
                              "Moved down {n} semitones into {keys}, the keys the models learned.", -shift,
                              n=-shift, keys=Sentence(domain.keys_words)))
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
        changes.append(Plural("Moved {n} note by octaves into the models' range {low}–{high}.",
                              "Moved {n} notes by octaves into the models' range {low}–{high}.", moved, n=moved,
                              low=pitch_name(low), high=pitch_name(high)))
    notes = [Note(p, n.start, n.length) for p, n in zip(pitches, notes)]
    return Reading(notes, changes)
