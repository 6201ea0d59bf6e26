"""Your own data set (seqgen.domains.own): what a learner's files give after minutes of live training on a CPU.

Also what reading an upload of 10,000 items costs.

    python benchmarks/own_data.py all              # the four below, at most about 18 minutes on 2 cores (--gan: 4 more)
    python benchmarks/own_data.py names [--gan]    # 300 pasted names, live VAE (and GAN) <= 2 min per start
    python benchmarks/own_data.py midi             # 30 chorale sopranos as .mid files, live VAE <= 3 min per start
    python benchmarks/own_data.py drawings         # 200 drawn digits in a .zip of label folders, live VAE <= 2 min per start
    python benchmarks/own_data.py validate         # read_data on a 10,000-name .txt, median of 3
    python benchmarks/own_data.py --patience 0 all # the runs without early stopping (to the steps or the time)

Each data set goes the way a learner's does: read_data(template, files or pasted text) -> reading.data(title)
-> register(own_domain(data)), then the Live training page's configs (knobs.build_configs: the template's
"<template>-<family>-live" preset) trained by Trainer.fit() with max_minutes set and the run also stopped at
that much wall time (the Trainer's budget counts step time only, not validations), on --threads torch threads
(default 1, what the Live training page gives a run). A learner's data set trains with early stopping
(presets.SMALL_DATA_PATIENCE validation passes without a better figure end the run). Each data set trains
twice: as the Live page starts by default (from the template's shipped model of the family where it fits the
data: its weights and size, at presets.FINE_TUNE_LR) and from scratch. Each figure is measured on two sets of weights where
they differ: the last step's (what the Live training page shows and saves) and those of the step that did best
on validation (what fit(), and so `python -m seqgen train`, keeps). Token samples are drawn at temperature 1
(the app's default for tokens).

1. names: 300 names (a seeded sample of the bundled US names, capitalised) pasted in; 200 samples from the
   prior. Bar: >= 80 % look like names by the project's char-LM (TextDomain.looks_like on the names domain; the
   own domain's judge, the same LM with a limit from its own 30 test names, is printed beside it) and >= 50 %
   are not in the pasted list.
2. midi: 30 seeded 4/4 Bach chorale sopranos (the bundled melodies data) written at their own pitch, with mido,
   as .mid files (the pickup padded with rests to a whole bar, as notation programs export it); read_data cuts
   them into 4-bar melodies in C major / A minor. 200 samples from the prior. Bar: the samples' share of notes
   in the keys (domain.in_scale) within 0.05 of the kept melodies' own share (and, for comparison, an untrained
   model's share).
3. drawings: 200 seeded MNIST test digits drawn as a learner's drawings (10x bilinear, black strokes on white,
   PNG) in label folders inside a .zip. After training, the encoder means (2-D) of all kept items. Bar:
   leave-one-out 5-NN accuracy of the true labels on those means >= 0.6. For comparison, the same figure on
   the bundled digits-vae's means and on the raw pixels.
4. validate: read_data on a .txt of 10,000 distinct names of at most 11 letters. Bar: median of 3 <= 2 s.

Each section prints the load the machine was under: the load average, and over the timed part the CPU
seconds other processes used and the share the hypervisor stole (from /proc/stat), since the machine may be
shared.
"""
from __future__ import annotations

import argparse
import copy
import io
import os
import statistics
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import common  # noqa: E402  (before torch: OMP_WAIT_POLICY=PASSIVE, the repository on sys.path)
import mido  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from seqgen.domains import get_domain, register, unregister  # noqa: E402
from seqgen.domains.own import own_domain, read_data  # noqa: E402
from seqgen.models import build_model  # noqa: E402
from seqgen.presets import FINE_TUNE_LR, started_from  # noqa: E402
from seqgen.training.live.knobs import build_configs  # noqa: E402
from seqgen.training.trainer import Trainer, take_start_weights  # noqa: E402

N_SAMPLES = 200
HZ = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------------ the machine
def _cpu_jiffies() -> tuple[int, int, int]:
    """(busy, steal, all) jiffies of the whole machine since boot, from /proc/stat."""
    f = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return user + nice + system + irq + softirq, steal, sum(f)


@contextmanager
def load_during(what: str):
    """Print the load average before, and after: the CPU seconds other processes used over the block (all
    busy CPU time less this process's) and the share of CPU time the hypervisor stole."""
    la = os.getloadavg()
    print(f"  [{what}: load average {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} before]", flush=True)
    busy0, steal0, all0 = _cpu_jiffies()
    own0, t0 = sum(os.times()[:2]), time.monotonic()
    yield
    busy1, steal1, all1 = _cpu_jiffies()
    own = sum(os.times()[:2]) - own0
    wall = time.monotonic() - t0
    others = max(0.0, (busy1 - busy0) / HZ - own)
    stolen = (steal1 - steal0) / max(all1 - all0, 1)
    print(f"  [{what}: {wall:.0f} s wall; this process {own:.0f} CPU s, other processes {others:.0f} CPU s "
          f"({others / max(wall, 1e-9):.2f} cores on average), stolen by the hypervisor {stolen:.0%}]", flush=True)


def verdict(ok: bool) -> str:
    return "bar met" if ok else "bar missed"


# ------------------------------------------------------------------------------------------------ training
def train(domain, family: str, minutes: float, threads: int, patience: int | None = None,
          seed: int = 0, settings: dict | None = None) -> list[tuple[str, torch.nn.Module]]:
    """The Live training page's configs for `domain`/`family`, trained by Trainer.fit() for at most `minutes`
    of training time and of wall time. -> [(which weights, model in eval mode)]: the last step's weights (what
    the Live training page shows and saves), then, where fit() kept an earlier step's, those (the CLI's)."""
    settings = {**(settings or {}), **({} if patience is None else {"patience": patience})}
    model_cfg, train_cfg, _ = build_configs(domain.name, family, settings)
    train_cfg.max_minutes, train_cfg.seed = minutes, seed
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = build_model(model_cfg)
    take_start_weights(model, train_cfg)
    box: list[Trainer] = []
    final: dict = {}
    t0 = time.monotonic()

    def last_step(event) -> None:
        """Keep the weights of every step after which the loop may end: the steps done, the time spent (the
        Trainer's budget or the wall clock) or a validation pass (patience spent). Not "done": fit() has put
        the best weights back by then."""
        if event.kind == "eval":
            final.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        elif event.kind == "step":
            late = time.monotonic() - t0 >= minutes * 60
            if late:
                box[0].controls.stop()
            if late or event.step >= train_cfg.steps or event.elapsed >= minutes * 60:
                final.update({k: v.detach().clone() for k, v in model.state_dict().items()})

    trainer = Trainer(model, domain, train_cfg, callbacks=[last_step], device="cpu")
    box.append(trainer)
    print(f"  {family}: {len(trainer.x)} training items, preset of {train_cfg.steps} steps (hidden {model_cfg.hidden}, "
          f"latent {model_cfg.latent if family == 'vae' else '-'}, conditional {model_cfg.conditional}, validation every "
          f"{train_cfg.eval_every} steps, patience {train_cfg.patience}), {torch.get_num_threads()} thread(s), at most "
          f"{minutes:g} min", flush=True)
    result = trainer.fit()
    wall = time.monotonic() - t0
    why = {"done": "the preset's steps done", "time_budget": "the time budget spent", "stopped": "wall-clock limit",
           "no_better": f"no better on validation for {train_cfg.patience} passes"}
    best = (result.best or {}).get("step")
    print(f"  trained {result.steps} steps ({why.get(result.status, result.status)}) in {wall:.0f} s wall, "
          f"{result.elapsed:.0f} s of steps ({result.steps / max(result.elapsed, 1e-9):.1f} steps/s); fit() kept the "
          f"weights of step {best if best is not None else result.steps}", flush=True)
    last = copy.deepcopy(model)
    last.load_state_dict(final)
    out = [(f"last step ({result.steps}, as the Live page)", last.eval())]
    if best is not None and best != result.steps:
        out.append((f"best on validation (step {best}, as fit() keeps)", model.eval()))
    return out


def short(which: str) -> str:
    return which.split(" (")[0]


def starts(own, family: str) -> list[tuple[str, dict]]:
    """How a run on `own` may begin, the Live page's default first: from the template's shipped model of the
    family where it fits the data ("Start from the shipped model", on unless the learner turns it off), and
    from scratch."""
    shipped = f"{own.presets_from}-{family}"
    try:
        started_from(shipped, own, family)
    except ValueError as e:
        print(f"  {shipped} does not fit this data ({e}): the Live page starts from scratch", flush=True)
        return [("from scratch", {})]
    return [(f"from the shipped {shipped}", {"init_from": shipped, "lr": FINE_TUNE_LR}), ("from scratch", {})]


def train_each_start(own, family: str, minutes: float, args) -> list[tuple[str, torch.nn.Module]]:
    """train() once per start of starts(); each model named "<which weights>, <start>"."""
    out = []
    for start, settings in starts(own, family):
        print(f"  {family}, {start}:", flush=True)
        with load_during(f"{own.presets_from} {family}, {start}"):
            out += [(f"{which}, {start}", m)
                    for which, m in train(own, family, minutes, args.threads, args.patience, settings=settings)]
    return out


def key(which: str) -> str:
    """A verdict's name: the weights and the start, without the details in brackets."""
    return f"{short(which)}, {which.rsplit(', ', 1)[1]}"


def samples(model, n: int = N_SAMPLES, seed: int = 1) -> torch.Tensor:
    """n samples from the prior (a VAE's z ~ N(0, I), a GAN's noise), tokens drawn at temperature 1."""
    with torch.inference_mode():
        return model.sample(n, None, temperature=1.0, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------------------ 1. names
def pasted_names(n: int = 300, seed: int = 0) -> list[str]:
    with np.load(ROOT / "seqgen/domains/data/names.npz") as f:
        every = sorted({str(s) for s in f["names"]})
    return [every[i].capitalize() for i in np.random.default_rng(seed).choice(len(every), n, replace=False)]


def bench_names(args) -> dict[str, bool]:
    print("1. names: 300 pasted names", flush=True)
    names = get_domain("names")
    pasted = pasted_names()
    reading = read_data(names, pasted="\n".join(pasted))
    own = register(own_domain(reading.data("Our names")))
    verdicts = {}
    try:
        judge, reference = own.reference(), names.reference()
        same = judge is reference or (judge is not None and reference is not None and all(
            torch.equal(a, b) for a, b in zip(judge.state_dict().values(), reference.state_dict().values())))
        print(f"  read: kept {len(reading.kept)}, dropped {len(reading.dropped)}; own domain {own.name}; its "
              f"judge is the names char-LM: {same}", flush=True)
        theirs = {s.lower() for s in pasted}
        for family in ("vae", "gan") if args.gan else ("vae",):
            for which, model in train_each_start(own, family, args.names_minutes, args):
                words = own.artifacts(samples(model))
                looks = float(np.mean(names.looks_like(words)))
                looks_own = float(np.mean(own.looks_like(words)))
                new = float(np.mean([w.lower() not in theirs for w in words]))
                new_anywhere = float(np.mean([not names.is_known(w) for w in words]))
                ok = verdicts[f"names {family}, {key(which)}"] = looks >= 0.8 and new >= 0.5
                print(f"  {family}, {which}: of {len(words)} samples {looks:.1%} look like names (names char-LM; by "
                      f"the own domain's limit {looks_own:.1%}), {new:.1%} not in the pasted list ({new_anywhere:.1%} "
                      f"not in the whole US list), {len(set(words)) / len(words):.1%} distinct; e.g. "
                      f"{', '.join(words[:10])}", flush=True)
                print(f"  names {family}, {which}: bar (>= 80 % look like names, >= 50 % new): {verdict(ok)}",
                      flush=True)
    finally:
        unregister(own.name)
    return verdicts


# ------------------------------------------------------------------------------------------------ 2. midi
def chorale_midi(i: int) -> bytes:
    """Chorale i's soprano at its own pitch as a type-0 MIDI file (480 ticks a beat), the bars where the data
    puts them: the pickup padded with rests to a whole bar."""
    from seqgen.domains.melodies import STEPS_PER_BAR, STEPS_PER_BEAT, _full_bars, _raw

    d = _raw()
    a, b = d["offsets"][i], d["offsets"][i + 1]
    pitch, onset = d["pitches"][a:b, 0].astype(int), d["onsets"][a:b, 0].astype(bool)
    pad = (-min(_full_bars(i))) % STEPS_PER_BAR
    notes, t = [], 0
    while t < len(pitch):
        if pitch[t] <= 0:
            t += 1
            continue
        end = t + 1
        while end < len(pitch) and pitch[end] == pitch[t] and not onset[end]:
            end += 1
        notes.append((int(pitch[t]), t + pad, end - t))
        t = end
    tick = 480 // STEPS_PER_BEAT
    track = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4),
                            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(80))])
    now = 0
    for p, start, length in notes:
        track.append(mido.Message("note_on", note=p, velocity=80, time=start * tick - now))
        track.append(mido.Message("note_off", note=p, velocity=0, time=length * tick))
        now = (start + length) * tick
    f = mido.MidiFile(type=0, ticks_per_beat=480)
    f.tracks.append(track)
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def bench_midi(args) -> dict[str, bool]:
    from seqgen.domains.melodies import _chorale_splits, _raw

    print("2. midi: 30 Bach chorale sopranos as .mid files", flush=True)
    melodies = get_domain("melodies")
    chosen = sorted(np.random.default_rng(0).choice(_chorale_splits()["train"], 30, replace=False).tolist())
    ids = _raw()["ids"]
    files = [(f"{ids[i]}.mid", chorale_midi(i)) for i in chosen]
    t0 = time.perf_counter()
    reading = read_data(melodies, files)
    took = time.perf_counter() - t0
    reasons = "; ".join(f"{n} {r}" for r, n, _ in reading.reasons()) or "none"
    print(f"  {len(files)} files ({sum(len(d) for _, d in files) / 1e3:.0f} kB) read in {took:.2f} s: kept "
          f"{len(reading.kept)} melodies, dropped {len(reading.dropped)} ({reasons})", flush=True)
    data_share = melodies.in_scale([e.artifact for e in reading.kept])
    notes_data = np.mean([len(e.artifact) for e in reading.kept])
    own = register(own_domain(reading.data("Chorales")))
    verdicts = {}
    try:
        model_cfg, _, _ = build_configs(own.name, "vae")
        torch.manual_seed(0)
        untrained = own.in_scale(own.artifacts(samples(build_model(model_cfg).eval())))
        print(f"  for comparison: an untrained model's samples have {untrained:.3f} of their notes in the keys",
              flush=True)
        for which, model in train_each_start(own, "vae", args.midi_minutes, args):
            melodies_out = own.artifacts(samples(model))
            share = own.in_scale(melodies_out)
            notes = np.mean([len(m) for m in melodies_out])
            ok = verdicts[f"midi, {key(which)}"] = abs(share - data_share) <= 0.05
            print(f"  {which}: in the keys: samples {share:.3f}, the kept melodies {data_share:.3f} (difference "
                  f"{share - data_share:+.3f}); notes per melody: samples {notes:.1f}, data {notes_data:.1f}; "
                  f"{sum(not m for m in melodies_out)} silent samples", flush=True)
            print(f"  midi, {which}: bar (in-scale share within 0.05 of the data's): {verdict(ok)}", flush=True)
    finally:
        unregister(own.name)
    return verdicts


# ------------------------------------------------------------------------------------------------ 3. drawings
def drawing(image: np.ndarray) -> bytes:
    """A 28x28 digit as a learner's drawing: 10x bilinear, black strokes on white, a PNG file."""
    big = np.asarray(Image.fromarray(image).resize((280, 280), Image.Resampling.BILINEAR))
    buf = io.BytesIO()
    Image.fromarray(np.where(big > 100, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def loo_knn(z: torch.Tensor, y: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Leave-one-out k-NN: each point's label by majority of its k nearest others (ties: the smallest label)."""
    d = torch.cdist(z, z)
    d.fill_diagonal_(float("inf"))
    return torch.mode(y[d.topk(k, largest=False).indices], dim=1).values


def reference_knn(x: torch.Tensor, labels: torch.Tensor) -> float:
    """Leave-one-out 5-NN accuracy on the encoder means of the bundled digits VAE."""
    import seqgen

    model = seqgen.load("digits-vae").model.eval()
    with torch.inference_mode():
        means = model.encode(x)[0].float()
    return float((loo_knn(means, labels) == labels).float().mean())


def bench_drawings(args) -> dict[str, bool]:
    print("3. drawings: 200 drawn digits in label folders inside a .zip", flush=True)
    digits = get_domain("digits")
    x, y = digits.dataset("test")
    chosen = np.random.default_rng(0).choice(len(x), 200, replace=False).tolist()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in chosen:
            z.writestr(f"our-digits/{int(y[i])}/{i}.png", drawing(digits.to_artifact(x[i])))
    t0 = time.perf_counter()
    reading = read_data(digits, [("our-digits.zip", buf.getvalue())])
    took = time.perf_counter() - t0
    truth = {f"our-digits.zip/our-digits/{int(y[i])}/{i}.png": int(y[i]) for i in chosen}
    folder_right = all(int(reading.label_names[c]) == truth[e.where] for e, c in zip(reading.kept, reading.label_ids))
    print(f"  a {len(buf.getvalue()) / 1e3:.0f} kB zip read in {took:.2f} s: kept {len(reading.kept)}, dropped "
          f"{len(reading.dropped)}; labels from {reading.label_source} {reading.label_names}, each its true digit: "
          f"{folder_right}", flush=True)
    own = register(own_domain(reading.data("Our digits")))
    verdicts = {}
    try:
        xs, ys = zip(*(own.dataset(s) for s in ("train", "val", "test")))
        labels = torch.tensor([int(own.label_names[c]) for c in torch.cat(ys).tolist()])
        held = len(xs[0])
        trained = train_each_start(own, "vae", args.drawings_minutes, args)
        for which, model in trained:
            with torch.inference_mode():
                means = model.encode(torch.cat(xs))[0]
            pred = loo_knn(means, labels)
            acc = float((pred == labels).float().mean())
            acc_held = float((pred[held:] == labels[held:]).float().mean())
            ok = verdicts[f"drawings, {key(which)}"] = acc >= 0.6
            print(f"  {which}: latent {means.shape[1]}-D, leave-one-out 5-NN accuracy of the true labels over all "
                  f"{len(labels)} items {acc:.3f} (the {len(labels) - held} held-out items alone {acc_held:.3f})",
                  flush=True)
            print(f"  drawings, {which}: bar (leave-one-out 5-NN >= 0.6): {verdict(ok)}", flush=True)
        print(f"  for comparison, on the same items: the bundled digits-vae (2-D, trained on 4,000 MNIST digits) "
              f"{reference_knn(torch.cat(xs), labels):.3f}; the raw pixels (784-D) "
              f"{float((loo_knn(torch.cat(xs).flatten(1), labels) == labels).float().mean()):.3f}", flush=True)
    finally:
        unregister(own.name)
    return verdicts


# ------------------------------------------------------------------------------------------------ 4. validate
def many_names(n: int = 10_000) -> list[str]:
    """n distinct names of at most 11 letters: the bundled ones, then theirs with a letter added."""
    with np.load(ROOT / "seqgen/domains/data/names.npz") as f:
        base = sorted({str(s) for s in f["names"]})
    out, seen = list(base), set(base)
    for letter in "aeiouylnrs":
        for name in base:
            if len(out) >= n:
                return [s.capitalize() for s in out]
            new = name + letter
            if len(new) <= 11 and new not in seen:
                seen.add(new)
                out.append(new)
    raise AssertionError("not enough names")


def bench_validate(args) -> dict[str, bool]:
    print("4. validate: read_data on a 10,000-name .txt", flush=True)
    names = get_domain("names")
    words = many_names()
    data = ("\n".join(words) + "\n").encode()
    times, data_times = [], []
    with load_during("validate"):
        for _ in range(3):
            t0 = time.perf_counter()
            reading = read_data(names, [("our-names.txt", data)])
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            own_domain(reading.data("Ten thousand"))
            data_times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"  {len(words)} names, {len(data) / 1e3:.0f} kB: kept {len(reading.kept)}, dropped {len(reading.dropped)}; "
          f"read_data {', '.join(f'{t:.2f}' for t in times)} s, median {med:.2f} s (then .data() + own_domain() median "
          f"{statistics.median(data_times):.2f} s)", flush=True)
    ok = med <= 2.0 and len(reading.kept) == len(words)
    print(f"  validate: bar (median <= 2 s, all kept): {verdict(ok)}", flush=True)
    return {"validate": ok}


# ------------------------------------------------------------------------------------------------ main
BENCHES = {"names": bench_names, "midi": bench_midi, "drawings": bench_drawings, "validate": bench_validate}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training (the Live page gives a run 1)")
    ap.add_argument("--patience", type=int, help="validation passes without a better figure that end a run (default: "
                    "what a learner's data set gets, presets.SMALL_DATA_PATIENCE; 0: never)")
    sub = ap.add_subparsers(dest="what", required=True)
    for name in (*BENCHES, "all"):
        p = sub.add_parser(name)
        if name in ("names", "all"):
            p.add_argument("--gan", action="store_true", help="the names GAN too (up to 2 more minutes)")
            p.add_argument("--names-minutes", type=float, default=2.0)
        if name in ("midi", "all"):
            p.add_argument("--midi-minutes", type=float, default=3.0)
        if name in ("drawings", "all"):
            p.add_argument("--drawings-minutes", type=float, default=2.0)
    args = ap.parse_args(argv)
    m = common.machine_info()
    print(f"{m['cores']} cores ({m['cpu']}), torch {m['torch']}, {args.threads} training thread(s), patience "
          f"{'as a learner gets' if args.patience is None else args.patience}, load average at start "
          f"{m['load_average_at_start']}", flush=True)
    t0 = time.monotonic()
    results: dict[str, bool] = {}
    for name, bench in BENCHES.items():
        if args.what in (name, "all"):
            results.update(bench(args))
    print(f"done in {time.monotonic() - t0:.0f} s: " + "; ".join(f"{k}: {verdict(v)}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
