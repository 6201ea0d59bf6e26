"""Side by side: two models of one kind of data make samples from the same seed, next to each other: a VAE beside
a GAN, a model you saved beside the shipped one, or your live run at step 500 beside the same run now."""
import streamlit as st

from seqgen import ui
from seqgen.training.live.run import KEPT_AT
from seqgen.ui import side_by_side, widgets
from seqgen.ui.i18n import _

ui.configure_torch()

st.title(_("Side by side"))
ui.intro(
    _("Two models, one seed. Pick the kind of data, then a model for each side: the two sides get the same "
      "random numbers and, where they are told what to make, the same labels. Where both read the same kind of "
      "random numbers (two VAEs with maps of one size, or two GANs with the same noise), sample 3 on the left and "
      "sample 3 on the right grew from the very same input."),
    _("Try a **VAE beside a GAN** (the VAE's samples are smoother, the GAN's sharper), a model **you saved** on "
      "the Live training page beside the shipped one, or **your live run** at an early step beside the same run "
      "now: a run keeps its weights at steps {steps}.").format(steps=", ".join(f"{s:,}" for s in KEPT_AT)))

with ui.guard(_("the side by side page")):
    chosen = side_by_side.choose(side_by_side.sides())
    if chosen is None:
        st.stop()
    domain, left, right = chosen
    seed, n, labels = side_by_side.settings(domain, left, right)
    side_by_side.pair(domain, left, right, seed, n, labels)
    widgets.reset_button("sb_", key="sb_reset")
