"""Figures of the Live training page: the loss curves and the 2-D latent map of a run's snapshot."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import PALETTE, Z1, Z2, class_style
from .i18n import N_, _, domain_word
from .live_copy import knob_label

# (series name, legend label) per panel, per family: training curves, then held-out ones
_CURVES = {
    "vae": dict(titles=(N_("Loss per example (nats)"), N_("KL divergence (nats)")),
                left=(("loss", N_("total loss")), ("recon", N_("reconstruction"))), right=(("kl", N_("KL")),),
                vleft=(("val_neg_elbo", N_("held-out -ELBO")),), vright=(("val_kl", N_("held-out KL")),)),
    "gan": dict(titles=(N_("Losses"), N_("Discriminator's belief that the input is real")),
                left=(("d_loss", N_("D loss")), ("g_loss", N_("G loss")), ("mle", N_("G warm-up (MLE)"))),
                right=(("d_real", N_("D(real)")), ("d_fake", N_("D(fake)"))),
                vleft=(), vright=(("val_d_real", N_("held-out D(real)")), ("val_d_fake", N_("held-out D(fake)")))),
}
# one colour and dash per curve, the same on every run: colour-blind-safe (Okabe-Ito) and told apart by dash
_STYLE = {"loss": (0, "solid"), "recon": (1, "dash"), "kl": (2, "solid"), "val_neg_elbo": (0, "dot"),
          "val_kl": (2, "dot"), "d_loss": (3, "solid"), "g_loss": (0, "dash"), "mle": (4, "dashdot"),
          "d_real": (2, "solid"), "d_fake": (1, "dash"), "val_d_real": (2, "dot"), "val_d_fake": (1, "dot")}


def _line(name: str) -> dict:
    colour, dash = _STYLE.get(name, (6, "solid"))
    return dict(color=PALETTE[colour], dash=dash, width=2)


def _series(hist, name):
    return [None if (v is None or (isinstance(v, float) and not math.isfinite(v))) else v for v in hist[name]]


def loss_figure(snap) -> go.Figure:
    """VAE: reconstruction + total (left), KL (right). GAN: D and G losses (left), D(real) and D(fake) (right)."""
    h, v = snap.history, snap.validation
    steps = list(h.get("step", ()))
    spec = _CURVES[snap.family]
    fig = make_subplots(rows=1, cols=2, subplot_titles=[_(t) for t in spec["titles"]], horizontal_spacing=0.08)
    for col, series, val in ((1, spec["left"], spec["vleft"]), (2, spec["right"], spec["vright"])):
        for name, label in series:
            if name in h:
                fig.add_trace(go.Scatter(x=steps, y=_series(h, name), name=_(label), mode="lines", line=_line(name)),
                              row=1, col=col)
        for name, label in val:
            if name in v:
                fig.add_trace(go.Scatter(x=list(v["step"]), y=_series(v, name), name=_(label),
                                         mode="markers+lines", line=_line(name)), row=1, col=col)
    if snap.family == "gan":
        fig.update_yaxes(range=[0, 1], row=1, col=2)
    for step, name, _old, new in getattr(snap, "changes", ()):     # knobs changed while it trained
        line = dict(dash="dot", width=1.5, color="#666")
        fig.add_vline(x=step, line=line, row=1, col=1, annotation_text=f"{knob_label(name)} {new:g}",
                      annotation_position="top left", annotation_font_size=11)
        fig.add_vline(x=step, line=line, row=1, col=2)
    fig.update_xaxes(title_text=_("step"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25),
                      uirevision="keep")
    return fig


def latent_figure(snap, label_names, lim: float = 4.0) -> go.Figure:
    """Where the encoder puts a fixed validation batch, one colour per label."""
    z, y = snap.latent, snap.latent_labels
    fig = go.Figure()
    groups = [(None, np.ones(len(z), bool))] if y is None else [(c, y == c) for c in np.unique(y)]
    for c, m in groups:
        name = _("all") if c is None else (domain_word(label_names[int(c)]) if label_names else str(c))
        colour, symbol = class_style(0 if c is None else int(c))
        fig.add_trace(go.Scattergl(x=np.clip(z[m, 0], -lim, lim), y=np.clip(z[m, 1], -lim, lim), mode="markers",
                                   name=name, marker=dict(size=6, opacity=0.8, color=colour, symbol=symbol)))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10),
                      title=_("Latent map at step {step}").format(step=snap.latent_step), uirevision="keep")
    fig.update_xaxes(range=[-lim, lim], title_text=Z1, zeroline=True)
    fig.update_yaxes(range=[-lim, lim], title_text=Z2, scaleanchor="x", zeroline=True)
    return fig


def class_histogram_figure(diag, label_names, collapsed: int | None) -> go.Figure:
    """How many of the diagnostic samples the reference classifier reads as each class; the class a collapse
    is stuck on (`collapsed`) in the warning colour, the others in one calm colour."""
    names = [domain_word(n) for n in label_names] or [str(i) for i in range(len(diag.class_counts))]
    colours = [PALETTE[3] if i == collapsed else PALETTE[0] for i in range(len(diag.class_counts))]
    fig = go.Figure(go.Bar(x=names, y=list(diag.class_counts), marker_color=colours,
                           hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), uirevision="keep", title=dict(
        text=_("What the classifier reads in {n} samples (step {step})").format(
            n=sum(diag.class_counts), step=diag.step), font=dict(size=14)))
    fig.update_yaxes(title_text=_("samples"), rangemode="tozero")
    fig.update_xaxes(type="category")
    return fig


def kl_figure(diag, active_kl: float) -> go.Figure:
    """The average KL of each latent dimension, with the line below which a dimension counts as unused."""
    kl = list(diag.kl_per_dim)
    dims = [f"z{i + 1}" for i in range(len(kl))]
    fig = go.Figure(go.Bar(x=dims, y=kl, marker_color=[PALETTE[0] if v > active_kl else PALETTE[6] for v in kl],
                           hovertemplate="%{x}: %{y:.3f} nats<extra></extra>"))
    fig.add_hline(y=active_kl, line=dict(dash="dot", width=1.5, color=PALETTE[3]),
                  annotation_text=_("in use above {v:g} nats").format(v=active_kl), annotation_position="top left")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), uirevision="keep", title=dict(
        text=_("KL of each latent dimension (step {step})").format(step=diag.step), font=dict(size=14)))
    fig.update_yaxes(title_text=_("nats"), rangemode="tozero")
    fig.update_xaxes(type="category")
    return fig


_GRADS = (("d_grad", N_("D")), ("g_grad", N_("G")), ("grad_norm", N_("model")))


def gradient_figure(snap, clip: float) -> go.Figure:
    """Each network's gradient norm before clipping, on a log scale, with the clip as a line."""
    h = snap.history
    steps = list(h.get("step", ()))
    fig = go.Figure()
    for i, (name, label) in enumerate(_GRADS):
        if name in h:
            fig.add_trace(go.Scatter(x=steps, y=_series(h, name), name=_(label), mode="lines",
                                     line=dict(color=PALETTE[(3, 0, 0)[i]], dash=("solid", "dash", "solid")[i],
                                               width=2)))
    fig.add_hline(y=clip, line=dict(dash="dot", width=1.5, color="#666"),
                  annotation_text=_("clip {v:g}").format(v=clip), annotation_position="top left")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), uirevision="keep",
                      legend=dict(orientation="h", y=-0.3), title=dict(
                          text=_("Gradient norm of each network"), font=dict(size=14)))
    fig.update_yaxes(type="log", title_text=_("norm (before clipping)"))
    fig.update_xaxes(title_text=_("step"))
    return fig


# the curve each family's runs are compared on: (series, dash) — the first is the one a run is judged by
_COMPARED = {"vae": (("loss", "solid"),), "gan": (("g_loss", "solid"), ("d_loss", "dot"))}


def compare_figure(snaps, labels) -> go.Figure:
    """The main loss curves of several runs of one family on one chart, one colour per run (labelled by what
    changed), one dash per curve."""
    fig = go.Figure()
    curve_words = {"loss": _("total loss"), "g_loss": _("G loss"), "d_loss": _("D loss")}
    for i, (snap, label) in enumerate(zip(snaps, labels)):
        h = snap.history
        for name, dash in _COMPARED[snap.family]:
            if name in h:
                fig.add_trace(go.Scatter(x=list(h["step"]), y=_series(h, name), mode="lines",
                                         name=f"{label} · {curve_words[name]}",
                                         line=dict(color=PALETTE[i % len(PALETTE)], dash=dash, width=2)))
    fig.update_xaxes(title_text=_("step"))
    fig.update_yaxes(title_text=_("loss"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.3),
                      uirevision="keep")
    return fig
