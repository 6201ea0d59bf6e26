"""How long until a live run shows something a student would call learned, and what the page costs.

    python benchmarks/time_to_quality.py            # VAE + GAN + polling cost (about 8-10 minutes)
    python benchmarks/time_to_quality.py vae        # or: gan, polling
    python benchmarks/time_to_quality.py collapse   # the mode-collapse lesson's run, 5 seeds (about 8 minutes)
    python benchmarks/time_to_quality.py minute     # the live GAN beside another run, 5 seeds (about 8 minutes)
    python benchmarks/time_to_quality.py minute-fashion   # the same for the clothes GAN

Runs exactly what the Live training page runs (seqgen.training.live.TrainingRun with the page's default
knobs, one torch thread) and judges the samples with the reference classifier `digits-classifier`.

"Recognisable" (VAE): at a preview (every 25 steps), at least 10 of the 16 digits decoded from the page's
fixed 4x4 grid of latent points are classified with confidence >= CONF (0.8), and they cover at least 5
different digits (so a model that draws one blurry "1" everywhere does not count). The preview is what the
page shows.

"Recognisable" (conditional GAN): of 300 samples (labels 0..9, 30 each, fixed noise) drawn from a copy of
the live model every ~10 s, at least 80 % are classified as the digit that was asked for.

Polling cost: a real `streamlit run app.py` server and a headless Chromium on the Live training page; CPU
seconds used by the server process (all its threads, training included) over 30 s windows: run paused with
the page open (polling every 5 s) vs. page closed, and run training with the page open (polling every 0.5 s,
charts redrawn) vs. page closed.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import seqgen  # noqa: E402
from seqgen.training.live import RunManager, TrainingRun  # noqa: E402
from seqgen.training.live.diagnostics import EARLY_STEPS as COLLAPSE_AFTER  # noqa: E402

CONF = 0.8
MIN_CONFIDENT = 10
MIN_DISTINCT = 5
GAN_TARGET = 0.80
OUT = ROOT / "benchmarks" / "results"


def classifier(domain: str = "digits"):
    return seqgen.load(f"{domain}-classifier").model.eval()


def judge_images(clf, images) -> tuple[int, int, list[int], list[float]]:
    x = torch.as_tensor(np.stack(images), dtype=torch.float32) / 255.0
    with torch.inference_mode():
        p = torch.softmax(clf(x), -1)
    conf, pred = p.max(-1)
    ok = conf >= CONF
    return int(ok.sum()), int(pred[ok].unique().numel()), pred.tolist(), [round(c, 2) for c in conf.tolist()]


def save_png(images, path: Path, cols: int) -> None:
    from seqgen.render import image_grid, png_bytes, upscale
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(upscale(image_grid(np.stack(images), cols=cols), 3)))


def time_vae(cap: float = 240.0) -> dict:
    clf = classifier()
    run = TrainingRun("digits", "vae", manager=RunManager(max_runs=1, idle_timeout=1e9))
    t0 = time.monotonic()
    run.start()
    seen, rows, hit = -1, [], None
    while time.monotonic() - t0 < cap:
        time.sleep(0.1)
        s = run.snapshot()
        if s.samples_step == seen or not s.samples:
            continue
        seen = s.samples_step
        n_ok, distinct, pred, conf = judge_images(clf, s.samples)
        row = dict(wall=round(time.monotonic() - t0, 1), train_s=round(s.elapsed, 1), step=s.samples_step,
                   confident=n_ok, distinct=distinct)
        rows.append(row)
        print(f"  vae  wall {row['wall']:6.1f}s  train {row['train_s']:6.1f}s  step {s.samples_step:5d}  "
              f"confident {n_ok:2d}/16  distinct {distinct}", flush=True)
        if s.samples_step in (0, 100, 250, 500):
            save_png(s.samples, OUT / f"vae_step{s.samples_step}.png", 4)
        if hit is None and n_ok >= MIN_CONFIDENT and distinct >= MIN_DISTINCT:
            hit = row
            save_png(s.samples, OUT / "vae_recognisable.png", 4)
            print(f"  vae recognisable: predictions {pred}", flush=True)
            break
    run.stop()
    run.join(5)
    return {"recognisable_at": hit, "cap_s": cap, "steps_per_s": round(rows[-1]["step"] / max(rows[-1]["train_s"], 1e-9), 1)
            if rows else None, "trace": rows}


def gan_accuracy(clf, model, n: int = 300) -> float:
    g = torch.Generator().manual_seed(4321)
    labels = torch.arange(n) % 10
    with torch.inference_mode():
        x = model.sample(n, labels, generator=g)
        pred = clf(x).argmax(-1)
    return float((pred == labels).float().mean())


def time_gan(cap: float = 300.0, every: float = 10.0) -> dict:
    clf = classifier()
    run = TrainingRun("digits", "gan", manager=RunManager(max_runs=1, idle_timeout=1e9))
    t0 = time.monotonic()
    run.start()
    rows, hit, next_check = [], None, every
    while time.monotonic() - t0 < cap:
        time.sleep(0.2)
        s = run.snapshot()
        if s.finished:
            print("  gan run ended:", s.status, s.message)
            break
        if time.monotonic() - t0 < next_check or s.step == 0:
            continue
        next_check += every
        acc = gan_accuracy(clf, run.model_copy())
        row = dict(wall=round(time.monotonic() - t0, 1), train_s=round(s.elapsed, 1), step=s.step,
                   accuracy=round(acc, 3), d_real=round(s.history["d_real"][-1], 3),
                   d_fake=round(s.history["d_fake"][-1], 3))
        rows.append(row)
        print(f"  gan  wall {row['wall']:6.1f}s  train {row['train_s']:6.1f}s  step {s.step:5d}  "
              f"requested-digit accuracy {acc:.1%}  D(real) {row['d_real']:.2f} D(fake) {row['d_fake']:.2f}",
              flush=True)
        if acc >= GAN_TARGET:
            hit = row
            break
    s = run.snapshot()
    if s.samples:
        save_png(s.samples, OUT / "gan_last_preview.png", 10)
    run.stop()
    run.join(5)
    best = max(rows, key=lambda r: r["accuracy"]) if rows else None
    return {"reached_80pct_at": hit, "cap_s": cap, "best": best, "trace": rows}


def gan_minute(domain: str = "digits", seeds=range(5), cap: float = 90.0, every: float = 5.0,
               target: float = 0.6) -> dict:
    """The Live training page's default GAN of `domain` with one other live run going (the default VAE of the
    same data, in the same process, as on the server), seeds 0-4: the share of 300 samples (30 of each label,
    fixed noise) the reference classifier reads as the label asked for, every `every` seconds of wall time from
    Start; when it first reaches `target`, and where it stands at 60 and 90 s."""
    clf = classifier(domain)
    rows = []
    for seed in seeds:
        manager = RunManager(max_runs=2, idle_timeout=1e9)
        run = TrainingRun(domain, "gan", manager=manager, seed=seed)
        other = TrainingRun(domain, "vae", manager=manager, seed=seed)
        t0 = time.monotonic()
        run.start()
        other.start()
        series, next_read = [], every
        while time.monotonic() - t0 < cap:
            time.sleep(0.2)
            if time.monotonic() - t0 < next_read or run.model is None:
                continue
            next_read += every
            step = run.snapshot().step
            series.append((round(time.monotonic() - t0, 1), step, round(gan_accuracy(clf, run.model_copy()), 3)))
        for r in (run, other):
            r.stop()
            r.join(10)
        first = next(((t, st) for t, st, acc in series if acc >= target), None)
        at = {mark: next((acc for t, _, acc in reversed(series) if t <= mark), None) for mark in (60, 90)}
        rows.append(dict(seed=seed, first=first, at_60=at[60], at_90=at[90], series=series))
        print(f"  seed {seed}: first >= {target:.0%} at " + (f"{first[0]:.0f} s (step {first[1]})" if first else
              "never") + f"; at 60 s {at[60]}, at 90 s {at[90]}; steps at the end {series[-1][1]}", flush=True)
    within = {mark: sum(r["first"] is not None and r["first"][0] <= mark for r in rows) for mark in (60, 90)}
    return {"domain": domain, "target": target, "seeds": len(rows), "reached_within_60_s": within[60],
            "reached_within_90_s": within[90], "rows": rows}


def preset_knobs(preset: str) -> dict:
    """The Live training knob values of a preset (what a lesson step sets on the page)."""
    from seqgen.presets import configure
    from seqgen.training.live import knobs_for

    model_cfg, train_cfg, _ = configure(preset)
    cfgs = {"model": model_cfg, "train": train_cfg}
    return {k.name: getattr(cfgs[k.target], k.name) for k in knobs_for("digits", "gan")}


def distinct_reads(clf, model, seed: int = 1) -> int:
    """How many different digits the classifier reads in ten samples asked to be 0, 1, ..., 9."""
    with torch.inference_mode():
        x = model.sample(10, torch.arange(10), generator=torch.Generator().manual_seed(seed))
        return len(set(clf(x).argmax(-1).tolist()))


def collapse(seeds=range(5), at: float = 90.0, every: float = 5.0) -> dict:
    """The mode-collapse lesson's run (digits-gan-collapse, the page's one thread) with one other live run
    going (the default digits VAE, in the same process as on the server): how many different digits ten
    samples asked to be 0-9 show every `every` seconds and at `at` seconds, and when the diagnostics first
    named mode collapse."""
    clf = classifier()
    knobs = preset_knobs("digits-gan-collapse")
    rows = []
    for seed in seeds:
        manager = RunManager(max_runs=2, idle_timeout=1e9)
        run = TrainingRun("digits", "gan", knobs, manager=manager, seed=seed)
        other = TrainingRun("digits", "vae", manager=manager, seed=seed)
        t0 = time.monotonic()
        run.start()
        other.start()
        named, series, next_read = None, [], every
        while time.monotonic() - t0 < at:
            time.sleep(0.5)
            diag = run.snapshot().diagnostics
            if named is None and diag is not None and any(f.code == "mode_collapse" for f in diag.findings):
                named = dict(wall=round(time.monotonic() - t0, 1), step=diag.step)
            if time.monotonic() - t0 >= next_read and run.model is not None:
                next_read += every
                series.append((round(time.monotonic() - t0), run.snapshot().step,
                               distinct_reads(clf, run.model_copy())))
        snap = run.snapshot()
        row = dict(seed=seed, step=snap.step, distinct_at=distinct_reads(clf, run.model_copy()),
                   named_collapse=named, findings=[f.code for f in snap.diagnostics.findings], series=series)
        # an untrained generator draws one blob for every label too: count only from the step the page may
        # first name a collapse
        first = next((t for t, step, d in series if d <= 2 and step >= COLLAPSE_AFTER), None)
        row["first_two_or_fewer_s"] = first
        for r in (run, other):
            r.stop()
            r.join(10)
        rows.append(row)
        when = f"at {named['wall']:.0f} s (step {named['step']})" if named else "never"
        print(f"  seed {seed}: at {at:.0f} s (step {row['step']}) ten samples asked 0-9 read as "
              f"{row['distinct_at']} different digits; first <= 2 after step {COLLAPSE_AFTER} at {first} s; "
              f"mode collapse named {when}; "
              f"every {every:.0f} s: {[d for _, _, d in series]}", flush=True)
    collapsed = sum(r["distinct_at"] <= 2 for r in rows)
    return {"at_s": at, "collapsed_seeds": collapsed, "seeds": len(rows), "rows": rows}


# ------------------------------------------------------------------------------------------------ polling cost
def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _window(pid: int, seconds: float) -> float:
    c0 = _cpu_seconds(pid)
    time.sleep(seconds)
    return round(_cpu_seconds(pid) - c0, 2)


def _open_live(page, url):
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from live_e2e_helpers import open_live_page
    open_live_page(page, url)


@contextmanager
def _live_page():
    """A real `streamlit run app.py` and a headless Chromium on its Live training page -> (server pid, page)."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, SEQGEN_USER_MODELS=tempfile.mkdtemp(prefix="seqgen-bench-"), SEQGEN_RUN_IDLE_TIMEOUT="600")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                  args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                        "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            _open_live(page, url)
            page.locator(".st-key-lt_start button").click()
            expect(page.locator(".st-key-lt_status", has_text="running").first).to_be_visible()
            yield proc.pid, page
            b.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def polling_cost(window: float = 30.0) -> dict:
    """Training run: server CPU with the page open (polling every 0.5 s, charts redrawn) vs. the page closed."""
    with _live_page() as (pid, page):
        time.sleep(5)
        out = {"training_page_open_cpu_s": _window(pid, window)}
        page.goto("about:blank")                       # the session goes; the run trains on (not reaped yet)
        time.sleep(3)
        out["training_page_closed_cpu_s"] = _window(pid, window)
    out["note"] = "server CPU over each window; training uses ~1 core, so compare open vs closed in the same state"
    return out


def polling_cost_paused(window: float = 30.0) -> dict:
    """Paused run: server CPU with the page open (polling every 5 s) vs. the page closed."""
    from playwright.sync_api import expect

    with _live_page() as (pid, page):
        time.sleep(3)
        page.locator(".st-key-lt_pause button").click()
        expect(page.locator(".st-key-lt_status", has_text="paused").first).to_be_visible()
        time.sleep(3)
        out = {"paused_page_open_cpu_s": _window(pid, window)}
        page.goto("about:blank")
        time.sleep(3)
        out["paused_page_closed_cpu_s"] = _window(pid, window)
    return out


def main(argv: list[str]) -> None:
    what = argv or ["vae", "gan", "polling"]
    unknown = [a for a in what if a not in ("vae", "gan", "polling", "collapse", "minute", "minute-fashion")]
    if unknown:  # refuse before anything is measured or written: a typo must not overwrite the results
        sys.exit("usage: python benchmarks/time_to_quality.py [vae] [gan] [polling] [collapse] [minute] "
                 "[minute-fashion]; unknown: "
                 + " ".join(unknown))
    load = os.getloadavg()
    report = {"machine": f"{os.cpu_count()} cores, torch {torch.__version__}, load average at start "
                         f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (shared machine: other jobs were running)"}
    print(report["machine"], flush=True)
    if "vae" in what:
        print("digits VAE, live defaults:", flush=True)
        report["vae"] = time_vae()
        hit = report["vae"]["recognisable_at"]
        print(f"VAE recognisable after {hit['wall']} s wall ({hit['train_s']} s training, step {hit['step']})"
              if hit else "VAE: not recognisable within the cap", flush=True)
    if "gan" in what:
        print("digits GAN (conditional), live defaults:", flush=True)
        report["gan"] = time_gan()
        hit, best = report["gan"]["reached_80pct_at"], report["gan"]["best"]
        print(f"GAN reached 80 % after {hit['wall']} s wall (step {hit['step']})" if hit else
              f"GAN: did not reach 80 % in {report['gan']['cap_s']:.0f} s; best {best}", flush=True)
    if "collapse" in what:
        print("the mode-collapse lesson (digits-gan-collapse, one other live run going), 5 seeds:", flush=True)
        report["collapse"] = collapse()
        c = report["collapse"]
        print(f"collapsed (<= 2 digits among ten asked 0-9) at {c['at_s']:.0f} s in {c['collapsed_seeds']} of "
              f"{c['seeds']} seeds", flush=True)
    for mode, domain in (("minute", "digits"), ("minute-fashion", "fashion")):
        if mode in what:
            print(f"the live {domain} GAN with one other live run going, 5 seeds:", flush=True)
            report[mode] = m = gan_minute(domain)
            print(f"reached {m['target']:.0%} requested label within 60 s in {m['reached_within_60_s']} of "
                  f"{m['seeds']} seeds, within 90 s in {m['reached_within_90_s']}", flush=True)
    if "polling" in what:
        print("polling cost (30 s windows, server process CPU seconds):", flush=True)
        report["polling"] = {**polling_cost_paused(), **polling_cost()}
        print(json.dumps(report["polling"], indent=1), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "time_to_quality.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {OUT / 'time_to_quality.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
