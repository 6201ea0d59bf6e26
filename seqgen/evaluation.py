"""The quality figures of a model card, on the held-out (test) split: what every model of its family has
(held-out loss, likelihood), then the figures its domain defines (requested-label accuracy, novelty,
in-scale ratio...)."""
from __future__ import annotations

from .domains import get_domain


def evaluate(model, n_samples: int = 1000, seed: int = 0, temperature: float = 1.0, tstr: bool = True) -> dict:
    """Every figure that applies to this model, on the test split (tstr=False skips the slow parts)."""
    cfg = model.cfg
    domain = get_domain(cfg.domain)
    model.eval()
    x, y = domain.dataset("test")
    stats = model.evaluate(x, y, iw_samples=32 if tstr else 0) if cfg.family == "vae" else model.evaluate(x, y)
    out = {f"test_{k}": v for k, v in stats.items()}
    if cfg.family in ("vae", "gan"):
        out.update(domain.sample_metrics(model, n_samples, seed, temperature, slow=tstr))
    return out


def quick(model, n: int = 200, seed: int = 0) -> dict:
    """Cheap sample-quality figures to watch during training (and to guard shipped models in tests)."""
    if model.cfg.family not in ("vae", "gan"):
        return {}
    was_training = model.training
    model.eval()
    out = get_domain(model.cfg.domain).quick_metrics(model, n, seed)
    model.train(was_training)
    return out
