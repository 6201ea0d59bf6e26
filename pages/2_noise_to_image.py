"""Noise -> image: a conditional RNN-GAN draws digits row by row from random noise (VAE prior samples beside it)."""
import streamlit as st

from seqgen import ui
from seqgen.render import upscale
from seqgen.ui import compute, figures, resources, widgets

ONE_OF_EACH = "one of each (0–9)"
ui.configure_torch()

st.title("Noise → image")
ui.intro(
    "A **generative adversarial network (GAN)** is two networks playing a game. The **generator** starts "
    "from a handful of random numbers (the *noise*, fixed here by the *seed*) plus the digit you ask for, "
    "and draws an image. The **discriminator** sees real digits and the generator's drawings and tries to "
    "tell them apart; the generator is trained to fool it, so its drawings get more and more realistic.",
    "This generator is a **recurrent neural network (RNN)**: it draws the 28×28 image one row at a time, "
    "top to bottom, carrying a memory (its *hidden state*) from row to row. Use the replay slider to watch "
    "the drawing appear, and the heat map to see the memory change as it draws. Same seed, same drawings; "
    "change the seed for new ones. On the right, a VAE draws from random points of its latent map for comparison.")

with ui.guard("the noise → image page"):
    gans = resources.model_names("gan", "digits")
    if not gans:
        st.warning("No digits GAN checkpoint was found.")
        st.stop()
    widgets.defaults(ni_seed=0, ni_label=ONE_OF_EACH, ni_n=20, ni_rows=28, ni_pick=0)
    c1, c2, c3, c4 = st.columns([1.2, 0.8, 1, 1])
    with c1:
        name = widgets.choose_model("GAN model", "ni_model", gans, resources.model_label)
    ckpt = ui.load(name)
    ref = resources.ref(name)
    seed = int(c2.number_input("Seed", 0, 1_000_000, step=1, key="ni_seed", persist_state="session",
                               help="The seed fixes the random noise: same seed, same drawings."))
    label_opts = [ONE_OF_EACH] + [str(d) for d in range(10)]
    label = c3.selectbox("Digit to draw", label_opts, key="ni_label", persist_state="session", disabled=not ckpt.config.conditional,
                         help=None if ckpt.config.conditional else "This GAN is not conditional: it picks the digit itself.")
    n = int(c4.slider("Number of samples", 1, 40, key="ni_n", persist_state="session"))
    if not ckpt.config.conditional:
        labels = None
    elif label == ONE_OF_EACH:
        labels = tuple(i % 10 for i in range(n))
    else:
        labels = (int(label),) * n
    res = compute.gan_digits(ref, seed, labels, n)
    images, hidden = res["images"], res["hidden"]
    st.session_state.ni_fingerprint = compute.fingerprint(images)
    cols = min(10, n)

    left, right = st.columns([1.35, 1], gap="large")
    with left:
        st.subheader("GAN samples, replayed row by row")
        rows = int(st.slider("Rows drawn so far (replay)", 1, 28, key="ni_rows", persist_state="session",
                             help="Slide from 1 to 28 to watch the generator draw each image top to bottom."))
        st.image(compute.grid_png(images, cols, 3, rows), output_format="PNG",
                 caption=f"{n} samples, seed {seed}" + ("" if labels is None else
                          (", one of each digit" if label == ONE_OF_EACH else f", digit {label}"))
                 + ("" if rows == 28 else f": the first {rows} of 28 rows drawn"))
        st.download_button("Download these samples (PNG)", compute.grid_png(images, cols, 4), file_name=f"gan-digits-seed{seed}.png",
                           mime="image/png", key="ni_png", icon=":material/download:")
    with right:
        st.subheader("VAE prior samples, for comparison")
        vaes = resources.model_names("vae", "digits")
        if vaes:
            vae_name = "digits-vae" if "digits-vae" in vaes else vaes[0]
            prior = compute.vae_prior_digits(resources.ref(vae_name), seed, n, labels)
            st.image(compute.grid_png(prior, cols, 3), output_format="PNG",
                     caption=f"{vae_name}: decodes of {n} random points z ~ N(0, I) (same seed). The VAE cannot "
                             "be told which digit to draw; it draws whatever lives at each point.")
        else:
            st.info("No digits VAE checkpoint is available for the comparison.")

    st.subheader("Inside the generator: its hidden state, row by row")
    st.session_state.ni_pick = min(int(st.session_state.ni_pick), n - 1)
    pick = int(st.slider("Sample to look inside", 0, n - 1, key="ni_pick", persist_state="session")) if n > 1 else 0
    h1, h2 = st.columns([1, 4])
    with h1:
        st.image(upscale(images[pick], 6), output_format="PNG",
                 caption=f"sample #{pick}" + ("" if labels is None else f" (asked for a {labels[pick]})"))
    with h2:
        st.plotly_chart(figures.hidden_heatmap(hidden[pick][:rows]), key="ni_heat", config={"displaylogo": False})
    st.caption("Each row of the heat map is the generator's memory right after drawing that image row; each column "
               "is one hidden unit (blue positive, red negative). Rows that change sharply are where strokes start "
               "or end. The heat map follows the replay slider.")
