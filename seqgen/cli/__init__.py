"""Command line: python -m seqgen list | train | sample | complete | eval   (each has --help).

    common.py    messages, printing, the arguments several commands share
    report.py    list, eval
    train.py     train (one process, or each process of a torchrun launch)
    generate.py  sample, complete
"""
from __future__ import annotations

import argparse
import os
import sys

from ..locale import cli_translations, in_language
from .common import _, printable

EPILOG = """examples:
  python -m seqgen list
  python -m seqgen train --domain digits --family vae --latent 2 --steps 300 --name my-digits
  python -m seqgen sample my-digits -n 16 --out samples/
  python -m seqgen eval my-digits
  python -m seqgen train --data our-names.txt --kind text --family vae   # your own data
"""


def build_parser() -> argparse.ArgumentParser:
    from .common import add_device_argument
    from .generate import add_complete_parser, add_sample_parser
    from .report import cmd_eval, cmd_list
    from .train import add_train_parser

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
    """entry_point: called as `python -m seqgen`, where `train` may start one process per core (cli/train.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv, args.entry_point = argv, entry_point
    from ..checkpoints import CheckpointError
    try:
        return args.fn(args)
    except (CheckpointError, ValueError) as e:
        print(_("error: {error}").format(error=printable(in_language(e, cli_translations()), 1000)), file=sys.stderr)
        return 2
    except OSError as e:
        print(_("error: {error}").format(error=printable(e.strerror or e, 1000)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - one line, not a traceback; SEQGEN_DEBUG=1 shows it
        if os.environ.get("SEQGEN_DEBUG"):
            raise
        print(_("error: unexpected {kind}: {error} (SEQGEN_DEBUG=1 shows the traceback)").format(
            kind=type(e).__name__, error=printable(e, 500)), file=sys.stderr)
        return 1
