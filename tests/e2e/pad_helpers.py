"""Helpers for the latent pad's browser tests and benchmarks/latent_pad.py: open the pad, read its state from the
page (the attributes the pad mirrors on its root element), sweep it, count its repaints, and decode in the
page's own runtime to compare with torch. Nothing here needs a hook in the pad's code."""
from __future__ import annotations

import hashlib
import time

# The pad's state as the page shows it: data-* on .pad-root, its text line, its output canvas.
STATE_JS = """root => ({
  ready: root.dataset.ready === "true", failed: root.dataset.failed || "", frame: Number(root.dataset.frame || 0),
  z: root.dataset.z || null, kind: root.dataset.kind || null,
  text: root.querySelector(".pad-text").textContent, status: root.querySelector(".pad-status").textContent,
  caption: root.querySelector(".pad-caption").textContent,
  alt: root.querySelector(".pad-out").getAttribute("aria-label"),
  out: root.querySelector(".pad-out").toDataURL()})"""


def pad_state(page) -> dict | None:
    root = page.locator(".pad-root")
    if not root.count():
        return None
    return root.first.evaluate(STATE_JS)


def wait_pad_frame(page, after: int = 0, timeout: float = 60_000) -> dict:
    """Wait until the pad has painted a decode (frame > after); -> its state."""
    page.locator(".pad-root").first.wait_for(timeout=timeout)
    deadline = time.perf_counter() + timeout / 1000
    while True:
        state = pad_state(page)
        if state and (state["frame"] > after or state["failed"]):
            return state
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the pad painted no frame after {after} within {timeout / 1000:.0f} s: {state}")
        page.wait_for_timeout(20)


def pad_box(page) -> dict:
    canvas = page.locator(".pad-canvas")
    canvas.wait_for(timeout=60_000)
    return canvas.bounding_box()


def to_screen(box: dict, z, lim: float = 4.0) -> tuple[float, float]:
    return (box["x"] + (z[0] + lim) / (2 * lim) * box["width"], box["y"] + (lim - z[1]) / (2 * lim) * box["height"])


def sweep(page, seconds: float, start=(-3.0, -2.0), end=(3.0, 2.0), release: bool = True) -> int:
    """Press on `start` and drag back and forth to `end` for `seconds`, mouse moves back to back (the pad
    repaints at most once per animation frame, whatever the input rate); -> moves made."""
    box = pad_box(page)
    x0, y0 = to_screen(box, start)
    x1, y1 = to_screen(box, end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    t0, moves = time.perf_counter(), 0
    while (t := time.perf_counter() - t0) < seconds:
        f = (t / 2.0) % 2.0                                    # 2 s across, 2 s back
        f = f if f <= 1 else 2 - f
        page.mouse.move(x0 + f * (x1 - x0), y0 + f * (y1 - y0))
        moves += 1
    if release:
        page.mouse.up()
    return moves


# A finger's stream of moves as the page receives it: one pointermove per animation frame, whatever the page is
# busy with (the browser coalesces a digitizer's events into frames). Dispatched from the page's own frame loop,
# unlike page.mouse.move, whose every move waits for the page's acknowledgement and, on a throttled page, so
# spans two frames: that measures the test driver, not the pad.
FINGER_JS = """async (canvas, [seconds, start, end, lim]) => {
  const r = canvas.getBoundingClientRect();
  const at = ([x, y]) => ({ clientX: r.left + ((x + lim) / (2 * lim)) * r.width,
                            clientY: r.top + ((lim - y) / (2 * lim)) * r.height });
  const send = (type, z) => canvas.dispatchEvent(new PointerEvent(type, { bubbles: true, pointerId: 7,
    pointerType: "touch", isPrimary: true, ...at(z) }));
  send("pointerdown", start);
  const t0 = performance.now();
  let moves = 0;
  await new Promise((done) => {
    const frame = (now) => {
      const t = (now - t0) / 1000;
      if (t >= seconds) { done(); return; }
      let f = (t / 2) % 2; f = f <= 1 ? f : 2 - f;              // 2 s across, 2 s back
      send("pointermove", [start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1])]);
      moves += 1;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  send("pointermove", end);                                 // the finger comes to rest at the end, then lifts
  send("pointerup", end);
  return moves;
}"""


def finger_sweep(page, seconds: float, start=(-3.0, -2.0), end=(3.0, 2.0), lim: float = 4.0) -> int:
    """The sweep of sweep(), as a finger's moves reach the page: one per animation frame (FINGER_JS); -> moves."""
    return page.locator(".pad-canvas").first.evaluate(FINGER_JS, [seconds, list(start), list(end), lim])


def record_repaints(page) -> None:
    """From now on, note the time of every repaint (each change of the pad's data-frame)."""
    page.locator(".pad-root").first.evaluate("""root => {
        root.__repaints = [];
        new MutationObserver(() => root.__repaints.push(performance.now()))
          .observe(root, {attributes: true, attributeFilter: ["data-frame"]}); }""")


def repaint_times(page) -> list[float]:
    return page.locator(".pad-root").first.evaluate("root => root.__repaints.slice()")


def decoder_url(model: str) -> str:
    """Where the app publishes a model's decoder.onnx for browsers (seqgen.ui.latent_pad: under its hash)."""
    from seqgen.checkpoints import resolve
    from seqgen.export import EXPORT_FILE
    data = (resolve(model) / EXPORT_FILE).read_bytes()
    return f"/app/static/decoders/{hashlib.sha256(data).hexdigest()[:20]}.onnx"


# The same runtime and decoder file the pad loads, run from the test: the page decodes a batch of z.
DECODE_JS = """async ([url, zs]) => {
  const ort = await import(new URL("/app/static/vendor/onnxruntime-web/ort.wasm.min.mjs", location.origin).href);
  ort.env.wasm.wasmPaths = new URL("/app/static/vendor/onnxruntime-web/", location.origin).href;
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const run = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  const z = new Float32Array(zs.flat());
  const out = await run.run({ z: new ort.Tensor("float32", z, [zs.length, zs[0].length]) });
  return Array.from(out.out.data, Number);
}"""


def browser_decode(page, model: str, zs) -> list[float]:
    return page.evaluate(DECODE_JS, [decoder_url(model), [list(map(float, z)) for z in zs]])
