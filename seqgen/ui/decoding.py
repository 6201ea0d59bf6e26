"""The one door through which the app decodes VAE latents.

Every page calls ``decoding.decode(...)`` through the module attribute (never ``from ... import
decode``), so a test can monkeypatch it and count decoder calls per rerun. A manifold grid is one
call with all its points in a batch.
"""
from __future__ import annotations

import torch


def decode(model, z: torch.Tensor, label: torch.Tensor | None = None, temperature: float = 0.0,
           generator: torch.Generator | None = None, return_hidden: bool = False):
    """z [B, latent] -> the VAE decoder's output (pixel probabilities or tokens), under inference_mode."""
    with torch.inference_mode():
        return model.decode(z, label=label, temperature=temperature, generator=generator,
                            return_hidden=return_hidden)


def full_z(points, latent: int) -> torch.Tensor:
    """2-D points [B, 2] -> z [B, latent]: the plane through the first two dimensions, the rest at 0."""
    p = torch.as_tensor(points, dtype=torch.float32).reshape(-1, 2)
    if latent == 2:
        return p
    z = torch.zeros(len(p), latent)
    z[:, : min(2, latent)] = p[:, : min(2, latent)]
    return z
