"""What every kind's view offers the pages: the contract, with the behaviour most kinds share.

A page holds a domain and asks `view(domain)` (seqgen.ui.kinds) to draw its artifacts, take the user's own
input, or set up the latent pad; it never asks which kind it holds. A view method gets the domain, so one
view serves every domain of its kind (digits and clothes share the image view).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from .. import compute
from ..i18n import _, domain_word, ngettext

MAX_DESCRIBED = 12      # a text alternative names this many artifacts of a batch, then "…"


class KindView:
    kind = ""
    # Which pages list this kind's generators besides the Latent explorer: "noise" (Noise → image & sound),
    # "text" (Text) and "music" (Music).
    pages: tuple[str, ...] = ()
    renderer = ""                  # the latent pad's renderer of this kind: a module in this folder (.mjs)

    # ---------------------------------------------------------------- artifacts
    def describe(self, domain, art) -> str:
        """One line about an artifact in the session's language: captions and text alternatives."""
        return domain.describe(art)

    def alt(self, domain, arts) -> str:
        """A picture's text alternative: what one artifact, or each of a batch (the first dozen), is."""
        arts = list(arts)
        if len(arts) == 1:
            return self.describe(domain, arts[0])
        words = self.describe_all(domain, arts[:MAX_DESCRIBED])
        more = "; …" if len(arts) > MAX_DESCRIBED else ""
        return ngettext("{n} {noun}: {each}", "{n} {noun}: {each}", len(arts)).format(
            n=len(arts), noun=domain_word(domain.item_noun_plural if len(arts) > 1 else domain.item_noun),
            each="; ".join(words) + more)

    def describe_all(self, domain, arts) -> list[str]:
        return [self.describe(domain, a) for a in arts]

    def one(self, domain, art, key: str, caption: str | None = None, **options) -> None:
        """One artifact, large."""
        raise NotImplementedError

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        """The decodes of an n x n grid of the latent plane (explore.manifold), row by row from the top."""
        st.image(compute.picture_png(domain.name, grid["artifacts"], grid["n"], 3), caption=caption,
                 output_format="PNG", alt=self.alt(domain, grid["artifacts"]))

    def strip(self, domain, arts, key: str) -> None:
        """An interpolation: the artifacts in order."""
        st.image(compute.picture_png(domain.name, list(arts), len(arts), 4), output_format="PNG",
                 alt=self.alt(domain, arts))

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        """A batch of samples (the Live training page's preview)."""
        st.image(compute.picture_png(domain.name, list(arts), cols, 3), output_format="PNG",
                 alt=self.alt(domain, arts))

    def downloads(self, domain, arts: Sequence, stem: str, **options) -> list[tuple[str, bytes, str, str]]:
        """Files for a download button: (label, bytes, file name, MIME type) each."""
        return []

    def playback_options(self, key: str) -> dict:
        """Widgets for how artifacts are played or drawn (a melody's tempo and instrument), drawn here;
        -> the options `one` and `downloads` take. Most kinds have none."""
        return {}

    # ---------------------------------------------------------------- step by step (the Noise page)
    def replay_png(self, domain, arts: Sequence, cols: int, scale: int, steps: int) -> bytes:
        """A mosaic of artifacts drawn only up to `steps` time steps, the rest greyed out (the replay of
        how a generator wrote them)."""
        return compute.picture_png(domain.name, list(arts), cols, scale)

    def replay_alt(self, domain, arts: Sequence, steps: int) -> str:
        """The replay picture's text alternative."""
        return self.alt(domain, arts)

    def listen(self, domain, arts: Sequence, key: str, **options) -> None:
        """Players for artifacts that sound (nothing for kinds that are only seen)."""

    # ---------------------------------------------------------------- your own input
    def own_input(self, ref, ckpt, domain, label, marks: dict, n_items: int, plane, go_to: Callable) -> None:
        """The Latent explorer's "Encode your own": by default a held-out item, encoded and rebuilt."""
        noun = domain_word(domain.item_noun)
        idx = st.number_input(_("Pick a held-out {noun} (#)").format(noun=noun), 0, n_items - 1, key="le_item",
                              persist_state="session")
        show_encoding(self, ref, domain, compute.encode_item(ref, "test", int(idx), label), marks, plane, go_to)

    def plane_examples(self, ref, domain) -> tuple[Any, Any] | None:
        """The two examples a plane through a larger latent passes through: their encodings, or None (the
        page then shows the PCA plane). By default two held-out items by number."""
        c1, c2 = st.columns(2)
        ea = compute.encode_item(ref, "test", int(c1.number_input(_("Example A (held-out #)"), 0, 10_000, 0,
                                                                  key="le_plane_ia")))
        eb = compute.encode_item(ref, "test", int(c2.number_input(_("Example B (held-out #)"), 0, 10_000, 1,
                                                                  key="le_plane_ib")))
        return ea, eb

    def start_section(self, domain, **options) -> None:
        """A start the user gives, finished by every model of the domain (the Text and Music pages)."""

    # ---------------------------------------------------------------- the latent pad
    def pad_text(self, domain) -> dict:
        """Words the pad's renderer shows for this kind, in the session's language (merged into the pad's own)."""
        return {}

    def renderer_source(self) -> str:
        return (Path(__file__).parent / self.renderer).read_text(encoding="utf-8")


def show_encoding(view: KindView, ref, domain, enc: dict | None, marks: dict, plane, go_to: Callable) -> None:
    """Where the encoder puts an input (a star on the map), the input and its reconstruction, and "Go there"."""
    from seqgen import explore
    if enc is None:
        return
    p = tuple(float(v) for v in explore.plane_coords(enc["mu"][None], plane)[0])
    marks["your input"] = (p[0], p[1], "star", "#e31a1c")
    st.markdown(_("The encoder puts it at **z = ({x}, {y})** (uncertainty σ ≈ {sigma}): the red star on the "
                  "map.").format(x=f"{p[0]:.2f}", y=f"{p[1]:.2f}", sigma=f"{float(np.mean(enc['sigma'])):.2f}"))
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(_("**Your input**"))
        view.one(domain, enc["original"], key="le_enc_in")
    with c2:
        st.markdown(_("**Its reconstruction** (decoded from that point)"))
        view.one(domain, enc["reconstruction"], key="le_enc_out")
    st.button(_("Go there"), key="le_goto", on_click=go_to, args=(p,), icon=":material/my_location:")
