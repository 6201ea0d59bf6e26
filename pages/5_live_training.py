"""Live training: train a small RNN-VAE or RNN-GAN in the background and watch it learn (GAN Lab style)."""
import streamlit as st

from seqgen import ui
from seqgen.ui import live
from seqgen.ui.i18n import _

st.title(_("Live training"))
ui.intro(
    _("Here you train a small model yourself. Pick what it should learn and a model family: a **VAE** learns to "
    "squeeze each example into a code *z* and rebuild it; a **GAN** pits a **generator** that invents examples "
    "against a **discriminator** that tries to tell them from real ones. Training runs in the background, so "
    "you can look at other pages while it learns, and come back."),
    _("The curves show the losses falling (or, for a GAN, the two players pushing against each other). The "
    "samples are always drawn from the *same* random inputs, so you see the same examples sharpen step by step. "
    "For a 2-D VAE the map shows where the encoder puts real examples: watch the classes spread and separate. "
    "Use **Pause** and **Step once** for slow motion, then save the model and explore it on the other pages."))

with ui.guard(_("the live training page")):
    run, status = live.session()
    live.settings()                  # what to learn, the model family, its knobs
    live.now_training(run, status)
    live.controls(status)            # Start / Pause or Resume / Step once / Stop
    live.step_controls(run, status)  # slow motion; a GAN's D or G stepped alone
    live.live_panel(status)          # status, progress, loss curves, samples, latent map (polled)
    live.save_panel(run, status)
    live.reset()
