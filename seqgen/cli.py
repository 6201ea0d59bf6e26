"""Command line: python -m seqgen list | train | sample | eval   (each has --help)."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import sys
import time
from pathlib import Path

EPILOG = """examples:
  python -m seqgen list
  python -m seqgen train --domain digits --family vae --latent 2 --steps 300 --name my-digits
  python -m seqgen sample my-digits -n 16 --out samples/
  python -m seqgen eval my-digits
"""


def _machine() -> str:
    return f"{os.cpu_count()}-core {platform.machine()} CPU, torch threads={__import__('torch').get_num_threads()}"


def cmd_list(args) -> int:
    from .checkpoints import list_checkpoints
    rows = list_checkpoints()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No checkpoints found. Train one: python -m seqgen train --domain digits --family vae")
        return 0
    print(f"{'name':24} {'domain':9} {'family':10} {'params':>9} {'size':>8}  where")
    for r in rows:
        if "error" in r:
            print(f"{r['name']:24} damaged: {r['error']}")
            continue
        where = "shipped" if r["shipped"] else r["path"]
        print(f"{r['name']:24} {r['domain']:9} {r['family']:10} {r['parameters'] or 0:>9,} "
              f"{(r['file_bytes'] or 0) / 1e6:>6.2f}MB  {where}")
    return 0


MODEL_FLAGS = ("cell", "hidden", "layers", "embed", "latent", "conditional", "autoregressive", "beta",
               "free_bits", "word_dropout", "step_noise", "feature_matching", "label_smoothing",
               "aux_classifier", "gumbel_tau", "instance_noise", "mle_weight", "mode_seeking", "minibatch_std")
TRAIN_FLAGS = ("steps", "max_minutes", "batch_size", "lr", "lr_d", "d_steps", "mle_steps", "kl_anneal_steps",
               "seed", "eval_every", "bf16", "threads")


def cmd_train(args) -> int:
    import torch

    from . import checkpoints
    from .cards import render_card
    from .domains import get_domain
    from .models import build_model
    from .presets import configure
    from .training import Trainer, TrainingDiverged, seed_everything

    model_over = {k: getattr(args, k) for k in MODEL_FLAGS if getattr(args, k) is not None}
    train_over = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}
    model_cfg, train_cfg, preset = configure(args.preset, args.domain, args.family, model_over, train_over)
    name = args.name or f"{model_cfg.domain}-{model_cfg.family}"
    out_dir = Path(args.out) if args.out else checkpoints.user_dir()
    target = out_dir / name
    checkpoints.validate_name(name)
    if target.exists() and not args.force:
        print(f"error: {target} exists; pass --force to replace it", file=sys.stderr)
        return 2
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    domain = get_domain(model_cfg.domain)
    seed_everything(train_cfg.seed)  # the weight initialisation too, not only the batches
    model = build_model(model_cfg)
    print(f"training {name}: {model_cfg.domain} {model_cfg.family} ({model.num_parameters():,} parameters, "
          f"{model_cfg.cell} {model_cfg.hidden}) for {train_cfg.steps} steps"
          + (f" or {train_cfg.max_minutes} min" if train_cfg.max_minutes else ""), file=sys.stderr)
    trainer = Trainer(model, domain, train_cfg, progress=not args.quiet, callbacks=[_eval_printer(model)])
    t0 = time.time()

    def stop_gracefully(signum, frame):  # first Ctrl-C: finish the step, keep the best weights, save
        print("\nstopping after this step and saving (Ctrl-C again to abandon)", file=sys.stderr)
        trainer.stop_event.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop_gracefully)
    try:
        result = trainer.fit()
    except TrainingDiverged as e:
        print(f"error: {e} Nothing was written.", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    command = "python -m seqgen " + shlex.join(args.argv)
    if result.status == "stopped":
        command += f"  # stopped by hand after {result.steps} steps: add --steps {result.steps} to reproduce"
    info = {
        "description": args.description or preset.description,
        "command": command,
        "train": train_cfg.to_dict(),
        "train_seconds": round(time.time() - t0, 1),
        "steps": result.steps, "status": result.status, "machine": _machine(),
        "data_split": "bundled data, fixed seeded split (see seqgen/domains/data/NOTICE); trained on 'train', "
                      "best weights chosen on 'val', metrics on 'test'",
        "validation": result.best or (result.validation[-1] if result.validation else {}),
        "limitations": list(preset.limitations),
    }
    ckpt_card = render_card(name, model_cfg, {**info, "parameters": model.num_parameters()})
    path = checkpoints.save(model, target, info, card=ckpt_card)
    _, _, saved = checkpoints.read_info(path)
    checkpoints.update_info(path, {}, card=render_card(name, model_cfg, saved))  # card with file size
    best = result.best or (result.validation[-1] if result.validation else {})
    shown = {k: round(v, 4) for k, v in best.items() if isinstance(v, float) and not k.startswith("kl_dim")}
    print(f"saved {path} after {result.steps} steps in {info['train_seconds']:.0f} s ({result.status}); "
          f"validation: {shown}")
    return 0


def _eval_printer(model):
    """Print validation figures (and cheap sample quality) at each eval, so long runs can be watched."""
    from . import metrics

    def show(event):
        if event.kind != "eval":
            return
        figures = {k: v for k, v in event.stats.items() if isinstance(v, float) and not k.startswith("kl_dim")}
        figures.update(metrics.quick(model))
        text = " ".join(f"{k}={v:.4g}" for k, v in figures.items() if isinstance(v, float))
        print(f"[eval] step {event.step}: {text}", file=sys.stderr, flush=True)

    return show


def cmd_sample(args) -> int:
    import torch

    from .audio import synthesize, to_midi_bytes, to_wav_bytes
    from .checkpoints import load
    from .domains import get_domain
    from .render import image_grid, png_bytes, upscale

    ckpt = load(args.checkpoint)
    cfg, model = ckpt.config, ckpt.model
    domain = get_domain(cfg.domain)
    g = torch.Generator().manual_seed(args.seed)
    label = None
    if cfg.conditional:
        if args.label is None:
            label = torch.arange(args.n) % cfg.n_labels
        else:
            label = torch.full((args.n,), _label_index(domain, args.label), dtype=torch.long)
    if args.z is not None:
        if cfg.family != "vae":
            print("error: --z is only for VAEs", file=sys.stderr)
            return 2
        z = torch.tensor([[float(v) for v in args.z.split(",")]]).repeat(args.n, 1)
        if z.shape[1] != cfg.latent:
            print(f"error: --z needs {cfg.latent} comma-separated numbers", file=sys.stderr)
            return 2
        seqs = model.decode(z, label, args.temperature, g)
    else:
        temperature = args.temperature if args.temperature is not None else (0.0 if cfg.family == "vae"
                                                                              and not cfg.discrete else 1.0)
        seqs = model.sample(args.n, label, temperature=temperature, generator=g)
    artifacts = [domain.to_artifact(s) for s in seqs.cpu()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = ckpt.name
    if cfg.domain == "digits":
        path = out / f"{stem}.png"
        path.write_bytes(png_bytes(upscale(image_grid(__import__("numpy").stack(artifacts)), 3)))
        print(f"wrote {path} ({len(artifacts)} digits)")
    elif cfg.domain == "names":
        path = out / f"{stem}.txt"
        lines = [f"{a}\t{'known' if domain.is_known(a) else 'new'}" for a in artifacts]
        path.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        print(f"wrote {path}")
    else:
        for i, notes in enumerate(artifacts):
            wav = synthesize(notes, tempo_bpm=args.tempo, instrument=args.instrument, n_steps=cfg.seq_len)
            (out / f"{stem}-{i:02d}.wav").write_bytes(to_wav_bytes(wav, 22050))
            (out / f"{stem}-{i:02d}.mid").write_bytes(to_midi_bytes(notes, tempo_bpm=args.tempo))
            print(f"{stem}-{i:02d}: {domain.describe(notes)}")
        print(f"wrote {len(artifacts)} WAV and MIDI files to {out}")
    return 0


def _label_index(domain, label: str) -> int:
    names = [n.lower() for n in domain.label_names]
    if label.lower() in names:
        return names.index(label.lower())
    raise SystemExit(f"error: label must be one of {', '.join(domain.label_names)}")


def cmd_eval(args) -> int:
    from . import checkpoints, metrics
    from .cards import render_card

    ckpt = checkpoints.load(args.checkpoint)
    t0 = time.time()
    figures = metrics.evaluate(ckpt.model, n_samples=args.n, seed=args.seed, temperature=args.temperature,
                               tstr=not args.quick)
    print(f"{ckpt.name}: {ckpt.config.domain} {ckpt.config.family} ({time.time() - t0:.1f} s)")
    for k, v in figures.items():
        print(f"  {k:32} {v:.4f}" if isinstance(v, float) else f"  {k:32} {v}")
    if args.write:
        info = {**ckpt.info, "metrics": figures,
                "metrics_command": "python -m seqgen " + shlex.join(args.argv)}
        checkpoints.update_info(ckpt.path, {"metrics": figures, "metrics_command": info["metrics_command"]},
                                card=render_card(ckpt.name, ckpt.config, info))
        print(f"wrote metrics to {ckpt.path / 'config.json'} and the model card")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .domains import DOMAINS
    from .models import CELLS, FAMILIES
    from .presets import PRESETS

    p = argparse.ArgumentParser(prog="python -m seqgen", description="Train, sample and evaluate recurrent "
                                "GANs and VAEs on digits, names and melodies.", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list shipped and user checkpoints")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("train", help="train a model and write a checkpoint",
                       description="Train a model. Start from a preset (--preset, or --domain with --family); "
                                   "any flag below overrides the preset.")
    s.add_argument("--preset", choices=sorted(PRESETS), help="named configuration (see seqgen/presets.py)")
    s.add_argument("--domain", choices=DOMAINS)
    s.add_argument("--family", choices=FAMILIES, help="vae | gan (lm and classifier are metric references)")
    s.add_argument("--name", help="checkpoint name (default: DOMAIN-FAMILY)")
    s.add_argument("--out", help="folder to write into (default: user_models/; use checkpoints/ to ship)")
    s.add_argument("--force", action="store_true", help="replace an existing checkpoint of that name")
    s.add_argument("--description", help="one line for the model card")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    g = s.add_argument_group("model")
    g.add_argument("--cell", choices=CELLS)
    g.add_argument("--hidden", type=int, help="recurrent units per layer")
    g.add_argument("--layers", type=int)
    g.add_argument("--embed", type=int, help="embedding width for tokens and labels")
    g.add_argument("--latent", type=int, help="VAE: size of z; GAN: size of the global noise")
    g.add_argument("--conditional", action=argparse.BooleanOptionalAction, help="condition on the label")
    g.add_argument("--autoregressive", action=argparse.BooleanOptionalAction,
                   help="VAE decoder also reads its previous output")
    g.add_argument("--beta", type=float, help="VAE: weight of the KL term")
    g.add_argument("--free-bits", dest="free_bits", type=float, help="VAE: KL floor per dimension (nats)")
    g.add_argument("--word-dropout", dest="word_dropout", type=float, help="VAE: chance of hiding the previous token")
    g.add_argument("--step-noise", dest="step_noise", type=int, help="GAN: noise channels per step")
    g.add_argument("--feature-matching", dest="feature_matching", type=float, help="GAN: weight of feature matching")
    g.add_argument("--label-smoothing", dest="label_smoothing", type=float, help="GAN: one-sided label smoothing")
    g.add_argument("--aux-classifier", dest="aux_classifier", type=float, help="GAN: weight of the AC-GAN loss")
    g.add_argument("--gumbel-tau", dest="gumbel_tau", type=float, help="GAN (tokens): Gumbel-softmax temperature")
    g.add_argument("--instance-noise", dest="instance_noise", type=float, help="GAN (rows): noise on D's inputs")
    g.add_argument("--mode-seeking", dest="mode_seeking", type=float,
                   help="GAN: weight of the mode-seeking term (diversity within a label)")
    g.add_argument("--minibatch-std", dest="minibatch_std", action=argparse.BooleanOptionalAction,
                   help="GAN: let D see the batch's feature spread (against collapse)")
    g.add_argument("--mle-weight", dest="mle_weight", type=float,
                   help="GAN (tokens): likelihood term kept in G's loss after pretraining")
    g = s.add_argument_group("training")
    g.add_argument("--steps", type=int)
    g.add_argument("--minutes", dest="max_minutes", type=float, help="wall-clock budget (stops at steps or minutes)")
    g.add_argument("--batch-size", dest="batch_size", type=int)
    g.add_argument("--lr", type=float, help="learning rate")
    g.add_argument("--lr-d", dest="lr_d", type=float, help="GAN: discriminator learning rate")
    g.add_argument("--d-steps", dest="d_steps", type=int, help="GAN: D updates per G update")
    g.add_argument("--mle-steps", dest="mle_steps", type=int, help="GAN (tokens): MLE pretraining steps")
    g.add_argument("--kl-anneal", dest="kl_anneal_steps", type=int, help="VAE: steps to ramp beta from 0")
    g.add_argument("--seed", type=int)
    g.add_argument("--eval-every", dest="eval_every", type=int)
    g.add_argument("--bf16", choices=("auto", "on", "off"), help="bfloat16 autocast (auto: only with AMX)")
    g.add_argument("--threads", type=int, help="torch threads")
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("sample", help="write samples (PNG / text / WAV+MIDI) from a checkpoint")
    s.add_argument("checkpoint", help="name (see `list`) or folder")
    s.add_argument("-n", type=int, default=16, help="how many")
    s.add_argument("--label", help="conditional models: the label (e.g. 7)")
    s.add_argument("--temperature", type=float, help="token sampling temperature (0 = greedy)")
    s.add_argument("--z", help="VAE: decode this latent point, e.g. 0.5,-1")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="samples", help="output folder")
    s.add_argument("--tempo", type=float, default=90.0, help="melodies: beats per minute")
    s.add_argument("--instrument", default="piano", help="melodies: piano, organ, strings, flute")
    s.set_defaults(fn=cmd_sample)

    s = sub.add_parser("eval", help="print the quality figures of a checkpoint on the test split")
    s.add_argument("checkpoint")
    s.add_argument("-n", type=int, default=1000, help="samples to draw for sample-based metrics")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0, help="token sampling temperature")
    s.add_argument("--quick", action="store_true", help="skip the slow parts (TSTR, importance-weighted NLL)")
    s.add_argument("--write", action="store_true", help="store the figures in config.json and the model card")
    s.set_defaults(fn=cmd_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    from .checkpoints import CheckpointError
    try:
        return args.fn(args)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
