"""What a live run's figures say, beside its curves: for a GAN, which classes its samples fall in (the
domain's reference classifier) and how much they differ from one another; for a VAE, the KL of each latent
dimension and how many carry information; for both, the gradient norms. `read()` turns them into findings
("mode collapse: most samples look like 1s"), each a code with its figures, which the UI words in the
reader's language. No Streamlit here.

The GAN figures come from a fixed diagnostic batch (the same noise every time, labels 0, 1, 2... for a
conditional model), so a change in them is the model's, not the noise's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import torch

from ...metrics import mean_pairwise_difference, sample_with_labels
from ...models.reference import SequenceClassifier

DIAGNOSTIC_SAMPLES = 100     # GAN samples per check: 10 of each label of a 10-class conditional model
DIAGNOSTIC_SEED = 4242       # their noise, fixed for the run
KL_BATCH = 200               # held-out examples a VAE check encodes
ACTIVE_KL = 0.05             # nats: a latent dimension whose average KL is below this carries (almost) nothing
EARLY_STEPS = 300            # before this, samples that look alike are a young model, not yet a collapse
COLLAPSE_SHARE = 0.6         # one class holding this share of the samples (of several requested labels)
ALIKE = 0.35                 # samples differing less than this fraction of how much real examples differ
RECENT = 50                  # steps of per-step figures the reading looks at
# A VAE rebuilding the items it trains on this much better (per step, in nats) than held-out ones is learning
# them by heart: what a small data set of a learner's own invites
MEMORISING_RATIO = 2.0
RECON_BATCH = 100            # items of each split it rebuilds
COPYING_SHARE = 0.8          # a GAN whose samples are this often items of its data copies them (the shipped
                             # names GAN's are 29 % of the time)
MEMORISING_GAP = 0.2         # nats per step: below this the two are close whatever their ratio


@dataclass(frozen=True)
class Finding:
    """One thing the figures say. `code` names it (the UI words it); `level`: "problem", "hint" or "ok";
    `values`: the figures the sentence quotes."""
    code: str
    level: str
    values: Mapping = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Diagnostics:
    """The figures of one check, at `step`. Fields that mean nothing for the run's family are None."""
    step: int
    class_counts: tuple[int, ...] | None = None   # GAN: how many of the diagnostic samples each class won
    requested_share: float | None = None          # conditional GAN: share read as the label they were asked for
    diversity: float | None = None                # GAN: samples' mean pairwise difference / real examples'
    kl_per_dim: tuple[float, ...] | None = None   # VAE: average KL of each latent dimension (nats)
    active_dims: int | None = None                # VAE: dimensions with KL above ACTIVE_KL
    known_share: float | None = None              # GAN: share of samples that are items of the data (words)
    train_recon: float | None = None              # VAE: reconstruction loss per step of training items (nats)
    val_recon: float | None = None                # VAE: the same of held-out items
    findings: tuple[Finding, ...] = ()


class Checkup:
    """The diagnostics of one run: built once at the run's start (reference classifier, the real examples'
    spread), then `check(model, step)` between two steps (the caller holds the model still)."""

    def __init__(self, cfg, domain, val_x: torch.Tensor, train_x: torch.Tensor | None = None):
        self.cfg = cfg
        self.family = cfg.family
        self.classifier: SequenceClassifier | None = None
        self.domain = domain
        if self.family == "gan":
            judge = domain.reference()
            self.classifier = judge if isinstance(judge, SequenceClassifier) else None
            self.real_spread = mean_pairwise_difference(val_x[:DIAGNOSTIC_SAMPLES], cfg.discrete)
        self.val_x = val_x[:KL_BATCH]
        # the memorising check rebuilds a few training and held-out items (not for a conditional VAE, whose
        # decoder would need their labels)
        self.train_x = train_x[:RECON_BATCH] if train_x is not None and not cfg.conditional else None

    def check(self, model, step: int) -> Diagnostics:
        was = model.training
        model.eval()
        try:
            with torch.inference_mode():
                if self.family == "gan":
                    return self._gan(model, step)
                return self._vae(model, step)
        finally:
            model.train(was)

    def _gan(self, model, step: int) -> Diagnostics:
        samples, labels = sample_with_labels(model, DIAGNOSTIC_SAMPLES, DIAGNOSTIC_SEED)
        diversity = mean_pairwise_difference(samples, self.cfg.discrete) / self.real_spread if self.real_spread > 0 else None
        counts = requested = None
        if self.classifier is not None:
            self.classifier.eval()
            guess = self.classifier(samples).argmax(-1).cpu()
            counts = tuple(int(c) for c in torch.bincount(guess, minlength=self.cfg.n_labels))
            if labels is not None:
                requested = float((guess == labels).float().mean())
        known = [self.domain.is_known(a) for a in self.domain.artifacts(samples)]
        known_share = None if None in known else sum(known) / max(len(known), 1)
        return Diagnostics(step, class_counts=counts, requested_share=requested, diversity=diversity,
                           known_share=known_share)

    def _vae(self, model, step: int) -> Diagnostics:
        mu, logvar = model.encode(self.val_x)
        kl = (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).mean(0).float().cpu()
        train_recon = val_recon = None
        if self.train_x is not None:
            train_recon = model.reconstruction_per_step(self.train_x)
            val_recon = model.reconstruction_per_step(self.val_x[:RECON_BATCH])
        return Diagnostics(step, kl_per_dim=tuple(float(v) for v in kl), active_dims=int((kl > ACTIVE_KL).sum()),
                           train_recon=train_recon, val_recon=val_recon)


def _recent_mean(recent: Sequence[Mapping[str, float]], name: str) -> float | None:
    values = [row[name] for row in recent if name in row and math.isfinite(row[name])]
    return sum(values) / len(values) if values else None


def read(diag: Diagnostics, recent: Sequence[Mapping[str, float]], *, conditional: bool, n_labels: int,
         latent: int) -> tuple[Finding, ...]:
    """What the figures say, the most pressing first; a single "ok" finding when nothing looks wrong.
    `recent`: the per-step figures of the last steps (oldest first)."""
    found: list[Finding] = []
    step = diag.step
    if diag.class_counts is not None and sum(diag.class_counts) > 0:
        total = sum(diag.class_counts)
        top = max(range(len(diag.class_counts)), key=diag.class_counts.__getitem__)
        share = diag.class_counts[top] / total
        classes = sum(1 for c in diag.class_counts if c > 0)
        asked = n_labels if conditional else 0
        if share >= COLLAPSE_SHARE or (asked >= 5 and classes <= 2):
            code = "mode_collapse" if step >= EARLY_STEPS else "samples_alike_early"
            found.append(Finding(code, "problem" if step >= EARLY_STEPS else "hint",
                                 MappingProxyType({"label": top, "share": share, "classes": classes})))
    if diag.diversity is not None and diag.diversity < ALIKE and not any(
            f.code in ("mode_collapse", "samples_alike_early") for f in found):
        code = "low_diversity" if step >= EARLY_STEPS else "samples_alike_early"
        found.append(Finding(code, "problem" if step >= EARLY_STEPS else "hint",
                             MappingProxyType({"diversity": diag.diversity, "label": None})))
    if diag.active_dims is not None and step >= 100:
        if diag.active_dims == 0:
            found.append(Finding("posterior_collapse", "problem",
                                 MappingProxyType({"kl": sum(diag.kl_per_dim or ()), "latent": latent})))
        elif diag.active_dims < latent:
            found.append(Finding("idle_dims", "hint",
                                 MappingProxyType({"active": diag.active_dims, "latent": latent})))
    if diag.known_share is not None and diag.known_share >= COPYING_SHARE and step >= EARLY_STEPS:
        found.append(Finding("copying", "problem", MappingProxyType({"share": diag.known_share})))
    if diag.train_recon is not None and diag.val_recon is not None and step >= EARLY_STEPS and \
            diag.val_recon > MEMORISING_RATIO * diag.train_recon and diag.val_recon - diag.train_recon > MEMORISING_GAP:
        found.append(Finding("memorising", "problem",
                             MappingProxyType({"train": diag.train_recon, "val": diag.val_recon})))
    d_real, d_fake = _recent_mean(recent, "d_real"), _recent_mean(recent, "d_fake")
    if d_real is not None and d_fake is not None and len(recent) >= 10:
        if d_real > 0.85 and d_fake < 0.15:
            found.append(Finding("d_wins", "problem", MappingProxyType({"d_real": d_real, "d_fake": d_fake})))
        elif d_fake > 0.7:
            found.append(Finding("d_fooled", "hint", MappingProxyType({"d_real": d_real, "d_fake": d_fake})))
    # Gradients far above the clip are read as nothing: the live presets run there while healthy (a VAE's loss
    # sums over the sequence: the digits VAE at 20-110x its clip, the clothes VAE at 60x, a GAN's D at 2-4x).
    for name, net in (("g_grad", "G"), ("d_grad", "D"), ("grad_norm", "model")):
        norm = _recent_mean(recent, name)
        if norm is not None and len(recent) >= 10 and norm < 1e-4:
            found.append(Finding("vanishing", "problem", MappingProxyType({"net": net, "norm": norm})))
    if not any(f.level == "problem" for f in found):
        found.insert(0, Finding("ok", "ok", MappingProxyType({})))
    order = {"problem": 0, "hint": 1, "ok": 2}
    return tuple(sorted(found, key=lambda f: order[f.level]))
