"""The CLI's `sample` and `complete`: write what a model makes (or finishes) as files a person can open."""
from __future__ import annotations

import math
import sys
from pathlib import Path

from .common import _, add_output_arguments, label_index, printable


def add_sample_parser(sub) -> None:
    s = sub.add_parser("sample", help="write samples (PNG / text / WAV+MIDI / WAV) from a checkpoint")
    s.add_argument("checkpoint", help="name (see `list`) or folder")
    s.add_argument("-n", type=int, default=16, help="how many")
    s.add_argument("--label", help="conditional models: the label (e.g. 7)")
    s.add_argument("--temperature", type=float, help="token sampling temperature (0 = greedy)")
    s.add_argument("--z", help="VAE: decode this latent point, e.g. 0.5,-1")
    add_output_arguments(s)
    s.set_defaults(fn=cmd_sample)


def add_complete_parser(sub) -> None:
    from ..kinds import kind_bases

    bases = kind_bases()
    s = sub.add_parser("complete", help="finish a start you give (a name's first letters, the top rows of a "
                       "drawing, the first bars of a MIDI melody, ...) several ways",
                       description="Keep the start exactly and let the model write the rest. Each kind of model "
                                   "takes its start with its own option. Files are written as `sample` writes them.")
    s.add_argument("checkpoint", help="name (see `list`) or folder: a VAE, GAN or language model")
    for base in bases:
        s.add_argument(f"--{base.start_flag}", dest=f"start_{base.start_flag}", help=f"{base.kind}: {base.start_help}")
    s.add_argument("--keep", *[f"--{b.keep_flag}" for b in bases if b.keep_flag], dest="keep", type=int,
                   help="how much of the start to keep: " + "; ".join(f"{b.kind}: {b.keep_help}" for b in bases
                                                                       if b.keep_help))
    s.add_argument("-n", type=int, default=8, help="how many completions")
    s.add_argument("--temperature", type=float, help="token sampling temperature; images: posterior spread")
    s.add_argument("--label", help="conditional models: the label")
    add_output_arguments(s)
    s.set_defaults(fn=cmd_complete)


def cmd_sample(args) -> int:
    import torch

    from .. import explore
    from ..devices import resolve_device
    from ..zoo import load

    if args.n < 1 or args.n > MAX_SAMPLES:
        print(_("error: -n must be between 1 and {max}").format(max=MAX_SAMPLES), file=sys.stderr)
        return 2
    if args.temperature is not None and not 0 <= args.temperature <= MAX_TEMPERATURE:
        print(_("error: --temperature must be between 0 and {max} (0 = always the likeliest token)").format(
            max=f"{MAX_TEMPERATURE:g}"), file=sys.stderr)
        return 2
    ckpt = load(args.checkpoint, device=resolve_device(args.device))
    cfg = ckpt.config
    if cfg.family not in ("vae", "gan"):
        print(_("error: {name} is a reference {family}, not a generator; sample a VAE or a GAN "
                "(see `python -m seqgen list`)").format(name=ckpt.name, family=cfg.family), file=sys.stderr)
        return 2
    domain = explore.domain_of(ckpt)
    labels = None
    if cfg.conditional:
        labels = [i % cfg.n_labels for i in range(args.n)] if args.label is None else \
            [label_index(domain, args.label)] * args.n
    if args.z is not None:
        if cfg.family != "vae":
            print(_("error: --z is only for VAEs"), file=sys.stderr)
            return 2
        z = _parse_z(args.z, cfg.latent)
        temperature = explore.default_temperature(ckpt) if args.temperature is None else args.temperature
        n = args.n
        if (not cfg.discrete or temperature == 0) and n > 1 and len(set(labels or [0])) == 1:
            # decoding one point (with one label) without sampling gives the same artifact every time
            print(f"note: --z {printable(args.z, 60)} decodes to one {domain.item_noun} every time "
                  f"({'continuous outputs' if not cfg.discrete else 'temperature 0'}), so 1 was written, not {n}",
                  file=sys.stderr)
            n = 1
            labels = labels[:1] if labels else labels
        z = z.repeat(n, 1)
        artifacts = explore.decode_z(ckpt, z, labels, temperature, torch.Generator().manual_seed(args.seed))
    else:
        artifacts = explore.sample(ckpt, args.n, args.seed, args.temperature, labels)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lines = domain.write_samples(artifacts, out, ckpt.name, tempo=args.tempo, instrument=args.instrument)
    except OSError as e:
        print(_("error: cannot write to {path}: {error}").format(path=out, error=e.strerror or e), file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


MAX_SAMPLES = 10_000
MAX_TEMPERATURE = 10.0
MAX_Z = 100.0     # a standard-normal prior: anything beyond a few units is far off the map already


def _parse_z(text: str, latent: int):
    import torch
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(_("--z takes {n} comma-separated numbers, like 0.5,-1 (got {text})").format(
            n=latent, text=repr(printable(text, 60)))) from None
    if not all(math.isfinite(v) and abs(v) <= MAX_Z for v in values):
        raise ValueError(_("--z values must be numbers between -{max} and {max}").format(max=f"{MAX_Z:g}"))
    if len(values) != latent:
        raise ValueError(_("--z needs {n} comma-separated numbers (got {got})").format(n=latent, got=len(values)))
    return torch.tensor([values])


def cmd_complete(args) -> int:
    from .. import explore
    from ..devices import resolve_device
    from ..kinds import kind_bases
    from ..zoo import load

    flags = {b.start_flag: b for b in kind_bases()}
    given = [(flag, getattr(args, f"start_{flag}")) for flag in flags if getattr(args, f"start_{flag}") is not None]
    if len(given) != 1:
        ways = ", ".join(f"--{f} ({b.kind})" for f, b in flags.items())
        print(f"error: give exactly one start: {ways}", file=sys.stderr)
        return 2
    flag, value = given[0]
    if not 1 <= args.n <= 64:
        print("error: -n must be between 1 and 64", file=sys.stderr)
        return 2
    if args.temperature is not None and not 0 <= args.temperature <= MAX_TEMPERATURE:
        print(f"error: --temperature must be between 0 and {MAX_TEMPERATURE:g}", file=sys.stderr)
        return 2
    if flags[flag].start_is_file and not Path(value).is_file():
        print(f"error: no such file: {printable(value, 200)}", file=sys.stderr)
        return 2
    ckpt = load(args.checkpoint, device=resolve_device(args.device))
    domain = explore.domain_of(ckpt)
    if flag != domain.start_flag:
        print(f"error: {ckpt.name} makes {domain.item_noun_plural}; give its start with --{domain.start_flag}",
              file=sys.stderr)
        return 2
    start, notes = domain.read_start(value)
    label = label_index(domain, args.label) if args.label is not None and ckpt.config.conditional else None
    result = explore.complete(ckpt, start, args.n, args.temperature, args.seed, args.keep, label)
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lines = domain.write_samples(result["artifacts"], out, f"{ckpt.name}-completed", tempo=args.tempo,
                                     instrument=args.instrument)
    except OSError as e:
        print(_("error: cannot write to {path}: {error}").format(path=out, error=e.strerror or e), file=sys.stderr)
        return 2
    print(f"kept the first {result['prefix_len']} steps; the model wrote the rest")
    print("\n".join(lines))
    return 0
