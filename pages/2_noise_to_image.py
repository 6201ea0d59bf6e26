"""Noise -> image & sound: a conditional RNN-GAN writes its samples one step at a time from random noise (an
image row by row, a sound frame by frame); VAE prior samples beside it."""
import time

import streamlit as st

import seqgen
from seqgen import ui
from seqgen.ui import compute, figures, resources, show, widgets
from seqgen.ui.i18n import _, domain_word, ngettext
from seqgen.ui.kinds import kinds_on

FRAME_S = 0.09          # one time step per frame of the replay animation
ui.configure_torch()


def settings(gans):
    """Model, seed, class and count -> (name, domain, seed, labels or None, n, label choice)."""
    widgets.defaults(ni_seed=0, ni_label=widgets.ONE_OF_EACH, ni_n=20, ni_pick=0)
    c1, c2, c3, c4 = st.columns([1.2, 0.8, 1, 1])
    with c1:
        name = widgets.choose_model(_("GAN model"), "ni_model", gans, resources.model_label)
    cfg = ui.load(name).config
    domain = seqgen.get_domain(cfg.domain)
    seed = int(c2.number_input(_("Seed"), 0, 1_000_000, step=1, key="ni_seed", persist_state="session",
                               help=_("The seed fixes the random noise: same seed, same samples.")))
    n = int(c4.slider(_("Number of samples"), 1, 40, key="ni_n", persist_state="session"))
    labels, label = widgets.what_to_make(c3, "ni_label", domain, n, disabled=not cfg.conditional,
                                         help=None if cfg.conditional else _("This GAN is not conditional: it "
                                                                             "picks for itself."))
    if not cfg.conditional:
        labels = None
    return name, domain, seed, labels, n, label


def caption(domain, n, seed, labels, label, steps) -> str:
    text = ngettext("{n} sample, seed {seed}", "{n} samples, seed {seed}", n).format(n=n, seed=seed)
    if labels is not None:
        text += ", " + (_("one of each class") if label == widgets.ONE_OF_EACH else domain_word(domain.label_names[label]))
    if steps != domain.seq_len:
        text += ": " + _("the first {rows} of {total} {steps} drawn").format(
            rows=steps, total=domain.seq_len, steps=domain_word(domain.step_noun_plural))
    return text


def replay(domain, samples, seed, labels, label, n, cols) -> int:
    view = show.view(domain)
    st.subheader(_("GAN samples, replayed step by step"))
    rows = st.session_state.get("ni_rows")
    if rows is None or rows > domain.seq_len or st.session_state.get("ni_rows_of", domain.name) != domain.name:
        st.session_state.ni_rows = domain.seq_len    # another kind of sample: start from the whole ones
    st.session_state.ni_rows_of = domain.name
    steps = int(st.slider(_("Steps drawn so far (replay)"), 1, domain.seq_len, key="ni_rows", persist_state="session",
                          help=_("Slide from 1 to the last step to watch the generator draw each sample, one "
                                 "{step} after another.").format(step=domain_word(domain.step_noun))))
    play = st.button(_("Play the drawing"), key="ni_play", icon=":material/play_arrow:",
                     help=_("Draws the samples again, one step after another, from the first to the last."))
    slot = st.empty()
    if play:   # an animation: each frame adds one step, as the generator made them
        for r in range(1, domain.seq_len + 1):
            slot.image(view.replay_png(domain, samples, cols, 3, r), output_format="PNG", width="stretch",
                       caption=caption(domain, n, seed, labels, label, r), alt=view.replay_alt(domain, samples, r))
            time.sleep(FRAME_S)
    slot.image(view.replay_png(domain, samples, cols, 3, steps), output_format="PNG", width="stretch",
               caption=caption(domain, n, seed, labels, label, steps), alt=view.replay_alt(domain, samples, steps))
    view.listen(domain, samples, key="ni_listen")
    show.download_buttons(domain, samples, f"gan-{domain.name}-seed{seed}", key="ni_png")
    return steps


def vae_comparison(domain, seed, n, labels, cols) -> None:
    st.subheader(_("VAE prior samples, for comparison"))
    vaes = resources.model_names("vae", domain=domain.name)
    if not vaes:
        st.info(_("No {data} VAE is available for the comparison.").format(data=domain_word(domain.title)))
        return
    vae_name = next((v for v in vaes if resources.model_info(v).get("shipped")), vaes[0])
    vae_labels = labels if ui.load(vae_name).config.conditional else None
    prior = compute.samples(resources.ref(vae_name), seed, n, None, vae_labels)
    view = show.view(domain)
    st.image(view.replay_png(domain, prior, cols, 3, domain.seq_len), output_format="PNG", alt=view.alt(domain, prior),
             caption=ngettext("{model}: the decode of {n} random point z ~ N(0, I) (same seed). The VAE cannot be "
                              "told what to make; it makes whatever lives at that point.",
                              "{model}: decodes of {n} random points z ~ N(0, I) (same seed). The VAE cannot be "
                              "told what to make; it makes whatever lives at each point.", n).format(
                 model=vae_name, n=n))


def inside_the_generator(domain, samples, hidden, labels, n, steps) -> None:
    st.subheader(_("Inside the generator: its hidden state, step by step"))
    st.session_state.ni_pick = min(int(st.session_state.ni_pick), n - 1)
    pick = int(st.slider(_("Sample to look inside"), 0, n - 1, key="ni_pick", persist_state="session")) if n > 1 else 0
    h1, h2 = st.columns([1, 4])
    with h1:
        shown = _("sample #{i}").format(i=pick)
        if labels is not None:
            shown += " " + _("(asked for: {label})").format(label=domain_word(domain.label_names[labels[pick]]))
        show.artifact(domain, samples[pick], key="ni_inside", caption=shown)
    with h2:
        step_title = _("{step} (time step)").format(step=domain_word(domain.step_noun))
        st.plotly_chart(figures.hidden_heatmap(hidden[pick][:steps], step_title=step_title), key="ni_heat",
                        config={"displaylogo": False})
    st.caption(_("Each row of the heat map is the generator's memory right after writing that step; each "
                 "column is one hidden unit (blue positive, red negative). Rows that change sharply are where "
                 "something starts or ends. The heat map follows the replay slider."))
    st.plotly_chart(figures.memory_moves(hidden[:, :steps], pick, step_title), key="ni_moves",
                    config={"displaylogo": False})
    st.caption(_("How far the memory moved at each step: the length of its change from the step before. Compare "
                 "it with the picture on the left."))


st.title(_("Noise → image & sound"))
ui.intro(
    _("A **generative adversarial network (GAN)** is two networks playing a game. The **generator** starts "
      "from a handful of random numbers (the *noise*, fixed here by the *seed*) plus the class you ask for "
      "(a digit, a piece of clothing, a spoken word), and makes a sample. The **discriminator** sees real "
      "examples and the generator's samples and tries to tell them apart; the generator is trained to fool it, "
      "so its samples get more and more realistic."),
    _("This generator is a **recurrent neural network (RNN)**: it writes a sample one step at a time (an "
      "image row by row, top to bottom; a sound frame by frame), carrying a memory (its *hidden state*) from "
      "step to step. Use the replay slider or the play button to watch it appear, and the heat map to see the "
      "memory change as it writes. Same seed, same samples; change the seed for new ones. On the right, a VAE "
      "makes samples from random points of its latent map for comparison."))

with ui.guard(_("the noise → image & sound page")):
    gans = resources.model_names("gan", kinds=kinds_on("noise"))
    if not gans:
        st.warning(_("No image or sound GAN checkpoint was found."))
        st.stop()
    name, domain, seed, labels, n, label = settings(gans)
    res = compute.samples_with_hidden(resources.ref(name), seed, n, labels)
    samples, hidden = res["artifacts"], res["hidden"]
    cols = min(10, n)
    # on a projector the samples take the whole width, so each is large enough to see from the back
    left, right = (st.container(), st.container()) if widgets.presenting() else st.columns([1.35, 1], gap="large")
    with left:
        steps = replay(domain, samples, seed, labels, label, n, cols)
    with right:
        vae_comparison(domain, seed, n, labels, cols)
    inside_the_generator(domain, samples, hidden, labels, n, steps)
    widgets.reset_button("ni_", key="ni_reset")
