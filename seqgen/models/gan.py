"""RNN-GAN: a recurrent generator (noise [+ label] -> sequence) against a recurrent discriminator.

Generator: a global noise vector sets the initial state and is read at every step together with
fresh per-step noise and the label embedding. Pixel rows come out through a sigmoid in one fused
RNN call. Tokens come out one step at a time: each step's straight-through Gumbel-softmax one-hot
(Jang et al. 2017) is fed back as the next input, so gradients reach the generator through
discrete choices. Discrete generators can be pretrained by teacher-forced MLE first (SeqGAN).

Discriminator: bidirectional RNN over the sequence -> features -> real/fake score, plus a
projection term <label, features> (Miyato & Koyama 2018) and an auxiliary classifier (AC-GAN)
when conditional. Loss: non-saturating; options: feature matching and one-sided label smoothing
(Salimans et al. 2016), several D steps per G step, a mode-seeking term (Mao et al. 2019) and a
minibatch-spread feature in D (Karras et al. 2018), both against within-class collapse.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import SeqModel, SequenceInput, adam, pick_tokens
from .config import ModelConfig, TrainConfig
from .recurrent import Recurrent, final_features


class Generator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.inputs = SequenceInput(cfg)
        cond = cfg.embed if cfg.conditional else 0
        self.label_embedding = nn.Embedding(cfg.n_labels, cfg.embed) if cfg.conditional else None
        prev = self.inputs.size if cfg.discrete else 0
        self.rnn = Recurrent(cfg.cell, cfg.latent + cond + cfg.step_noise + prev, cfg.hidden, cfg.layers)
        self.to_state = nn.Linear(cfg.latent + cond, self.rnn.state_size)
        self.out = nn.Linear(cfg.hidden, cfg.n_features)

    def noise(self, n: int, generator: torch.Generator | None = None, device=None):
        z = torch.randn(n, self.cfg.latent, generator=generator)
        steps = torch.randn(n, self.cfg.seq_len, self.cfg.step_noise, generator=generator)
        return z.to(device), steps.to(device)

    def _start(self, z, label):
        cond = z if self.label_embedding is None else torch.cat([z, self.label_embedding(label)], -1)
        return cond, self.rnn.initial_state(torch.tanh(self.to_state(cond)))

    def forward(self, z, step_noise, label=None, tau: float = 0.5, hard: bool = True,
                generator: torch.Generator | None = None, return_hidden: bool = False):
        """-> sequence: rows [B, T, F] in [0, 1], or one-hots [B, T, V] (differentiable)."""
        cond, state = self._start(z, label)
        T = self.cfg.seq_len
        if not self.cfg.discrete:
            steps = torch.cat([cond.unsqueeze(1).expand(-1, T, -1), step_noise], dim=-1)
            hidden, _ = self.rnn(steps, state)
            seq = torch.sigmoid(self.out(hidden))
            return (seq, hidden) if return_hidden else seq
        prev = self.inputs.first(len(z), z.device)
        outs, hiddens = [], []
        for t in range(T):
            h, state = self.rnn.step(torch.cat([cond, step_noise[:, t], prev], -1), state)
            logits = self.out(h)
            u = torch.rand(logits.shape, generator=generator).to(logits.device).clamp_(1e-9, 1 - 1e-9)
            one_hot = F.softmax((logits - torch.log(-torch.log(u))) / tau, dim=-1)
            if hard:  # straight-through: a real one-hot forward, the soft gradient backward
                idx = one_hot.argmax(-1, keepdim=True)
                one_hot = torch.zeros_like(one_hot).scatter_(-1, idx, 1.0) - one_hot.detach() + one_hot
            outs.append(one_hot)
            hiddens.append(h)
            prev = self.inputs(one_hot.unsqueeze(1)).squeeze(1)
        seq = torch.stack(outs, 1)
        return (seq, torch.stack(hiddens, 1)) if return_hidden else seq

    def mle_logits(self, x, z, step_noise, label=None):
        """Teacher-forced pass of a discrete generator (pretraining): logits [B, T, V]."""
        cond, state = self._start(z, label)
        steps = torch.cat([cond.unsqueeze(1).expand(-1, x.shape[1], -1), step_noise,
                           self.inputs.previous(x)], dim=-1)
        hidden, _ = self.rnn(steps, state)
        return self.out(hidden)


class Discriminator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.inputs = SequenceInput(cfg)
        self.rnn = Recurrent(cfg.cell, self.inputs.size, cfg.hidden, cfg.layers, bidirectional=True)
        self.features = nn.Sequential(nn.Linear(4 * cfg.hidden + cfg.minibatch_std, cfg.hidden), nn.LeakyReLU(0.2))
        self.score = nn.Linear(cfg.hidden, 1)
        self.projection = nn.Embedding(cfg.n_labels, cfg.hidden) if cfg.conditional else None
        self.classifier = nn.Linear(cfg.hidden, cfg.n_labels) if cfg.conditional else None

    def forward(self, seq, label=None):
        """seq: rows [B, T, F] or (soft) one-hots [B, T, V] -> (score [B], class logits, features)."""
        outputs, state = self.rnn(self.inputs(seq))
        summary = torch.cat([final_features(outputs, state, True), outputs.mean(1)], -1)
        if self.cfg.minibatch_std:  # Karras et al. 2018: one extra feature, the batch's mean spread
            spread = summary.std(0, unbiased=False).mean() if len(summary) > 1 else summary.new_zeros(())
            summary = torch.cat([summary, spread.expand(len(summary), 1)], -1)
        feats = self.features(summary)
        score = self.score(feats).squeeze(-1)
        logits = None
        if self.projection is not None:
            score = score + (self.projection(label) * feats).sum(-1)
            logits = self.classifier(feats)
        return score, logits, feats


class RNNGAN(SeqModel):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(cfg)
        self.discriminator = Discriminator(cfg)

    def configure_optimizers(self, train: TrainConfig):
        betas = (0.5, 0.999)
        return {"g": adam(self.generator.parameters(), train.lr, betas),
                "d": adam(self.discriminator.parameters(), train.lr_d or train.lr, betas)}

    def _as_input(self, x):
        return F.one_hot(x, self.cfg.n_features).float() if self.cfg.discrete else x

    def _random_labels(self, n, device):
        return torch.randint(0, self.cfg.n_labels, (n,), device=device) if self.cfg.conditional else None

    def _fake(self, n, label):
        z, steps = self.generator.noise(n, device=self.device)
        return self.generator(z, steps, label, tau=self.cfg.gumbel_tau)

    def train_step(self, x, y, step: int, optimizers, train: TrainConfig, parallel=None,
                   part: str | None = None) -> dict[str, float]:
        """One discriminator and generator update; under torchrun `parallel` averages each side's gradients.
        `part` "d" or "g" updates that network alone (GAN Lab's single-player steps), and reports its figures
        only; the other network's weights do not change."""
        cfg = self.cfg
        if part not in (None, "d", "g"):
            raise ValueError(f"part must be 'd', 'g' or None, not {part!r}")
        if part is None and cfg.discrete and step < train.mle_steps:  # SeqGAN-style MLE pretraining of G
            return self._mle_step(x, y, optimizers["g"], train, parallel)
        real = self._as_input(x)
        y_real = y if cfg.conditional else None
        # Instance noise (Sonderby et al. 2017): blur the line between real and fake early on, so D
        # cannot win outright before G has learned anything; it fades out by the end of training.
        noise_std = cfg.instance_noise * max(0.0, 1.0 - step / max(train.steps, 1))
        blur = (lambda t: t + noise_std * torch.randn_like(t)) if noise_std > 0 and not cfg.discrete else (lambda t: t)
        d: dict[str, float] = {}
        g: dict[str, float] = {}
        if part != "g":
            for _ in range(train.d_steps if part is None else 1):
                loss_d, d_real, d_fake, d_grad = self._d_step(real, y_real, blur, optimizers["d"], train, parallel)
            d = {"d_loss": loss_d.item(), "d_real": float(torch.sigmoid(d_real.detach()).mean()),
                 "d_fake": float(torch.sigmoid(d_fake.detach()).mean()), "d_grad": d_grad}
        if part != "d":
            loss_g, g_grad = self._g_step(x, real, y_real, blur, optimizers["g"], train, parallel)
            g = {"g_loss": loss_g.item(), "g_grad": g_grad}
        order = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad")    # the CLI's progress line shows the first four
        both = {**d, **g}
        return {k: both[k] for k in order if k in both}

    @staticmethod
    def _clip(net, train: TrainConfig, parallel) -> float:
        """Average the gradients across processes (torchrun), clip them -> their norm before clipping."""
        if parallel is not None:
            parallel.average_gradients(net.parameters())
        return float(nn.utils.clip_grad_norm_(net.parameters(), train.grad_clip))

    def _mle_step(self, x, y, opt, train: TrainConfig, parallel=None) -> dict[str, float]:
        G = self.generator
        opt.zero_grad(set_to_none=True)
        z, steps = G.noise(len(x), device=self.device)
        logits = G.mle_logits(x, z, steps, y if self.cfg.conditional else None)
        loss = F.cross_entropy(logits.transpose(1, 2), x)
        loss.backward()
        self._clip(G, train, parallel)
        opt.step()
        return {"mle": loss.item()}

    def _d_step(self, real, y_real, blur, opt, train: TrainConfig, parallel=None):
        cfg, D, n = self.cfg, self.discriminator, len(real)
        y_fake = self._random_labels(n, self.device)
        with torch.no_grad():
            fake = self._fake(n, y_fake)
        d_real, cls_real, _ = D(blur(real), y_real)
        d_fake, _, _ = D(blur(fake), y_fake)
        real_target = 1.0 - cfg.label_smoothing
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_target))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        if cls_real is not None and cfg.aux_classifier > 0:
            loss_d = loss_d + cfg.aux_classifier * F.cross_entropy(cls_real, y_real)
        opt.zero_grad(set_to_none=True)
        loss_d.backward()
        norm = self._clip(D, train, parallel)
        opt.step()
        return loss_d, d_real, d_fake, norm

    def _g_step(self, x, real, y_real, blur, opt, train: TrainConfig, parallel=None):
        cfg, G, D, n = self.cfg, self.generator, self.discriminator, len(real)
        y_fake = self._random_labels(n, self.device)
        if cfg.mode_seeking > 0 and y_fake is not None:
            y_fake = y_fake[: (n + 1) // 2].repeat(2)[:n]  # pairs: sample i and i + n//2 share a label
        z, steps = G.noise(n, device=self.device)
        fake = G(z, steps, y_fake, tau=cfg.gumbel_tau)
        g_score, cls_fake, feats_fake = D(blur(fake), y_fake)
        loss_g = F.binary_cross_entropy_with_logits(g_score, torch.ones_like(g_score))
        if cfg.mode_seeking > 0 and n >= 2:
            # MSGAN: two noises for the same label should give outputs as far apart as the noises are
            h = n // 2
            noise = torch.cat([z, steps.flatten(1)], -1)
            out_gap = (fake[:h] - fake[h:2 * h]).abs().mean()
            noise_gap = (noise[:h] - noise[h:2 * h]).abs().mean()
            loss_g = loss_g + cfg.mode_seeking / (out_gap / noise_gap + 1e-5)
        if cls_fake is not None and cfg.aux_classifier > 0:
            loss_g = loss_g + cfg.aux_classifier * F.cross_entropy(cls_fake, y_fake)
        if cfg.feature_matching > 0:
            with torch.no_grad():
                _, _, feats_real = D(blur(real), y_real)
            loss_g = loss_g + cfg.feature_matching * (feats_fake.mean(0) - feats_real.mean(0)).pow(2).sum()
        if cfg.discrete and cfg.mle_weight > 0:
            z, steps = G.noise(n, device=self.device)
            logits = G.mle_logits(x, z, steps, y_real)
            loss_g = loss_g + cfg.mle_weight * F.cross_entropy(logits.transpose(1, 2), x)
        opt.zero_grad(set_to_none=True)
        loss_g.backward()
        norm = self._clip(G, train, parallel)
        opt.step()
        return loss_g, norm

    @torch.no_grad()
    def evaluate(self, x, y, batch_size: int = 500) -> dict[str, float]:
        """Mean D(real) on held-out data and D(fake) on as many samples: how well each side is doing."""
        was_training = self.training
        self.eval()
        x = x[:batch_size].to(self.device)
        y = y[:batch_size].to(self.device) if (y is not None and self.cfg.conditional) else None
        g = torch.Generator().manual_seed(1234)
        fake = self.generate(len(x), y, generator=g, hard=True)
        d_real = torch.sigmoid(self.discriminator(self._as_input(x), y)[0]).mean()
        d_fake = torch.sigmoid(self.discriminator(fake, y)[0]).mean()
        self.train(was_training)
        return {"d_real": float(d_real), "d_fake": float(d_fake)}

    def generate(self, n, label=None, generator=None, hard=True, return_hidden=False, noise=None):
        z, steps = noise if noise is not None else self.generator.noise(n, generator, self.device)
        return self.generator(z, steps, label, tau=self.cfg.gumbel_tau if hard else 1.0, hard=hard,
                              generator=generator, return_hidden=return_hidden)

    @torch.inference_mode()
    def sample(self, n: int, label: torch.Tensor | None = None, temperature: float = 1.0,
               generator: torch.Generator | None = None, return_hidden: bool = False, noise=None):
        """-> rows [n, T, F] in [0, 1] or tokens [n, T]. `label`: int64 [n] for conditional models."""
        if self.cfg.conditional and label is None:
            raise ValueError("this GAN is conditional: pass a label")
        if label is not None:
            label = label.to(self.device)
        if not self.cfg.discrete:
            return self.generate(n, label, generator, return_hidden=return_hidden, noise=noise)
        # argmax(logits + Gumbel noise) is a draw from softmax(logits): temperature 1 is the trained
        # generator's own distribution, lower is more conservative, 0 is greedy
        return self._sample_tokens(n, label, temperature, generator, return_hidden, noise)

    def _sample_tokens(self, n, label, temperature, generator, return_hidden, noise):
        G = self.generator
        z, steps = noise if noise is not None else G.noise(n, generator, self.device)
        cond, state = G._start(z, label)
        # The input is [cond | step noise | previous token]: project cond once and each step's noise in one
        # batched matmul, outside the loop; the cell then reads only the previous token (Recurrent.stepper).
        w_ih, b_ih = G.rnn.input_weights()
        c, k = cond.shape[1], steps.shape[2]
        base = torch.addmm(b_ih, cond, w_ih[:, :c].t())
        noise_bias = base.unsqueeze(1) + steps @ w_ih[:, c:c + k].t()    # [n, T, G*H]
        step = G.rnn.stepper(state, w_ih[:, c + k:], base)
        emb = G.inputs.embedding.weight
        tok = torch.full((n,), G.inputs.start_id, dtype=torch.long, device=self.device)
        toks, hiddens = [], []
        for t in range(self.cfg.seq_len):
            h = step(emb[tok], noise_bias[:, t])
            tok = pick_tokens(G.out(h), temperature, generator)
            toks.append(tok)
            hiddens.append(h)
        seq = torch.stack(toks, 1)
        return (seq, torch.stack(hiddens, 1)) if return_hidden else seq
