"""Building blocks of the quality figures: the kinds and domains compute their own figures from these (see
seqgen.evaluation for the whole evaluation of a model). Pure functions of models and tensors: nothing here
trains a model or opens a checkpoint (a domain's reference model comes from `Domain.reference()`).
"""
from __future__ import annotations

import numpy as np
import torch


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def sample_with_labels(model, n: int, seed: int = 0, temperature: float = 1.0, batch: int = 500):
    """n samples (labels cycling 0..K-1 for conditional models) -> (sequences, labels or None)."""
    cfg = model.cfg
    g = _gen(seed)
    labels = (torch.arange(n) % cfg.n_labels) if cfg.conditional else None
    outs = []
    for i in range(0, n, batch):
        lb = None if labels is None else labels[i:i + batch]
        outs.append(model.sample(min(batch, n - i), lb, temperature=temperature, generator=g).cpu())
    return torch.cat(outs), labels


def encoder_means(model, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([model.encode(x[i:i + batch])[0] for i in range(0, len(x), batch)]).cpu()


def knn_accuracy(train_z: torch.Tensor, train_y: torch.Tensor, test_z: torch.Tensor, test_y: torch.Tensor,
                 k: int = 5) -> float:
    """How well latent positions separate classes: k-NN label accuracy of test means among train means."""
    d = torch.cdist(test_z, train_z)
    nn_labels = train_y[d.topk(k, largest=False).indices]
    pred = torch.mode(nn_labels, dim=1).values
    return float((pred == test_y).float().mean())


def latent_grid_quality(model, classifier, classes_word: str = "classes", grid: int = 10, span: float = 2.5,
                        confident: float = 0.0) -> dict:
    """Decode a grid x grid lattice over [-span, span]^2 and judge it: how many classes appear (read with at
    least `confident` probability), how confidently."""
    axis = torch.linspace(-span, span, grid)
    zz = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    images = model.decode(zz).cpu()
    with torch.inference_mode():
        probs = torch.softmax(classifier(images), -1)
    conf, pred = probs.max(-1)
    return {f"grid_{classes_word}_present": int(pred[conf >= confident].unique().numel()),
            "grid_mean_confidence": float(conf.mean())}


def within_class_spread(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images of the same class, averaged over classes."""
    spreads = []
    for c in labels.unique():
        x = images[labels == c].flatten(1)[:300]
        if len(x) > 1:
            d = torch.cdist(x, x)
            spreads.append(float(d.sum() / (len(x) * (len(x) - 1))))
    return float(np.mean(spreads))


def mean_pairwise_difference(x: torch.Tensor, discrete: bool) -> float:
    """How much the sequences of a batch differ from one another: the mean, over pairs, of the share of
    differing tokens (discrete) or of the mean absolute difference of the values (continuous)."""
    flat = x.reshape(len(x), -1)
    if len(flat) < 2:
        return 0.0
    if discrete:
        diff = (flat[:, None, :] != flat[None, :, :]).float().mean(-1)
    else:
        flat = flat.float()
        diff = torch.cdist(flat, flat, p=1) / flat.shape[1]
    n = len(flat)
    return float(diff.sum() / (n * (n - 1)))


def lm_nll_per_token(lm, tokens: torch.Tensor) -> float:
    with torch.inference_mode():
        nll, n = lm.nll(tokens)
    return float(nll.sum() / n.sum())


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.asarray(p, float), np.asarray(q, float)
    return 0.5 * float(np.abs(p / max(p.sum(), 1e-12) - q / max(q.sum(), 1e-12)).sum())
