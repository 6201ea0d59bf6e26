"""A class opening the latent pad: how soon a cold browser draws its first decoded frame, what it downloads,
what a second visit downloads, and what 30 students fetching the runtime at once cost the server.

    python benchmarks/cold_start.py [--students 30] [--model digits-vae] [--json out.json]

1. A fresh `streamlit run app.py`; one visit to the explorer warms the server (torch, the model, the map), as
   the teacher's own visit does before a lesson.
2. A cold browser context (empty cache): navigation to /latent -> the pad's first decoded frame, and the
   bytes on the wire (CDP encodedDataLength) of the runtime and the decoder.
3. The same context again (a second visit): the bytes the runtime and the decoder then cost.
4. `--students` concurrent fetches of the runtime (its module, loader and wasm) and the decoder, as a browser
   asks for them (Accept-Encoding: gzip, deflate, br): the server's CPU seconds (/proc of its process) and the
   wall time until the last byte.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

from e2e_helpers import launch, streamlit_server, wait_idle  # noqa: E402
from latent_pad import cpu_seconds, server_pid  # noqa: E402
from pad_helpers import decoder_url, wait_pad_frame  # noqa: E402


def watch_static(ctx, page):
    """Record every /app/static/ response of the page: url -> (bytes on the wire, content-encoding, from cache)."""
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    urls, seen = {}, {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.responseReceived", lambda e: seen.__setitem__(e["requestId"], [
        {k.lower(): v for k, v in e["response"]["headers"].items()}.get("content-encoding", ""),
        bool(e["response"].get("fromDiskCache") or e["response"].get("fromMemoryCache")), 0]))
    cdp.on("Network.loadingFinished", lambda e: seen.get(e["requestId"], [0, 0, 0]).__setitem__(
        2, e["encodedDataLength"]))

    def files():
        return {urls[r].split("/app/static/")[1]: {"bytes": v[2], "encoding": v[0], "from_cache": v[1]}
                for r, v in seen.items() if "/app/static/" in urls.get(r, "")}
    return files


def visit(page, base: str, model: str) -> float:
    t0 = time.perf_counter()
    page.goto(f"{base}/latent?model={model}&z=0.00,0.00")
    wait_pad_frame(page, timeout=120_000)
    return time.perf_counter() - t0


def fetch(url: str) -> int:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return len(r.read())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--model", default="digits-vae")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from seqgen.ui.latent_pad import runtime_urls
    report = {"load_average": os.getloadavg(), "model": args.model}
    with streamlit_server() as base, sync_playwright() as p:
        pid = server_pid(base.rsplit(":", 1)[1])
        browser = launch(p)
        warm = browser.new_page()
        visit(warm, base, args.model)
        wait_idle(warm, 60_000)
        warm.close()

        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        for which in ("cold", "second_visit"):        # the second visit is a new tab in the same browser
            page = ctx.new_page()
            files = watch_static(ctx, page)
            report[f"{which}_first_frame_s"] = round(visit(page, base, args.model), 2)
            report[f"{which}_files"] = files()
            report[f"{which}_bytes"] = sum(f["bytes"] for f in report[f"{which}_files"].values())
            page.close()
        ctx.close()
        browser.close()

        runtime = runtime_urls("/")
        urls = [base + u for u in (runtime["module"], runtime["mjs"], runtime["wasm"], decoder_url(args.model))]
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        with ThreadPoolExecutor(args.students) as pool:
            sizes = list(pool.map(fetch, [u for _ in range(args.students) for u in urls]))
        report["class_fetch"] = {"students": args.students, "wall_s": round(time.perf_counter() - t0, 2),
                                 "server_cpu_s": round(cpu_seconds(pid) - cpu0, 3), "bytes": sum(sizes)}
    report["load_average_after"] = os.getloadavg()
    print(json.dumps({k: v for k, v in report.items() if not k.endswith("_files")}, indent=1))
    print("cold files:", json.dumps(report["cold_files"]))
    print("second visit files:", json.dumps(report["second_visit_files"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
