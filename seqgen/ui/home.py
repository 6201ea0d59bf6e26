"""The home page's pictures, one per page, made by the shipped models (None / [] when a model is missing).

scripts/home_pictures.py writes them to assets/home/ for app.py; a test checks the files still match.
"""
from __future__ import annotations

import numpy as np

import seqgen
from seqgen.render import image_grid, upscale

from . import compute, figures, resources


def _available(name: str) -> bool:
    return name in resources.model_names()


def explorer_picture() -> bytes | None:
    if not _available("digits-vae"):
        return None
    ref = resources.ref("digits-vae")
    rng = tuple(round(v, 2) for v in compute.latent_map(ref)["grid_range"])
    return compute.manifold(ref, 8, rng)["png"]


def gan_picture() -> bytes | None:
    name = "digits-gan"
    if not _available(name):
        return None
    ckpt = resources.load(name)
    labels = tuple(range(10)) if ckpt.config.conditional else None
    images = compute.gan_digits(resources.ref(name), 0, labels, 10)["images"]
    return compute.grid_png(images, 5, 3)


def names_picture(n: int = 12) -> list[str]:
    name = "names-vae" if _available("names-vae") else ("names-gan" if _available("names-gan") else None)
    if name is None:
        return []
    domain = seqgen.get_domain("names")
    return [domain.to_artifact(s) for s in compute.sample_tokens(resources.ref(name), 0, 0.8, n)]


def music_picture() -> np.ndarray | None:
    name = "melodies-vae" if _available("melodies-vae") else ("melodies-gan" if _available("melodies-gan") else None)
    if name is None:
        return None
    rows = compute.sample_tokens(resources.ref(name), 0, 0.0 if name.endswith("vae") else 1.0, 2)
    return upscale(image_grid(np.stack([figures.roll_bitmap(t) for t in rows]), cols=1, pad=3, value=90), 4)
