"""Cached computations behind the pages: encoded maps, decoded grids, samples.

Every function takes a hashable model reference ``ref = (name, stamp)`` (see resources.ref), so
results are computed once per model version and shared by reruns, pages and sessions. They return
plain numpy / Python values (st.cache_data pickles them). VAE decoding goes through
``decoding.decode``, one batched call per function.
"""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

import seqgen
from seqgen.render import image_grid, png_bytes, upscale

from . import decoding, resources
from .figures import latent_map_base as latent_map_base_fig
from .figures import roll_mosaic

PIXEL_SCALE = 8          # one decoded digit: 28 px -> 224 px
GRID_SCALE = 3           # manifold mosaic tiles


def _model(ref):
    return resources.load(ref[0]).model


def _domain(ref):
    return seqgen.get_domain(resources.load(ref[0]).config.domain)


def _label_tensor(label: int | None, n: int):
    return None if label is None else torch.full((n,), int(label), dtype=torch.long)


def artifacts(domain, seqs) -> list:
    """Decoder output batch -> per item: uint8 image / str / tuple of tokens."""
    if domain.name == "digits" or not domain.discrete:
        return [domain.to_artifact(s) for s in seqs]
    if domain.name == "names":
        return [domain.to_artifact(s) for s in seqs]
    return [tuple(int(t) for t in s.tolist()) for s in seqs]


def fingerprint(artifact) -> str:
    """Short stable text for what was decoded (tests compare it; shown nowhere)."""
    if isinstance(artifact, np.ndarray):
        return "img:" + hashlib.sha1(artifact.tobytes()).hexdigest()[:12]
    if isinstance(artifact, tuple):
        return "tok:" + ",".join(map(str, artifact))
    return f"txt:{artifact}"


# ---------------------------------------------------------------- latent map
def _batched_mu(model, x, batch: int = 500) -> np.ndarray:
    with torch.inference_mode():
        return torch.cat([model.encode(x[i:i + batch])[0] for i in range(0, len(x), batch)]).float().numpy()


def _item_texts(domain, x, y) -> list[str]:
    if domain.name == "names":
        return [domain.to_artifact(s) for s in x]
    if domain.name == "melodies":
        ids = domain.chorale_ids("test")
        return [f"{cid} ({domain.label_names[int(l)]})" for cid, l in zip(ids, y.tolist())]
    if y is not None and domain.label_names:
        return [f"#{i}: {domain.label_names[int(l)]}" for i, l in enumerate(y.tolist())]
    return [f"#{i}" for i in range(len(x))]


@st.cache_data(show_spinner="Encoding the held-out set…", max_entries=16)
def latent_map(ref) -> dict:
    """Encoder means of the test split: points [N, latent], labels, hover texts, and a view range."""
    model, domain = _model(ref), _domain(ref)
    x, y = domain.dataset("test")
    mu = _batched_mu(model, x)
    p2 = mu[:, :2] if mu.shape[1] >= 2 else np.concatenate([mu, np.zeros_like(mu)], 1)
    lo, hi = np.percentile(p2, 2, axis=0), np.percentile(p2, 98, axis=0)
    return {"mu": mu, "points": p2, "labels": None if y is None else y.numpy(),
            "label_names": tuple(domain.label_names), "texts": _item_texts(domain, x, y),
            "grid_range": (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))}


@st.cache_data(show_spinner=False, max_entries=16)
def latent_map_base(ref, lim: float) -> dict:
    """The map's static traces as a plotly dict, built once per model (figures.latent_map_figure adds the rest)."""
    m = latent_map(ref)
    return latent_map_base_fig(m["points"], m["labels"], m["label_names"], m["texts"], lim)


@st.cache_data(show_spinner=False, max_entries=256)
def grid_png(images: np.ndarray, cols: int, scale: int, rows_drawn: int = 28) -> bytes:
    """Mosaic of uint8 images as PNG bytes; rows below `rows_drawn` greyed out (the GAN replay)."""
    images = np.array(images, copy=True)
    if rows_drawn < images.shape[1]:
        images[:, rows_drawn:, :] = 25       # not drawn yet: dark grey
        images[:, rows_drawn, :] = 110       # the row being drawn next: a faint line
    return png_bytes(upscale(image_grid(images, cols=cols, pad=2, value=70), scale))


# ---------------------------------------------------------------- decoding
@st.cache_data(show_spinner=False, max_entries=2048)
def decode_point(ref, z: tuple[float, float], label: int | None = None):
    """The decoder's most likely output at one point of the plane (temperature 0: deterministic)."""
    model = _model(ref)
    seqs = decoding.decode(model, decoding.full_z([z], model.cfg.latent), _label_tensor(label, 1))
    return artifacts(_domain(ref), seqs)[0]


def _grid_points(n: int, grid_range) -> np.ndarray:
    x0, x1, y0, y1 = grid_range
    xs, ys = np.linspace(x0, x1, n), np.linspace(y1, y0, n)  # top row = high z2
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float32)


@st.cache_data(show_spinner="Decoding the grid…", max_entries=64)
def manifold(ref, n: int, grid_range: tuple, label: int | None = None) -> dict:
    """n x n decodes over the plane in ONE batched decoder call.

    digits: an upscaled image mosaic; names: an n x n table; melodies: a mosaic of small piano rolls.
    """
    model, domain = _model(ref), _domain(ref)
    pts = _grid_points(n, grid_range)
    seqs = decoding.decode(model, decoding.full_z(pts, model.cfg.latent), _label_tensor(label, len(pts)))
    arts = artifacts(domain, seqs)
    out = {"points": pts, "n": n, "xs": pts[:n, 0].tolist(), "ys": pts[::n, 1].tolist()}
    if domain.name == "names":
        out["table"] = [arts[r * n:(r + 1) * n] for r in range(n)]
    elif domain.name == "melodies":
        out["png"] = png_bytes(roll_mosaic(arts, cols=n, scale=2))
    else:
        out["png"] = png_bytes(upscale(image_grid(np.stack(arts), cols=n, pad=1, value=60), GRID_SCALE))
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def interpolate(ref, a: tuple, b: tuple, steps: int, label: int | None = None) -> dict:
    """Decodes of `steps` evenly spaced points on the segment a -> b (one batched call)."""
    model, domain = _model(ref), _domain(ref)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    pts = (1 - t) * np.asarray(a, np.float32)[None] + t * np.asarray(b, np.float32)[None]
    seqs = decoding.decode(model, decoding.full_z(pts, model.cfg.latent), _label_tensor(label, steps))
    arts = artifacts(domain, seqs)
    out = {"points": pts, "items": arts}
    if domain.name == "digits":
        out["png"] = png_bytes(upscale(image_grid(np.stack(arts), cols=steps, pad=1, value=60), 4))
    elif domain.name == "melodies":
        out["png"] = png_bytes(roll_mosaic(arts, cols=steps, scale=2))
    return out


@st.cache_data(show_spinner=False, max_entries=512)
def encode_item(ref, split: str, index: int, label: int | None = None) -> dict:
    """One dataset item -> its encoder mean and the decode of that mean (reconstruction)."""
    model, domain = _model(ref), _domain(ref)
    x, _ = domain.dataset(split)
    return _encode_and_reconstruct(model, domain, x[index:index + 1], label)


@st.cache_data(show_spinner=False, max_entries=512)
def encode_text(ref, text: str, label: int | None = None) -> dict:
    """A typed name -> mean and reconstruction. ValueError (user-facing message) if it is not a valid name."""
    model, domain = _model(ref), _domain(ref)
    x = domain.from_artifact(text)[None]
    return _encode_and_reconstruct(model, domain, x, label)


def _encode_and_reconstruct(model, domain, x, label) -> dict:
    with torch.inference_mode():
        mu, logvar = model.encode(x)
    rec = decoding.decode(model, mu, _label_tensor(label, 1))
    original = artifacts(domain, x)[0]
    return {"mu": mu[0].float().numpy(), "sigma": torch.exp(0.5 * logvar[0]).float().numpy(),
            "original": original, "reconstruction": artifacts(domain, rec)[0]}


@st.cache_data(show_spinner="Encoding every name in the data…", max_entries=8)
def encoded_names(ref) -> dict:
    """Every bundled name (all splits) -> encoder mean: the neighbourhood search space."""
    model, domain = _model(ref), _domain(ref)
    xs = torch.cat([domain.dataset(s)[0] for s in ("train", "val", "test")])
    return {"names": [domain.to_artifact(s) for s in xs], "mu": _batched_mu(model, xs)}


def nearest_names(ref, mu: np.ndarray, k: int = 10, exclude: str | None = None) -> list[tuple[str, float]]:
    enc = encoded_names(ref)
    d = np.linalg.norm(enc["mu"] - np.asarray(mu)[None], axis=1)
    out = []
    for i in np.argsort(d):
        if exclude and enc["names"][i].lower() == exclude.lower():
            continue
        out.append((enc["names"][i], float(d[i])))
        if len(out) == k:
            break
    return out


# ---------------------------------------------------------------- sampling
@st.cache_data(show_spinner=False, max_entries=128)
def gan_digits(ref, seed: int, labels: tuple[int, ...] | None, n: int) -> dict:
    """Seeded GAN samples: images uint8 [n, 28, 28] and the generator's hidden state per row [n, 28, H]."""
    model, domain = _model(ref), _domain(ref)
    g = torch.Generator().manual_seed(int(seed))
    lab = None if labels is None else torch.tensor(labels, dtype=torch.long)
    rows, hidden = model.sample(n, label=lab, generator=g, return_hidden=True)
    return {"images": np.stack(artifacts(domain, rows)), "hidden": hidden.float().numpy().astype(np.float16)}


def _prior_z(model, n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, model.cfg.latent, generator=torch.Generator().manual_seed(int(seed)))


@st.cache_data(show_spinner=False, max_entries=128)
def vae_prior_digits(ref, seed: int, n: int, labels: tuple[int, ...] | None = None) -> np.ndarray:
    """Decodes of z ~ N(0, I): the VAE's answer to 'draw me anything'."""
    model, domain = _model(ref), _domain(ref)
    lab = torch.tensor(labels, dtype=torch.long) if (model.cfg.conditional and labels) else (
        torch.zeros(n, dtype=torch.long) if model.cfg.conditional else None)
    return np.stack(artifacts(domain, decoding.decode(model, _prior_z(model, n, seed), lab)))


@st.cache_data(show_spinner=False, max_entries=256)
def sample_tokens(ref, seed: int, temperature: float, n: int, label: int | None = None) -> list[tuple[int, ...]]:
    """n seeded token sequences from a VAE (z ~ N(0, I), then decode) or a GAN."""
    ck = resources.load(ref[0])
    model = ck.model
    g = torch.Generator().manual_seed(int(seed))
    lab = _label_tensor(label if label is not None else (0 if model.cfg.conditional else None), n)
    if ck.config.family == "vae":
        z = torch.randn(n, model.cfg.latent, generator=g)
        seqs = decoding.decode(model, z, lab, temperature=float(temperature), generator=g)
    else:
        seqs = model.sample(n, label=lab, temperature=float(temperature), generator=g)
    return [tuple(int(t) for t in s.tolist()) for s in seqs]
