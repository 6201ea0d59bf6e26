"""Finishing a started item: the first rows of a digit, the first letters of a name, the first bars of a
melody are kept exactly and a model writes the rest, several different ways at once.

Two ways in, one per kind of decoder:

* Token models (names, melodies: VAE decoder, GAN generator, char-LM) write one step at a time. The given
  steps are *forced* (fed in place of the model's own choice) and the model samples from where they end.
  A VAE or GAN first needs a latent / noise that fits the start: M candidates are drawn from the prior and
  weighted by how likely the decoder (teacher-forced) makes the given steps; the n completions start
  from candidates drawn by those weights (importance resampling of p(z | prefix)).
* Image models decode all rows from z at once, so the visible rows' likelihood is evaluated on a fixed,
  cached *bank* of decodes: for a 2-D VAE a grid over the latent plane (its weights are the posterior
  p(z | rows) as a heat map), else prior samples; for a GAN the bank holds generator outputs, and
  completing is searching that bank for noises that draw the given rows. The visible rows are then
  pasted over the chosen decodes, so they are kept exactly.
"""
from __future__ import annotations

import weakref

import numpy as np
import torch

GRID_N = 81               # 2-D posterior grid: GRID_N x GRID_N points over [-GRID_LIM, GRID_LIM]^2
GRID_LIM = 4.0
BANK_SIZE = 4096          # prior samples (latent > 2) or generator draws per image bank
TOKEN_CANDIDATES = 64     # prior draws weighted by the prefix likelihood, per token completion
PIXEL_FLOOR = 0.02        # generator pixels are near 0/1: floor them so one pixel cannot veto a candidate
MAX_COMPLETIONS = 64

_banks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_n(n: int) -> int:
    if not 1 <= int(n) <= MAX_COMPLETIONS:
        raise ValueError(f"Ask for between 1 and {MAX_COMPLETIONS} completions (got {n}).")
    return int(n)


# ---------------------------------------------------------------- images
def grid_axis() -> np.ndarray:
    return np.linspace(-GRID_LIM, GRID_LIM, GRID_N, dtype=np.float32)


def _bank(model, label: int | None) -> dict:
    """Cached decodes the visible rows are scored against: z [M, L] (VAE), log prior [M], log p and
    log(1 - p) of every pixel [M, T*F]."""
    per_model = _banks.setdefault(model, {})
    if label in per_model:
        return per_model[label]
    cfg = model.cfg
    g = torch.Generator().manual_seed(0)
    lab = None
    with torch.inference_mode():
        if cfg.family == "vae":
            if cfg.latent == 2:
                ax = torch.from_numpy(grid_axis())
                yy, xx = torch.meshgrid(ax.flip(0), ax, indexing="ij")   # row 0 = top of the map (highest z2)
                z = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
            else:
                z = torch.randn(BANK_SIZE, cfg.latent, generator=g)
            if cfg.conditional:
                lab = torch.full((len(z),), int(label or 0), dtype=torch.long)
            probs = torch.cat([model.decode(z[i:i + 1024], lab if lab is None else lab[i:i + 1024])
                               for i in range(0, len(z), 1024)])
            log_prior = -0.5 * z.pow(2).sum(1)
        else:
            n = BANK_SIZE
            if cfg.conditional:
                lab = torch.full((n,), int(label), dtype=torch.long) if label is not None else \
                    torch.arange(n) % cfg.n_labels
            probs = torch.cat([model.sample(min(1024, n - i), None if lab is None else lab[i:i + 1024],
                                            generator=g) for i in range(0, n, 1024)])
            z, log_prior = None, torch.zeros(n)
    p = probs.float().reshape(len(probs), -1).clamp(PIXEL_FLOOR if cfg.family == "gan" else 1e-6,
                                                     1 - (PIXEL_FLOOR if cfg.family == "gan" else 1e-6))
    bank = {"z": z, "log_prior": log_prior, "log_p": p.log(), "log_1mp": (1 - p).log(), "probs": probs.float(),
            "labels": lab}
    per_model[label] = bank
    return bank


def complete_rows(model, rows: torch.Tensor, n: int, temperature: float = 1.0, seed: int = 0,
                  label: int | None = None) -> dict:
    """rows: the visible top rows, float [k, F] in [0, 1] -> n completions [n, T, F] (top k rows = rows),
    the posterior weights over the bank, and for a 2-D VAE the posterior as a grid [GRID_N, GRID_N]
    (row 0 at the top of the map).

    temperature divides the log-likelihood: 1 is the plain posterior; above 1 spreads it (a blurry
    decoder is overconfident about pixels, so its posterior is narrower than it should be)."""
    n = check_n(n)
    if temperature <= 0:
        raise ValueError("The temperature must be above 0.")
    cfg = model.cfg
    k = len(rows)
    bank = _bank(model, label)
    width = cfg.n_features
    b = (rows.reshape(-1) > 0.5).float()
    loglik = bank["log_p"][:, : k * width] @ b + bank["log_1mp"][:, : k * width] @ (1 - b)
    logw = loglik / temperature + bank["log_prior"]
    logw = logw - logw.max()
    w = logw.exp()
    w = w / w.sum()
    # n distinct candidates drawn by weight (Gumbel top-k): completions differ whenever the weights allow it
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(len(w), generator=g).clamp_(1e-12, 1 - 1e-12)
    keys = logw - torch.log(-torch.log(u))
    idx = torch.topk(keys, min(n, len(w))).indices
    out = bank["probs"][idx].clone()
    out[:, :k] = rows.float()
    result = {"sequences": out, "weights": w.numpy(), "index": idx.numpy(), "prefix_len": k}
    if bank["z"] is not None:
        result["z"] = bank["z"][idx].numpy()
        if cfg.latent == 2:
            result["grid"] = w.reshape(GRID_N, GRID_N).numpy()
            result["grid_axis"] = grid_axis()
    if bank["labels"] is not None:
        result["labels"] = bank["labels"][idx].numpy()
    return result


# ---------------------------------------------------------------- tokens
class _Writer:
    """One recurrent writer (VAE decoder, GAN generator or LM) run a step at a time for n items."""

    def __init__(self, model, cond: torch.Tensor | None, step_noise: torch.Tensor | None, n: int):
        cfg = model.cfg
        self.model, self.cond, self.step_noise = model, cond, step_noise
        if cfg.family == "vae":
            self.rnn, self.out, self.inputs = model.decoder, model.out, model.inputs
            self.state = self.rnn.initial_state(torch.tanh(model.z_to_state(cond)))
        elif cfg.family == "gan":
            gen = model.generator
            self.rnn, self.out, self.inputs = gen.rnn, gen.out, gen.inputs
            self.state = self.rnn.initial_state(torch.tanh(gen.to_state(cond)))
        else:
            self.rnn, self.out, self.inputs = model.rnn, model.out, model.inputs
            self.state = self.rnn.zero_state(n)
        self.prev = self.inputs.first(n)
        self.family = cfg.family

    def step(self, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [self.prev]
        if self.family == "vae":
            parts = [self.cond, self.prev]
        elif self.family == "gan":
            parts = [self.cond, self.step_noise[:, t], self.prev]
        h, self.state = self.rnn.step(torch.cat(parts, -1), self.state)
        return self.out(h), h

    def feed(self, tokens: torch.Tensor) -> None:
        self.prev = self.inputs.embedding.weight[tokens]


def _conditioning(model, z: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
    emb = model.label_embedding if model.cfg.family == "vae" else model.generator.label_embedding
    return z if emb is None else torch.cat([z, emb(label)], -1)


def _prefix_loglik(model, prefix: torch.Tensor, z, steps, label) -> torch.Tensor:
    """log p(prefix | z) for each candidate [M], teacher-forced in one fused call."""
    cfg = model.cfg
    m, k = len(z), len(prefix)
    x = torch.full((m, cfg.seq_len), int(prefix[0]), dtype=torch.long)
    x[:, :k] = prefix
    if cfg.family == "vae":
        logits, _ = model.decode_logits(z, x, label)
    else:
        logits = model.generator.mle_logits(x, z, steps, label)
    logp = torch.log_softmax(logits[:, :k].float(), -1)
    return logp.gather(-1, prefix.expand(m, k).unsqueeze(-1)).squeeze(-1).sum(1)


def complete_tokens(model, prefix: torch.Tensor, n: int, temperature: float = 1.0, seed: int = 0,
                    label: int | None = None) -> dict:
    """prefix: int64 [k] (1 <= k < T) -> n sequences [n, T] whose first k tokens are the prefix, the
    writer's hidden states [n, T, H], and (VAE/GAN) the latents the completions started from."""
    n = check_n(n)
    if temperature < 0:
        raise ValueError("The temperature must be 0 or more.")
    cfg = model.cfg
    k = len(prefix)
    if not 1 <= k < cfg.seq_len:
        raise ValueError(f"A start must have between 1 and {cfg.seq_len - 1} steps (got {k}).")
    g = torch.Generator().manual_seed(int(seed))
    prefix = prefix.long().cpu()
    cond = steps = z = None
    with torch.inference_mode():
        if cfg.family in ("vae", "gan"):
            m = TOKEN_CANDIDATES
            z = torch.randn(m, cfg.latent, generator=g)
            if cfg.family == "gan":
                steps = torch.randn(m, cfg.seq_len, cfg.step_noise, generator=g)
            lab = torch.full((m,), int(label or 0), dtype=torch.long) if cfg.conditional else None
            logw = _prefix_loglik(model, prefix, z, steps, lab)
            pick = torch.multinomial(torch.softmax(logw, 0), n, replacement=n > m, generator=g)
            z = z[pick]
            steps = None if steps is None else steps[pick]
            cond = _conditioning(model, z, None if lab is None else lab[pick])
        writer = _Writer(model, cond, steps, n)
        toks, hidden = [], []
        for t in range(cfg.seq_len):
            logits, h = writer.step(t)
            if t < k:
                tok = prefix[t].expand(n)
            elif temperature <= 0:
                tok = logits.argmax(-1)
            else:
                tok = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=g).squeeze(-1)
            writer.feed(tok)
            toks.append(tok)
            hidden.append(h)
    result = {"sequences": torch.stack(toks, 1), "hidden": torch.stack(hidden, 1).float().numpy(),
              "prefix_len": k}
    if z is not None:
        result["z"] = z.numpy()
    return result
