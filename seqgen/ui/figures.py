"""Plotly figures and small bitmaps the pages draw (no Streamlit calls here)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .i18n import _

# Okabe & Ito's colour-blind-safe palette (yellow last: weakest on white). Ten classes share a plot, so each
# class also gets its own marker shape: class i is (PALETTE[i % 8], SYMBOLS[i]), no two alike, and a reader
# who cannot tell two colours apart still tells the shapes. The latent pad draws the same pairs.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "x", "star", "pentagon",
           "hexagon")
Z1, Z2 = "z₁", "z₂"      # the latent axes' names on every plot


def class_style(i: int) -> tuple[str, str]:
    """(colour, plotly marker symbol) of class i."""
    return PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)]

GRID_STEP = 0.25         # spacing of the faint clickable grid on the latent map (33 x 33 points over ±4)
MAP_KEY = "le_map"


# ---------------------------------------------------------------- latent map
def latent_map_base(points: np.ndarray, labels: np.ndarray | None, label_names, texts, lim: float) -> dict:
    """The static part of the latent map as a plain plotly dict (cache it per model): a faint grid, so a
    click anywhere snaps to a point, then the encoded held-out set, one trace per label."""
    g = np.round(np.arange(-lim, lim + 1e-9, GRID_STEP), 2)
    gx, gy = np.meshgrid(g, g)
    data = [{  # trace 0: nearly invisible; a click anywhere snaps to one of these points
        "type": "scatter", "x": gx.ravel(), "y": gy.ravel(), "mode": "markers", "name": "grid",
        "showlegend": False, "marker": {"size": 8, "color": "gray", "opacity": 0.05},
        "hovertemplate": "z = (%{x:.2f}, %{y:.2f})<extra>" + _("click to go here") + "</extra>"}]
    if labels is None or not len(label_names):
        groups = [(_("held-out data"), np.ones(len(points), bool))]
    else:
        groups = [(str(n), labels == i) for i, n in enumerate(label_names)]
    texts = np.asarray(texts, dtype=object)
    for i, (name, mask) in enumerate(groups):
        if mask.any():
            colour, symbol = class_style(i)
            data.append({"type": "scatter", "x": points[mask, 0].astype(float), "y": points[mask, 1].astype(float),
                         "mode": "markers", "name": name, "text": texts[mask].tolist(),
                         "marker": {"size": 7, "color": colour, "symbol": symbol, "opacity": 0.8},
                         "hovertemplate": "%{text}<br>(%{x:.2f}, %{y:.2f})<extra></extra>"})
    axis = {"range": [-lim, lim], "zeroline": True, "zerolinecolor": "#ddd", "gridcolor": "#f0f0f0"}
    # No dragmode select/lasso: Streamlit then switches Plotly to clickmode 'event' and single clicks are lost.
    layout = {"height": 480, "margin": {"l": 50, "r": 10, "t": 10, "b": 45}, "hovermode": "closest",
              "uirevision": "latent-map", "plot_bgcolor": "white",
              "legend": {"orientation": "h", "y": -0.14, "itemsizing": "constant"},
              "xaxis": {**axis, "title": {"text": Z1}},
              "yaxis": {**axis, "title": {"text": Z2}, "scaleanchor": "x", "scaleratio": 1}}
    revision = f"{len(points)}-{float(np.asarray(points, dtype=np.float64).sum()):.6f}-{lim}"
    return {"data": data, "layout": layout, "revision": revision}


def latent_map_figure(base: dict, z, marks: dict | None = None, box: tuple | None = None) -> dict:
    """The base map plus what changes on every rerun: the current z (⊕), `marks` {"name": (x, y, symbol,
    colour)} (your input, interpolation ends) and `box` (x0, x1, y0, y1), the manifold grid's extent.

    The current z is drawn as layout shapes, not a trace, and `datarevision` names everything else: a
    slider move then changes only the layout, so the browser's Plotly.react redraws two shapes instead of
    re-plotting 2,000 points (most of a slider move's latency otherwise)."""
    data = list(base["data"])
    for name, (x, y, symbol, colour) in (marks or {}).items():
        data.append({"type": "scatter", "x": [x], "y": [y], "mode": "markers+text", "name": name, "text": [name],
                     "textposition": "top center", "showlegend": False,
                     "marker": {"size": 15, "symbol": symbol, "color": colour, "line": {"width": 1.5, "color": "white"}},
                     "hovertemplate": f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"})
    layout = dict(base["layout"])
    layout["datarevision"] = f"{base.get('revision', '')}|{sorted((marks or {}).items())}"
    shapes = [] if box is None else [{"type": "rect", "x0": box[0], "x1": box[1], "y0": box[2], "y1": box[3],
                                      "line": {"color": "gray", "dash": "dot", "width": 1}}]
    layout["shapes"] = shapes + current_z_shapes(z)
    return {"data": data, "layout": layout}


CURRENT = "#e0007a"      # the current point's colour: none of the classes' (PALETTE)


def current_z_shapes(z, size: float = 0.16) -> list[dict]:
    """The current point as a ⊕ (a ring and its cross, magenta over a white halo), centred on z in data units:
    no class marker has that shape or that colour."""
    x, y = float(z[0]), float(z[1])
    out = []
    for colour, width in (("white", 6), (CURRENT, 3)):
        out.append({"type": "circle", "x0": x - size, "x1": x + size, "y0": y - size, "y1": y + size,
                    "line": {"color": colour, "width": width}, "name": "current z"})
        for dx, dy in ((1.6 * size, 0), (0, 1.6 * size)):
            out.append({"type": "line", "x0": x - dx, "x1": x + dx, "y0": y - dy, "y1": y + dy,
                        "line": {"color": colour, "width": width}, "name": "current z"})
    return out


def selection_point(event):
    """The first clicked point's (x, y) in an st.plotly_chart selection event, as the browser sent them (to be
    checked with browser_values.point), or None when nothing is selected. ValueError when the event has no
    readable shape (only a forged one lacks it)."""
    try:
        sel = event["selection"] if isinstance(event, dict) else event.selection
        pts = sel["points"] if isinstance(sel, dict) else sel.points
    except (AttributeError, KeyError, TypeError):
        raise ValueError("no selection in the event") from None
    if not pts:
        return None
    try:
        p = pts[0]
        return p["x"], p["y"]
    except (KeyError, TypeError, IndexError):
        raise ValueError("no x and y in the selection") from None


# ---------------------------------------------------------------- GAN internals
def hidden_heatmap(hidden: np.ndarray, title: str = "", step_title: str | None = None) -> go.Figure:
    """hidden [steps, units]: a writer's hidden state after each step (an image row, a letter, a frame)."""
    h = np.asarray(hidden, dtype=np.float32)
    fig = go.Figure(go.Heatmap(z=h, x=np.arange(h.shape[1]), y=np.arange(1, h.shape[0] + 1),
                               colorscale="RdBu", zmid=0, colorbar=dict(title=_("activation")),
                               hovertemplate=_("row {row}, unit {unit}").format(row="%{y}", unit="%{x}")
                               + ": %{z:.2f}<extra></extra>"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30 if title else 10, b=10), title=title)
    fig.update_yaxes(autorange="reversed", title_text=step_title or _("image row (time step)"), tick0=1,
                     dtick=_whole_ticks(h.shape[0]))
    fig.update_xaxes(title_text=_("hidden unit"))
    return fig


def _whole_ticks(n: int) -> int:
    """A tick every k steps, k a whole number: steps are counted, never fractional (one row is row 1, not 0.8)."""
    return max(1, int(np.ceil(n / 10)))


def memory_moves(hidden: np.ndarray, pick: int, step_title: str) -> go.Figure:
    """hidden [samples, steps, units] -> how far the hidden state moved at each step (the length of its change
    from the step before; at step 1, from zero), for sample `pick` and the mean over all samples."""
    h = np.asarray(hidden, dtype=np.float32)
    moved = np.linalg.norm(np.diff(h, axis=1, prepend=0.0), axis=-1)          # [samples, steps]
    steps = np.arange(1, h.shape[1] + 1)
    fig = go.Figure([
        go.Scatter(x=steps, y=moved.mean(0), name=_("mean of the {n} samples").format(n=len(h)), mode="lines",
                   line=dict(color="#999999", dash="dash")),
        go.Scatter(x=steps, y=moved[pick], name=_("sample #{i}").format(i=pick), mode="lines+markers",
                   line=dict(color="#1f77b4")),
    ])
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title_text=step_title, tick0=1, dtick=_whole_ticks(h.shape[1]))
    fig.update_yaxes(title_text=_("how far the memory moved"), rangemode="tozero")
    return fig
