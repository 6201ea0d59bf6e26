"""Draw decoded artifacts the way their domain is meant to be seen or heard.

One view per kind of artifact (image / text / melody); a domain declares its kind, so a new domain of
an existing kind needs nothing here. Pages call `artifact`, `grid`, `strip` and `gallery`.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import streamlit as st

from seqgen.domains.melodies import pitch_name
from seqgen.render import upscale

from . import compute, figures, music
from .i18n import _, domain_word, ngettext


def describe(domain, art) -> str:
    """A one-line description of an artifact in the session's language (melodies: the number of notes and
    their range; the note names stay as they are); other kinds keep the domain's own words."""
    if domain.kind != "melody":
        return domain.describe(art)
    notes = list(art)
    if not notes:
        return _("silence")
    lo, hi = min(n.pitch for n in notes), max(n.pitch for n in notes)
    return ngettext("{n} note, {low}–{high}", "{n} notes, {low}–{high}", len(notes)).format(
        n=len(notes), low=pitch_name(lo), high=pitch_name(hi))


class ImageView:
    def one(self, domain, art, key: str, caption: str | None = None) -> None:
        st.image(upscale(np.asarray(art, np.uint8), 8), caption=caption, output_format="PNG")

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        st.image(compute.picture_png(domain.name, grid["artifacts"], grid["n"], 3), caption=caption,
                 output_format="PNG")

    def strip(self, domain, arts, key: str) -> None:
        st.image(compute.picture_png(domain.name, arts, len(arts), 4), output_format="PNG")

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        st.image(compute.picture_png(domain.name, list(arts), cols, 3), output_format="PNG")


class TextView:
    def one(self, domain, art, key: str, caption: str | None = None) -> None:
        text = str(art)
        with st.container(key=f"data_{key}"):     # the decoded name is data, shown as it is
            st.markdown(f"<div style='font-size:2.6rem;font-weight:600;line-height:1.3'>{html.escape(text) or '∅'}"
                        "</div>", unsafe_allow_html=True)
        noun = domain_word(domain.item_noun)
        if not text:
            st.caption(_("an empty {noun}: the decoder stopped straight away").format(noun=noun))
        elif hasattr(domain, "is_known"):
            st.caption(_("in the training data") if domain.is_known(text) else
                       _("a new {noun}, not in the data").format(noun=noun))
        if caption:
            st.caption(caption)

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        n, arts = grid["n"], grid["artifacts"]
        table = [[a or "∅" for a in arts[r * n:(r + 1) * n]] for r in range(n)]
        st.dataframe(pd.DataFrame(table, index=[f"z₂={y:.2f}" for y in grid["ys"]],
                                  columns=[f"z₁={x:.2f}" for x in grid["xs"]]), key=key)
        st.caption(caption)

    def strip(self, domain, arts, key: str) -> None:
        with st.container(key=f"data_{key}"):
            st.text("  →  ".join(a or "∅" for a in arts))

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        cells = [(a or "∅") + (f" ({labels[i]})" if labels else "") for i, a in enumerate(arts)]
        with st.container(key=f"data_{key}") if key else st.container():
            st.text(" · ".join(cells))


class MelodyView:
    def one(self, domain, art, key: str, caption: str | None = None, tempo: int = 90,
            instrument: str = "piano") -> bytes:
        """Piano roll + audio player; returns the WAV bytes (for a download button)."""
        notes = tuple(art)
        st.plotly_chart(figures.piano_roll_figure(notes, n_steps=domain.seq_len, height=240), key=key,
                        config={"displayModeBar": False})
        wav = music.melody_wav(notes, domain.seq_len, tempo, instrument)
        st.audio(wav, format="audio/wav")
        st.caption(describe(domain, notes) + (f". {caption}" if caption else ""))
        return wav

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        st.image(compute.picture_png(domain.name, grid["artifacts"], grid["n"], 2),
                 caption=caption + " " + _("Each tile is a 4-bar piano roll."), output_format="PNG")

    def strip(self, domain, arts, key: str) -> None:
        st.image(compute.picture_png(domain.name, arts, len(arts), 2), output_format="PNG",
                 caption=_("Each tile: one piano roll, played in order below"))
        st.audio(music.melody_wav(music.one_after_another(arts, domain.seq_len), domain.seq_len * len(arts)),
                 format="audio/wav")
        step = st.select_slider(_("Hear one step"), list(range(1, len(arts) + 1)), key=f"{key}_step")
        st.audio(music.melody_wav(tuple(arts[step - 1]), domain.seq_len), format="audio/wav")

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        st.image(compute.picture_png(domain.name, list(arts), cols, 2), output_format="PNG",
                 caption=_("piano rolls: time across, pitch up"))
        st.caption(" · ".join(describe(domain, n) for n in list(arts)[:8]))


VIEWS = {"image": ImageView(), "text": TextView(), "melody": MelodyView()}


def view(domain):
    return VIEWS[domain.kind]


def artifact(domain, art, key: str, caption: str | None = None) -> None:
    view(domain).one(domain, art, key=key, caption=caption)


def grid(domain, grid_result: dict, caption: str, key: str) -> None:
    view(domain).grid(domain, grid_result, caption, key)


def strip(domain, arts, key: str) -> None:
    view(domain).strip(domain, arts, key)


def gallery(domain, artifacts, cols: int, labels: list[str] | None = None, key: str | None = None) -> None:
    """A batch of samples (the live page's preview): a mosaic, or a line of names."""
    if not len(artifacts):
        st.caption(_("Samples appear after the model is built."))
        return
    view(domain).gallery(domain, artifacts, cols, labels, key)
