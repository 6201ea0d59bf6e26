"""Melody -> sound and files, cached by the notes (the page never re-synthesises an unchanged melody)."""
from __future__ import annotations

import streamlit as st

from seqgen import audio

SAMPLE_RATE = 22050
TEMPO_RANGE = (40, 200)


@st.cache_data(show_spinner=False, max_entries=512)
def melody_wav(notes: tuple, n_steps: int, tempo_bpm: int = 90, instrument: str = "piano") -> bytes:
    """16-bit WAV of the notes over n_steps sixteenths. Length: audio.wave_length(n_steps, tempo_bpm, SAMPLE_RATE)."""
    wave = audio.synthesize(list(notes), tempo_bpm=tempo_bpm, instrument=instrument,
                            sample_rate=SAMPLE_RATE, n_steps=n_steps)
    return audio.to_wav_bytes(wave, SAMPLE_RATE)


@st.cache_data(show_spinner=False, max_entries=512)
def melody_midi(notes: tuple, tempo_bpm: int = 90) -> bytes:
    return audio.to_midi_bytes(list(notes), tempo_bpm=tempo_bpm)


def one_after_another(melodies, steps_each: int) -> tuple:
    """Several melodies as one: each shifted to start where the previous one's steps end."""
    from dataclasses import replace
    return tuple(replace(n, start=n.start + i * steps_each) for i, notes in enumerate(melodies) for n in notes)
