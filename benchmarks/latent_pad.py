"""The latent pad in headless Chromium: frames while dragging, server load while dragging, bytes on the wire,
time to the first interactive frame, and the browser's decode against torch's.

    python benchmarks/latent_pad.py [--seconds 5] [--throttle 4] [--models digits-vae ...] [--json out.json]

Per model, in a fresh browser context (empty cache):
- cold load: bytes transferred for the runtime and the model (CDP encodedDataLength, i.e. after gzip) and the
  time from navigation to the pad's first decoded frame;
- a further model in the same context: the bytes it adds;
- a scripted sweep with the button held: repaints per second (of them exact decodes, the rest a slow device's
  previews: seqgen/ui/latent_pad/pacing.mjs) and p50/p95 time between repaints; the server's
  script reruns (rerun requests the browser sent over the websocket) and its CPU time (/proc of the
  `streamlit run` process) over the sweep's wall time;
- 100 random z decoded in the browser against RNNVAE.decode.

--throttle 4 slows the page's CPU four times during the sweep (Chromium's CPU throttling, as DevTools does to
stand in for a phone-class CPU); loading is not throttled.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from e2e_helpers import launch, streamlit_server, wait_idle  # noqa: E402
from pad_helpers import browser_decode, finger_sweep, record_repaints, repaint_times, sweep, wait_pad_frame  # noqa: E402

MODELS = ["digits-vae", "names-vae", "melodies-vae"]
CLK = os.sysconf("SC_CLK_TCK")


def server_pid(port: str) -> int:
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(cmd) and port.encode() in cmd:
                return int(d.name)
    raise RuntimeError("streamlit server process not found")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK     # utime + stime


def cold_load(browser, base: str, model: str, further: str | None) -> tuple:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    urls, sizes, enc = {}, {}, {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.responseReceived", lambda e: enc.__setitem__(
        e["requestId"], {k.lower(): v for k, v in e["response"]["headers"].items()}.get("content-encoding", "")))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    t0 = time.perf_counter()
    page.goto(f"{base}/latent?model={model}&z=0.00,0.00")
    wait_pad_frame(page, timeout=120_000)
    first_frame = time.perf_counter() - t0

    def static_bytes():
        rows = [(urls.get(r, ""), n, enc.get(r, "")) for r, n in sizes.items()]
        return [(u.split("/app/static/")[1], n, e) for u, n, e in rows if "/app/static/" in u]
    cold = static_bytes()
    extra = None
    if further:
        before = set(sizes)
        page.goto(f"{base}/latent?model={further}&z=0.00,0.00")
        wait_pad_frame(page, timeout=120_000)
        extra = [(urls.get(r, "").split("/app/static/")[-1], n, enc.get(r, "")) for r, n in sizes.items()
                 if r not in before and "/app/static/" in urls.get(r, "")]
        page.goto(f"{base}/latent?model={model}&z=0.00,0.00")
        wait_pad_frame(page, timeout=120_000)
    wait_idle(page)
    return ctx, page, first_frame, cold, extra


def measure_sweep(page, pid: int, seconds: float, throttle: float = 1.0, driver: str = "mouse") -> dict:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.perf_counter())))
    # the websocket already exists: count script runs from the app's own state attribute instead
    page.evaluate("""() => { const app = document.querySelector('[data-testid="stApp"]'); window.__runs = 0;
        new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__runs++; })
          .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")
    record_repaints(page)
    previews = 'root => Number(root.dataset.previews || 0)'
    previews0 = page.locator(".pad-root").first.evaluate(previews)
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    moves = sweep(page, seconds) if driver == "mouse" else finger_sweep(page, seconds)
    wall = time.perf_counter() - t0
    page.wait_for_timeout(1500)            # the release's rerun belongs to the sweep
    wait_idle(page)
    cpu = cpu_seconds(pid) - cpu0
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    frames = np.array(repaint_times(page))
    gaps = np.diff(frames)
    root = page.locator(".pad-root").first
    n_previews = root.evaluate(previews) - previews0
    return {"moves": moves, "repaints": int(len(frames)), "fps": round(len(frames) / wall, 1),
            "exact_fps": round((len(frames) - n_previews) / wall, 1), "previews": n_previews,
            "quick_mode": root.evaluate("root => root.dataset.quick === 'true'"),
            "decode_ms": float(root.evaluate("root => root.dataset.decodeMs || 'nan'")),
            "frame_ms_p50": round(float(np.percentile(gaps, 50)), 1), "frame_ms_p95": round(float(np.percentile(gaps, 95)), 1),
            "server_reruns": int(page.evaluate("() => window.__runs")), "server_cpu_s": round(cpu, 3),
            "server_cpu_share": round(cpu / (wall + 1.5), 3), "wall_s": round(wall, 2), "cpu_throttle": throttle,
            "driver": driver}


def equality(page, model: str) -> str:
    import torch

    import seqgen
    vae = seqgen.load(model).model.eval()
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(0)) * 2
    got = np.array(browser_decode(page, model, z.tolist()))
    want = vae.decode(z).numpy()
    got = got.reshape(want.shape)
    if vae.cfg.discrete:
        return f"{int((got == want).all(-1).sum())}/100 sequences identical"
    return f"max |Δ| {float(np.abs(got - want).max()):.1e}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--throttle", type=float, default=1.0, help="CPU slowdown during the sweep (4: a phone)")
    ap.add_argument("--driver", choices=("mouse", "finger"), default="mouse",
                    help="mouse: Playwright's mouse moves, each waiting for the page (on a throttled page, about one "
                         "per two frames); finger: one pointermove per animation frame, dispatched in the page, as "
                         "a touch screen's coalesced moves arrive")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    report = {"load_average": os.getloadavg(), "models": {}}
    with streamlit_server() as base, sync_playwright() as p:
        pid = server_pid(base.rsplit(":", 1)[1])
        browser = launch(p)
        for i, model in enumerate(args.models):
            further = args.models[(i + 1) % len(args.models)] if len(args.models) > 1 else None
            ctx, page, first, cold, extra = cold_load(browser, base, model, further)
            row = {"first_frame_s": round(first, 2),
                   "cold_bytes": sum(n for _, n, _ in cold), "cold_files": cold,
                   "further_model": further, "further_bytes": sum(n for _, n, _ in extra or []),
                   "further_files": extra, "equality": equality(page, model)}
            row.update(measure_sweep(page, pid, args.seconds, args.throttle, args.driver))
            report["models"][model] = row
            print(f"{model}: {json.dumps({k: v for k, v in row.items() if not k.endswith('_files')})}", flush=True)
            ctx.close()
        browser.close()
    report["load_average_after"] = os.getloadavg()
    print(f"load average before {report['load_average']}, after {report['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
