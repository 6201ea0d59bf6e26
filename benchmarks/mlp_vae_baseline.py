"""Quality bar of the 2-D image VAEs: seqgen's RNN-VAE vs a plain MLP VAE with the same 2-D latent, same data,
same time.

    python benchmarks/mlp_vae_baseline.py                 # digits-vae; budget: the preset's (see --minutes)
    python benchmarks/mlp_vae_baseline.py --preset fashion-vae --minutes 6 --concurrent --shipped
    python benchmarks/mlp_vae_baseline.py --minutes 4 --shipped --json benchmarks/results/mlp_vae.json
    python benchmarks/mlp_vae_baseline.py --quick         # 0.3-minute smoke test

Baseline (pytorch/examples vae/main.py, with a 2-D latent): 784 -> 400 (ReLU) -> (mu, logvar) 2-D; z -> 400 (ReLU)
-> 784 logits; Adam lr 1e-3, batch 128. Likelihood exactly as seqgen's RNNVAE._terms: Bernoulli on the binarised
pixels (x > 0.5), the encoder reads the grey-level pixels. Both models train on the preset domain's training split,
for the same budget of training-step time (validation passes do not count, as in seqgen's Trainer), keep the weights
that did best on the validation split (early stopping), and are scored on the test split by the same
procedure as RNNVAE.evaluate: one z sample per image with torch.manual_seed(1234), batches of 500, negative ELBO =
sum over 784 pixels of the Bernoulli NLL + KL, in nats per image.

The two trainings run one after the other (default) or at the same time (--concurrent), each in its own fresh
process with --threads torch threads (default 1), OMP_WAIT_POLICY=PASSIVE.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (OMP_WAIT_POLICY=PASSIVE before torch; repo root on sys.path)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

LITERATURE_NATS = 135.7  # 2-D Gaussian VAE on the full binarised MNIST (60k train images)
DEFAULT_MINUTES = 4.0    # used when the preset sets no max_minutes


class MLPVAE(nn.Module):
    """pytorch/examples vae/main.py, latent 2 instead of 20, logits out (BCE-with-logits = BCE after sigmoid)."""

    def __init__(self, latent: int = 2, hidden: int = 400, pixels: int = 784):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x):
        h = F.relu(self.fc1(x.reshape(len(x), -1)))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def terms(self, x):
        """Per-image Bernoulli NLL of the binarised pixels [B] and KL [B] (one reparameterised z sample)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z)
        target = (x.reshape(len(x), -1) > 0.5).float()
        recon = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
        kl = (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).sum(1)
        return recon, kl

    @torch.no_grad()
    def evaluate(self, x, batch_size: int = 500) -> dict:
        """Same procedure as seqgen RNNVAE.evaluate: fixed seed 1234, one z per image, batches of 500."""
        was = self.training
        self.eval()
        rng = torch.random.get_rng_state()
        torch.manual_seed(1234)
        r_sum = k_sum = 0.0
        for i in range(0, len(x), batch_size):
            recon, kl = self.terms(x[i:i + batch_size])
            r_sum += float(recon.sum())
            k_sum += float(kl.sum())
        torch.random.set_rng_state(rng)
        self.train(was)
        n = len(x)
        return {"neg_elbo": (r_sum + k_sum) / n, "recon": r_sum / n, "kl": k_sum / n}


# --------------------------------------------------------------------------------------------- workers
def preset_domain(preset: str):
    from seqgen import get_domain
    from seqgen.presets import configure
    return get_domain(configure(preset)[0].domain)


def train_mlp(preset: str, minutes: float, seed: int, batch_size: int, lr: float, eval_every: int) -> dict:
    dom = preset_domain(preset)
    x, _ = dom.dataset("train")
    vx, _ = dom.dataset("val")
    tx, _ = dom.dataset("test")
    torch.manual_seed(seed)
    model = MLPVAE()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    budget, elapsed, step = minutes * 60, 0.0, 0
    best, best_state, history = None, None, []
    order, cursor = torch.empty(0, dtype=torch.long), 0

    def validate():
        nonlocal best, best_state
        v = model.evaluate(vx)
        history.append({"step": step, "time": elapsed, **v})
        if best is None or v["neg_elbo"] < best["neg_elbo"]:
            best = {"step": step, "time": elapsed, **v}
            best_state = copy.deepcopy(model.state_dict())

    model.train()
    while elapsed < budget:
        t0 = time.perf_counter()
        if cursor + batch_size > len(order):
            order, cursor = torch.randperm(len(x), generator=g), 0
        xb = x[order[cursor:cursor + batch_size]]
        cursor += batch_size
        recon, kl = model.terms(xb)
        loss = (recon + kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        elapsed += time.perf_counter() - t0
        if step % eval_every == 0:
            validate()
    if not history or history[-1]["step"] != step:
        validate()
    last_val = history[-1]["neg_elbo"]
    model.load_state_dict(best_state)
    test = model.evaluate(tx)
    return {"model": "MLP VAE (pytorch/examples, z=2)", "parameters": sum(p.numel() for p in model.parameters()),
            "steps": step, "train_seconds": elapsed, "best_val": best, "last_val_neg_elbo": last_val,
            "evals": len(history), "test": test,
            "recipe": f"784-400-2-400-784, Adam lr {lr:g}, batch {batch_size}, val every {eval_every} steps"}


def train_rnn(preset: str, minutes: float, seed: int, eval_every: int | None) -> dict:
    from seqgen.models import build_model
    from seqgen.presets import configure
    from seqgen.training import Trainer
    over = {"max_minutes": minutes, "steps": 10 ** 9, "seed": seed}
    if eval_every:
        over["eval_every"] = eval_every
    mc, tc, _ = configure(preset, train_overrides=over)
    dom = preset_domain(preset)
    model = build_model(mc)
    res = Trainer(model, dom, tc).fit()  # keeps the best-validation weights
    last_val = res.validation[-1]["neg_elbo"] if res.validation else None
    tx, ty = dom.dataset("test")
    test = model.evaluate(tx, ty)
    return {"model": f"seqgen {preset} preset ({mc.cell.upper()} {mc.hidden}, z={mc.latent}, "
                     f"{'AR' if mc.autoregressive else 'non-AR'} decoder)",
            "parameters": model.num_parameters(), "steps": res.steps, "train_seconds": res.elapsed,
            "best_val": {k: v for k, v in (res.best or {}).items() if k in ("step", "time", "neg_elbo", "recon", "kl")},
            "last_val_neg_elbo": last_val, "evals": len(res.validation),
            "test": {k: test[k] for k in ("neg_elbo", "recon", "kl")},
            "recipe": f"preset {preset}: batch {tc.batch_size}, lr {tc.lr:g}, val every {tc.eval_every} steps, "
                      f"bf16={tc.bf16}"}


def eval_shipped(preset: str) -> dict:
    import seqgen
    try:
        ck = seqgen.load(preset)
    except seqgen.CheckpointError as e:
        return {"error": str(e)}
    tx, ty = preset_domain(preset).dataset("test")
    test = ck.model.evaluate(tx, ty)
    cfg = ck.config
    return {"model": f"shipped checkpoints/{preset} ({cfg.cell.upper()} {cfg.hidden}, z={cfg.latent})",
            "parameters": ck.model.num_parameters(), "steps": ck.info.get("steps"),
            "train_seconds": ck.info.get("train_seconds"), "description": ck.info.get("description", ""),
            "test": {k: test[k] for k in ("neg_elbo", "recon", "kl")}}


def worker(args) -> None:
    torch.set_num_threads(args.threads)
    if args.worker == "mlp":
        out = train_mlp(args.preset, args.minutes, args.seed, args.mlp_batch, args.mlp_lr, args.mlp_eval_every)
    elif args.worker == "rnn":
        out = train_rnn(args.preset, args.minutes, args.seed, args.rnn_eval_every)
    else:
        out = eval_shipped(args.preset)
    out["threads"] = torch.get_num_threads()
    Path(args.out).write_text(json.dumps(out))


# --------------------------------------------------------------------------------------------- main
def default_minutes(preset: str) -> tuple[float, str]:
    from seqgen.presets import configure
    _, tc, _ = configure(preset)
    if tc.max_minutes:
        return float(tc.max_minutes), f"the {preset} preset's max_minutes"
    return DEFAULT_MINUTES, f"the {preset} preset sets no max_minutes: a {DEFAULT_MINUTES:g}-minute budget"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="digits-vae", help="the seqgen preset to compare (a 2-D image VAE)")
    ap.add_argument("--minutes", type=float, help="training-time budget per model (default: the preset's budget)")
    ap.add_argument("--quick", action="store_true", help="0.3-minute smoke test")
    ap.add_argument("--concurrent", action="store_true",
                    help="train both at once in two processes (default: one after the other)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per training process (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shipped", action="store_true", help="also evaluate the shipped checkpoint of that name on the test split")
    ap.add_argument("--mlp-batch", type=int, default=128)
    ap.add_argument("--mlp-lr", type=float, default=1e-3)
    ap.add_argument("--mlp-eval-every", type=int, default=32, help="MLP validation interval in steps (~1 epoch)")
    ap.add_argument("--rnn-eval-every", type=int, help="override the preset's eval_every (validation interval)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--worker", choices=("mlp", "rnn", "shipped"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick and args.minutes is None:
        args.minutes = 0.3
        args.rnn_eval_every = args.rnn_eval_every or 20
    if args.minutes is None:
        args.minutes, source = default_minutes(args.preset)
    else:
        source = "--quick" if args.quick else "--minutes"
    if args.worker:
        worker(args)
        return 0

    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    mode = "concurrently (two processes)" if args.concurrent else "one after the other"
    print(f"Budget {args.minutes:g} min of training-step time per model ({source}); trainings run {mode}, "
          f"{args.threads} torch thread(s) each; load average {common.load_average()}.", file=sys.stderr, flush=True)
    results: dict = {}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        def cmd(kind):
            c = [sys.executable, __file__, "--worker", kind, "--out", f"{tmp}/{kind}.json", "--preset", args.preset,
                 "--minutes", str(args.minutes), "--threads", str(args.threads), "--seed", str(args.seed),
                 "--mlp-batch", str(args.mlp_batch), "--mlp-lr", str(args.mlp_lr),
                 "--mlp-eval-every", str(args.mlp_eval_every)]
            if args.rnn_eval_every:
                c += ["--rnn-eval-every", str(args.rnn_eval_every)]
            return c
        kinds = ["mlp", "rnn"]
        if args.concurrent:
            procs = {k: subprocess.Popen(cmd(k), env=env) for k in kinds}
            for k, p in procs.items():
                if p.wait() != 0:
                    raise SystemExit(f"{k} training failed (exit {p.returncode})")
        else:
            for k in kinds:
                print(f"training {k} ...", file=sys.stderr, flush=True)
                subprocess.run(cmd(k), env=env, check=True)
        if args.shipped:
            subprocess.run(cmd("shipped"), env=env, check=True)
            kinds.append("shipped")
        for k in kinds:
            results[k] = json.loads(Path(f"{tmp}/{k}.json").read_text())

    mlp, rnn = results["mlp"]["test"]["neg_elbo"], results["rnn"]["test"]["neg_elbo"]
    summary = {"budget_minutes": args.minutes, "budget_source": source, "mode": mode, "threads": args.threads,
               "machine": common.machine_info(), "wall_seconds": time.perf_counter() - t_start,
               "mlp_test_neg_elbo": mlp, "rnn_test_neg_elbo": rnn, "rnn_over_mlp": rnn / mlp,
               "preset": args.preset, "rnn_beats_mlp": rnn < mlp, "literature_nats": LITERATURE_NATS, "runs": results}

    dom = preset_domain(args.preset)
    sizes = " / ".join(f"{len(dom.dataset(s)[0]):,} {s}" for s in ("train", "val", "test"))
    print(f"\n### {args.preset} (z=2) vs MLP VAE: held-out negative ELBO, nats per test image (lower is better)\n")
    print(f"Budget {args.minutes:g} min of training-step time each ({source}); trained {mode}, {args.threads} "
          f"thread(s) each; {dom.title}: {sizes} (early stopping on val); binarised at 0.5.\n")
    print("| model | params | steps | train s | best val step | val -ELBO (best / last) | test -ELBO | recon | KL |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for k in ("mlp", "rnn", "shipped"):
        r = results.get(k)
        if not r:
            continue
        if "error" in r:
            print(f"| shipped checkpoint | | | | | | {r['error']} | | |")
            continue
        bv = r.get("best_val") or {}
        val = f"{bv['neg_elbo']:.1f} / {r['last_val_neg_elbo']:.1f}" if bv else ""
        t = r["test"]
        ts = r.get("train_seconds")
        print(f"| {r['model']} | {r['parameters']:,} | {r.get('steps') or ''} | {'' if ts is None else f'{ts:.0f}'} | "
              f"{bv.get('step', '')} | {val} | **{t['neg_elbo']:.1f}** | {t['recon']:.1f} | {t['kl']:.2f} |")
    verdict = "below (better than)" if rnn < mlp else "NOT below"
    print(f"\nRNN-VAE / MLP-VAE = {rnn / mlp:.3f}: the RNN-VAE is {verdict} the MLP baseline "
          f"({rnn:.1f} vs {mlp:.1f} nats).")
    if args.preset == "digits-vae":
        print(f"Context: a 2-D Gaussian VAE on the full binarised MNIST (60,000 training images) reaches about "
              f"{LITERATURE_NATS} nats; with 4,000 training images expect higher.")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
