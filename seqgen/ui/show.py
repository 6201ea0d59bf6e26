"""Draw one decoded artifact the way its domain is meant to be seen or heard."""
from __future__ import annotations

import numpy as np
import streamlit as st

import seqgen
from seqgen.render import upscale

from . import figures, music


def digit(img: np.ndarray, caption: str | None = None, scale: int = 8) -> None:
    st.image(upscale(np.asarray(img, np.uint8), scale), caption=caption, output_format="PNG")


def name(text: str, caption_prefix: str = "") -> None:
    domain = seqgen.get_domain("names")
    st.markdown(f"<div style='font-size:2.6rem;font-weight:600;line-height:1.3'>{text or '∅'}</div>",
                unsafe_allow_html=True)
    if not text:
        st.caption(f"{caption_prefix}an empty name: the decoder stopped straight away")
    else:
        known = domain.is_known(text)
        st.caption(f"{caption_prefix}{'a real name from the census list' if known else 'a new name, not in the data'}")


def melody(tokens, key: str, tempo: int = 90, instrument: str = "piano", height: int = 240,
           title: str | None = None) -> bytes:
    """Piano roll + audio player; returns the WAV bytes (for a download button)."""
    domain = seqgen.get_domain("melodies")
    notes = domain.to_artifact(list(tokens))
    st.plotly_chart(figures.piano_roll_figure(notes, n_steps=len(tokens), height=height, title=title),
                    key=key, config={"displayModeBar": False})
    wav = music.melody_wav(tuple(tokens), tempo, instrument)
    st.audio(wav, format="audio/wav")
    st.caption(domain.describe(notes))
    return wav


def artifact(domain_name: str, art, key: str, caption: str | None = None) -> None:
    if domain_name == "digits":
        digit(art, caption)
    elif domain_name == "names":
        name(art)
        if caption:
            st.caption(caption)
    elif domain_name == "melodies":
        melody(art, key=key)
        if caption:
            st.caption(caption)
    else:
        st.write(art)
