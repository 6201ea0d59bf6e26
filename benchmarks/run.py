"""seqgen benchmark suite (issue 6): one command, one markdown report.

    python benchmarks/run.py                      # full suite: ~10 min + sections 6-7 (time_to_quality ~10 min); quiet machine
    python benchmarks/run.py --quick              # smoke run with tiny repetition counts (~2-3 min)
    python benchmarks/run.py --json benchmarks/results/latest.json --md benchmarks/results/latest.md
    python benchmarks/run.py --only peak,train    # sections: peak, train, latency, import, app, browser, quality

Sections
  1 peak     float32 / bfloat16 matmul GFLOP/s at 1 and 2 threads (model-relevant shapes + a large square)
  2 train    per shipped preset: sequences/s, achieved GFLOP/s (analytic matmul FLOPs), % of the fp32 peak of the
             same thread count, vs a naive per-step LSTMCell loop, bf16 autocast on/off; recurrent kernels alone
  3 latency  interactive figures at 1 thread under inference_mode: decode one z, a 20x20 grid, sampling,
             melody -> WAV, checkpoint loading
  4 import   `import seqgen` in a fresh interpreter
  5 app      streamlit cold start -> health -> first page in headless chromium; server RSS after every page
  6 browser  slider -> image p50/p95 (benchmarks/browser_latency.py, if present)
  7 quality  time-to-quality of live training (benchmarks/time_to_quality.py, if present)

Every ratio in the report is measured within this one run (the machine is shared and noisy). Not part of pytest.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (sets OMP_WAIT_POLICY=PASSIVE before torch is imported)
import torch  # noqa: E402
from common import (  # noqa: E402
    ROOT,
    FlopCounter,
    machine_info,
    md_table,
    median,
    naive_recurrence,
    naive_recurrent_forward,
    rnn_module_flops,
    summary,
    threads,
    time_reps,
)

SECTIONS = ("peak", "train", "latency", "import", "app", "browser", "quality")
SHIPPED = ("digits-vae", "digits-gan", "names-vae", "names-gan", "melodies-vae", "melodies-gan")
THREADS = (1, 2)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# =============================================================================================== 1. peak
def matmul_gflops(m: int, k: int, n: int, dtype: torch.dtype, seconds: float) -> float:
    a = torch.randn(m, k).to(dtype)
    b = torch.randn(k, n).to(dtype)
    t0 = time.perf_counter()
    torch.mm(a, b)
    first = time.perf_counter() - t0
    if first > seconds:  # slow path (e.g. bf16 without AVX512-BF16/AMX): one more call is enough
        ts = time_reps(lambda: torch.mm(a, b), reps=1, warmup=0)
    else:
        ts = time_reps(lambda: torch.mm(a, b), reps=3, warmup=2, min_seconds=seconds)
    return 2 * m * k * n / median(ts) / 1e9


def matmul_shapes() -> list[tuple[str, int, int, int]]:
    """Shapes that matter for the shipped models (read from the digits-vae preset) plus a large square."""
    from seqgen.presets import configure
    mc, tc, _ = configure("digits-vae")
    g = 4 if mc.cell == "lstm" else 3
    return [
        ("square 1024", 1024, 1024, 1024),
        (f"recurrent step [B={tc.batch_size}, H={mc.hidden}] x [H, {g}H]", tc.batch_size, mc.hidden, g * mc.hidden),
        (f"input projection [B*T={tc.batch_size * mc.seq_len}, I={mc.n_features}] x [I, {g}H]",
         tc.batch_size * mc.seq_len, mc.n_features, g * mc.hidden),
        (f"batch-1 decode step [1, I+H={mc.latent + mc.hidden}] x [I+H, {g}H]", 1, mc.latent + mc.hidden,
         g * mc.hidden),
    ]


def section_peak(quick: bool) -> tuple[dict, str]:
    secs = 0.15 if quick else 0.6
    rows, data = [], {"shapes": [], "peak_fp32": {}, "peak_bf16": {}}
    for name, m, k, n in matmul_shapes():
        row = [name]
        entry = {"name": name, "m": m, "k": k, "n": n}
        for t in THREADS:
            with threads(t):
                for dt, tag in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
                    if quick and dt == torch.bfloat16 and m * k * n > 1e8:
                        row.append(float("nan"))  # bf16 without AMX: seconds per call; skipped in --quick
                        continue
                    gf = matmul_gflops(m, k, n, dt, secs)
                    entry[f"{tag}_{t}t"] = gf
                    row.append(gf)
                    key = f"peak_{tag}"
                    data[key][t] = max(data[key].get(t, 0.0), gf)
        data["shapes"].append(entry)
        rows.append(row)
    headers = ["shape (m x k x n)"] + [f"{tag} {t}t GF/s" for t in THREADS for tag in ("fp32", "bf16")]
    md = md_table(headers, rows)
    md += "\n\nPeak = best of these shapes: " + ", ".join(
        f"fp32 {t}t **{data['peak_fp32'][t]:.1f}**, bf16 {t}t {data['peak_bf16'][t]:.1f}" for t in THREADS) + " GFLOP/s."
    return data, md


# =============================================================================================== 2. train
def _preset_model(name: str, seed: int = 0):
    from seqgen import get_domain
    from seqgen.models import build_model
    from seqgen.presets import configure
    mc, tc, p = configure(name)
    torch.manual_seed(seed)
    model = build_model(mc).train()
    x, y = get_domain(p.domain).dataset("train")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)[: tc.batch_size]
    return model, mc, tc, x[idx], y[idx] if y is not None else None


def _train_cases() -> list[tuple[str, str, int]]:
    """(preset, mode label, step index passed to train_step)."""
    from seqgen.presets import configure
    cases = []
    for name in SHIPPED:
        mc, tc, _ = configure(name)
        if mc.family == "gan" and mc.discrete and tc.mle_steps > 0:
            cases.append((name, "adversarial", 10 ** 9))
            cases.append((name, "MLE pretrain", 0))
        else:
            cases.append((name, "", 10 ** 9))
    return cases


def peak_probe(t: int) -> float:
    """fp32 GFLOP/s of one 1024^3 matmul at t threads (after one warm-up call)."""
    a, b = _PROBE
    with threads(t):
        torch.mm(a, b)
        t0 = time.perf_counter()
        torch.mm(a, b)
        return 2 * 1024 ** 3 / (time.perf_counter() - t0) / 1e9


_PROBE = (torch.randn(1024, 1024), torch.randn(1024, 1024))


def section_train(quick: bool, peaks: dict[int, float]) -> tuple[dict, str]:
    reps = 1 if quick else 5
    thread_set = (1,) if quick else THREADS
    results, rows = [], []
    for name, mode, step in _train_cases():
        label = f"{name} ({mode})" if mode else name
        log(f"train: {label}")
        model, mc, tc, xb, yb = _preset_model(name)
        opt = model.configure_optimizers(tc)

        def one(model=model, opt=opt, xb=xb, yb=yb, tc=tc, step=step):
            model.train_step(xb, yb, step, opt, tc)

        with threads(1), FlopCounter(model) as fc:
            one()
        configs = {f"fp32_{t}t": dict(t=t, naive=False) for t in thread_set}
        configs["naive_1t"] = dict(t=1, naive=True)

        def run(c):
            with threads(c["t"]):
                if c["naive"]:
                    with naive_recurrence():
                        one()
                else:
                    one()

        times = {k: [] for k in configs}
        local_peak = {t: [] for t in thread_set}
        for c in configs.values():  # warm-up each configuration once
            run(c)
        for _ in range(reps):  # interleave configurations so drift in machine load hits all of them alike
            for k, c in configs.items():
                t0 = time.perf_counter()
                run(c)
                times[k].append(time.perf_counter() - t0)
            for t in thread_set:  # the fp32 peak, re-measured beside the steps it is compared with
                local_peak[t].append(peak_probe(t))
        med = {k: median(v) for k, v in times.items()}
        lpeak = {t: max(median(v), 1e-9) for t, v in local_peak.items()}
        bf16 = measure_bf16(one, med["fp32_1t"], reps, quick)
        r = {"preset": name, "mode": mode or "default", "cell": mc.cell, "hidden": mc.hidden, "layers": mc.layers,
             "batch": tc.batch_size, "seq_len": mc.seq_len, "gflop_per_step": fc.total / 1e9,
             "recurrent_gflop_per_step": fc.recurrent / 1e9, "calls_per_step": dict(fc.calls),
             "ms_per_step": {k: v * 1e3 for k, v in med.items()}}
        for t in thread_set:
            s = med[f"fp32_{t}t"]
            r[f"seq_per_s_{t}t"] = tc.batch_size / s
            r[f"gflops_{t}t"] = fc.total / s / 1e9
            r[f"peak_beside_{t}t"] = lpeak[t]
            r[f"pct_peak_{t}t"] = 100 * fc.total / s / 1e9 / lpeak[t]
            r[f"pct_section1_peak_{t}t"] = 100 * fc.total / s / 1e9 / peaks[t] if peaks.get(t) else None
        r["speedup_vs_naive"] = med["naive_1t"] / med["fp32_1t"]
        r["bf16"] = bf16
        if "median_s" in bf16:
            r["ms_per_step"]["bf16_1t"] = bf16["median_s"] * 1e3
            r["bf16_over_fp32_time"] = bf16["median_s"] / med["fp32_1t"]
        results.append(r)
        row = [label, f"{mc.cell} {mc.hidden}x{mc.layers}", tc.batch_size, r["gflop_per_step"]]
        for t in thread_set:
            row += [r["ms_per_step"][f"fp32_{t}t"], r[f"seq_per_s_{t}t"], r[f"gflops_{t}t"], lpeak[t],
                    f"{r[f'pct_peak_{t}t']:.0f}%"]
        row += [r["ms_per_step"]["naive_1t"], f"{r['speedup_vs_naive']:.2f}x"]
        if "median_s" in bf16:
            cut = bf16.get("capped")
            row += [(">" if cut else "") + f"{bf16['median_s'] * 1e3:.0f}" + (" (cut off)" if cut else ""),
                    (">" if cut else "") + f"{r['bf16_over_fp32_time']:.1f}x"]
        else:
            row += [bf16["error"], ""]
        rows.append(row)
        del model, opt
    headers = ["preset", "cell", "batch", "GFLOP/step"]
    for t in thread_set:
        headers += [f"ms/step {t}t", f"seq/s {t}t", f"GF/s {t}t", f"fp32 peak {t}t", f"% of peak {t}t"]
    headers += ["naive cell loop ms (1t)", "fused speed-up", "bf16 autocast ms (1t)", "bf16/fp32 time"]
    md = md_table(headers, rows)
    md += ("\n\nGFLOP/step counts every recurrent and linear matmul of one `train_step` analytically from the shapes "
           "of the calls made (LSTM 2·4H(I+H) per step per sequence, GRU 3H; backward = 2x forward for calls "
           "made with gradients); `fp32 peak` is the 1024^3 fp32 matmul rate at the same thread count, re-measured "
           "between the steps (median), so load changes hit both sides of the ratio alike. GAN rows are adversarial steps "
           "(D and G updates); discrete GANs also show their MLE "
           "pretraining step. Naive = every seqgen recurrent layer replaced by a Python loop of LSTMCell/GRUCell "
           "steps on the same weights (teacher-forced). Median of "
           f"{reps} interleaved steps after one warm-up.")
    kdata, kmd = section_kernels(quick, peaks)
    return {"presets": results, "kernels": kdata}, md + "\n\n" + kmd


class _Timeout(Exception):
    pass


def call_with_timeout(fn, seconds: float):
    """fn() in this (main) thread, interrupted with _Timeout after `seconds` (between torch ops)."""
    import signal

    def handler(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def measure_bf16(one, fp32_s: float, reps: int, quick: bool) -> dict:
    """One train_step under bf16 autocast (what TrainConfig(bf16="on") does), 1 thread. Without AMX this is
    expected to be slower or to fail; a step is cut off after max(5 s, 8x fp32) (quick: 3 s) and reported as a
    lower bound."""
    cap = 3.0 if quick else max(5.0, 8 * fp32_s)

    def step():
        with threads(1), torch.autocast("cpu", dtype=torch.bfloat16):
            one()
    try:
        t0 = time.perf_counter()
        call_with_timeout(step, cap)
        first = time.perf_counter() - t0
    except _Timeout:
        return {"median_s": cap, "capped": True, "n": 0}
    except RuntimeError as e:
        msg = str(e).split(". Run workload")[0].split("\n")[0]
        return {"error": f"fails: {msg[:110]}"}
    if first > 3 * fp32_s:
        return {"median_s": first, "n": 1, "note": "single step (slow)"}
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return {"median_s": median(ts), "n": reps}


def section_kernels(quick: bool, peaks: dict[int, float]) -> tuple[list, str]:
    """The recurrent layers alone (fwd + bwd), fused nn.LSTM/GRU vs the per-step cell loop, 1 thread."""
    from seqgen.models.recurrent import Recurrent
    reps = 1 if quick else 5
    seen, out, rows = set(), [], []
    for name in SHIPPED:
        model, mc, tc, _, _ = _preset_model(name)
        for mod_name, mod in model.named_modules():
            if not isinstance(mod, Recurrent):
                continue
            rnn = mod.rnn
            key = (mod.cell, rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bidirectional, tc.batch_size,
                   mc.seq_len)
            if key in seen:
                continue
            seen.add(key)
            x = torch.randn(tc.batch_size, mc.seq_len, rnn.input_size)
            flops = 3 * rnn_module_flops(rnn, tc.batch_size, mc.seq_len)

            def fused(mod=mod, x=x):
                out, _ = mod(x)
                out.sum().backward()

            def naive(mod=mod, x=x):
                out, _ = naive_recurrent_forward(mod, x)
                out.sum().backward()

            with threads(1):
                fused(); naive()  # noqa: E702  warm-up
                tf, tn, tp = [], [], []
                for _ in range(reps):
                    tf += time_reps(fused, 1, 0)
                    tn += time_reps(naive, 1, 0)
                    tp.append(peak_probe(1))
            f, n, peak = median(tf), median(tn), median(tp)
            r = {"where": f"{name}: {mod_name}", "cell": mod.cell, "input": rnn.input_size, "hidden": rnn.hidden_size,
                 "layers": rnn.num_layers, "bidirectional": rnn.bidirectional, "batch": tc.batch_size,
                 "steps": mc.seq_len, "fused_ms": f * 1e3, "naive_ms": n * 1e3, "fused_gflops": flops / f / 1e9,
                 "naive_gflops": flops / n / 1e9, "peak_beside": peak,
                 "fused_pct_peak": 100 * flops / f / 1e9 / peak, "naive_pct_peak": 100 * flops / n / 1e9 / peak}
            out.append(r)
            rows.append([r["where"], f"{mod.cell} I={rnn.input_size} H={rnn.hidden_size}"
                         + (" bi" if rnn.bidirectional else ""), f"{tc.batch_size}x{mc.seq_len}",
                         r["fused_ms"], r["fused_gflops"], f"{r['fused_pct_peak']:.0f}%", r["naive_ms"],
                         r["naive_gflops"], f"{r['naive_pct_peak']:.0f}%", f"{n / f:.2f}x"])
    md = ("**Recurrent layers alone** (forward + backward of one layer on random input, 1 thread; % of the fp32 "
          "1024^3 matmul rate re-measured between the reps; target >= 50 %):\n\n") + md_table(
        ["first used in", "layer", "batch x T", "fused ms", "fused GF/s", "fused % peak", "cell loop ms",
         "cell loop GF/s", "cell loop % peak", "fused speed-up"], rows)
    return out, md


# =============================================================================================== 3. latency
def _model_for(name: str):
    """The shipped checkpoint if there is one, else the preset's architecture with untrained weights."""
    import seqgen
    try:
        ck = seqgen.load(name)
        return ck.model.eval(), ck.config, "checkpoint"
    except seqgen.CheckpointError:
        from seqgen.models import build_model
        from seqgen.presets import configure
        mc, _, _ = configure(name)
        torch.manual_seed(0)
        return build_model(mc).eval(), mc, "preset, untrained (no checkpoint)"


def section_latency(quick: bool) -> tuple[dict, str]:
    import seqgen
    from seqgen import audio, get_domain
    reps = 30 if quick else 300
    grid_reps = 3 if quick else 15
    single_grid_reps = 1 if quick else 3
    data, rows = {}, []

    def add(key, what, model_src, times, target_ms=None, extra=""):
        s = summary(times)
        data[key] = {**s, "source": model_src, "target_ms": target_ms}
        ok = "" if target_ms is None else ("yes" if s["median_s"] * 1e3 <= target_ms else "**NO**")
        rows.append([what, model_src, s["median_s"] * 1e3, s["p95_s"] * 1e3, s["n"],
                     "" if target_ms is None else f"<= {target_ms:g}", ok, extra])

    with threads(1), torch.inference_mode():
        for name in [n for n in SHIPPED if n.endswith("-vae")]:
            log(f"latency: {name}")
            model, cfg, src = _model_for(name)
            src = f"{src}, {cfg.cell} {cfg.hidden}" + (", AR" if cfg.autoregressive else "")
            dom = get_domain(cfg.domain)
            z1 = torch.tensor([[0.3, -0.7] + [0.0] * (cfg.latent - 2)])
            label = torch.zeros(1, dtype=torch.long) if cfg.conditional else None

            def one(z=z1, model=model, dom=dom, label=label):
                return dom.to_artifact(model.decode(z, label)[0])
            add(f"{name}.decode_one", f"{name}: decode one z -> artifact", src, time_reps(one, reps, 3), 5)

            lin = torch.linspace(-2.5, 2.5, 20)
            zz = torch.stack(torch.meshgrid(lin, lin, indexing="xy"), -1).reshape(-1, 2)
            zg = torch.cat([zz, torch.zeros(len(zz), cfg.latent - 2)], 1) if cfg.latent > 2 else zz
            lg = torch.zeros(len(zg), dtype=torch.long) if cfg.conditional else None

            def grid(model=model, dom=dom, zg=zg, lg=lg):
                seqs = model.decode(zg, lg)
                return [dom.to_artifact(s) for s in seqs]

            def singles(model=model, dom=dom, zg=zg, lg=lg):
                return [dom.to_artifact(model.decode(zg[i:i + 1], None if lg is None else lg[i:i + 1])[0])
                        for i in range(len(zg))]
            tg = time_reps(grid, grid_reps, 1)
            ts = time_reps(singles, single_grid_reps, 0)
            ratio = median(ts) / median(tg)
            add(f"{name}.grid_20x20", f"{name}: 20x20 grid, one batch -> 400 artifacts", src, tg, 100,
                f"{ratio:.1f}x faster than 400 single decodes")
            add(f"{name}.grid_400_singles", f"{name}: 400 single decodes -> artifacts", src, ts)
            data[f"{name}.grid_20x20"]["speedup_vs_singles"] = ratio

        gen = torch.Generator()
        for name in ("names-vae", "names-gan"):
            model, cfg, src = _model_for(name)
            dom = get_domain(cfg.domain)

            def names64(model=model, dom=dom):
                gen.manual_seed(0)
                return [dom.to_artifact(s) for s in model.sample(64, temperature=1.0, generator=gen)]
            add(f"{name}.sample_64", f"{name}: sample 64 names -> strings", f"{src}, {cfg.cell} {cfg.hidden}",
                time_reps(names64, max(5, reps // 5), 2))

        for name in ("melodies-vae", "melodies-gan"):
            model, cfg, src = _model_for(name)
            dom = get_domain(cfg.domain)
            label = torch.zeros(1, dtype=torch.long) if cfg.conditional else None

            def melody(model=model, dom=dom, label=label, cfg=cfg):
                gen.manual_seed(0)
                notes = dom.to_artifact(model.sample(1, label, temperature=1.0, generator=gen)[0])
                wave = audio.synthesize(notes, n_steps=cfg.seq_len)
                return audio.to_wav_bytes(wave, 22050)

            def melody_sample_only(model=model, dom=dom, label=label):
                gen.manual_seed(0)
                return dom.to_artifact(model.sample(1, label, temperature=1.0, generator=gen)[0])
            add(f"{name}.melody_wav", f"{name}: sample one melody -> WAV bytes", f"{src}, {cfg.cell} {cfg.hidden}",
                time_reps(melody, max(5, reps // 5), 2))
            add(f"{name}.melody_sample_only", f"{name}: ... of which sampling -> notes",
                f"{src}, {cfg.cell} {cfg.hidden}", time_reps(melody_sample_only, max(5, reps // 5), 2))

    for row in seqgen.list_checkpoints():
        if not row.get("shipped") or "error" in row:
            continue
        name = row["name"]
        with threads(1):
            t = time_reps(lambda name=name: seqgen.load(name), 3 if quick else 15, 1)
        add(f"load.{name}", f"load checkpoint {name} ({(row.get('file_bytes') or 0) / 1e6:.2f} MB)", "checkpoint", t)

    md = md_table(["what (1 thread, inference_mode)", "model", "median ms", "p95 ms", "reps", "target ms", "met",
                   "note"], rows)
    return data, md


# =============================================================================================== 4. import
def section_import(quick: bool) -> tuple[dict, str]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    n = 2 if quick else 5

    def wall(code):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
            ts.append(time.perf_counter() - t0)
        return ts
    cases = [("python -c pass (interpreter start)", "pass"), ("import torch", "import torch"),
             ("import seqgen", "import seqgen"),
             ("import seqgen; seqgen.load('digits-vae')", "import seqgen; seqgen.load('digits-vae')")]
    data, rows = {}, []
    for what, code in cases:
        s = summary(wall(code))
        data[what] = s
        rows.append([what, s["median_s"] * 1e3, s["min_s"] * 1e3, s["n"]])
    return data, md_table(["fresh subprocess", "median ms", "min ms", "runs"], rows)


# =============================================================================================== 5. app
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> dict:
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def _wait_rendered(page, timeout_ms: int = 60000) -> tuple[float, float]:
    """Wait until the app shows content, then until its script has finished (stable for 300 ms).

    Returns perf_counter() times: (first content visible, script finished)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stElementContainer"]', timeout=timeout_ms)
    t_content = time.perf_counter()
    deadline = t_content + timeout_ms / 1000
    stable_since = None
    while time.perf_counter() < deadline:
        state = page.get_attribute('[data-testid="stApp"]', "data-test-script-state")
        if state == "notRunning":
            stable_since = stable_since or time.perf_counter()
            if time.perf_counter() - stable_since >= 0.3:
                return t_content, stable_since
        else:
            stable_since = None
        page.wait_for_timeout(25)
    raise TimeoutError("page did not finish rendering")


def _start_server(port: int, log_file):
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
           "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_server(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _health(port: int) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


def section_app(quick: bool) -> tuple[dict, str]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright not installed"}, "_skipped: playwright is not installed_"
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return {"skipped": f"no chromium at {chromium}"}, f"_skipped: no chromium at {chromium}_"
    starts = 1 if quick else 3
    data = {"cold_starts": [], "pages": []}
    with sync_playwright() as pw:
        t0 = time.perf_counter()
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        data["browser_launch_s"] = time.perf_counter() - t0
        try:
            for i in range(starts):
                port = free_port()
                with tempfile.TemporaryFile() as logf:
                    t0 = time.perf_counter()
                    proc = _start_server(port, logf)
                    try:
                        while not _health(port):
                            if proc.poll() is not None:
                                logf.seek(0)
                                raise RuntimeError("streamlit exited: " + logf.read().decode()[-2000:])
                            if time.perf_counter() - t0 > 60:
                                raise TimeoutError("no /_stcore/health ok within 60 s")
                            time.sleep(0.05)
                        t_health = time.perf_counter() - t0
                        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                        page = ctx.new_page()
                        page.goto(f"http://127.0.0.1:{port}/")
                        t_content, t_done = _wait_rendered(page)
                        t_content, t_first = t_content - t0, t_done - t0
                        rss_first = rss_kib(proc.pid)
                        data["cold_starts"].append({"health_s": t_health, "first_content_s": t_content,
                                                    "first_page_s": t_first,
                                                    "rss_after_first_page_kib": rss_first.get("VmRSS")})
                        log(f"app: cold start {i + 1}: health {t_health:.2f} s, first content {t_content:.2f} s, "
                            f"first page complete {t_first:.2f} s")
                        if i == 0:  # visit every page once (loads every model), then read the server's memory
                            base = f"http://127.0.0.1:{port}"
                            hrefs = page.eval_on_selector_all(
                                '[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"], '
                                '[data-testid="stTopNavLink"], header a[href]', "els => els.map(e => e.href)")
                            seen = []
                            for h in hrefs:
                                if h and h.startswith(base) and h not in seen:
                                    seen.append(h)
                            for h in seen:
                                tp = time.perf_counter()
                                page.goto(h)
                                t_end = None
                                try:
                                    _, t_end = _wait_rendered(page)
                                    err = page.locator('[data-testid="stException"]').count()
                                    status = "error shown" if err else "ok"
                                except TimeoutError:
                                    status = "timeout"
                                data["pages"].append({"url": h[len(base):] or "/",
                                                      "load_s": (t_end or time.perf_counter()) - tp,
                                                      "status": status, "rss_kib": rss_kib(proc.pid).get("VmRSS")})
                            mem = rss_kib(proc.pid)
                            data["rss_after_all_pages_kib"] = mem.get("VmRSS")
                            data["rss_peak_kib"] = mem.get("VmHWM")
                        ctx.close()
                    finally:
                        _stop_server(proc)
        finally:
            browser.close()
    cs = data["cold_starts"]
    med_h = median([c["health_s"] for c in cs])
    med_c = median([c["first_content_s"] for c in cs])
    med_f = median([c["first_page_s"] for c in cs])
    data["health_median_s"], data["first_content_median_s"], data["first_page_median_s"] = med_h, med_c, med_f
    rows = [["chromium launch (not counted below)", data["browser_launch_s"], "", ""],
            [f"`streamlit run` -> /_stcore/health ok (median of {len(cs)})", med_h, "", ""],
            ["`streamlit run` -> first element of the home page visible in chromium", med_c, "", ""],
            ["`streamlit run` -> home page complete (script finished) in chromium", med_f, "<= 5",
             "yes" if med_f <= 5 else "**NO**"]]
    md = md_table(["app", "seconds", "target s", "met"], rows)
    prow = [[p["url"], p["load_s"], p["status"], (p["rss_kib"] or 0) / 1024] for p in data["pages"]]
    md += "\n\n" + md_table(["page (visited in order)", "load s", "status", "server RSS after, MiB"], prow)
    md += (f"\n\nServer RSS after visiting every page: **{(data.get('rss_after_all_pages_kib') or 0) / 1024:.0f} MiB** "
           f"(peak {(data.get('rss_peak_kib') or 0) / 1024:.0f} MiB; after the first page "
           f"{(cs[0]['rss_after_first_page_kib'] or 0) / 1024:.0f} MiB).")
    return data, md


# =============================================================================================== 6/7. external
def section_external(script: str, quick: bool, timeout: int) -> tuple[dict, str]:
    """Run another engineer's benchmark script as a table section.

    Contract: `python benchmarks/<script> [--quick] [--json PATH]`. A flag is passed only if the script's source
    mentions it (the script is not run with --help: a script without argparse would take that as a real run).
    A JSON object written to PATH, or else to benchmarks/results/<stem>.json during the run, is shown as a table
    (nested objects flattened); otherwise the last lines of the script's stdout are shown. With --quick, a script
    that has no --quick mode is skipped (its full run can take many minutes)."""
    path = ROOT / "benchmarks" / script
    if not path.exists():
        return {"skipped": f"{script} not present"}, f"_skipped: benchmarks/{script} does not exist yet_"
    source = path.read_text(errors="replace")
    if quick and "--quick" not in source:
        return ({"skipped": f"{script} has no --quick mode"},
                f"_skipped in --quick: benchmarks/{script} has no --quick mode; run without --quick to include it_")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, str(path)]
    if quick:
        cmd.append("--quick")
    fallback = ROOT / "benchmarks" / "results" / (Path(script).stem + ".json")
    with tempfile.TemporaryDirectory() as tmp:
        jpath = Path(tmp) / "out.json"
        if "--json" in source:
            cmd += ["--json", str(jpath)]
        t_begin = time.time()
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout} s"}, f"_{script}: timed out after {timeout} s_"
        wall = time.perf_counter() - t0
        shown = " ".join(cmd[1:]).replace(str(ROOT) + "/", "").replace(str(jpath), "<json>")
        data = {"command": shown, "returncode": proc.returncode, "wall_s": wall}
        md = f"`python {shown}` (exit {proc.returncode}, {wall:.0f} s)\n\n"
        src = jpath if jpath.exists() else (fallback if fallback.exists() and fallback.stat().st_mtime >= t_begin
                                            else None)
        if src is not None:
            try:
                result = json.loads(src.read_text())
            except json.JSONDecodeError as e:
                result = {"error": f"bad JSON: {e}"}
            data["result"] = result
            flat = _flatten(result)
            md += md_table(["figure", "value"], [[k, v] for k, v in flat.items()][:60])
        else:
            tail = "\n".join((proc.stdout.strip().splitlines() or [""])[-25:])
            data["stdout_tail"] = tail
            md += "```\n" + tail + "\n```"
        if proc.returncode != 0:
            data["stderr_tail"] = proc.stderr[-2000:]
            md += "\n\n```\n" + proc.stderr[-1500:] + "\n```"
    return data, md


def _flatten(obj, prefix: str = "") -> dict:
    """{"a": {"b": 1}, "c": [1, 2]} -> {"a.b": 1, "c": "1, 2"} (short lists of scalars joined)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        if len(obj) <= 20 and all(not isinstance(v, (dict, list)) for v in obj):
            return {prefix: ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in obj)}
        out = {}
        for i, v in enumerate(obj[:20]):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


# =============================================================================================== main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny repetition counts: a smoke run, not figures to quote")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({', '.join(SECTIONS)})")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out")
    ap.add_argument("--json", help="write all results as JSON here")
    ap.add_argument("--md", help="write the markdown report here too")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    bad = [s for s in only + list(skip) if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {bad}; choose from {SECTIONS}")
    sections = [s for s in SECTIONS if s in only and s not in skip]

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    info = machine_info()
    results: dict = {"machine": info, "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    out: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        out.append(text)

    emit(f"# seqgen benchmarks{' (--quick: smoke figures, do not quote)' if args.quick else ''}\n")
    emit(md_table(["machine", ""], [
        ["CPU", f"{info['cpu']}, {info['cores']} cores ({info['isa']}; AMX: {'yes' if info['amx'] else 'no'})"],
        ["torch", f"{info['torch']} (default threads {info['torch_default_threads']}; benchmarks set 1 or 2 "
                  f"explicitly), OMP_WAIT_POLICY={info['omp_wait_policy']}"],
        ["python", info["python"]], ["load average at start", info["load_average_at_start"]],
        ["date", results["started"]]]) + "\n")

    peaks: dict[int, float] = {}
    titles = {"peak": "1. Matmul peak", "train": "2. Training throughput", "latency": "3. Interactive latency",
              "import": "4. Import time", "app": "5. App cold start and memory",
              "browser": "6. Slider -> image in a real browser", "quality": "7. Time to quality (live training)"}
    for s in sections:
        log(f"section {s}")
        t0 = time.perf_counter()
        try:
            if s == "peak":
                data, md = section_peak(args.quick)
                peaks = dict(data["peak_fp32"])
            elif s == "train":
                data, md = section_train(args.quick, peaks)
            elif s == "latency":
                data, md = section_latency(args.quick)
            elif s == "import":
                data, md = section_import(args.quick)
            elif s == "app":
                data, md = section_app(args.quick)
            elif s == "browser":
                data, md = section_external("browser_latency.py", args.quick, 300 if args.quick else 1200)
            else:
                data, md = section_external("time_to_quality.py", args.quick, 300 if args.quick else 1800)
        except Exception as e:  # noqa: BLE001 - one broken section must not lose the others
            import traceback
            traceback.print_exc()
            data, md = {"error": repr(e)}, f"_failed: {e!r}_"
        data = data if isinstance(data, dict) else {"rows": data}
        data["section_seconds"] = time.perf_counter() - t0
        results[s] = data
        emit(f"## {titles[s]}\n\n{md}\n")
    results["load_average_at_end"] = common.load_average()
    results["total_seconds"] = time.perf_counter() - t_start
    emit(f"_Total {results['total_seconds']:.0f} s; load average at end {results['load_average_at_end']}._")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if args.md:
        Path(args.md).parent.mkdir(parents=True, exist_ok=True)
        Path(args.md).write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
