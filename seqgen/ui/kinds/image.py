"""The image kind's view: pictures, drawn row by row; your own drawing on a canvas, finished by the model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from seqgen.domains import get_domain
from seqgen.kinds.image import decode_picture
from seqgen.locale import Sentence
from seqgen.render import image_grid, png_bytes, upscale

from .. import browser_values, compute
from ..i18n import _, domain_word, label_names, ngettext
from ..widgets import plain
from .base import KindView

CANVAS_PX = 280
CONFIDENT = 0.6          # below this the reference classifier's guess is reported as unsure


class ImageView(KindView):
    kind = "image"
    pages = ("noise",)
    renderer = "image.mjs"

    def one(self, domain, art, key: str, caption: str | None = None, **options) -> None:
        st.image(upscale(np.asarray(art, np.uint8), 8), caption=caption, output_format="PNG",
                 alt=self.describe(domain, art))

    def describe(self, domain, art) -> str:
        return self.describe_all(domain, [art])[0]

    def describe_all(self, domain, arts) -> list[str]:
        """What the reference classifier reads in each picture, one batch for all."""
        guesses = compute.recognise_all(domain.name, tuple(np.asarray(a) for a in arts))
        if guesses is None:
            return [domain_word(domain.item_noun)] * len(arts)
        names = label_names(domain)
        return [_("a {name}, the classifier is {share} sure").format(name=names[g] if names else str(g),
                                                                       share=f"{c:.0%}") for g, c in guesses]

    def replay_png(self, domain, arts, cols: int, scale: int, steps: int) -> bytes:
        return replay_png(np.stack(arts), cols, scale, steps)

    def replay_alt(self, domain, arts, steps: int) -> str:
        text = self.alt(domain, arts)
        if steps < domain.seq_len:
            text = _("the first {rows} of {total} rows of {pictures}").format(rows=steps, total=domain.seq_len,
                                                                             pictures=text)
        return text

    def downloads(self, domain, arts, stem: str, **options) -> list[tuple[str, bytes, str, str]]:
        data = replay_png(np.stack(arts), min(10, len(arts)), 4, domain.seq_len)
        return [(_("Download these samples (PNG)"), data, f"{stem}.png", "image/png")]

    # ---------------------------------------------------------------- your own drawing
    def own_input(self, ref, ckpt, domain, label, marks, n_items, plane, go_to) -> None:
        noun = domain_word(domain.item_noun)
        sources = {"draw one": _("draw one"), "held-out": _("a held-out {noun}").format(noun=noun)}
        browser_values.choice("le_own_src", sources)
        if st.radio(_("Your input"), list(sources), key="le_own_src", horizontal=True, persist_state="session",
                    format_func=sources.get) == "draw one":
            drawing_section(self, ref, ckpt, domain, label, marks, key="le_draw")
        else:
            super().own_input(ref, ckpt, domain, label, marks, n_items, plane, go_to)


@st.cache_data(show_spinner=False, max_entries=256)
def replay_png(images: np.ndarray, cols: int, scale: int, rows_drawn: int) -> bytes:
    """Mosaic of uint8 images as PNG bytes; rows from `rows_drawn` on greyed out (the row-by-row replay)."""
    images = np.array(images, copy=True)
    if rows_drawn < images.shape[1]:
        images[:, rows_drawn:, :] = 25       # not drawn yet: dark grey
        images[:, rows_drawn, :] = 110       # the row being drawn next: a faint line
    return png_bytes(upscale(image_grid(images, cols=cols, pad=2, value=70), scale))


CANVAS_FIT_KEYS = ("naturalWidth", "naturalHeight", "scaleX", "scaleY", "offsetX", "offsetY")


def canvas_state_fits(state) -> bool:
    """Whether the canvas's state, as the browser sent it, has the shape the canvas library reads: a drawing
    whose picture is a data URL (or none yet), and a background fit of six numbers (or none)."""
    drawing, fit = state.get("drawing"), state.get("backgroundFit")
    if drawing is not None and not (isinstance(drawing, dict) and isinstance(drawing.get("data"), (str, type(None)))
                                    and isinstance(drawing.get("raw", {}), dict)):
        return False
    return fit is None or (isinstance(fit, dict) and all(
        isinstance(fit.get(k), (int, float)) and not isinstance(fit.get(k), bool) for k in CANVAS_FIT_KEYS))


def _canvas(key: str):
    """The drawing canvas (streamlit-drawable-canvas): mouse, touch and pen draw white on black, like MNIST."""
    from streamlit_drawable_canvas import st_canvas
    sent = st.session_state.get(key)
    if hasattr(sent, "get") and not canvas_state_fits(sent):
        del st.session_state[key]                      # forged: an empty canvas
        st.warning(_("Your browser sent a drawing this page cannot read, so it was ignored."), icon=":material/block:")
    return st_canvas(stroke_width=20, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_PX,
                     width=CANVAS_PX, drawing_mode="freedraw", key=key, return_image_data=True)


def drawing_section(view, ref, ckpt, domain, label, marks: dict, key: str = "own_draw") -> None:
    """Draw -> the 28x28 the model sees, the classifier's guess, the encoding, and completions."""
    c1, c2 = st.columns([1, 1])
    with c1:
        st.markdown(_("**Draw a {noun}**").format(noun=domain_word(domain.item_noun)))
        with st.container(key=key):
            result = _canvas(f"{key}_{st.session_state.get(f'{key}_clears', 0)}")   # a new key: an empty canvas
        st.button(_("Clear the drawing"), key=f"{key}_clear", icon=":material/delete:", on_click=_clear, args=(key,))
        st.caption(_("Mouse, finger or pen. The canvas's own toolbar, over it while the pointer is there, also "
                     "undoes a stroke."))
    png = canvas_png(result)
    if png is None:
        c2.caption(_("Draw on the black square; what the model sees appears here."))
        return
    img = drawing_seen(domain.name, png)
    if isinstance(img, ValueError):
        c2.info(plain(img, 300), icon=":material/draw:")
        return
    with c2:
        st.markdown(_("**What the model sees** (28×28, scaled and centred the way MNIST was made)"))
        st.image(upscale(img, 6), output_format="PNG", alt=view.describe(domain, img))
        _guess_line(domain, img)
    encode_drawing(view, ref, ckpt, domain, img, label, marks)
    complete_drawing(view, ref, domain, img, label, key)


def canvas_png(result) -> bytes | None:
    """The canvas's picture as the browser sent it (PNG bytes), None before anything is drawn; a value that is
    not a base64 data URL becomes b"", which drawing_seen refuses with a sentence."""
    try:
        return None if result is None else result.image_bytes
    except ValueError:
        return b""


@st.cache_data(show_spinner=False, max_entries=64)
def drawing_seen(domain_name: str, png: bytes) -> np.ndarray | ValueError:
    """The canvas's PNG -> what the model sees, or the error that refuses it. Remembered per picture, so a rerun
    decodes nothing twice; the size is read from the PNG header before any pixel is decoded (the canvas is
    CANVAS_PX wide, times the screen's pixel ratio)."""
    try:
        rgba = decode_picture(png, Sentence("The drawing"), largest_side=4 * CANVAS_PX, formats=("PNG",))
        return get_domain(domain_name).from_drawing(rgba)
    except ValueError as e:
        return e


def _clear(key: str) -> None:
    st.session_state[f"{key}_clears"] = st.session_state.get(f"{key}_clears", 0) + 1


def _guess_line(domain, img) -> None:
    guess = compute.recognise(domain.name, img)
    if guess is None:
        return
    g, conf = guess
    name = label_names(domain)[g] if domain.label_names else str(g)
    noun, share = domain_word(domain.item_noun), f"{conf:.0%}"
    if conf < CONFIDENT:
        st.warning(_("This does not look much like a {noun} to the reference classifier (best guess {name} at "
                     "{share}). Try one {noun}, large, in the middle.").format(noun=noun, name=name, share=share),
                   icon=":material/help:")
    else:
        st.success(_("The reference classifier reads it as **{name}** ({share} sure).").format(name=name, share=share))


def encode_drawing(view, ref, ckpt, domain, img, label, marks: dict) -> None:
    if ckpt.config.family != "vae":
        return
    enc = compute.encode_artifact(ref, img, label)
    mu, sigma = enc["mu"], enc["sigma"]
    p = (float(mu[0]), float(mu[1]) if len(mu) > 1 else 0.0)
    marks["your drawing"] = (p[0], p[1], "star", "#e31a1c")
    st.markdown(_("The encoder puts your drawing at **z = ({x}, {y})**, give or take σ ≈ ({sigma}): the red star "
                  "on the map.").format(x=f"{p[0]:.2f}", y=f"{p[1]:.2f}",
                                        sigma=", ".join(f"{s:.2f}" for s in sigma[:2])))
    c1, c2 = st.columns(2)
    with c1:
        view.one(domain, enc["original"], key="own_enc_in", caption=_("your drawing, as the model sees it"))
    with c2:
        view.one(domain, enc["reconstruction"], key="own_enc_out", caption=_("decoded from that point"))


def complete_drawing(view, ref, domain, img, label, key: str) -> None:
    st.subheader(_("Finish it"))
    c1, c2 = st.columns(2)
    rows = int(c1.slider(_("Keep the top rows"), 4, domain.seq_len - 4, domain.seq_len // 2, key=f"{key}_rows"))
    n = int(c2.slider(_("Completions"), 2, 16, 8, key=f"{key}_n"))
    res = compute.complete(ref, img, n, None, 0, rows, label)
    left, right = st.columns([2, 1]) if "grid" in res else (st.container(), None)
    left.image(compute.picture_png(domain.name, _marked(res["artifacts"], rows), 4, 4), output_format="PNG",
               alt=view.alt(domain, res["artifacts"]),
               caption=ngettext("The top {n} row is yours (above the grey line), kept exactly; the model drew the rest.",
                                "The top {n} rows are yours (above the grey line), kept exactly; the model drew the rest.",
                                rows).format(n=rows))
    if right is not None:
        right.plotly_chart(posterior_figure(res["grid"], res["grid_axis"], res.get("z")), key=f"{key}_post",
                           config={"displayModeBar": False})
        right.caption(_("Where on the map the half-drawing could live: for every point z of a grid, how likely the "
                        "decoder makes your visible rows, times the prior. The completions above are decoded from "
                        "points drawn from this heat map (the dots)."))
    st.caption(_("A GAN has no encoder, yet it can finish a drawing too: search thousands of its noise vectors for "
                 "the ones whose drawing matches your rows best, then paste your rows over them ({command}).").format(
        command="`python -m seqgen complete digits-gan --image my-drawing.png --rows 14`"))


def _marked(arts, rows: int) -> list:
    """Completions with a faint line under the kept rows, so the boundary shows."""
    out = []
    for a in arts:
        a = np.array(a, copy=True)
        if rows < a.shape[0]:
            a[rows] = np.maximum(a[rows], 90)
        out.append(a)
    return out


def posterior_figure(grid: np.ndarray, axis: np.ndarray, z=None) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=grid, x=axis, y=axis[::-1], colorscale="Viridis", showscale=False,
                               hovertemplate="z = (%{x:.2f}, %{y:.2f}): %{z:.3f}<extra></extra>"))
    if z is not None and len(z):
        fig.add_trace(go.Scatter(x=z[:, 0], y=z[:, 1], mode="markers", marker=dict(color="#ff7f0e", size=8),
                                 hoverinfo="skip"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis_title="z₁", yaxis_title="z₂")
    return fig


VIEW = ImageView()
