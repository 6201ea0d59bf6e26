"""The CLI's `sample` and `complete`: write what a model makes (or finishes) as files a person can open."""
from __future__ import annotations

import math
import sys
from pathlib import Path

from .cli import _, _printable


def add_device_argument(s) -> None:
    from .models.config import DEVICE_CHOICES
    s.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="where the model runs: auto (the GPU when torch sees one), cpu or cuda")


def _add_output_arguments(s) -> None:
    """The seed, the device and the files: what `sample` and `complete` share."""
    add_device_argument(s)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="samples", help="output folder")
    s.add_argument("--tempo", type=float, default=90.0, help="melodies: beats per minute")
    s.add_argument("--instrument", default="piano", help="melodies: piano, organ, strings, flute")


def add_sample_parser(sub) -> None:
    s = sub.add_parser("sample", help="write samples (PNG / text / WAV+MIDI) from a checkpoint")
    s.add_argument("checkpoint", help="name (see `list`) or folder")
    s.add_argument("-n", type=int, default=16, help="how many")
    s.add_argument("--label", help="conditional models: the label (e.g. 7)")
    s.add_argument("--temperature", type=float, help="token sampling temperature (0 = greedy)")
    s.add_argument("--z", help="VAE: decode this latent point, e.g. 0.5,-1")
    _add_output_arguments(s)
    s.set_defaults(fn=cmd_sample)


def add_complete_parser(sub) -> None:
    s = sub.add_parser("complete", help="finish a start you give (a name's first letters, the top rows of a "
                       "drawing, the first bars of a MIDI melody) several ways",
                       description="Keep the start exactly and let the model write the rest. Files are written "
                                   "as `sample` writes them.")
    s.add_argument("checkpoint", help="name (see `list`) or folder: a VAE, GAN or language model")
    s.add_argument("--prefix", help="names: the first letters, e.g. Mar")
    s.add_argument("--image", help="images: a PNG/JPEG drawing (dark on light or light on dark)")
    s.add_argument("--rows", type=int, default=14, help="images: top rows to keep (of 28)")
    s.add_argument("--midi", help="melodies: a MIDI file (top voice, quantised to 16ths)")
    s.add_argument("--bars", type=int, default=1, help="melodies: bars to keep (of 4)")
    s.add_argument("-n", type=int, default=8, help="how many completions")
    s.add_argument("--temperature", type=float, help="token sampling temperature; images: posterior spread")
    s.add_argument("--label", help="conditional models: the label")
    _add_output_arguments(s)
    s.set_defaults(fn=cmd_complete)


def cmd_sample(args) -> int:
    import torch

    from . import explore
    from .checkpoints import load
    from .devices import resolve_device

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
            [_label_index(domain, args.label)] * args.n
    if args.z is not None:
        if cfg.family != "vae":
            print(_("error: --z is only for VAEs"), file=sys.stderr)
            return 2
        z = _parse_z(args.z, cfg.latent)
        temperature = explore.default_temperature(ckpt) if args.temperature is None else args.temperature
        n = args.n
        if (not cfg.discrete or temperature == 0) and n > 1 and len(set(labels or [0])) == 1:
            # decoding one point (with one label) without sampling gives the same artifact every time
            print(f"note: --z {_printable(args.z, 60)} decodes to one {domain.item_noun} every time "
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
            n=latent, text=repr(_printable(text, 60)))) from None
    if not all(math.isfinite(v) and abs(v) <= MAX_Z for v in values):
        raise ValueError(_("--z values must be numbers between -{max} and {max}").format(max=f"{MAX_Z:g}"))
    if len(values) != latent:
        raise ValueError(_("--z needs {n} comma-separated numbers (got {got})").format(n=latent, got=len(values)))
    return torch.tensor([values])


def _label_index(domain, label: str) -> int:
    names = [n.lower() for n in domain.label_names]
    if label.lower() in names:
        return names.index(label.lower())
    raise ValueError(_("--label must be one of {labels}").format(labels=", ".join(domain.label_names)))


MAX_IMAGE_BYTES = 20_000_000


def _read_image(path: str):
    """A picture file -> RGBA array, refused before decoding when it is too large or not a picture."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from .domains.images import MAX_DRAWING_SIDE
    p = Path(path)
    if p.stat().st_size > MAX_IMAGE_BYTES:
        raise ValueError(f"{_printable(p.name, 80)} is {p.stat().st_size / 1e6:.0f} MB; a drawing of one item is a "
                         "few kB. Scale it down first.")
    # Pillow refuses to open (not just decode) pictures over twice this, before reading their pixels
    Image.MAX_IMAGE_PIXELS = (2 * MAX_DRAWING_SIDE) ** 2
    try:
        with Image.open(p) as im:          # reads the header only: the size is known before decoding
            w, h = im.size
            if max(w, h) > MAX_DRAWING_SIDE:
                raise ValueError(f"{_printable(p.name, 80)} is {w}×{h} pixels; the largest accepted is "
                                 f"{MAX_DRAWING_SIDE}×{MAX_DRAWING_SIDE}. Scale it down first.")
            return np.asarray(im.convert("RGBA"))
    except Image.DecompressionBombError:
        raise ValueError(f"{_printable(p.name, 80)} is far larger than {MAX_DRAWING_SIDE}×{MAX_DRAWING_SIDE} "
                         "pixels, the largest accepted. Scale it down first.") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{_printable(p.name, 80)} could not be read as a picture ({type(e).__name__}); "
                         "give a PNG or JPEG drawing.") from None


def cmd_complete(args) -> int:
    from . import explore
    from .checkpoints import load
    from .devices import resolve_device

    given = [a for a in ("prefix", "image", "midi") if getattr(args, a) is not None]
    if len(given) != 1:
        print("error: give exactly one start: --prefix TEXT (names), --image FILE (digits, clothes) or "
              "--midi FILE (melodies)", file=sys.stderr)
        return 2
    if not 1 <= args.n <= 64:
        print("error: -n must be between 1 and 64", file=sys.stderr)
        return 2
    if args.temperature is not None and not 0 <= args.temperature <= MAX_TEMPERATURE:
        print(f"error: --temperature must be between 0 and {MAX_TEMPERATURE:g}", file=sys.stderr)
        return 2
    path = getattr(args, given[0]) if given[0] != "prefix" else None
    if path is not None and not Path(path).is_file():
        print(f"error: no such file: {_printable(path, 200)}", file=sys.stderr)
        return 2
    ckpt = load(args.checkpoint, device=resolve_device(args.device))
    domain = explore.domain_of(ckpt)
    wanted = {"prefix": "text", "image": "image", "midi": "melody"}[given[0]]
    if domain.kind != wanted:
        print(f"error: {ckpt.name} makes {domain.item_noun}s; --{given[0]} is for {wanted} models", file=sys.stderr)
        return 2
    length, notes = None, []
    if args.prefix is not None:
        start = args.prefix
    elif args.image is not None:
        start = domain.from_drawing(_read_image(args.image))
        length = args.rows
    else:
        from .midi import read_melody
        reading = read_melody(Path(args.midi).read_bytes())
        start, length, notes = reading.notes, args.bars, reading.changes
    label = _label_index(domain, args.label) if args.label is not None and ckpt.config.conditional else None
    result = explore.complete(ckpt, start, args.n, args.temperature, args.seed, length, label)
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
