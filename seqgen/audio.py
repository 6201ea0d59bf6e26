"""Melodies to sound: a small additive synthesizer, WAV/FLAC bytes (soundfile) and MIDI bytes.

Notes are anything with .pitch (MIDI), .start and .length (in grid steps), e.g. seqgen.domains.Note,
or (pitch, start, length) tuples. Needs numpy and soundfile; MIDI files are written with mido.

Length of synthesize()'s output, in samples:
    n = round(steps * 60 / (tempo_bpm * steps_per_beat) * sample_rate) + round(TAIL_S * sample_rate)
where steps = max(last note end, n_steps or 0). See wave_length().
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import soundfile as sf

TAIL_S = 0.4          # silence after the last step, room for the final note's release
PEAK = 0.9            # output peak after normalisation
MIN_TEMPO, MAX_TEMPO = 20, 300


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]  # amplitude of partial 1, 2, 3, ...
    attack: float                 # seconds to full level
    decay: float                  # seconds for the level to fall by 1/e (0: sustained)
    release: float                # seconds of fade after the note ends (<= TAIL_S)
    bright_decay: float = 0.0     # extra decay per partial: high partials die sooner (piano)
    vibrato: float = 0.0          # depth as a fraction of frequency
    breath: float = 0.0           # level of noise added (flute)


TIMBRES = {
    "piano": Timbre((1.0, 0.55, 0.3, 0.18, 0.1, 0.06, 0.03), attack=0.005, decay=0.9, release=0.12,
                    bright_decay=0.6),
    "organ": Timbre((1.0, 0.7, 0.0, 0.45, 0.0, 0.25, 0.0, 0.15), attack=0.02, decay=0.0, release=0.06),
    "strings": Timbre(tuple(1 / k ** 1.4 for k in range(1, 11)), attack=0.09, decay=0.0, release=0.25,
                      vibrato=0.004),
    "flute": Timbre((1.0, 0.12, 0.04), attack=0.05, decay=0.0, release=0.1, vibrato=0.003, breath=0.02),
}
INSTRUMENTS = tuple(TIMBRES)


def midi_to_hz(pitch) -> np.ndarray | float:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69) / 12)


def _triples(notes) -> list[tuple[int, int, int]]:
    out = []
    for n in notes:
        p, s, L = (n.pitch, n.start, n.length) if hasattr(n, "pitch") else n
        p, s, L = int(p), int(s), int(L)
        if not (0 <= p <= 127 and s >= 0 and L >= 1):
            raise ValueError(f"Bad note (pitch={p}, start={s}, length={L}): need pitch 0-127, start ≥ 0, length ≥ 1.")
        out.append((p, s, L))
    return out


def _check(tempo_bpm: float, steps_per_beat: int) -> None:
    if not MIN_TEMPO <= tempo_bpm <= MAX_TEMPO:
        raise ValueError(f"Tempo must be between {MIN_TEMPO} and {MAX_TEMPO} BPM, got {tempo_bpm}.")
    if int(steps_per_beat) != steps_per_beat or steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be a positive integer, got {steps_per_beat}.")


def wave_length(n_steps: int, tempo_bpm: float = 90, sample_rate: int = 22050, steps_per_beat: int = 4) -> int:
    """Samples that synthesize() returns for a melody spanning n_steps grid steps."""
    seconds = n_steps * 60.0 / (tempo_bpm * steps_per_beat)
    return int(round(seconds * sample_rate)) + int(round(TAIL_S * sample_rate))


def _tone(pitch: int, dur: float, timbre: Timbre, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One note of `dur` seconds plus its release, enveloped so it starts and ends at zero."""
    n = int(round((dur + timbre.release) * sr))
    t = np.arange(n) / sr
    f0 = float(midi_to_hz(pitch))
    if timbre.vibrato:  # vibrato fades in over 0.3 s
        freq = f0 * (1 + timbre.vibrato * np.sin(2 * np.pi * 5.5 * t) * np.minimum(t / 0.3, 1))
        phase = 2 * np.pi * np.cumsum(freq) / sr
    else:
        phase = 2 * np.pi * np.cumsum(np.full(n, f0)) / sr
    # Partials by the recurrence sin((k+1)x) = 2cos(x) sin(kx) - sin((k-1)x), and the per-partial
    # brightness decay exp(-t b (k-1)) as powers of exp(-t b): one sin/cos/exp per note, not per partial.
    s_prev, s_k = np.zeros(n), np.sin(phase)
    two_cos = 2 * np.cos(phase)
    fade_step = np.exp(-t * timbre.bright_decay / max(timbre.decay, 1e-3)) if timbre.bright_decay else None
    fade = None
    wave = np.zeros(n)
    for k, a in enumerate(timbre.harmonics, start=1):
        if k > 1:
            s_prev, s_k = s_k, two_cos * s_k - s_prev
            if fade_step is not None:
                fade = fade_step if fade is None else fade * fade_step
        if a == 0 or k * f0 >= 0.45 * sr:  # skip partials that would alias
            continue
        wave += a * s_k if fade is None else a * s_k * fade
    if timbre.breath:
        noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")  # soften the hiss
        wave += timbre.breath * noise * len(timbre.harmonics)
    # Envelope: linear attack, optional exponential decay, linear release after the note ends.
    env = np.minimum(t / timbre.attack, 1.0)
    if timbre.decay:
        env *= np.exp(-t / timbre.decay)
    env *= np.clip((dur + timbre.release - t) / timbre.release, 0.0, 1.0)
    return wave * env


TONE_CACHE_SECONDS = 2.0      # longer tones are rare and big: made each time, not kept


@lru_cache(maxsize=256)
def _kept_tone(pitch: int, length: int, step_s: float, instrument: str, sr: int) -> np.ndarray:
    return _fresh_tone(pitch, length, step_s, instrument, sr)


def _fresh_tone(pitch: int, length: int, step_s: float, instrument: str, sr: int) -> np.ndarray:
    rng = np.random.default_rng((pitch, length))        # breath noise: the same note, the same bytes
    tone = _tone(pitch, length * step_s, TIMBRES[instrument], sr, rng).astype(np.float32)
    tone.flags.writeable = False                        # shared by every melody that plays this note
    return tone


def _note_tone(pitch: int, length: int, step_s: float, instrument: str, sr: int) -> np.ndarray:
    """One note's samples. A melody repeats its notes and the next melody mostly plays the same ones, so
    short tones are made once per pitch, length, tempo and instrument and shared (read-only)."""
    short = length * step_s + TIMBRES[instrument].release <= TONE_CACHE_SECONDS
    return (_kept_tone if short else _fresh_tone)(pitch, length, step_s, instrument, sr)


def synthesize(notes, tempo_bpm: float = 90, instrument: str = "piano", sample_rate: int = 22050,
               steps_per_beat: int = 4, n_steps: int | None = None) -> np.ndarray:
    """Notes -> mono float32 waveform, peak 0.9 (silence stays zero). Length: see wave_length()."""
    _check(tempo_bpm, steps_per_beat)
    if instrument not in TIMBRES:
        raise ValueError(f"Unknown instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}.")
    if int(sample_rate) != sample_rate or not 4000 <= sample_rate <= 192000:
        raise ValueError(f"sample_rate must be an integer between 4000 and 192000, got {sample_rate}.")
    notes = _triples(notes)
    step_s = 60.0 / (tempo_bpm * steps_per_beat)
    steps = max([s + L for _, s, L in notes] + [n_steps or 0])
    out = np.zeros(wave_length(steps, tempo_bpm, sample_rate, steps_per_beat))
    for p, s, L in notes:
        tone = _note_tone(p, L, step_s, instrument, sample_rate)
        a = int(round(s * step_s * sample_rate))
        tone = tone[: len(out) - a]
        out[a:a + len(tone)] += tone  # overlapping notes add up
    peak = np.abs(out).max()
    if peak > 0:
        out *= PEAK / peak
    return out.astype(np.float32)


def _encode(wave: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(wave, dtype=np.float32), -1, 1), int(sample_rate), format=fmt, subtype="PCM_16")
    return buf.getvalue()


def to_wav_bytes(wave: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV file contents, ready for st.audio or a download button."""
    return _encode(wave, sample_rate, "WAV")


def to_flac_bytes(wave: np.ndarray, sample_rate: int) -> bytes:
    """Lossless FLAC (16-bit), about half the size of the WAV."""
    return _encode(wave, sample_rate, "FLAC")


# ---------------------------------------------------------------- MIDI
# General MIDI programs (0-based) of the synthesizer's instruments, so a download opens with the same sound.
MIDI_PROGRAMS = {"piano": 0, "organ": 19, "strings": 48, "flute": 73}
TICKS_PER_STEP = 120


def to_midi_bytes(notes, tempo_bpm: float = 90, steps_per_beat: int = 4, program: int = 0,
                  velocity: int = 80) -> bytes:
    """Standard MIDI File (written with mido), format 0, one track on channel 1: tempo, 4/4, the
    program (instrument; see MIDI_PROGRAMS), the notes."""
    import mido

    _check(tempo_bpm, steps_per_beat)
    if not 0 <= program <= 127:
        raise ValueError(f"MIDI program must be 0-127, got {program}.")
    events = []  # (tick, order, message): note-offs (order 0) before note-ons at the same tick
    for p, s, L in _triples(notes):
        events.append((s * TICKS_PER_STEP, 1, mido.Message("note_on", note=p, velocity=velocity)))
        events.append(((s + L) * TICKS_PER_STEP, 0, mido.Message("note_off", note=p, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=int(round(60_000_000 / tempo_bpm))),
                            mido.MetaMessage("time_signature", numerator=4, denominator=4),
                            mido.Message("program_change", program=int(program))])
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track"))
    f = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_STEP * int(steps_per_beat))
    f.tracks.append(track)
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()
