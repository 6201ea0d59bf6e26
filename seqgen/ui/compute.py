"""Cached wrappers over seqgen.explore: the pages' maps, grids, interpolations, encodings and samples.

Every function takes a hashable model reference ``ref = (name, stamp)`` (see resources.ref), so results
are computed once per model version and shared by reruns, pages and sessions. The work itself is done
by the UI-free `seqgen.explore`; st.cache_data pickles what it returns.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from seqgen import explore, get_domain
from seqgen.render import image_grid, png_bytes, upscale

from . import resources
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


@st.cache_data(show_spinner=False, max_entries=128)
def samples_with_hidden(ref, seed: int, n: int, labels: tuple[int, ...] | None = None) -> dict:
    """GAN samples and the generator's hidden state per step [n, T, H] (float16: it is only drawn)."""
    arts, hidden = explore.sample(checkpoint(ref), n, seed, labels=labels, return_hidden=True)
    return {"artifacts": arts, "hidden": hidden.astype(np.float16)}


@st.cache_data(show_spinner=False, max_entries=256)
def replay_png(images: np.ndarray, cols: int, scale: int, rows_drawn: int) -> bytes:
    """Mosaic of uint8 images as PNG bytes; rows from `rows_drawn` on greyed out (the row-by-row replay)."""
    images = np.array(images, copy=True)
    if rows_drawn < images.shape[1]:
        images[:, rows_drawn:, :] = 25       # not drawn yet: dark grey
        images[:, rows_drawn, :] = 110       # the row being drawn next: a faint line
    return png_bytes(upscale(image_grid(images, cols=cols, pad=2, value=70), scale))


@st.cache_data(show_spinner=False, max_entries=256)
def picture_png(domain_name: str, artifacts: list, cols: int, scale: int) -> bytes:
    """The domain's mosaic of artifacts as PNG bytes."""
    return png_bytes(get_domain(domain_name).picture(artifacts, cols=cols, scale=scale))
