"""Quality bars and speed of "put your own in" (issue 12): completing digits, names and melodies, reading
drawn digits, and the 32-D names VAE's reconstructions.

    python benchmarks/completion.py                 # everything (a few minutes on 2 shared cores)
    python benchmarks/completion.py --quick         # fewer items; figures not worth quoting
    python benchmarks/completion.py --json out.json
    python benchmarks/completion.py --only speed    # one section

Run the timings on an otherwise quiet machine: python benchmarks/completion.py
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import common  # noqa: F401  (sets OMP_WAIT_POLICY and sys.path before torch)
import numpy as np
import torch
from PIL import Image

import seqgen
from seqgen import explore
from seqgen.domains.melodies import STEPS_PER_BAR, in_scale_ratio

N = 8


def digit_completion(n_items: int) -> dict:
    ckpt = seqgen.load("digits-vae")
    d = explore.domain_of(ckpt)
    x, y = d.dataset("test")
    x, y = x[:n_items], y[:n_items]
    hits, spreads, rand_hits, kept = [], [], [], True
    for i in range(len(x)):
        r = explore.complete(ckpt, x[i], N, seed=i, length=14)
        arts = r["artifacts"]
        guess = d.recognise(arts)
        hits += [g == int(y[i]) for g, _ in guess]
        kept &= all(np.array_equal(a[:14], d.to_artifact(x[i])[:14]) for a in arts)
        a = np.stack(arts).astype(np.float32).reshape(N, -1) / 255
        spreads.append(float(np.mean([np.linalg.norm(a[p] - a[q]) for p in range(N) for q in range(p + 1, N)])))
    prior = explore.sample(ckpt, len(x) * 2, seed=1)   # what ignoring the prefix scores
    rand_hits = [g == int(y[i % len(y)]) for i, (g, _) in enumerate(d.recognise(prior))]
    real, real_lower = [], []      # whole digits, and only the rows a completion writes (14 and below)
    for c in range(10):
        a = x[y == c].numpy()[:40]
        for p in range(len(a)):
            for q in range(p + 1, len(a)):
                real.append(float(np.linalg.norm(a[p] - a[q])))
                real_lower.append(float(np.linalg.norm(a[p, 14:] - a[q, 14:])))
    return {"items": len(x), "recognised": float(np.mean(hits)), "recognised_ignoring_prefix": float(np.mean(rand_hits)),
            "prefix_kept": kept, "mean_pairwise_distance": float(np.mean(spreads)),
            "real_same_class_distance": float(np.mean(real)),
            "real_same_class_distance_lower_rows": float(np.mean(real_lower)),
            "all_same_fraction": float(np.mean([s < 1e-6 for s in spreads]))}


def hand_drawn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A test digit as the canvas would return it: x10, strokes thickened, off-centre, RGBA on transparent."""
    big = np.asarray(Image.fromarray(img).resize((280, 280), Image.Resampling.BILINEAR), np.float32)
    thick = big.copy()
    for dy in range(-6, 7, 3):
        for dx in range(-6, 7, 3):
            thick = np.maximum(thick, np.roll(np.roll(big, dy, 0), dx, 1))
    canvas = np.zeros((400, 400, 4), np.uint8)
    top, left = rng.integers(0, 120, 2)
    canvas[top:top + 280, left:left + 280, 3] = np.where(thick > 100, 255, thick).astype(np.uint8)
    return canvas


def drawn_digits(n_items: int) -> dict:
    d = seqgen.get_domain("digits")
    x, y = d.dataset("test")
    rng = np.random.default_rng(0)
    arts, refused = [], 0
    for i in range(min(n_items, len(x))):
        try:
            arts.append(d.from_drawing(hand_drawn(d.to_artifact(x[i]), rng)))
        except ValueError:
            refused += 1
            arts.append(np.zeros((28, 28), np.uint8))
    guess = d.recognise(arts)
    direct = d.recognise([d.to_artifact(v) for v in x[:len(arts)]])
    return {"items": len(arts), "recognised": float(np.mean([g == int(c) for (g, _), c in zip(guess, y.tolist())])),
            "recognised_undrawn": float(np.mean([g == int(c) for (g, _), c in zip(direct, y.tolist())])),
            "refused": refused}


def name_completion(n_items: int) -> dict:
    d = seqgen.get_domain("names")
    x, _ = d.dataset("test")
    starts = [s[: 1 + i % 3] for i, s in enumerate(d.artifacts(x[:n_items])) if len(s) >= 2]
    out = {}
    for name in ("names-vae", "names-vae-32", "names-gan", "names-lm"):
        try:
            ckpt = seqgen.load(name)
        except seqgen.CheckpointError:
            continue
        names, kept = [], []
        for i, s in enumerate(starts):
            arts = explore.complete(ckpt, s, N, 1.0, seed=i)["artifacts"]
            names += arts
            kept += [a.lower().startswith(s.lower()) for a in arts]
        f = d.word_figures(names)
        out[name] = {"prefixes": len(starts), "prefix_kept": float(np.mean(kept)),
                     "well_formed": f["well_formed_fraction"], "novel": f["novel_fraction"],
                     "looks_like_a_name": float(np.mean(d.looks_like(names)))}
    return out


def melody_continuation(n_items: int) -> dict:
    d = seqgen.get_domain("melodies")
    x, _ = d.dataset("test")
    cut = STEPS_PER_BAR
    data_cont = [[n for n in d.to_artifact(s) if n.start >= cut] for s in x]
    out = {"in_scale_data_continued": in_scale_ratio(data_cont)}
    for name in ("melodies-vae", "melodies-gan"):
        ckpt = seqgen.load(name)
        cont, kept = [], True
        for i in range(min(n_items, len(x))):
            r = explore.complete(ckpt, d.to_artifact(x[i]), N, 1.0, seed=i, length=1)
            for seq in r["artifacts"]:
                toks = d.from_artifact(seq)
                kept &= bool(torch.equal(toks[:cut], d.prefix(d.to_artifact(x[i]), 1)))
                cont.append([n for n in seq if n.start >= cut])
        out[name] = {"in_scale_continued": in_scale_ratio(cont), "prefix_kept": kept,
                     "notes_per_continuation": float(np.mean([len(c) for c in cont]))}
    return out


def reconstruction() -> dict:
    d = seqgen.get_domain("names")
    out = {}
    for name in ("names-vae", "names-vae-32"):
        out[name] = d._reconstruction(seqgen.load(name).model)["reconstruction_exact_fraction"]
    ck = seqgen.load("names-vae-32")
    out["oliver_michael"] = [explore.encode_artifact(ck, s)["reconstruction"] for s in ("Oliver", "Michael")]
    return out


def speed(repeats: int) -> dict:
    torch.set_num_threads(1)
    digits = seqgen.get_domain("digits")
    melodies = seqgen.get_domain("melodies")
    img = digits.to_artifact(digits.dataset("test")[0][0])
    tune = melodies.to_artifact(melodies.dataset("test")[0][0])
    cases = {"digits-vae": (img, 14), "names-vae": ("Mar", None), "names-vae-32": ("Mar", None),
             "names-gan": ("Mar", None), "names-lm": ("Mar", None), "melodies-vae": (tune, 1),
             "melodies-gan": (tune, 1)}
    out = {}
    for name, (prefix, length) in cases.items():
        ckpt = seqgen.load(name)
        explore.complete(ckpt, prefix, N, length=length)          # warm: banks, caches, first-call costs
        times = []
        for i in range(repeats):
            t0 = time.perf_counter()
            explore.complete(ckpt, prefix, N, seed=i, length=length)
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = {"median_ms": round(statistics.median(times), 1), "p90_ms": round(sorted(times)[int(0.9 * len(times))], 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--only", help="comma-separated sections: speed, digit_completion, drawn_digits, "
                    "name_completion, melody_continuation, names_reconstruction")
    args = ap.parse_args()
    torch.set_num_threads(1)
    k = 60 if args.quick else None
    sections = {"speed": lambda: speed(10 if args.quick else 30), "digit_completion": lambda: digit_completion(k or 1000),
                "drawn_digits": lambda: drawn_digits(k or 1000), "name_completion": lambda: name_completion(k or 300),
                "melody_continuation": lambda: melody_continuation(k or 200), "names_reconstruction": reconstruction}
    only = args.only.split(",") if args.only else list(sections)
    report = {"machine": common.machine_info(), "load_before": common.load_average()}
    for name in only:
        report[name] = sections[name]()
    report["load_after"] = common.load_average()
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        open(args.json, "w").write(text)


if __name__ == "__main__":
    main()
