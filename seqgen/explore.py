"""Exploring a trained model, with no UI: decode points, grids and interpolations of a VAE's latent space,
encode items or your own input, and sample. The app's pages, the CLI's `sample` and the home-page
pictures all go through these functions; each returns the domain's artifacts (images, names, notes).

    import seqgen
    from seqgen import explore
    ckpt = seqgen.load("digits-vae")
    explore.decode_points(ckpt, [(0.5, -1.0)])      # -> [uint8 28x28 image]
    explore.interpolate(ckpt, (-2, 0), (2, 0), 8)   # -> {"points": ..., "artifacts": [...]}

A model whose latent has more than two dimensions is explored on a 2-D plane through it: by default
the plane through its first two dimensions (the others held at 0); `pca_plane` (the two directions the
encoded data spreads most along) or `plane_through` (two chosen examples) give planes that show more.
Every decode of the plane is deterministic (temperature 0).

    explore.complete(ckpt, "Mar", n=8)              # names that start with Mar, from any names model
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .domains import get_domain


def domain_of(ckpt):
    return get_domain(ckpt.config.domain)


def _labels(label, n: int) -> torch.Tensor | None:
    """None, one label for all n, or one label per item -> int64 [n] (or None)."""
    if label is None:
        return None
    if isinstance(label, (int, np.integer)):
        return torch.full((n,), int(label), dtype=torch.long)
    return torch.as_tensor(list(label), dtype=torch.long)


def plane_to_z(points, latent: int, plane: dict | None = None) -> torch.Tensor:
    """2-D points [B, 2] -> z [B, latent]: origin + p1 * basis[0] + p2 * basis[1] for a plane (see
    pca_plane, plane_through); without one the plane through the first two dimensions, the rest at 0."""
    p = torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2)
    if plane is not None:
        return torch.from_numpy(plane["origin"][None] + p.numpy() @ plane["basis"]).float()
    if latent == 2:
        return p
    z = torch.zeros(len(p), latent)
    z[:, : min(2, latent)] = p[:, : min(2, latent)]
    return z


def plane_coords(z, plane: dict | None) -> np.ndarray:
    """Latent vectors [B, latent] -> their coordinates on the plane [B, 2] (the nearest point of it)."""
    z = np.asarray(z, np.float32).reshape(len(z), -1)
    if plane is None:
        return z[:, :2] if z.shape[1] >= 2 else np.concatenate([z, np.zeros_like(z)], 1)
    return ((z - plane["origin"][None]) @ np.linalg.pinv(plane["basis"])).astype(np.float32)


def pca_plane(mu) -> dict:
    """The plane through the mean of the encoded data along its two main directions; one unit on each
    axis is one standard deviation of the data along it."""
    mu = np.asarray(mu, np.float64)
    origin = mu.mean(0)
    _, s, vt = np.linalg.svd(mu - origin, full_matrices=False)
    std = s[:2] / np.sqrt(max(len(mu) - 1, 1))
    return {"origin": origin.astype(np.float32), "basis": (vt[:2] * std[:, None]).astype(np.float32),
            "kind": "pca"}


def plane_through(a, b, mu, at: float = 1.5) -> dict:
    """The plane through two encoded examples a and b, placed at (-at, 0) and (at, 0) (the interpolation's
    default ends); its second axis is the data's main direction across the a-b line, one unit = one
    standard deviation."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    if np.linalg.norm(d) < 1e-6:
        raise ValueError("The two examples land on the same point; pick two that differ.")
    u = d / np.linalg.norm(d)
    centred = np.asarray(mu, np.float64) - np.asarray(mu, np.float64).mean(0)
    across = centred - np.outer(centred @ u, u)
    _, s, vt = np.linalg.svd(across, full_matrices=False)
    second = vt[0] * s[0] / np.sqrt(max(len(mu) - 1, 1))
    return {"origin": ((a + b) / 2).astype(np.float32),
            "basis": np.stack([d / (2 * at), second]).astype(np.float32), "kind": "through"}


def decode_z(ckpt, z: torch.Tensor, label: int | None = None, temperature: float = 0.0,
             generator: torch.Generator | None = None) -> list:
    """Latent vectors [B, latent] -> the decoder's artifacts, all in one batched call."""
    with torch.inference_mode():
        seqs = ckpt.model.decode(z, label=_labels(label, len(z)), temperature=temperature, generator=generator)
    return domain_of(ckpt).artifacts(seqs)


def decode_points(ckpt, points, label: int | None = None, plane: dict | None = None) -> list:
    """Points of the 2-D plane -> the most likely artifact at each."""
    return decode_z(ckpt, plane_to_z(points, ckpt.config.latent, plane), label)


def grid_points(n: int, view: tuple[float, float, float, float]) -> np.ndarray:
    """n x n points over view = (x0, x1, y0, y1), row by row from the top (highest z2) to the bottom."""
    x0, x1, y0, y1 = view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y1, y0, n)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float32)


def manifold(ckpt, n: int, view: tuple[float, float, float, float], label: int | None = None,
             plane: dict | None = None) -> dict:
    """n x n decodes over the view, in one batched call: points, artifacts (row-major), axis values."""
    pts = grid_points(n, view)
    return {"points": pts, "n": n, "artifacts": decode_points(ckpt, pts, label, plane),
            "xs": pts[:n, 0].tolist(), "ys": pts[::n, 1].tolist()}


def interpolate(ckpt, a: Sequence[float], b: Sequence[float], steps: int, label: int | None = None,
                plane: dict | None = None) -> dict:
    """Decodes of `steps` evenly spaced points on the segment a -> b (one batched call)."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    pts = (1 - t) * np.asarray(a, np.float32)[None] + t * np.asarray(b, np.float32)[None]
    return {"points": pts, "artifacts": decode_points(ckpt, pts, label, plane)}


# ---------------------------------------------------------------- encoding
def encoder_means(ckpt, x: torch.Tensor, batch: int = 500) -> np.ndarray:
    with torch.inference_mode():
        return torch.cat([ckpt.model.encode(x[i:i + batch])[0] for i in range(0, len(x), batch)]).float().cpu().numpy()


def latent_map(ckpt, split: str = "test", plane: dict | None = None) -> dict:
    """Encoder means of a split: the full means, their coordinates on the plane, labels, hover texts and
    a view box (2nd to 98th percentile) that frames the data."""
    domain = domain_of(ckpt)
    x, y = domain.dataset(split)
    mu = encoder_means(ckpt, x)
    plane = plane_coords(mu, plane)
    lo, hi = np.percentile(plane, 2, axis=0), np.percentile(plane, 98, axis=0)
    return {"mu": mu, "points": plane, "labels": None if y is None else y.numpy(),
            "label_names": tuple(domain.label_names), "texts": domain.item_texts(split),
            "view": (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))}


def encode(ckpt, x: torch.Tensor, label: int | None = None) -> dict:
    """One model sequence [T, ...] -> its encoder mean and spread, the item and its reconstruction. ValueError for
    a model without an encoder (a GAN maps noise to items, never items back to a point)."""
    if ckpt.config.family != "vae":
        raise ValueError(f"A {ckpt.config.family.upper()} has no encoder: it cannot say where an item lives, only "
                         "what a given noise makes. Pick a VAE.")
    domain = domain_of(ckpt)
    with torch.inference_mode():
        mu, logvar = ckpt.model.encode(x[None])
    return {"mu": mu[0].float().cpu().numpy(), "sigma": torch.exp(0.5 * logvar[0]).float().cpu().numpy(),
            "original": domain.to_artifact(x), "reconstruction": decode_z(ckpt, mu, label)[0]}


def encode_item(ckpt, split: str, index: int, label: int | None = None) -> dict:
    """A dataset item by split and index -> see encode()."""
    x, _ = domain_of(ckpt).dataset(split)
    if not 0 <= int(index) < len(x):
        raise ValueError(f"there are {len(x)} {split} items; pick an index from 0 to {len(x) - 1}")
    return encode(ckpt, x[int(index)], label)


def encode_artifact(ckpt, artifact: Any, label: int | None = None) -> dict:
    """Your own input (a typed name, an image, notes) -> see encode(). ValueError says what to fix."""
    return encode(ckpt, domain_of(ckpt).from_artifact(artifact), label)


def item_index(ckpt) -> dict:
    """Every item of every split, as text, with its encoder mean: the space nearest_items() searches."""
    domain = domain_of(ckpt)
    splits = ("train", "val", "test")
    return {"texts": [t for s in splits for t in domain.item_texts(s)],
            "mu": np.concatenate([encoder_means(ckpt, domain.dataset(s)[0]) for s in splits])}


def nearest_items(index: dict, mu, k: int = 10, exclude: str | None = None) -> list[tuple[str, float]]:
    """The k items of an item_index() whose encoder means lie closest to mu: (item text, distance)."""
    d = np.linalg.norm(index["mu"] - np.asarray(mu)[None], axis=1)
    out = []
    for i in np.argsort(d):
        if exclude is not None and index["texts"][i].lower() == exclude.lower():
            continue
        out.append((index["texts"][i], float(d[i])))
        if len(out) == k:
            break
    return out


# ---------------------------------------------------------------- sampling
def default_temperature(ckpt) -> float:
    """Pixels are shown as probabilities (0); tokens are drawn from the model's own odds (1)."""
    return 0.0 if (ckpt.config.family == "vae" and not ckpt.config.discrete) else 1.0


def sample(ckpt, n: int, seed: int = 0, temperature: float | None = None,
           labels: Sequence[int] | None = None, return_hidden: bool = False):
    """n seeded samples: a VAE decodes z ~ N(0, I), a GAN its noise. labels: one per sample
    (conditional models; default 0 for all). -> artifacts, or (artifacts, hidden [n, T, H]) for GANs."""
    if n < 1:
        raise ValueError("ask for at least one sample")
    cfg, model = ckpt.config, ckpt.model
    temperature = default_temperature(ckpt) if temperature is None else float(temperature)
    if temperature < 0:
        raise ValueError("the temperature must be 0 or more")
    g = torch.Generator().manual_seed(int(seed))
    lab = None
    if cfg.conditional:
        lab = torch.tensor(list(labels) if labels is not None else [0] * n, dtype=torch.long)
        if len(lab) != n or int(lab.min()) < 0 or int(lab.max()) >= cfg.n_labels:
            raise ValueError(f"give {n} labels between 0 and {cfg.n_labels - 1}")
    with torch.inference_mode():
        if cfg.family == "vae":
            z = torch.randn(n, cfg.latent, generator=g)
            out = model.decode(z, label=lab, temperature=temperature, generator=g, return_hidden=return_hidden)
        else:
            out = model.sample(n, label=lab, temperature=temperature, generator=g, return_hidden=return_hidden)
    domain = domain_of(ckpt)
    if return_hidden:
        seqs, hidden = out
        return domain.artifacts(seqs), hidden.float().cpu().numpy()
    return domain.artifacts(out)


def same_inputs(cfg_a, cfg_b) -> bool:
    """Whether two models of one domain read the very same random inputs from one seed: two VAEs with the
    same latent size decode the same z, two GANs with the same noise sizes start from the same noise. A VAE
    and a GAN, or latents of different sizes, only share the seed."""
    if cfg_a.domain != cfg_b.domain or cfg_a.family != cfg_b.family or cfg_a.latent != cfg_b.latent:
        return False
    return cfg_a.family == "vae" or cfg_a.step_noise == cfg_b.step_noise


def side_by_side(ckpt_a, ckpt_b, n: int, seed: int = 0, labels: Sequence[int] | None = None) -> dict:
    """n samples from each of two models of one domain, drawn from the same seed (so from the same z or noise
    where `same_inputs` holds), each at its default temperature. labels: one per sample, given to the
    conditional models only (the others cannot be told what to make).
    -> {"a": artifacts, "b": artifacts, "same_inputs": bool}"""
    if ckpt_a.config.domain != ckpt_b.config.domain:
        raise ValueError(f"side by side needs two models of one domain, not {ckpt_a.config.domain!r} and "
                         f"{ckpt_b.config.domain!r}")
    out = {"same_inputs": same_inputs(ckpt_a.config, ckpt_b.config)}
    for key, ckpt in (("a", ckpt_a), ("b", ckpt_b)):
        out[key] = sample(ckpt, n, seed, labels=labels if ckpt.config.conditional else None)
    return out


# ---------------------------------------------------------------- your own start, finished by the model
IMAGE_TEMPERATURE = 4.0   # a blurry decoder is overconfident about pixels: see complete()


def complete(ckpt, prefix: Any, n: int = 8, temperature: float | None = None, seed: int = 0,
             length: int | None = None, label: int | None = None) -> dict:
    """The start of an item, finished n ways by a model. prefix: the start of a name ("Mar"), an image
    (its top `length` rows are kept) or notes (the first `length` bars are kept). Works for VAEs and GANs
    of every domain and for a token domain's language model.

    -> {"artifacts": n completions (each keeps the prefix exactly), "prefix_len": steps kept,
        "hidden": writer states [n, T, H] (token models), "z": latents used (VAE),
        "grid", "grid_axis": the posterior p(z | visible rows) on a grid (2-D image VAE)}.
    temperature: tokens are drawn from softmax(logits / temperature) (0 = likeliest); for images it
    divides the visible rows' log-likelihood (1 = the plain posterior, higher = more varied)."""
    from . import completion

    cfg, model = ckpt.config, ckpt.model
    domain = domain_of(ckpt)
    if cfg.family not in ("vae", "gan", "lm") or (cfg.family == "lm" and not cfg.discrete):
        raise ValueError(f"{ckpt.name} is a {cfg.family}; completions come from VAEs, GANs and language models.")
    if cfg.conditional and label is not None and not 0 <= int(label) < cfg.n_labels:
        raise ValueError(f"The label must be between 0 and {cfg.n_labels - 1}.")
    seq = domain.prefix(prefix, length)
    if cfg.discrete:
        temperature = 1.0 if temperature is None else float(temperature)
        out = completion.complete_tokens(model, seq, n, temperature, seed, label)
    else:
        temperature = IMAGE_TEMPERATURE if temperature is None else float(temperature)
        out = completion.complete_rows(model, seq, n, temperature, seed, label)
    seqs = out.pop("sequences")
    out["artifacts"] = domain.artifacts(seqs)
    out["temperature"] = temperature
    return out
