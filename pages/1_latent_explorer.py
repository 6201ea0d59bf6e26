"""Latent explorer: walk the 2-D latent plane of a VAE and see (or hear) what each point decodes to."""
import time

import numpy as np
import pandas as pd
import streamlit as st

import seqgen
from seqgen import ui
from seqgen.ui import compute, figures, music, resources, show, urlstate, widgets

LIM, STEP = 4.0, 0.05
# Redrawing the map's ~2,000 points takes the browser 300-900 ms on a slow machine and would hold back the
# decoded output sent just before it; this short gap lets the browser paint the output first.
PAINT_GAP_S = 0.06
GRID = {"digits": (3, 20, 12), "names": (3, 10, 6), "melodies": (2, 8, 5)}  # min, max, default
ui.configure_torch()

st.title("Latent explorer")
ui.intro(
    "A **variational autoencoder (VAE)** squeezes every example (a digit, a name, a melody) into just two "
    "numbers, a point *z* on a flat map, and learns to rebuild the example from that point alone. The "
    "**encoder** places each example on the map; the **decoder** turns any point back into an example. "
    "Because the model is punished for scattering points (the *KL term*), similar examples end up close "
    "together and the whole map is filled with sensible outputs.",
    "Move the two sliders, or click anywhere on the map, and the decoder shows what lives at that point. "
    "Coloured dots are real examples the model never trained on, placed by the encoder. The grid below decodes "
    "the whole plane at once; the interpolation walks in a straight line between two points. The address bar "
    "keeps the current point: copy it to share exactly what you see.")


def _set_z(point) -> None:
    st.session_state.le_z0 = widgets.snap(point[0], LIM, STEP)
    st.session_state.le_z1 = widgets.snap(point[1], LIM, STEP)


def _on_map_click() -> None:
    point = figures.selection_point(st.session_state.get(figures.MAP_KEY))
    if point is not None:
        _set_z(point)


def _set_end(which: str) -> None:
    st.session_state[which] = (st.session_state.le_z0, st.session_state.le_z1)


@st.fragment
def explore_point(point_slot, map_slot, model_name, ref, domain, label, marks, grid_range) -> None:
    """Sliders, the decoded output and the map: a slider move or map click reruns only this, not the
    grid, interpolation and encoder below (they do not depend on z)."""
    with ui.guard("the latent explorer"):  # a fragment rerun runs outside the page-level guard
        with point_slot:
            z0 = st.slider("z₁ (first latent coordinate)", -LIM, LIM, step=STEP, key="le_z0",
                           persist_state="session")
            z1 = st.slider("z₂ (second latent coordinate)", -LIM, LIM, step=STEP, key="le_z1",
                           persist_state="session")
            z = (float(z0), float(z1))
            urlstate.write_view(model_name, z)
            out = compute.decode_point(ref, z, label)
            st.session_state.le_decoded = compute.fingerprint(out)
            with st.container(key="le_output"):
                st.subheader(f"Decoded at z = ({z[0]:.2f}, {z[1]:.2f})")
                show.artifact(domain.name, out, key="le_out_roll")
        time.sleep(PAINT_GAP_S)
        with map_slot:
            st.subheader("The map of held-out examples")
            fig = figures.latent_map_figure(compute.latent_map_base(ref, LIM), z, marks=marks, box=grid_range)
            st.plotly_chart(fig, key=figures.MAP_KEY, on_select=_on_map_click, selection_mode=("points",),
                            theme=None, config={"displaylogo": False})
            st.caption("Each dot is a held-out example placed by the encoder (hover for what it is). "
                       "✕ marks the current z; click anywhere to move it there.")


with ui.guard("the latent explorer"):
    names = resources.model_names("vae")
    if not names:
        st.warning("No VAE checkpoints were found in checkpoints/ or your saved models.")
        st.stop()
    for msg in urlstate.read_view(names, LIM, STEP):
        st.warning(msg, icon=":material/link_off:")
    widgets.defaults(le_z0=0.0, le_z1=0.0, le_a=(-1.5, 0.0), le_b=(1.5, 0.0), le_item=0, le_ia=0, le_ib=1)

    left, right = st.columns([1, 1.25], gap="large")
    with left:
        model_name = widgets.choose_model("Model", "le_model", names, resources.model_label,
                                          help="Any VAE: the shipped ones and the ones you trained and saved.")
        ckpt = ui.load(model_name)
        cfg, ref = ckpt.config, resources.ref(model_name)
        domain = seqgen.get_domain(cfg.domain)
        label = None
        if cfg.conditional:
            label = st.selectbox("Label", list(range(cfg.n_labels)), key="le_label", persist_state="session",
                                 format_func=lambda i: domain.label_names[i])
        if cfg.latent != 2:
            st.info(f"This model has a {cfg.latent}-D latent. The sliders and the map show the plane through "
                    f"its first two dimensions; the other {max(cfg.latent - 2, 0)} are held at 0.")
        point_slot = st.container()
    map_slot = right.container()

    data = compute.latent_map(ref)
    marks: dict = {}

    # ------------------------------------------------------------ manifold
    st.header("The whole plane at once")
    lo, hi, default = GRID.get(domain.name, (3, 12, 6))
    widgets.defaults(**{f"le_grid_{domain.name}": default})
    n = st.slider("Grid size (n × n decodes)", lo, hi, key=f"le_grid_{domain.name}", persist_state="session")
    grid_range = tuple(round(v, 2) for v in data["grid_range"])
    grid = compute.manifold(ref, n, grid_range, label)
    cap = (f"{n}×{n} decodes, z₁ from {grid_range[0]:.2f} (left) to {grid_range[1]:.2f} (right), "
           f"z₂ from {grid_range[3]:.2f} (top) to {grid_range[2]:.2f} (bottom): the dotted box on the map.")
    if domain.name == "names":
        st.dataframe(pd.DataFrame(grid["table"], index=[f"z₂={y:.2f}" for y in grid["ys"]],
                                  columns=[f"z₁={x:.2f}" for x in grid["xs"]]), key="le_grid_table")
        st.caption(cap)
    elif domain.name == "melodies":
        st.image(grid["png"], caption=cap + " Each tile is a 4-bar piano roll.", output_format="PNG")
    else:
        st.image(grid["png"], caption=cap, output_format="PNG")

    # ------------------------------------------------------------ interpolation
    st.header("Interpolation")
    mode = st.radio("Between", ["two points I pick", "two held-out examples"], key="le_interp_mode", persist_state="session",
                    horizontal=True)
    n_items = len(data["points"])
    if mode == "two points I pick":
        c1, c2, c3 = st.columns(3)
        c1.button("Set A to the current point", key="le_set_a", on_click=_set_end, args=("le_a",))
        c2.button("Set B to the current point", key="le_set_b", on_click=_set_end, args=("le_b",))
        c3.caption("Move to a point (slider or map click), press *Set A*; move again, press *Set B*.")
        a, b = tuple(st.session_state.le_a), tuple(st.session_state.le_b)
    else:
        c1, c2 = st.columns(2)
        ia = c1.number_input("Example A (held-out #)", 0, n_items - 1, key="le_ia", persist_state="session")
        ib = c2.number_input("Example B (held-out #)", 0, n_items - 1, key="le_ib", persist_state="session")
        c1.caption(data["texts"][ia])
        c2.caption(data["texts"][ib])
        a = tuple(round(float(v), 3) for v in data["points"][ia])
        b = tuple(round(float(v), 3) for v in data["points"][ib])
    widgets.defaults(le_steps=8)
    steps = st.slider("Steps", 3, 12, key="le_steps", persist_state="session")
    marks["A"] = (a[0], a[1], "diamond", "#ff7f0e")
    marks["B"] = (b[0], b[1], "diamond", "#9467bd")
    strip = compute.interpolate(ref, a, b, steps, label)
    st.caption(f"From A = ({a[0]:.2f}, {a[1]:.2f}) to B = ({b[0]:.2f}, {b[1]:.2f}) in {steps} steps.")
    if domain.name == "digits":
        st.image(strip["png"], output_format="PNG")
    elif domain.name == "names":
        st.markdown("  →  ".join(f"**{s or '∅'}**" for s in strip["items"]))
    else:
        st.image(strip["png"], output_format="PNG", caption="Each tile: 4 bars, played in order below")
        joined = tuple(t for item in strip["items"] for t in item)
        st.audio(music.melody_wav(joined), format="audio/wav")

    # ------------------------------------------------------------ encode your own
    st.header("Encode your own")
    enc = None
    if domain.name == "names":
        text = st.text_input("Type a name", key="le_text", persist_state="session", placeholder="e.g. Maria")
        if text.strip():
            try:
                enc = compute.encode_text(ref, text.strip(), label)
            except ValueError as e:
                st.error(str(e), icon=":material/edit:")
    else:
        what = "digit" if domain.name == "digits" else "melody"
        idx = st.number_input(f"Pick a held-out {what} (#)", 0, n_items - 1, key="le_item", persist_state="session")
        enc = compute.encode_item(ref, "test", int(idx), label)
    if enc is not None:
        mu = enc["mu"]
        p = (float(mu[0]), float(mu[1]) if len(mu) > 1 else 0.0)
        marks["your input"] = (p[0], p[1], "star", "#e31a1c")
        st.markdown(f"The encoder puts it at **z = ({p[0]:.2f}, {p[1]:.2f})** "
                    f"(uncertainty σ ≈ {float(np.mean(enc['sigma'])):.2f}): the red star on the map.")
        c1, c2 = st.columns(2)
        with c1:
            st.markdown("**Your input**")
            show.artifact(domain.name, enc["original"], key="le_enc_in", caption=None)
        with c2:
            st.markdown("**Its reconstruction** (decoded from that point)")
            show.artifact(domain.name, enc["reconstruction"], key="le_enc_out", caption=None)
        st.button("Go there", key="le_goto", on_click=_set_z, args=(p,), icon=":material/my_location:")

    # ------------------------------------------------------------ the point and the map (drawn last, shown on top)
    explore_point(point_slot, map_slot, model_name, ref, domain, label, marks, grid_range)

    bad = resources.damaged_models()
    if bad:
        with st.expander(f"{len(bad)} saved model(s) could not be read and are not listed"):
            for r in bad:
                st.markdown(f"- **{r['name']}**: {r['error']}")
