"""Put your own in: draw a digit (or a piece of clothing), type the start of a name, play or upload the
start of a melody; see where the encoder puts it and let the models finish it. The pages call one section
each; the work is done by seqgen.explore (complete, encode) through the cached wrappers in compute."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from seqgen.domains.melodies import STEPS_PER_BAR, Note, pitch_name
from seqgen.render import upscale

from . import compute, figures, music, resources, show
from .i18n import _, domain_word, label_names, ngettext
from .widgets import plain

CANVAS_PX = 280
CONFIDENT = 0.6          # below this the reference classifier's guess is reported as unsure
GRID_LOW, GRID_HIGH = 60, 84   # the note grid: C4..C6, two octaves


# ---------------------------------------------------------------- images
def _canvas(key: str):
    """The drawing canvas (streamlit-drawable-canvas): mouse, touch and pen draw white on black, like MNIST."""
    from streamlit_drawable_canvas import st_canvas
    return st_canvas(stroke_width=20, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_PX,
                     width=CANVAS_PX, drawing_mode="freedraw", key=key, return_image_data=True)


def drawing_section(ref, ckpt, domain, label, marks: dict, key: str = "own_draw") -> None:
    """Draw -> the 28x28 the model sees, the classifier's guess, the encoding, and completions."""
    c1, c2 = st.columns([1, 1])
    with c1:
        st.markdown(_("**Draw a {noun}**").format(noun=domain_word(domain.item_noun)))
        result = _canvas(key)
        st.caption(_("Mouse, finger or pen. The toolbar above the canvas undoes a stroke or clears it (bin)."))
    rgba = None if result is None else result.image_data
    if rgba is None:
        c2.caption(_("Draw on the black square; what the model sees appears here."))
        return
    try:
        img = domain.from_drawing(np.asarray(rgba))
    except ValueError as e:
        c2.info(plain(e, 300), icon=":material/draw:")
        return
    with c2:
        st.markdown(_("**What the model sees** (28×28, scaled and centred the way MNIST was made)"))
        st.image(upscale(img, 6), output_format="PNG")
        _guess_line(domain, img)
    encode_image(ref, ckpt, domain, img, label, marks)
    complete_image(ref, ckpt, domain, img, label, key)


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


def encode_image(ref, ckpt, domain, img, label, marks: dict) -> None:
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
        show.artifact(domain, enc["original"], key="own_enc_in", caption=_("your drawing, as the model sees it"))
    with c2:
        show.artifact(domain, enc["reconstruction"], key="own_enc_out", caption=_("decoded from that point"))


def complete_image(ref, ckpt, domain, img, label, key: str) -> None:
    st.subheader(_("Finish it"))
    c1, c2 = st.columns(2)
    rows = int(c1.slider(_("Keep the top rows"), 4, domain.seq_len - 4, domain.seq_len // 2, key=f"{key}_rows"))
    n = int(c2.slider(_("Completions"), 2, 16, 8, key=f"{key}_n"))
    res = compute.complete(ref, img, n, None, 0, rows, label)
    left, right = st.columns([2, 1]) if "grid" in res else (st.container(), None)
    left.image(compute.picture_png(domain.name, _marked(res["artifacts"], rows), 4, 4), output_format="PNG",
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


# ---------------------------------------------------------------- names
def name_start_section(domain, key: str = "own_name") -> None:
    noun = domain_word(domain.item_noun)
    st.header(_("Type the start of a {noun}").format(noun=noun))
    c1, c2, c3 = st.columns([1.2, 1, 1])
    start = c1.text_input(_("Start"), "Mar", key=f"{key}_text", max_chars=40,
                          help=_("A few letters; every names model writes the rest."))
    temp = float(c2.slider(_("Temperature"), 0.0, 2.0, 1.0, step=0.1, key=f"{key}_temp"))
    n = int(c3.slider(_("Completions per model"), 1, 12, 6, key=f"{key}_n"))
    if not start.strip():
        st.info(_("Type a few letters, like {a} or {b}.").format(a="Mar", b="Jo"), icon=":material/edit:")
        return
    models = resources.model_names(("vae", "gan"), domain=domain.name)
    if domain.reference_model:
        models.append(domain.reference_model)
    rows, hidden = [], {}
    for name in models:
        try:
            res = compute.complete(resources.ref(name), start.strip(), n, temp, 0, None, None)
        except ValueError as e:
            st.error(plain(e, 300), icon=":material/edit:")
            return
        hidden[name] = res
        rows += [{_("model"): name, noun: a or _("(empty)"),
                  _("status"): _("in the data") if domain.is_known(a) else _("new ✨")} for a in res["artifacts"]]
    st.dataframe(pd.DataFrame(rows), key=f"{key}_table", hide_index=True)
    st.caption(_("Every name starts with your letters exactly; the VAE and GAN first pick a latent / noise that "
                 "makes your start likely, the char-LM simply reads it."))
    pick = st.selectbox(_("Hidden state of"), list(hidden), key=f"{key}_hid_model")
    res = hidden[pick]
    with st.container(key=f"data_{key}_hid_name"):     # the completion is data: it stays out of the chart's title
        st.markdown(f"**{plain(res['artifacts'][0], 40) or '∅'}**")
    fig = figures.hidden_heatmap(res["hidden"][0], title=pick)
    fig.add_hline(y=res["prefix_len"] + 0.5, line=dict(color="#e31a1c", width=3))
    fig.update_yaxes(title_text=_("letter (time step)"))
    st.plotly_chart(fig, key=f"{key}_heat")
    st.caption(_("The red line is where your letters end and the model takes over."))


# ---------------------------------------------------------------- melodies
def _grid_notes(table: pd.DataFrame) -> list[Note]:
    """Ticked cells of the one-bar grid -> notes: the highest ticked pitch per step; a run of the same
    pitch on consecutive steps is one held note."""
    notes: list[Note] = []
    for step in range(STEPS_PER_BAR):
        col = table[str(step + 1)]
        on = [int(p) for p, v in zip(table.index, col) if bool(v)]
        if not on:
            continue
        p = max(on)
        if notes and notes[-1].pitch == p and notes[-1].end == step:
            notes[-1] = Note(p, notes[-1].start, notes[-1].length + 1)
        else:
            notes.append(Note(p, step, 1))
    return notes


def melody_start_section(domain, tempo: int, instrument: str, key: str = "own_mel") -> None:
    st.header(_("Play the start of a melody"))
    sources = {"a note grid (one bar)": _("a note grid (one bar)"), "a MIDI file": _("a MIDI file")}
    how = st.radio(_("Start from"), list(sources), key=f"{key}_how", horizontal=True, format_func=sources.get)
    notes = _from_grid(key) if how.startswith("a note") else _from_midi(key)
    if not notes:
        return
    bars = 1
    if how == "a MIDI file":
        bars = int(st.slider(_("Keep the first bars"), 1, domain.seq_len // STEPS_PER_BAR - 1, 1, key=f"{key}_bars"))
    models = resources.model_names(("vae", "gan"), domain=domain.name)
    if not models:
        st.info(_("No {data} VAE or GAN is available.").format(data=domain_word(domain.title)))
        return
    name = st.selectbox(_("Continue with"), models, key=f"{key}_model")
    ref = resources.ref(name)
    try:
        res = compute.complete(ref, tuple(notes), 3, 1.0, 0, bars, None)
    except ValueError as e:
        st.error(plain(e, 300), icon=":material/piano:")
        return
    _encoded_point(ref, notes)
    cut = bars * STEPS_PER_BAR
    for i, art in enumerate(res["artifacts"]):
        fig = figures.piano_roll_figure(tuple(art), n_steps=domain.seq_len, height=220)
        fig["layout"]["shapes"].append({"type": "rect", "x0": 0, "x1": cut, "yref": "paper", "y0": 0, "y1": 1,
                                        "fillcolor": "rgba(255,127,14,0.12)", "line": {"width": 0}})
        st.plotly_chart(fig, key=f"{key}_roll{i}", config={"displayModeBar": False})
        st.audio(music.melody_wav(tuple(art), domain.seq_len, tempo, instrument), format="audio/wav")
    st.caption(_("The shaded part is yours (the first {n} steps), kept exactly; the model continued from there. "
                 "Each player plays your start and the continuation back to back.").format(n=cut))


def _from_grid(key: str) -> list[Note]:
    pitches = list(range(GRID_HIGH, GRID_LOW - 1, -1))
    if f"{key}_grid0" not in st.session_state:
        start = pd.DataFrame(False, index=pitches, columns=[str(s + 1) for s in range(STEPS_PER_BAR)])
        for step, p in ((0, 72), (1, 72), (2, 72), (3, 72), (4, 74), (5, 74), (6, 76), (7, 76), (8, 77),
                        (9, 77), (10, 77), (11, 77), (12, 76), (13, 76), (14, 74), (15, 74)):
            start.loc[p, str(step + 1)] = True
        st.session_state[f"{key}_grid0"] = start
    table = st.data_editor(st.session_state[f"{key}_grid0"].rename(index=pitch_name), key=f"{key}_grid",
                           height=35 * (len(pitches) + 1) + 3, row_height=35,
                           column_config={c: st.column_config.CheckboxColumn(
                               str(int(c) // 4 + 1) if int(c) % 4 == 1 else "·", width=40, help=_("sixteenth {n}").format(n=c))
                               for c in st.session_state[f"{key}_grid0"].columns})
    table.index = pitches
    notes = _grid_notes(table)
    if not notes:
        st.info(_("Tick at least one cell: rows are pitches, columns the 16 sixteenth notes of one bar."),
                icon=":material/piano:")
    return notes


def _from_midi(key: str) -> list[Note]:
    from seqgen.midi import read_melody
    up = st.file_uploader(_("A MIDI file (.mid)"), type=["mid", "midi"], key=f"{key}_file")
    if up is None:
        st.caption(_("The top voice is taken, moved onto the sixteenth-note grid and into the models' key and range."))
        return []
    try:
        reading = read_melody(up.getvalue())
    except ValueError as e:
        st.error(plain(e, 300), icon=":material/music_off:")
        return []
    for line in reading.changes:
        st.caption(plain(line, 200))
    return reading.notes


def _encoded_point(ref, notes) -> None:
    ckpt = resources.load(ref[0])
    if ckpt.config.family != "vae":
        return
    try:
        enc = compute.encode_artifact(ref, tuple(notes))
    except ValueError:
        return
    mu = enc["mu"]
    z = (float(mu[0]), float(mu[1]) if len(mu) > 1 else 0.0)
    st.markdown(_("The encoder puts your start at **z = ({x}, {y})**: the ✕ among the held-out melodies (explore "
                  "the map itself on the *Latent explorer*).").format(x=f"{z[0]:.2f}", y=f"{z[1]:.2f}"))
    fig = figures.latent_map_figure(compute.latent_map_base(ref, 4.0), z)
    fig["layout"]["height"] = 360
    st.plotly_chart(fig, key="own_mel_map", theme=None, config={"displayModeBar": False})
