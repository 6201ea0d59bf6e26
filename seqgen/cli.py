"""Command line: python -m seqgen list | train | sample | eval   (each has --help)."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

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


def cmd_eval(args) -> int:
    from . import checkpoints, evaluation
    from .cards import render_card

    from .devices import resolve_device
    ckpt = checkpoints.load(args.checkpoint, device=resolve_device(args.device))
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
    from .cli_generate import add_complete_parser, add_device_argument, add_sample_parser
    from .cli_train import add_train_parser

    p = argparse.ArgumentParser(prog="python -m seqgen", description="Train, sample and evaluate recurrent "
                                "GANs and VAEs on digits, names and melodies.", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list shipped and user checkpoints")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(fn=cmd_list)

    add_train_parser(sub)
    add_sample_parser(sub)
    add_complete_parser(sub)

    s = sub.add_parser("eval", help="print the quality figures of a checkpoint on the test split")
    s.add_argument("checkpoint")
    s.add_argument("-n", type=int, default=1000, help="samples to draw for sample-based metrics")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0, help="token sampling temperature")
    s.add_argument("--quick", action="store_true", help="skip the slow parts (TSTR, importance-weighted NLL)")
    s.add_argument("--write", action="store_true", help="store the figures in config.json and the model card")
    add_device_argument(s)
    s.set_defaults(fn=cmd_eval)
    return p


def main(argv: list[str] | None = None, entry_point: bool = False) -> int:
    """entry_point: called as `python -m seqgen`, where `train` may start one process per core (cli_train)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv, args.entry_point = argv, entry_point
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
