"""What every seqgen model shares: the input layer and the train/eval interface the Trainer drives."""
from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig, TrainConfig


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (weight initialisation, dropout, batches)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SequenceInput(nn.Module):
    """Domain sequence -> per-step vectors.

    Tokens (int64 [B, T]) and soft one-hots ([B, T, V], what a Gumbel-softmax generator emits) share
    one embedding table, so a discriminator sees real and generated text the same way. Real-valued
    rows ([B, T, F]) pass through unchanged. Two extra token ids: START (fed at step 0) and DROP
    (word dropout's "unknown").
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.discrete, self.vocab = cfg.discrete, cfg.n_features
        self.start_id, self.drop_id = cfg.n_features, cfg.n_features + 1
        if self.discrete:
            self.embedding = nn.Embedding(cfg.n_features + 2, cfg.embed)
            self.size = cfg.embed
        else:
            self.size = cfg.n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.discrete:
            return x
        if x.dtype == torch.long:
            return self.embedding(x)
        return x @ self.embedding.weight[: self.vocab]

    def previous(self, x: torch.Tensor, word_dropout: float = 0.0) -> torch.Tensor:
        """Teacher-forcing inputs: the sequence shifted right by one step (START / zero row first)."""
        if self.discrete:
            prev = torch.cat([torch.full_like(x[:, :1], self.start_id), x[:, :-1]], dim=1)
            if self.training and word_dropout > 0:
                hide = torch.rand(prev.shape, device=x.device) < word_dropout
                hide[:, 0] = False
                prev = prev.masked_fill(hide, self.drop_id)
            return self.embedding(prev)
        prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        if self.training and word_dropout > 0:
            keep = (torch.rand(prev.shape[:2], device=x.device) >= word_dropout).unsqueeze(-1)
            prev = prev * keep
        return prev

    def first(self, batch: int, device=None) -> torch.Tensor:
        """Step-0 input for autoregressive sampling."""
        if self.discrete:
            return self.embedding(torch.full((batch,), self.start_id, dtype=torch.long, device=device))
        return torch.zeros(batch, self.size, device=device)


def token_loss(logits: torch.Tensor, x: torch.Tensor, pad_id: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy per sequence [B] and the number of scored tokens per sequence [B]."""
    ce = F.cross_entropy(logits.transpose(1, 2), x, reduction="none")  # [B, T]
    mask = (x != pad_id).float() if pad_id is not None else torch.ones_like(ce)
    return (ce * mask).sum(1), mask.sum(1)


def pick_tokens(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """Greedy when temperature == 0, else a sample from softmax(logits / temperature)."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if generator is not None and generator.device != probs.device:   # a seeded CPU generator, a model on a GPU
        return torch.multinomial(probs.to(generator.device), 1, generator=generator).squeeze(-1).to(probs.device)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def adam(params, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """Adam as one fused kernel over all the parameters (CPU and CUDA) rather than a chain of small tensor ops:
    the same update up to rounding, and a fixed cost every process of a torchrun launch pays in full
    (benchmarks/README.md, "Fused Adam")."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


class SeqModel(nn.Module):
    """Interface the Trainer, CLI and app rely on."""

    cfg: ModelConfig

    def configure_optimizers(self, train: TrainConfig) -> dict[str, torch.optim.Optimizer]:
        return {"model": adam(self.parameters(), train.lr)}

    def loss(self, x: torch.Tensor, y: torch.Tensor | None, step: int, train: TrainConfig):
        """(scalar loss, {name: float}) for one batch."""
        raise NotImplementedError

    def train_step(self, x, y, step: int, optimizers, train: TrainConfig, parallel=None,
                   part: str | None = None) -> dict[str, float]:
        """One update on batch (x, y). `parallel` (seqgen.training.distributed.DataParallel) is given under
        torchrun: the loss then goes through DistributedDataParallel, which averages the gradients. `part`
        names one network to update alone; a model with a single network has none."""
        if part is not None:
            raise ValueError(f"a {type(self).__name__} has one network: it cannot update {part!r} alone")
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss, stats = (parallel.loss if parallel is not None else self.loss)(x, y, step, train)
        loss.backward()
        stats["grad_norm"] = float(nn.utils.clip_grad_norm_(self.parameters(), train.grad_clip))
        opt.step()
        return stats

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int = 500) -> dict[str, float]:
        """Held-out figures averaged over the given data (no gradients, eval mode)."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def batched_mean(fn, x, y, batch_size: int) -> dict[str, float]:
    """Run fn(xb, yb) -> {name: (sum, count)} over batches and return the ratios."""
    totals: dict[str, list[float]] = {}
    for i in range(0, len(x), batch_size):
        yb = None if y is None else y[i:i + batch_size]
        for k, (s, n) in fn(x[i:i + batch_size], yb).items():
            t = totals.setdefault(k, [0.0, 0.0])
            t[0] += float(s)
            t[1] += float(n)
    return {k: s / max(n, 1e-9) for k, (s, n) in totals.items()}
