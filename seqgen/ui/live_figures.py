"""Figures of the Live training page: the loss curves and the 2-D latent map of a run's snapshot."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# (series name, legend label) per panel, per family: training curves, then held-out ones
_CURVES = {
    "vae": dict(titles=("Loss per example (nats)", "KL divergence (nats)"),
                left=(("loss", "total loss"), ("recon", "reconstruction")), right=(("kl", "KL"),),
                vleft=(("val_neg_elbo", "held-out -ELBO"),), vright=(("val_kl", "held-out KL"),)),
    "gan": dict(titles=("Losses", "Discriminator's belief that the input is real"),
                left=(("d_loss", "D loss"), ("g_loss", "G loss"), ("mle", "G warm-up (MLE)")),
                right=(("d_real", "D(real)"), ("d_fake", "D(fake)")),
                vleft=(), vright=(("val_d_real", "held-out D(real)"), ("val_d_fake", "held-out D(fake)"))),
}


def _series(hist, name):
    return [None if (v is None or (isinstance(v, float) and not math.isfinite(v))) else v for v in hist[name]]


def loss_figure(snap) -> go.Figure:
    """VAE: reconstruction + total (left), KL (right). GAN: D and G losses (left), D(real) and D(fake) (right)."""
    h, v = snap.history, snap.validation
    steps = list(h.get("step", ()))
    spec = _CURVES[snap.family]
    fig = make_subplots(rows=1, cols=2, subplot_titles=spec["titles"], horizontal_spacing=0.08)
    for col, series, val in ((1, spec["left"], spec["vleft"]), (2, spec["right"], spec["vright"])):
        for name, label in series:
            if name in h:
                fig.add_trace(go.Scatter(x=steps, y=_series(h, name), name=label, mode="lines"), row=1, col=col)
        for name, label in val:
            if name in v:
                fig.add_trace(go.Scatter(x=list(v["step"]), y=_series(v, name), name=label,
                                         mode="markers+lines", line=dict(dash="dot")), row=1, col=col)
    if snap.family == "gan":
        fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25),
                      uirevision="keep")
    return fig


def latent_figure(snap, label_names, lim: float = 4.0) -> go.Figure:
    """Where the encoder puts a fixed validation batch, one colour per label."""
    z, y = snap.latent, snap.latent_labels
    fig = go.Figure()
    groups = [(None, np.ones(len(z), bool))] if y is None else [(c, y == c) for c in np.unique(y)]
    for c, m in groups:
        name = "all" if c is None else (label_names[int(c)] if label_names else str(c))
        fig.add_trace(go.Scattergl(x=np.clip(z[m, 0], -lim, lim), y=np.clip(z[m, 1], -lim, lim), mode="markers",
                                   name=name, marker=dict(size=5, opacity=0.75)))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), title=f"Latent map at step {snap.latent_step}",
                      uirevision="keep")
    fig.update_xaxes(range=[-lim, lim], title_text="z₁", zeroline=True)
    fig.update_yaxes(range=[-lim, lim], title_text="z₂", scaleanchor="x", zeroline=True)
    return fig
