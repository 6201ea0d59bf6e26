"""What the Live training page draws for one snapshot of a run: status, progress, curves, samples, map."""
from __future__ import annotations

import math

import streamlit as st

from seqgen.domains import get_domain

from . import show
from .i18n import N_, _, domain_word, ngettext
from .live_copy import knob_label
from .live_diagnostics import diagnostics_view
from .live_figures import compare_figure, latent_figure, loss_figure
from .widgets import plain, without_paths


def samples_view(snap) -> None:
    arts = snap.samples
    if not arts:
        st.caption(_("Samples appear after the model is built."))
        return
    domain = get_domain(snap.domain)
    labels = [domain_word(x) for x in snap.sample_labels] if snap.sample_labels else None
    if snap.family == "vae" and snap.latent is not None:  # 2-D VAE: the trainer previews a grid
        text = _("**Samples** (step {step}) from a fixed 4×4 grid of latent points from (−1.5, 1.5) at the top "
                 "left to (1.5, −1.5) at the bottom right: the same points every time, so you watch the *same* "
                 "samples improve.")
    else:
        text = _("**Samples** (step {step}) from the same random inputs every time, so you watch the *same* "
                 "samples improve.")
    text = text.format(step=snap.samples_step)
    if labels:
        text += " " + _("Requested labels: {labels}").format(labels=" ".join(plain(x, 40) for x in labels[:10]))
    st.markdown(text)
    cols = 10 if len(arts) == 20 else 4          # conditional previews hold two rows of ten labels
    show.gallery(domain, list(arts), cols=cols, labels=labels, key="lt_samples")


# the figures of one step, in the order a reader compares them
STEP_FIGURES = (("loss", N_("loss")), ("recon", N_("reconstruction")), ("kl", N_("KL")), ("mle", N_("G warm-up loss")),
                ("d_loss", N_("D loss")), ("g_loss", N_("G loss")), ("d_real", N_("D(real)")),
                ("d_fake", N_("D(fake)")), ("d_grad", N_("D gradient")), ("g_grad", N_("G gradient")),
                ("grad_norm", N_("gradient")))


def step_figures(snap) -> str:
    """The latest step's own figures, in words: "D loss 1.21 · D(real) 0.62 · ..." (only those it has)."""
    f = snap.last_figures
    return " · ".join(f"{_(label)} {f[name]:.3g}" for name, label in STEP_FIGURES if name in f)


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


STATUS_ICON = {"queued": "⏳", "starting": "⚙️", "running": "🏃", "paused": "⏸️", "done": "✅", "stopping": "⏹️",
               "stopped": "⏹️", "diverged": "💥", "error": "❌"}


STATUS_WORDS = {"created": N_("not started"), "queued": N_("queued"), "starting": N_("starting"),
                "running": N_("running"), "paused": N_("paused"), "stopping": N_("stopping"), "done": N_("done"),
                "stopped": N_("stopped"),
                "diverged": N_("diverged"), "error": N_("error")}


def status_text(snap) -> str:
    """What the run is doing, in the session's language, from the snapshot's fields; the run's own English
    message is quoted only where it carries a detail the UI cannot know (an error, a stop reason)."""
    s = snap.shown_status
    if s == "stopping":
        return _("Stop pressed: the run ends after the step it is making.")
    if s == "queued":
        return _("Waiting for a free training slot: position {pos} in the queue.").format(
            pos=snap.queue_position or 1)
    if s == "starting":
        return _("Loading data and building the model...")
    if s == "running":
        return _("Training.")
    if s == "paused":
        if snap.step == 0:
            return _("Paused before the first step. Resume, or step once.")
        return _("Paused at step {step}. Resume, or step once to watch a single update.").format(step=snap.step)
    if s == "done" and snap.message.startswith("Stopped early"):
        return _("Stopped early at step {step}: it had stopped getting better at the held-out items, so more steps "
                 "would only teach it the training items by heart.").format(step=snap.step)
    if s == "done":
        return ngettext("Finished its {n} step.", "Finished all {n} steps.", snap.total_steps).format(
            n=snap.total_steps)
    if s == "stopped":
        if snap.message.startswith("Stopped: nobody watched"):
            return _("Stopped because nobody watched it for a while, so its training slot went to someone "
                     "else. You can still save what it learned.")
        return _("Stopped. You can still save what it learned.")
    detail = plain(without_paths(snap.message), 400)
    if s == "diverged":
        return _("The loss became NaN or exploded, so the run was stopped; nothing after that step is usable. "
                 "Start again with a lower learning rate. ({detail})").format(detail=detail)
    if s == "error":
        return _("The run failed: {detail}").format(detail=detail)
    return _("Not started yet.")


def _warm_up_steps(run, snap) -> int:
    cfg = getattr(run, "train_cfg", None)
    return int(getattr(cfg, "mle_steps", 0) or 0) if snap.family == "gan" else 0


def draw(run, snap) -> None:
    """Everything the fragment shows for one snapshot of `run`."""
    with st.container(key="lt_status"):
        shown = snap.shown_status
        text = f"{STATUS_ICON.get(shown, '')} **{_(STATUS_WORDS.get(shown, shown))}**: " \
               f"{status_text(snap)}"
        if snap.status in ("diverged", "error"):
            st.error(text)
        else:
            st.markdown(text)
    st.progress(snap.progress, text=_("step {step}/{total} · {clock} elapsed").format(
        step=snap.step, total=snap.total_steps, clock=_clock(snap.elapsed)))
    warm_up = _warm_up_steps(run, snap)
    in_warm_up = snap.step < warm_up
    m = st.columns(4)
    m[0].metric(_("Steps"), f"{snap.step:,}")
    m[1].metric(_("Elapsed"), _clock(snap.elapsed))
    m[2].metric(_("Steps per second"), f"{snap.steps_per_s:.1f}" if snap.status == "running" else "–")
    main = "loss" if snap.family == "vae" else ("mle" if in_warm_up else "g_loss")
    last = next((x for x in reversed(snap.history.get(main, ())) if math.isfinite(x)), None)
    title = _("Loss") if snap.family == "vae" else (_("G warm-up loss") if in_warm_up else _("G loss"))
    m[3].metric(title, "–" if last is None else f"{last:.3g}")
    if in_warm_up:
        st.info(_("Warm-up: for the first {n} steps the generator learns by copying real examples one token at "
                  "a time (teacher forcing, as in SeqGAN), so the discriminator has nothing to judge yet and G "
                  "loss stays empty. The adversarial game starts at step {n}: then D loss and G loss appear and "
                  "the samples change character.").format(n=warm_up), icon=":material/hourglass_top:")
    if snap.last_figures and (snap.status == "paused" or snap.slow_motion):
        st.caption(_("Step {step}'s own figures: {figures}").format(step=snap.step, figures=step_figures(snap)),
                   help=_("What this one step measured. A step of D alone or G alone has only that network's "
                          "figures; the other network did not change."))
    if snap.history.get("step"):
        st.plotly_chart(loss_figure(snap), key="lt_loss_chart", config={"displayModeBar": False})
    diagnostics_view(run, snap)
    left, right = st.columns([3, 2]) if snap.latent is not None else (st.container(), None)
    with left:
        samples_view(snap)
    if right is not None:
        with right:
            names = get_domain(snap.domain).label_names
            st.plotly_chart(latent_figure(snap, names), key="lt_latent_chart", config={"displayModeBar": False})
            st.caption(_("Means of 500 fixed validation examples, coloured by their label: watch the classes "
                         "spread out and separate as the encoder learns."))


def run_labels(snaps) -> list[str]:
    """A label for each run of a comparison: its number and what changed from the run before it ("run 2:
    Learning rate 0.1"); the first run is "run 1"."""
    labels = []
    for i, snap in enumerate(snaps):
        label = _("run {n}").format(n=i + 1)
        if i:
            before = snaps[i - 1].knobs
            changed = [f"{knob_label(k)} {v:g}" if isinstance(v, float) else f"{knob_label(k)} {v}"
                       for k, v in snap.knobs.items() if before.get(k) != v]
            label += ": " + (", ".join(changed) if changed else _("same settings"))
        labels.append(label)
    return labels


def compare_view(snap, past) -> None:
    """This tab's earlier runs of the same kind of model beside the current one, on one chart (up to 4)."""
    same = [p for p in past if (p.domain, p.family) == (snap.domain, snap.family) and p.run_id != snap.run_id]
    if not same:
        return
    runs = same + [snap]
    with st.container(key="lt_compare"):
        st.markdown("**" + _("Your runs compared") + "**")
        st.caption(_("Each colour is one of your runs in this tab, labelled by what changed from the run before "
                     "it; the newest is the one training now."))
        st.plotly_chart(compare_figure(runs, run_labels(runs)), key="lt_compare_chart",
                        config={"displayModeBar": False})
