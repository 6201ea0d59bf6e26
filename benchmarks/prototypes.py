"""Prototype speed fixes for seqgen library code, measured against the current code in the same run.

    python benchmarks/prototypes.py [--quick]

Each prototype is a drop-in replacement that lives here until it is moved into the library; the script checks
that it gives the same result as the library function and prints old vs new time (median, 1 thread).

  synth   seqgen.audio._tone: harmonics by the Chebyshev recurrence sin((k+1)x) = 2cos(x)sin(kx) - sin((k-1)x)
          and the per-partial "bright decay" exp(-t*b*(k-1)) as powers of one exp(-t*b): 2 transcendental array
          ops per note instead of 2 per partial; no vibrato sine when the timbre has no vibrato.
  ar      RNNVAE.decode for autoregressive token decoders (names, melodies), LSTM: fold the constant z part of
          the first layer's input projection (plus both biases) into one [B, 4H] tensor and the token embedding
          into a [V+2, 4H] table once per call, so each step is table[tok] + one addmm with W_hh + the gate
          maths, instead of embedding + cat + lstm_cell (two matmuls) + two stacks.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401
from common import md_table, median, threads, time_reps  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402


# --------------------------------------------------------------------------------------------- synth
def tone_fast(pitch: int, dur: float, timbre, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Same output as seqgen.audio._tone (to ~1e-9), fewer sin/exp evaluations."""
    from seqgen.audio import midi_to_hz
    n = int(round((dur + timbre.release) * sr))
    t = np.arange(n) / sr
    f0 = float(midi_to_hz(pitch))
    if timbre.vibrato:
        freq = f0 * (1 + timbre.vibrato * np.sin(2 * np.pi * 5.5 * t) * np.minimum(t / 0.3, 1))
        phase = 2 * np.pi * np.cumsum(freq) / sr
    else:  # no vibrato sine to compute (the current code multiplies it by 0); same phase bit for bit
        phase = 2 * np.pi * np.cumsum(np.full(n, f0)) / sr
    s_prev, s_k = np.zeros(n), np.sin(phase)           # sin(0 * phase), sin(1 * phase)
    two_cos = 2 * np.cos(phase)
    step = np.exp(-t * timbre.bright_decay / max(timbre.decay, 1e-3)) if timbre.bright_decay else None
    damp = None
    wave = np.zeros(n)
    for k, a in enumerate(timbre.harmonics, start=1):
        if k > 1:
            s_prev, s_k = s_k, two_cos * s_k - s_prev
            if step is not None:
                damp = step if damp is None else damp * step
        if a == 0 or k * f0 >= 0.45 * sr:
            continue
        wave += a * s_k if damp is None else a * s_k * damp
    if timbre.breath:
        noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
        wave += timbre.breath * noise * len(timbre.harmonics)
    env = np.minimum(t / timbre.attack, 1.0)
    if timbre.decay:
        env *= np.exp(-t / timbre.decay)
    env *= np.clip((dur + timbre.release - t) / timbre.release, 0.0, 1.0)
    return wave * env


def bench_synth(quick: bool) -> list[list]:
    import seqgen.audio as audio
    from seqgen import get_domain
    dom = get_domain("melodies")
    x, _ = dom.dataset("test")
    melodies = [dom.to_artifact(s) for s in x[:4]]
    rows = []
    for inst in audio.INSTRUMENTS:
        old_tone = audio._tone

        def synth(notes=None, inst=inst):
            return [audio.synthesize(m, instrument=inst, n_steps=64) for m in melodies]
        ref = synth()
        audio._tone = tone_fast
        try:
            new = synth()
        finally:
            audio._tone = old_tone
        err = max(float(np.abs(a - b).max()) for a, b in zip(ref, new))
        wav_same = all(audio.to_wav_bytes(a, 22050) == audio.to_wav_bytes(b, 22050) for a, b in zip(ref, new))
        told, tnew = [], []
        for _ in range(3 if quick else 10):  # interleave old and new
            told += time_reps(synth, 1, 0)
            audio._tone = tone_fast
            try:
                tnew += time_reps(synth, 1, 0)
            finally:
                audio._tone = old_tone
        o, n = median(told) / len(melodies), median(tnew) / len(melodies)
        rows.append([inst, o * 1e3, n * 1e3, f"{o / n:.2f}x", f"{err:.1e}", "yes" if wav_same else "no (LSB)"])
    return rows


# --------------------------------------------------------------------------------------------- AR decode
@torch.inference_mode()
def fast_ar_decode(self, z, label=None, temperature: float = 0.0, generator=None):
    """Same tokens as RNNVAE.decode for a discrete autoregressive LSTM decoder (any number of layers)."""
    from seqgen.models.base import pick_tokens
    cfg = self.cfg
    assert cfg.discrete and cfg.autoregressive and cfg.cell == "lstm"
    z = z.to(self.device, torch.float32)
    cond = self._conditioning(z, label)
    h0, c0 = self.decoder.initial_state(torch.tanh(self.z_to_state(cond)))
    rnn, c_dim = self.decoder.rnn, cond.shape[1]
    w_ih = rnn.weight_ih_l0
    base = torch.addmm(rnn.bias_ih_l0 + rnn.bias_hh_l0, cond, w_ih[:, :c_dim].t())   # [B, 4H], constant
    table = self.inputs.embedding.weight @ w_ih[:, c_dim:].t()                      # [V+2, 4H]
    w_hh_t = rnn.weight_hh_l0.t()
    hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
    upper = [(getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}"), getattr(rnn, f"bias_ih_l{k}"),
              getattr(rnn, f"bias_hh_l{k}")) for k in range(1, cfg.layers)]
    out_w_t, out_b = self.out.weight.t(), self.out.bias
    tok = torch.full((len(z),), self.inputs.start_id, dtype=torch.long, device=self.device)
    toks = []
    for _ in range(cfg.seq_len):
        i, f, g, o = torch.addmm(base + table[tok], hs[0], w_hh_t).chunk(4, 1)
        cs[0] = torch.sigmoid(f) * cs[0] + torch.sigmoid(i) * torch.tanh(g)
        hs[0] = torch.sigmoid(o) * torch.tanh(cs[0])
        for k, w in enumerate(upper, start=1):
            hs[k], cs[k] = torch.lstm_cell(hs[k - 1], (hs[k], cs[k]), *w)
        tok = pick_tokens(torch.addmm(out_b, hs[-1], out_w_t), temperature, generator)
        toks.append(tok)
    return torch.stack(toks, 1)


def bench_ar(quick: bool) -> list[list]:
    from seqgen.models import build_model
    from seqgen.presets import configure
    rows = []
    for name in ("names-vae", "melodies-vae"):
        mc, _, _ = configure(name)
        if not (mc.discrete and mc.autoregressive and mc.cell == "lstm"):
            continue
        torch.manual_seed(0)
        m = build_model(mc).eval()
        for n, reps in ((1, 10 if quick else 100), (64, 3 if quick else 20)):
            z = torch.randn(n, mc.latent)
            for temp in (0.0, 1.0):
                g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
                same = torch.equal(m.decode(z, temperature=temp, generator=g1),
                                   fast_ar_decode(m, z, temperature=temp, generator=g2))
                to, tn = [], []
                for _ in range(reps):
                    to += time_reps(lambda: m.decode(z, temperature=temp), 1, 0)
                    tn += time_reps(lambda: fast_ar_decode(m, z, temperature=temp), 1, 0)
                rows.append([f"{name} ({mc.cell} {mc.hidden}, T={mc.seq_len})", n, temp, median(to) * 1e3,
                             median(tn) * 1e3, f"{median(to) / median(tn):.2f}x", "yes" if same else "NO"])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    with threads(1):
        rows = bench_synth(args.quick)
    print("### synthesize(): one 4-bar melody (64 steps, 90 bpm, 22.05 kHz), median ms per melody\n")
    print(md_table(["instrument", "current ms", "prototype ms", "speed-up", "max |diff|", "same WAV bytes"], rows))
    with threads(1):
        rows = bench_ar(args.quick)
    print("\n### RNNVAE.decode, autoregressive token decoders (preset sizes, untrained weights), median ms\n")
    print(md_table(["model", "batch", "temperature", "current ms", "prototype ms", "speed-up", "same tokens"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
