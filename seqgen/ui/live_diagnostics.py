"""The Live training page's diagnostics beside the curves: the class histogram and diversity of a GAN's
samples, a VAE's KL per latent dimension, each network's gradient norm, and the "I'm stuck" reading of them
in plain words (seqgen.training.live.diagnostics computes the figures and findings; this module words and
draws them)."""
from __future__ import annotations

import streamlit as st

from seqgen.domains import get_domain
from seqgen.training.live.diagnostics import ACTIVE_KL, ALIKE, EARLY_STEPS

from .i18n import N_, _, current, domain_word
from .live_figures import class_histogram_figure, gradient_figure, kl_figure

FIGURES_KEY = "lt_diag_figures"     # (run, check, language) -> figures: rebuilt only when a new check lands

FINDINGS = {
    "ok": N_("Nothing looks wrong right now. If the samples stop improving for a few hundred steps, lower the "
             "learning rate."),
    "mode_collapse": N_("Mode collapse: {share} of the samples look like {label}, whatever they were asked to be. "
                        "The generator found one thing that fools the discriminator and keeps making it. Try label "
                        "smoothing or more D steps, or start again with a lower learning rate."),
    "samples_alike_early": N_("The samples still look alike. That is normal for a young model; if it lasts past "
                              "step {early}, it is mode collapse."),
    "low_diversity": N_("The samples differ only {diversity} as much as real examples do: the generator makes a "
                        "few things over and over (a partial mode collapse). Try label smoothing or more D steps."),
    "posterior_collapse": N_("Posterior collapse: the KL is near 0 in every latent dimension ({kl} nats in all), "
                             "so the decoder ignores z and every point of the map decodes to much the same thing. "
                             "Try free bits, a longer KL ramp, or word dropout."),
    "idle_dims": N_("{active} of the {latent} latent dimensions carry information; the decoder ignores the "
                    "others. That is common and not a fault: free bits would put them to use."),
    "memorising": N_("It is learning the training items by heart: it rebuilds them at {train} nats a step, but "
                      "held-out ones at {val}. More steps will not make it better at new items. Stop and save "
                      "now, or add more data, or try a smaller hidden size."),
    "copying": N_("{share} of the samples are items of the training data, copied: the generator has learned the data "
                  "by heart rather than how to make new items. Stop and save now, or add more data."),
    "d_wins": N_("The discriminator wins every time: D(real) is {d_real} and D(fake) {d_fake}, so the generator "
                 "learns almost nothing from it. Try label smoothing, fewer D steps, or a lower learning rate."),
    "d_fooled": N_("The discriminator is fooled: D(fake) is {d_fake}. It has stopped telling real from fake, so "
                   "the generator's signal is weak. Try more D steps."),
    "vanishing": N_("{net}'s gradients have vanished (norm {norm}): it has stopped learning. In a GAN this "
                    "usually means the discriminator wins outright."),
}
NETS = {"D": N_("D"), "G": N_("G"), "model": N_("The model")}
# a problem is a warning, a hint an info box, and "nothing wrong" a quiet line (a green box would be read as
# the answer to something the reader did, like a save)
SHOW = {"problem": st.warning, "hint": st.info,
        "ok": lambda text, icon: st.caption(f"{icon} {text}")}
ICONS = {"problem": ":material/report:", "hint": ":material/lightbulb:", "ok": "✅"}


def finding_text(finding, label_names) -> str:
    """One finding as a sentence in the session's language."""
    v = dict(finding.values)
    if v.get("label") is not None and label_names:
        v["label"] = domain_word(label_names[int(v["label"])])
    for k in ("share", "diversity"):
        if k in v:
            v[k] = f"{v[k]:.0%}"
    for k in ("d_real", "d_fake", "kl", "train", "val"):
        if k in v:
            v[k] = f"{v[k]:.2f}"
    if "norm" in v:
        v["norm"] = f"{v['norm']:.2g}"
    if "net" in v:
        v["net"] = _(NETS.get(v["net"], v["net"]))
    return _(FINDINGS[finding.code]).format(early=EARLY_STEPS, **v)


def _figures(run, snap, diag, names) -> dict:
    """The panel's figures for this check, built once per check (a poll between two checks reuses them)."""
    key = (snap.run_id, diag.step, snap.version if snap.slow_motion or snap.status == "paused" else None,
           current())
    kept = st.session_state.get(FIGURES_KEY)
    if kept and kept[0] == key:
        return kept[1]
    figs = {"grad": gradient_figure(snap, run.train_cfg.grad_clip)}
    if diag.class_counts is not None:
        collapse = next((f.values["label"] for f in diag.findings if f.code == "mode_collapse"), None)
        figs["classes"] = class_histogram_figure(diag, names, collapse)
    if diag.kl_per_dim is not None:
        figs["kl"] = kl_figure(diag, ACTIVE_KL)
    st.session_state[FIGURES_KEY] = (key, figs)
    return figs


def diagnostics_view(run, snap) -> None:
    """The reading ("I'm stuck"), then the figures behind it."""
    diag = snap.diagnostics
    if diag is None:
        return
    names = get_domain(snap.domain).label_names
    with st.container(key="lt_diagnostics"):
        st.markdown("**" + _("I'm stuck: what do the figures say?") + "** " + _("(checked at step {step})").format(
            step=diag.step))
        for finding in diag.findings:
            SHOW[finding.level](finding_text(finding, names), icon=ICONS[finding.level])
        figs = _figures(run, snap, diag, names)
        left, right = st.columns(2)
        with left:
            if "classes" in figs:
                st.plotly_chart(figs["classes"], key="lt_class_chart", config={"displayModeBar": False})
            if "kl" in figs:
                st.plotly_chart(figs["kl"], key="lt_kl_chart", config={"displayModeBar": False})
            m = st.columns(2)
            if diag.requested_share is not None:
                m[0].metric(_("Read as asked"), f"{diag.requested_share:.0%}",
                            help=_("Share of the samples the reference classifier reads as the label they were "
                                   "asked to be."))
            if diag.diversity is not None:
                m[1].metric(_("Diversity"), f"{diag.diversity:.0%}",
                            help=_("How much the samples differ from one another, against how much real examples "
                                   "do (100 %: as varied as the data). Below {alike} they look alike.").format(
                                alike=f"{ALIKE:.0%}"))
            if diag.active_dims is not None:
                m[0].metric(_("Latent dimensions in use"), f"{diag.active_dims} / {len(diag.kl_per_dim)}",
                            help=_("Dimensions whose average KL is above {v:g} nats: the ones the decoder reads.")
                            .format(v=ACTIVE_KL))
        with right:
            st.plotly_chart(figs["grad"], key="lt_grad_chart", config={"displayModeBar": False})
