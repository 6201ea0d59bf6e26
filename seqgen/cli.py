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

from .locale import cli_translations


def _(message: str) -> str:
    """A user-facing message in the terminal's language ($SEQGEN_LANG, else $LANGUAGE / $LC_ALL / $LANG)."""
    return cli_translations().gettext(message)

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
            print(f"{_printable(r['name']):24} damaged: {_printable(r['error'])}")
            continue
        where = "shipped" if r["shipped"] else _printable(r["path"])
        print(f"{r['name']:24} {r['domain']:9} {r['family']:10} {r['parameters'] or 0:>9,} "
              f"{(r['file_bytes'] or 0) / 1e6:>6.2f}MB  {where}")
    return 0


def _printable(text, limit: int = 300) -> str:
    """One terminal line: control characters (escape sequences in a folder name) shown as '?'."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def cmd_train(args) -> int:
    import torch

    from . import checkpoints
    from .configurator import overrides
    from .domains import get_domain
    from .models import build_model
    from .presets import configure
    from .training import Trainer, TrainingDiverged, save_trained, seed_everything
    from .training.publish import check_save_name

    model_over, train_over = overrides(args)
    model_cfg, train_cfg, preset = configure(args.preset, args.domain, args.family, model_over, train_over)
    out_dir = Path(args.out) if args.out else checkpoints.user_dir()
    shipping = out_dir.resolve() == checkpoints.SHIPPED_DIR.resolve()
    base = args.preset or f"{model_cfg.domain}-{model_cfg.family}"
    # Shipped names belong to checkpoints/ (the user folder is searched after it), so a user run's default
    # name is its own: the live page's check_save_name policy, with --force for 'replace'.
    name = args.name if args.name is not None else (base if shipping else f"{base}-mine")
    target = check_save_name(name, replace=args.force, folder=out_dir, how_to_replace="pass --force to replace it")
    name = target.name
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
        print(_("error: {error} Nothing was written.").format(error=e), file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(_("interrupted: nothing was written"), file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    info = _card_info(args, preset, train_cfg, result, time.time() - t0)
    path = save_trained(model, target, info, replace=args.force)
    shown = {k: round(v, 4) for k, v in info["validation"].items()
             if isinstance(v, float) and not k.startswith("kl_dim")}
    print(f"saved {path} after {result.steps} steps in {info['train_seconds']:.0f} s ({result.status}); "
          f"validation: {shown}")
    return 0


def _card_info(args, preset, train_cfg, result, seconds: float) -> dict:
    """What the checkpoint and its card record about a command-line training run."""
    command = "python -m seqgen " + shlex.join(args.argv)
    if result.status == "stopped":
        command += f"  # stopped by hand after {result.steps} steps: add --steps {result.steps} to reproduce"
    return {
        "description": args.description or preset.description,
        "command": command,
        "train": train_cfg.to_dict(),
        "train_seconds": round(seconds, 1),
        "steps": result.steps, "status": result.status, "machine": _machine(),
        "data_split": ("the domain's full installed training set" if train_cfg.data == "full" else "bundled data")
                      + ", fixed seeded split (see seqgen/domains/data/NOTICE); trained on 'train', "
                      "best weights chosen on 'val', metrics on 'test'",
        "validation": result.best or (result.validation[-1] if result.validation else {}),
        "limitations": list(preset.limitations),
        "tried": list(preset.tried),
    }


def _eval_printer(model):
    """Print validation figures (and cheap sample quality) at each eval, so long runs can be watched."""
    from . import evaluation

    def show(event):
        if event.kind != "eval":
            return
        figures = {k: v for k, v in event.stats.items() if isinstance(v, float) and not k.startswith("kl_dim")}
        figures.update(evaluation.quick(model))
        text = " ".join(f"{k}={v:.4g}" for k, v in figures.items() if isinstance(v, float))
        print(f"[eval] step {event.step}: {text}", file=sys.stderr, flush=True)

    return show


def cmd_eval(args) -> int:
    from . import checkpoints, evaluation
    from .cards import render_card

    ckpt = checkpoints.load(args.checkpoint)
    t0 = time.time()
    figures = evaluation.evaluate(ckpt.model, n_samples=args.n, seed=args.seed, temperature=args.temperature,
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
    from .cli_generate import add_complete_parser, add_sample_parser
    from .configurator import add_setting_arguments
    from .domains import domain_names
    from .models import FAMILIES
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
    s.add_argument("--domain", choices=domain_names())
    s.add_argument("--family", choices=FAMILIES, help="vae | gan (lm and classifier are metric references)")
    s.add_argument("--name", help="checkpoint name (default: PRESET-mine, or DOMAIN-FAMILY-mine; with "
                   "--out checkpoints, the preset's own name)")
    s.add_argument("--out", help="folder to write into (default: user_models/; use checkpoints/ to ship)")
    s.add_argument("--force", action="store_true", help="replace an existing checkpoint of that name")
    s.add_argument("--description", help="one line for the model card")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    add_setting_arguments(s)
    s.set_defaults(fn=cmd_train)

    add_sample_parser(sub)
    add_complete_parser(sub)

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
        print(_("error: {error}").format(error=_printable(e, 1000)), file=sys.stderr)
        return 2
    except OSError as e:
        print(_("error: {error}").format(error=_printable(e.strerror or e, 1000)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - one line, not a traceback; SEQGEN_DEBUG=1 shows it
        if os.environ.get("SEQGEN_DEBUG"):
            raise
        print(_("error: unexpected {kind}: {error} (SEQGEN_DEBUG=1 shows the traceback)").format(
            kind=type(e).__name__, error=_printable(e, 500)), file=sys.stderr)
        return 1
