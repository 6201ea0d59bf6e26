"""RNN-VAE: bidirectional recurrent encoder -> (mu, log sigma^2) -> z -> recurrent decoder.

The decoder starts from a state computed from z and also reads z at every step, so the latent
cannot be forgotten over a long sequence. With `autoregressive=True` it additionally reads its
previous output (needed for text and melodies; for digit rows it lets the decoder ignore z, which
ruins the 2-D explorer, where every point must decode to its own digit). Loss = reconstruction + beta * KL, with KL annealing
(Bowman et al. 2016), free bits (Kingma et al. 2016) and word dropout as options.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import SeqModel, SequenceInput, batched_mean, pick_tokens, token_loss
from .config import ModelConfig, TrainConfig
from .recurrent import Recurrent, final_features


class RNNVAE(SeqModel):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.inputs = SequenceInput(cfg)
        self.encoder = Recurrent(cfg.cell, self.inputs.size, cfg.hidden, cfg.layers, bidirectional=True)
        self.to_stats = nn.Linear(2 * cfg.hidden, 2 * cfg.latent)
        cond = cfg.embed if cfg.conditional else 0
        self.label_embedding = nn.Embedding(cfg.n_labels, cfg.embed) if cfg.conditional else None
        prev = self.inputs.size if cfg.autoregressive else 0
        self.decoder = Recurrent(cfg.cell, cfg.latent + cond + prev, cfg.hidden, cfg.layers)
        self.z_to_state = nn.Linear(cfg.latent + cond, self.decoder.state_size)
        self.out = nn.Linear(cfg.hidden, cfg.n_features)

    # encoder -----------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (tokens [B, T] or rows [B, T, F], on any device) -> mu, logvar, each [B, latent] on the model's."""
        outputs, state = self.encoder(self.inputs(x.to(self.device)))
        mu, logvar = self.to_stats(final_features(outputs, state, True)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12, 8)

    # decoder -----------------------------------------------------------------------------------
    def _conditioning(self, z: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        if self.label_embedding is None:
            return z
        if label is None:
            raise ValueError("this model is conditional: pass a label")
        return torch.cat([z, self.label_embedding(label)], dim=-1)

    def decode_logits(self, z, x, label=None, word_dropout: float = 0.0):
        """Teacher-forced decoder pass: logits [B, T, F] and the decoder's hidden states [B, T, H]."""
        cond = self._conditioning(z, label)
        state = self.decoder.initial_state(torch.tanh(self.z_to_state(cond)))
        steps = cond.unsqueeze(1).expand(-1, self.cfg.seq_len, -1)
        if self.cfg.autoregressive:
            steps = torch.cat([steps, self.inputs.previous(x, word_dropout)], dim=-1)
        hidden, _ = self.decoder(steps, state)
        return self.out(hidden), hidden

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, label: torch.Tensor | None = None, temperature: float = 0.0,
               generator: torch.Generator | None = None, return_hidden: bool = False):
        """z [B, latent] -> sequences: pixel probabilities [B, T, F] or tokens [B, T].

        temperature 0 is the decoder's most likely output (what the explorer shows); > 0 samples.
        """
        cfg = self.cfg
        z = z.to(self.device, torch.float32)
        label = None if label is None else label.to(self.device)
        if not cfg.autoregressive and not (cfg.discrete and temperature > 0):
            logits, hidden = self.decode_logits(z, None, label)   # nothing is fed back: one fused call
            seq = torch.sigmoid(logits) if not cfg.discrete else logits.argmax(-1)
            return (seq, hidden) if return_hidden else seq
        return self.decode_steps(z, label, temperature, generator, return_hidden)

    def decode_steps(self, z: torch.Tensor, label: torch.Tensor | None = None, temperature: float = 0.0,
                     generator: torch.Generator | None = None, return_hidden: bool = False,
                     exportable: bool = False):
        """The decoder one step at a time, each step reading z (and the label) and, when autoregressive, the
        previous output. `exportable` spells the cell out in plain tensor operations, with every shape taken
        from the batch: seqgen.export traces this very method (temperature 0) into the browser's decoder."""
        cfg = self.cfg
        cond = self._conditioning(z, label)
        state = self.decoder.initial_state(torch.tanh(self.z_to_state(cond)))
        # The conditioning is the same at every step: project it once and fold it into the first layer's
        # bias, so each step is one cell call on the previous output.
        w_ih, b_ih = self.decoder.input_weights()
        c = cond.shape[1]
        bias = torch.addmm(b_ih, cond, w_ih[:, :c].t())
        step = self.decoder.stepper(state, w_ih[:, c:], bias, exportable=exportable)
        if not cfg.autoregressive:
            prev = None                                       # nothing but z is read
        elif cfg.discrete:                                    # the START token's embedding
            start = torch.full_like(cond[:, 0], self.inputs.start_id, dtype=torch.long)
            prev = self.inputs.embedding.weight[start]
        else:                                                 # a continuous decoder starts from a blank row
            prev = torch.zeros_like(cond[:, :1]).expand(-1, cfg.n_features)
        outs, hiddens = [], []
        for _ in range(cfg.seq_len):
            h = step(prev)
            logits = self.out(h)
            if cfg.discrete:
                tok = pick_tokens(logits, temperature, generator)
                outs.append(tok)
                if cfg.autoregressive:
                    prev = self.inputs.embedding.weight[tok]
            else:
                row = torch.sigmoid(logits)
                outs.append(row)
                if cfg.autoregressive:
                    prev = row
            hiddens.append(h)
        seq = torch.stack(outs, dim=1)
        return (seq, torch.stack(hiddens, dim=1)) if return_hidden else seq

    @torch.inference_mode()
    def sample(self, n: int, label: torch.Tensor | None = None, temperature: float = 0.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.cfg.latent, generator=generator).to(self.device)
        return self.decode(z, label, temperature, generator)

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        mu, _ = self.encode(x.to(self.device))
        return self.decode(mu, label)

    @torch.no_grad()
    def reconstruction_per_step(self, x: torch.Tensor, label: torch.Tensor | None = None) -> float:
        """How well x is rebuilt from its encoder means: the reconstruction loss in nats per scored step
        (a letter, a note, a pixel), averaged over the batch."""
        recon, _kl, steps = self._terms(x.to(self.device), label, sample_z=False)
        return float(recon.sum() / steps.sum())

    # training ----------------------------------------------------------------------------------
    def reconstruction_targets(self, x: torch.Tensor) -> torch.Tensor:
        """What a continuous reconstruction is scored against. "binary": the data thresholded at 0.5, a
        Bernoulli likelihood (the standard MNIST VAE benchmark). "soft": the values themselves (cross-entropy
        with soft targets), for data whose grey levels carry the content, such as spectrograms; its figures
        then include the data's own entropy, so they are not comparable with binary ones."""
        return x if self.cfg.reconstruction_target == "soft" else (x > 0.5).float()

    def _terms(self, x, y, word_dropout=0.0, sample_z=True):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample_z else mu
        logits, _ = self.decode_logits(z, x, y if self.cfg.conditional else None, word_dropout)
        if self.cfg.discrete:
            recon, n_tokens = token_loss(logits, x, self.cfg.pad_id)
        else:
            target = self.reconstruction_targets(x)
            recon = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum((1, 2))
            n_tokens = torch.full_like(recon, float(self.cfg.seq_len * self.cfg.n_features))
        kl_dims = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)  # [B, latent]
        return recon, kl_dims, n_tokens

    def loss(self, x, y, step: int, train: TrainConfig):
        cfg = self.cfg
        recon, kl_dims, _ = self._terms(x, y, cfg.word_dropout)
        kl_per_dim = kl_dims.mean(0)
        kl_penalty = kl_per_dim.clamp(min=cfg.free_bits).sum() if cfg.free_bits > 0 else kl_per_dim.sum()
        ramp = min(1.0, step / train.kl_anneal_steps) if train.kl_anneal_steps > 0 else 1.0
        beta = cfg.beta * ramp
        loss = recon.mean() + beta * kl_penalty
        kl = float(kl_per_dim.detach().sum())
        return loss, {"loss": loss.item(), "recon": recon.mean().item(), "kl": kl,
                      "neg_elbo": recon.mean().item() + kl, "beta": beta}

    @torch.no_grad()
    def importance_nll(self, x: torch.Tensor, y: torch.Tensor | None = None, k: int = 32) -> torch.Tensor:
        """Importance-weighted estimate of -log p(x) per sequence [B] (Burda et al. 2016): tighter than
        the ELBO, and the usual way to report a VAE's held-out NLL."""
        b = len(x)
        mu, logvar = self.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(k, *mu.shape, device=mu.device)
        z = (mu + eps * std).reshape(k * b, -1)
        xk = x.repeat(k, *([1] * (x.dim() - 1)))
        yk = None if (y is None or not self.cfg.conditional) else y.repeat(k)
        logits, _ = self.decode_logits(z, xk, yk)
        if self.cfg.discrete:
            log_px = -token_loss(logits, xk, self.cfg.pad_id)[0]
        else:
            target = self.reconstruction_targets(xk)
            log_px = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum((1, 2))
        log_pz = (-0.5 * z.pow(2)).sum(-1)
        log_qz = (-0.5 * eps.pow(2) - 0.5 * logvar).reshape(k * b, -1).sum(-1)  # log(2pi) terms cancel
        log_w = (log_px + log_pz - log_qz).view(k, b)
        return -(torch.logsumexp(log_w, 0) - torch.log(torch.tensor(float(k))))

    @torch.no_grad()
    def evaluate(self, x, y, batch_size: int = 500, iw_samples: int = 0) -> dict[str, float]:
        """Held-out negative ELBO (nats per sequence and per scored token), reconstruction, KL; with
        iw_samples > 0 also the importance-weighted NLL estimate."""
        was_training = self.training
        self.eval()
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(1234)  # the single z sample per item is fixed, so figures are reproducible

        def fn(xb, yb):
            recon, kl_dims, n_tok = self._terms(xb.to(self.device), None if yb is None else yb.to(self.device))
            kl = kl_dims.sum(1)
            b = len(xb)
            return {"neg_elbo": ((recon + kl).sum(), b), "recon": (recon.sum(), b), "kl": (kl.sum(), b),
                    "nll_per_token": ((recon + kl).sum(), n_tok.sum())}

        def iw(xb, yb):
            nll = self.importance_nll(xb.to(self.device), None if yb is None else yb.to(self.device), iw_samples)
            n_tok = (xb != self.cfg.pad_id).sum() if self.cfg.discrete and self.cfg.pad_id is not None else xb[0].numel() * len(xb)
            return {"nll_iw": (nll.sum(), len(xb)), "nll_iw_per_token": (nll.sum(), n_tok)}

        out = batched_mean(fn, x, y, batch_size)
        if iw_samples:
            out.update(batched_mean(iw, x, y, max(1, batch_size // 10)))
        # KL per latent dimension: which coordinates carry information
        mu, logvar = self.encode(x[:batch_size].to(self.device))
        kl_dims = (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).mean(0)
        for i, v in enumerate(kl_dims.tolist()):
            out[f"kl_dim{i}"] = v
        torch.random.set_rng_state(gen_state)
        self.train(was_training)
        return out
