"""Where a cold latent pad's first frame goes: milestones recorded inside the page, cold and on a second visit.

    python benchmarks/pad_timeline.py [--model digits-vae] [--rounds 2]

A fresh `streamlit run app.py`, warmed by one visit (the teacher's). Then, per round, a new browser context
(empty cache) opens the explorer twice: cold, then a second visit in a new tab. An init script records, in ms
after navigation: Streamlit's bundle parsed (DOMContentLoaded), its app element, the script's first heading,
the script running and finished (the app's `data-test-script-state`), the pad's preloader element, the pad
mounted, the runtime's wasm instantiated (`WebAssembly.instantiateStreaming`, wrapped), and the pad's decoder
ready and first frame (its `data-ready` / `data-frame`); and the page's long tasks (> 60 ms). Nothing here
needs a hook in the app.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

from e2e_helpers import launch, streamlit_server, wait_idle  # noqa: E402
from pad_helpers import wait_pad_frame  # noqa: E402

MILESTONES_JS = r"""
window.__timeline = {}; window.__longTasks = [];
const mark = (k) => { if (!(k in window.__timeline)) window.__timeline[k] = Math.round(performance.now()); };
new PerformanceObserver((list) => list.getEntries().forEach(
  (e) => window.__longTasks.push([Math.round(e.startTime), Math.round(e.duration)]))).observe({ type: 'longtask', buffered: true });
const findPad = (root) => {
  const r = root.querySelector('.pad-root'); if (r) return r;
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const x = findPad(el.shadowRoot); if (x) return x; }
  return null;
};
const poll = setInterval(() => {
  const r = findPad(document);
  if (!r) return;
  mark('pad mounted');
  if (r.dataset.ready === 'true') mark('decoder ready');
  if (Number(r.dataset.frame || 0) > 0) { mark('first frame'); clearInterval(poll); }
}, 10);
for (const f of ['instantiateStreaming', 'instantiate']) {
  const original = WebAssembly[f];
  WebAssembly[f] = function (...args) {
    mark(`wasm ${f} started`);
    const p = original.apply(this, args);
    p.then(() => mark(`wasm ${f} done`));
    return p;
  };
}
document.addEventListener('DOMContentLoaded', () => {
  mark('DOMContentLoaded');
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app) mark('app element');
    if (document.querySelector('h1')) mark('first heading');
    if (document.querySelector('.st-key-pad_preload')) mark('preloader element');
    const state = app && app.getAttribute('data-test-script-state');
    if (state === 'running') mark('script running');
    if (state === 'notRunning' && 'script running' in window.__timeline) mark('script finished');
  }).observe(document, { subtree: true, childList: true, attributes: true });
});
"""


def visit(context, url: str) -> dict:
    page = context.new_page()
    page.add_init_script(MILESTONES_JS)
    t0 = time.perf_counter()
    page.goto(url)
    wait_pad_frame(page, timeout=120_000)
    wall = time.perf_counter() - t0
    page.wait_for_timeout(200)
    out = {"wall_s": round(wall, 2), "milestones_ms": page.evaluate("window.__timeline"),
           "long_tasks_ms": [t for t in page.evaluate("window.__longTasks") if t[1] > 60]}
    page.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits-vae")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with streamlit_server() as base, sync_playwright() as p:
        url = f"{base}/latent?model={args.model}&z=0.00,0.00"
        browser = launch(p)
        warm = browser.new_page()
        warm.goto(url)
        wait_pad_frame(warm, timeout=120_000)
        wait_idle(warm, 60_000)
        warm.close()
        for _ in range(args.rounds):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            for which in ("cold", "second visit"):
                r = visit(context, url)
                steps = sorted(r["milestones_ms"].items(), key=lambda kv: kv[1])
                print(f"{which}: {r['wall_s']:.2f} s to the first frame (navigation included)")
                print("   " + " → ".join(f"{name} {ms / 1000:.2f}" for name, ms in steps))
                print(f"   long tasks (start, ms): {r['long_tasks_ms']}")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
