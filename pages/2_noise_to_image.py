"""Noise -> image: a conditional RNN-GAN draws images row by row from random noise (VAE prior samples beside it)."""
import numpy as np
import streamlit as st

import seqgen
from seqgen import ui
from seqgen.render import upscale
from seqgen.ui import compute, figures, resources, widgets

ONE_OF_EACH = -1
ui.configure_torch()


def settings(gans):
    """Model, seed, class and count -> (name, domain, seed, labels or None, n, label choice)."""
    widgets.defaults(ni_seed=0, ni_label=ONE_OF_EACH, ni_n=20, ni_rows=28, ni_pick=0)
    c1, c2, c3, c4 = st.columns([1.2, 0.8, 1, 1])
    with c1:
        name = widgets.choose_model("GAN model", "ni_model", gans, resources.model_label)
    cfg = ui.load(name).config
    domain = seqgen.get_domain(cfg.domain)
    seed = int(c2.number_input("Seed", 0, 1_000_000, step=1, key="ni_seed", persist_state="session",
                               help="The seed fixes the random noise: same seed, same drawings."))
    choices = [ONE_OF_EACH] + list(range(domain.n_labels))
    if st.session_state.ni_label not in choices:
        st.session_state.ni_label = ONE_OF_EACH
    label = c3.selectbox(f"What to draw", choices, key="ni_label", persist_state="session",
                         disabled=not cfg.conditional,
                         format_func=lambda i: "one of each" if i == ONE_OF_EACH else domain.label_names[i],
                         help=None if cfg.conditional else "This GAN is not conditional: it picks for itself.")
    n = int(c4.slider("Number of samples", 1, 40, key="ni_n", persist_state="session"))
    if not cfg.conditional:
        labels = None
    elif label == ONE_OF_EACH:
        labels = tuple(i % domain.n_labels for i in range(n))
    else:
        labels = (int(label),) * n
    return name, domain, seed, labels, n, label


def replay(domain, images, seed, labels, label, n, cols) -> int:
    st.subheader("GAN samples, replayed row by row")
    rows = int(st.slider("Rows drawn so far (replay)", 1, domain.seq_len, key="ni_rows", persist_state="session",
                         help="Slide from 1 to the last row to watch the generator draw each image top to bottom."))
    what = "" if labels is None else (", one of each class" if label == ONE_OF_EACH
                                      else f", {domain.label_names[label]}")
    st.image(compute.replay_png(images, cols, 3, rows), output_format="PNG",
             caption=f"{n} samples, seed {seed}{what}"
             + ("" if rows == domain.seq_len else f": the first {rows} of {domain.seq_len} rows drawn"))
    st.download_button("Download these samples (PNG)", compute.replay_png(images, cols, 4, domain.seq_len),
                       file_name=f"gan-{domain.name}-seed{seed}.png", mime="image/png", key="ni_png",
                       icon=":material/download:")
    return rows


def vae_comparison(domain, seed, n, labels, cols) -> None:
    st.subheader("VAE prior samples, for comparison")
    vaes = resources.model_names("vae", domain=domain.name)
    if not vaes:
        st.info(f"No {domain.title} VAE is available for the comparison.")
        return
    vae_name = next((v for v in vaes if resources.model_info(v).get("shipped")), vaes[0])
    vae_labels = labels if ui.load(vae_name).config.conditional else None
    prior = np.stack(compute.samples(resources.ref(vae_name), seed, n, None, vae_labels))
    st.image(compute.replay_png(prior, cols, 3, domain.seq_len), output_format="PNG",
             caption=f"{vae_name}: decodes of {n} random points z ~ N(0, I) (same seed). The VAE cannot "
                     "be told what to draw; it draws whatever lives at each point.")


def inside_the_generator(domain, images, hidden, labels, n, rows) -> None:
    st.subheader("Inside the generator: its hidden state, row by row")
    st.session_state.ni_pick = min(int(st.session_state.ni_pick), n - 1)
    pick = int(st.slider("Sample to look inside", 0, n - 1, key="ni_pick", persist_state="session")) if n > 1 else 0
    h1, h2 = st.columns([1, 4])
    with h1:
        asked = "" if labels is None else f" (asked for: {domain.label_names[labels[pick]]})"
        st.image(upscale(images[pick], 6), output_format="PNG", caption=f"sample #{pick}{asked}")
    with h2:
        st.plotly_chart(figures.hidden_heatmap(hidden[pick][:rows]), key="ni_heat", config={"displaylogo": False})
    st.caption("Each row of the heat map is the generator's memory right after drawing that image row; each column "
               "is one hidden unit (blue positive, red negative). Rows that change sharply are where strokes start "
               "or end. The heat map follows the replay slider.")


st.title("Noise → image")
ui.intro(
    "A **generative adversarial network (GAN)** is two networks playing a game. The **generator** starts "
    "from a handful of random numbers (the *noise*, fixed here by the *seed*) plus the class you ask for "
    "(a digit, a piece of clothing), and draws an image. The **discriminator** sees real images and the "
    "generator's drawings and tries to tell them apart; the generator is trained to fool it, so its drawings "
    "get more and more realistic.",
    "This generator is a **recurrent neural network (RNN)**: it draws the 28×28 image one row at a time, "
    "top to bottom, carrying a memory (its *hidden state*) from row to row. Use the replay slider to watch "
    "the drawing appear, and the heat map to see the memory change as it draws. Same seed, same drawings; "
    "change the seed for new ones. On the right, a VAE draws from random points of its latent map for comparison.")

with ui.guard("the noise → image page"):
    gans = resources.model_names("gan", kind="image")
    if not gans:
        st.warning("No image GAN checkpoint was found.")
        st.stop()
    name, domain, seed, labels, n, label = settings(gans)
    res = compute.samples_with_hidden(resources.ref(name), seed, n, labels)
    images, hidden = np.stack(res["artifacts"]), res["hidden"]
    cols = min(10, n)
    left, right = st.columns([1.35, 1], gap="large")
    with left:
        rows = replay(domain, images, seed, labels, label, n, cols)
    with right:
        vae_comparison(domain, seed, n, labels, cols)
    inside_the_generator(domain, images, hidden, labels, n, rows)
