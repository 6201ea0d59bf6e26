"""Cached wrappers over seqgen.explore: the pages' maps, grids, interpolations, encodings and samples.

Every function takes a hashable model reference ``ref = (name, stamp)`` (see resources.ref), so results
are computed once per model version and shared by reruns, pages and sessions. The work itself is done
by the UI-free `seqgen.explore`; st.cache_data pickles what it returns.

`latent_map_chart` is the map as st.plotly_chart should get it on every slider move: Streamlit runs a
plain dict through plotly's full validation (the ~2,000 points, the default template) on every call, but
takes a plotly figure object as already validated; so the static part is validated once per model and
only the marker, marks and box (small plain dicts from figures.latent_map_figure) are new per rerun.
Other figures that the pages redraw on every rerun go the same way through `validated` (the piano roll).
"""
from __future__ import annotations

import numpy as np
import plotly.tools
import streamlit as st
from plotly.basedatatypes import BaseFigure

from seqgen import explore, get_domain
from seqgen.render import png_bytes

from . import figures, resources
from .figures import latent_map_base as latent_map_base_figure


def checkpoint(ref):
    return resources.load(ref[0])


@st.cache_data(show_spinner="Encoding the held-out set…", max_entries=16)
def latent_map(ref) -> dict:
    return explore.latent_map(checkpoint(ref))


@st.cache_data(show_spinner=False, max_entries=16)
def latent_map_base(ref, lim: float) -> dict:
    """The map's static traces as a plotly dict, built once per model (figures.latent_map_figure adds the rest)."""
    m = latent_map(ref)
    return latent_map_base_figure(m["points"], m["labels"], m["label_names"], m["texts"], lim)


@st.cache_resource(show_spinner=False, max_entries=16)
def _validated_map_base(ref, lim: float) -> dict:
    """latent_map_base after plotly's validation (template filled in, arrays packed), made once per model
    version and shared read-only by every session: latent_map_chart only copies its top-level containers."""
    base = latent_map_base(ref, lim)
    return {**validated({"data": base["data"], "layout": base["layout"]}), "revision": base.get("revision", "")}


class ValidatedFigure(BaseFigure):
    """A figure spec that is valid already, for st.plotly_chart: Streamlit asks a plotly figure object for
    `to_dict()` instead of validating it again. Holds the spec as it is (no plotly objects are built)."""

    def __init__(self, spec: dict):  # noqa: D107 - BaseFigure.__init__ (the validation) is skipped on purpose
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        out = {"data": list(self._spec["data"]), "layout": dict(self._spec["layout"])}
        if self._spec.get("frames"):
            out["frames"] = list(self._spec["frames"])
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def __repr__(self) -> str:
        return f"ValidatedFigure({len(self._spec['data'])} traces)"

    def __eq__(self, other) -> bool:
        return isinstance(other, ValidatedFigure) and other._spec == self._spec

    __hash__ = None


def validated(figure: dict) -> dict:
    """A plotly dict after plotly's validation (template filled in, arrays packed), as st.plotly_chart would
    make it, for a ValidatedFigure; data and frames as tuples, since the result is shared read-only."""
    spec = plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True)
    return {**spec, "data": tuple(spec["data"]), **({"frames": tuple(spec["frames"])} if spec.get("frames") else {})}


def latent_map_chart(ref, lim: float, z, marks: dict | None = None, box: tuple | None = None) -> ValidatedFigure:
    """figures.latent_map_figure over the model's map, for st.plotly_chart: the points are validated once
    per model version; a rerun adds the current z, `marks` and `box` (see figures.latent_map_figure)."""
    return ValidatedFigure(figures.latent_map_figure(_validated_map_base(ref, lim), z, marks=marks, box=box))


@st.cache_data(show_spinner=False, max_entries=2048)
def decode_point(ref, z: tuple[float, float], label: int | None = None):
    """The decoder's most likely output at one point of the plane."""
    return explore.decode_points(checkpoint(ref), [z], label)[0]


@st.cache_data(show_spinner="Decoding the grid…", max_entries=64)
def manifold(ref, n: int, view: tuple, label: int | None = None) -> dict:
    return explore.manifold(checkpoint(ref), n, view, label)


@st.cache_data(show_spinner=False, max_entries=256)
def interpolate(ref, a: tuple, b: tuple, steps: int, label: int | None = None) -> dict:
    return explore.interpolate(checkpoint(ref), a, b, steps, label)


@st.cache_data(show_spinner=False, max_entries=512)
def encode_item(ref, split: str, index: int, label: int | None = None) -> dict:
    return explore.encode_item(checkpoint(ref), split, index, label)


@st.cache_data(show_spinner=False, max_entries=512)
def encode_artifact(ref, artifact, label: int | None = None) -> dict:
    """Your own input -> mean and reconstruction. ValueError (a message for the user) when it does not fit.

    The domain's message quotes what was typed, and the pages show it with st.error, which renders
    markdown: the message is made plain text here, the one door typed input goes through."""
    from .widgets import plain
    ckpt = checkpoint(ref)            # a CheckpointError (also a ValueError) goes to the page's guard as it is
    try:
        return explore.encode_artifact(ckpt, artifact, label)
    except ValueError as e:
        raise ValueError(plain(e, 200)) from None


@st.cache_data(show_spinner="Encoding every item in the data…", max_entries=8)
def item_index(ref) -> dict:
    return explore.item_index(checkpoint(ref))


def nearest_items(ref, mu: np.ndarray, k: int = 10, exclude: str | None = None) -> list[tuple[str, float]]:
    return explore.nearest_items(item_index(ref), mu, k, exclude)


@st.cache_data(show_spinner=False, max_entries=256)
def samples(ref, seed: int, n: int, temperature: float | None = None, labels: tuple[int, ...] | None = None):
    """n seeded samples from a VAE or GAN (see explore.sample)."""
    return explore.sample(checkpoint(ref), n, seed, temperature, labels)


@st.cache_data(show_spinner=False, max_entries=64)
def side_by_side(ref_a, ref_b, n: int, seed: int, labels: tuple[int, ...] | None) -> dict:
    """explore.side_by_side for two checkpoints."""
    return explore.side_by_side(checkpoint(ref_a), checkpoint(ref_b), n, seed, labels)


@st.cache_data(show_spinner=False, max_entries=128)
def samples_with_hidden(ref, seed: int, n: int, labels: tuple[int, ...] | None = None) -> dict:
    """GAN samples and the generator's hidden state per step [n, T, H] (float16: it is only drawn)."""
    arts, hidden = explore.sample(checkpoint(ref), n, seed, labels=labels, return_hidden=True)
    return {"artifacts": arts, "hidden": hidden.astype(np.float16)}


@st.cache_data(show_spinner=False, max_entries=256)
def picture_png(domain_name: str, artifacts: list, cols: int, scale: int) -> bytes:
    """The domain's mosaic of artifacts as PNG bytes."""
    return png_bytes(get_domain(domain_name).picture(artifacts, cols=cols, scale=scale))


# ---------------------------------------------------------------- your own input, and planes through a larger latent
@st.cache_data(show_spinner=False, max_entries=256)
def complete(ref, prefix, n: int, temperature: float | None, seed: int, length: int | None, label: int | None) -> dict:
    """explore.complete, cached by the start given (ValueError: a message for the user, not yet escaped)."""
    return explore.complete(checkpoint(ref), prefix, n, temperature, seed, length, label)


@st.cache_data(show_spinner=False, max_entries=256)
def recognise(domain_name: str, image) -> tuple[int, float] | None:
    """The domain's reference classifier on one artifact: (class, confidence), or None without a classifier."""
    out = get_domain(domain_name).recognise([image])
    return None if out is None else out[0]


@st.cache_data(show_spinner=False, max_entries=256)
def recognise_all(domain_name: str, artifacts: tuple) -> list[tuple[int, float]] | None:
    """The classifier on a batch of artifacts at once (a mosaic's text alternative), or None without one."""
    return get_domain(domain_name).recognise(list(artifacts))


@st.cache_data(show_spinner=False, max_entries=32)
def plane(ref, how: str, a: tuple = (), b: tuple = ()) -> dict:
    """A 2-D plane through a larger latent: "pca" (the encoded held-out set's main directions) or
    "through" (the encoder means a and b at (-1.5, 0) and (1.5, 0))."""
    mu = latent_map(ref)["mu"]
    return explore.pca_plane(mu) if how == "pca" else explore.plane_through(np.array(a), np.array(b), mu)


@st.cache_data(show_spinner=False, max_entries=32)
def latent_map_on(ref, plane_: dict) -> dict:
    m = dict(latent_map(ref))
    m["points"] = explore.plane_coords(m["mu"], plane_)
    lo, hi = np.percentile(m["points"], 2, axis=0), np.percentile(m["points"], 98, axis=0)
    m["view"] = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    return m


@st.cache_data(show_spinner=False, max_entries=32)
def latent_map_base_on(ref, lim: float, plane_: dict) -> dict:
    m = latent_map_on(ref, plane_)
    return latent_map_base_figure(m["points"], m["labels"], m["label_names"], m["texts"], lim)


@st.cache_data(show_spinner=False, max_entries=2048)
def decode_point_on(ref, z: tuple[float, float], label: int | None, plane_: dict):
    return explore.decode_points(checkpoint(ref), [z], label, plane_)[0]


@st.cache_data(show_spinner="Decoding the grid…", max_entries=64)
def manifold_on(ref, n: int, view: tuple, label: int | None, plane_: dict) -> dict:
    return explore.manifold(checkpoint(ref), n, view, label, plane_)


@st.cache_data(show_spinner=False, max_entries=256)
def interpolate_on(ref, a: tuple, b: tuple, steps: int, label: int | None, plane_: dict) -> dict:
    return explore.interpolate(checkpoint(ref), a, b, steps, label, plane_)
