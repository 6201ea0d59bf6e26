"""Melody -> sound and files, cached by the melody's tokens (the page never re-synthesises an unchanged melody)."""
from __future__ import annotations

import streamlit as st

import seqgen
from seqgen import audio

SAMPLE_RATE = 22050
TEMPO_RANGE = (40, 200)


def notes_of(tokens) -> list:
    return seqgen.get_domain("melodies").to_artifact(list(tokens))


@st.cache_data(show_spinner=False, max_entries=512)
def melody_wav(tokens: tuple[int, ...], tempo_bpm: int = 90, instrument: str = "piano",
               n_steps: int | None = None) -> bytes:
    """16-bit WAV of the melody. Length: audio.wave_length(n_steps or len(tokens), tempo_bpm, SAMPLE_RATE)."""
    tokens = tuple(int(t) for t in tokens)
    wave = audio.synthesize(notes_of(tokens), tempo_bpm=tempo_bpm, instrument=instrument,
                            sample_rate=SAMPLE_RATE, n_steps=n_steps or len(tokens))
    return audio.to_wav_bytes(wave, SAMPLE_RATE)


@st.cache_data(show_spinner=False, max_entries=512)
def melody_midi(tokens: tuple[int, ...], tempo_bpm: int = 90) -> bytes:
    return audio.to_midi_bytes(notes_of(tuple(int(t) for t in tokens)), tempo_bpm=tempo_bpm)
