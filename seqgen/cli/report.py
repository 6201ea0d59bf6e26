"""The CLI's `list` and `eval`: what models there are, and how good one is on the test split."""
from __future__ import annotations

import json
import shlex
import time

from .common import printable


def cmd_list(args) -> int:
    from ..zoo import list_checkpoints
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
            print(f"{printable(r['name']):24} damaged: {printable(r['error'])}")
            continue
        where = "shipped" if r["shipped"] else printable(r["path"])
        print(f"{r['name']:24} {r['domain']:9} {r['family']:10} {r['parameters'] or 0:>9,} "
              f"{(r['file_bytes'] or 0) / 1e6:>6.2f}MB  {where}")
    return 0


def cmd_eval(args) -> int:
    from .. import checkpoints, evaluation, zoo
    from ..cards import render_card
    from ..devices import resolve_device

    ckpt = zoo.load(args.checkpoint, device=resolve_device(args.device))
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
