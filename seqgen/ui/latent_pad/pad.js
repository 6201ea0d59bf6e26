// @ts-check
// The latent pad: a 2-D map of the latent plane whose decoder runs in the browser (onnxruntime-web, WebAssembly),
// so the decoded output repaints on every animation frame while the point is dragged. The point goes back to
// Python only on release, after a key nudge and at most every `data.send_every_ms` while dragging, so a drag
// costs the server (almost) nothing.
//
// This file knows nothing about images, words, notes or sound: how a decode is drawn, what a backdrop cell
// shows and what happens on release belong to the renderer of the domain's kind (seqgen/ui/kinds/<kind>.mjs),
// registered in RENDERERS by the assembled module (seqgen/ui/latent_pad.py) and picked by `data.spec.kind`.
//
// The pad's state is mirrored on its root element for anyone watching the page (assistive technology, tests):
// data-ready, data-failed, data-frame (outputs painted), data-z (the last exact decode's point), data-kind and
// data-decode-ms (the running estimate of one decode's time); on a slow device also data-quick, data-preview (the
// picture is a preview) and data-previews (previews painted). The output's text alternative is its aria-label.
//
// FRAME_BUDGET_MS, EXACT_SHARE, updateDecodeMs, tooSlow, exactDue and preview come from pacing.mjs, which the
// assembled module puts in front of this file.

/**
 * @typedef {Object} PadView  what a renderer draws into
 * @property {HTMLCanvasElement} canvas   the decoded output's canvas
 * @property {HTMLElement} text           a line of text (words are shown as text, never markup)
 * @property {HTMLElement} caption        one line under the output
 * @property {Record<string, any>} words  the pad's messages in the session's language
 * @property {(message: string, values: Record<string, any>) => string} fill   "{n} notes" with n filled in
 * @property {() => (AudioContext | null)} audio   one AudioContext for the page (null without Web Audio)
 * @property {any} [last]                 what the renderer kept of its last decode (the notes to play)
 *
 * @typedef {Object} Renderer
 * @property {(view: PadView, spec: any) => void} configure   size the output and pick the canvas or the text line
 * @property {(view: PadView, spec: any, out: ArrayLike<number>) => string} show   draw one decode; -> its text alternative
 * @property {(ctx: CanvasRenderingContext2D, spec: any, out: ArrayLike<number>, x: number, y: number, w: number, h: number) => void} tile
 *   one cell of the decoded grid behind the map (out: that cell's values)
 * @property {(view: PadView, spec: any) => void} [release]   after the pointer lets go (play the sound)
 * @property {boolean} [blends]   the decoded values can be averaged: a slow device's drag previews blend the
 *   grid cells around the point instead of showing the nearest one (pacing.mjs)
 */

/** @type {Record<string, Renderer>} */
const RENDERERS = {};

/** @type {any} */
const G = (/** @type {any} */ (globalThis).__seqgenPadRuntime ||= { sessions: new Map(), ort: null });
const PADS = new WeakMap();
const SENT_REMEMBERED = 8;   // the sends whose reruns may still be on their way back

// ------------------------------------------------------------------ runtime and decoder
/** @param {any} data */
async function runtime(data) {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw new Error("this browser has no WebAssembly");
  }
  if (!G.ort) {
    G.ort = import(new URL(data.runtime.module, location.origin).href).then((ort) => {
      ort.env.wasm.wasmPaths = { mjs: new URL(data.runtime.mjs, location.origin).href,
        wasm: new URL(data.runtime.wasm, location.origin).href };
      ort.env.wasm.numThreads = 1;   // threads need cross-origin isolation, which the app does not ask for
      ort.env.wasm.proxy = false;
      return ort;
    });
  }
  return G.ort;
}

/** @param {any} data */
function session(data) {
  const url = new URL(data.model_url, location.origin).href;
  if (!G.sessions.has(url)) {
    // the decoder downloads while the runtime loads and compiles, not after it
    const bytes = fetch(url).then(async (r) => {
      if (!r.ok) throw new Error(`the decoder could not be fetched (HTTP ${r.status})`);
      return new Uint8Array(await r.arrayBuffer());
    });
    G.sessions.set(url, Promise.all([runtime(data), bytes]).then(async ([ort, model]) => (
      { ort, run: await ort.InferenceSession.create(model, { executionProviders: ["wasm"] }) })));
  }
  return G.sessions.get(url);
}

/**
 * z rows [[z1, z2], ...] -> flat output array (pixels, tokens or frames), decoded in one batch; `timing.ms`, when
 * given, gets the run's own time (not the wait for another decode to finish)
 * @param {any} data @param {number[][]} zs @param {{ms: number}} [timing] @returns {Promise<any>}
 */
async function decode(data, zs, timing) {
  const { ort, run } = await session(data);
  const turn = G.decoding || Promise.resolve();
  let done = () => {};
  // one run at a time: a drag's exact decodes and the grid's rows would otherwise share the runtime at once, and
  // the time measured for a decode would include the other's
  G.decoding = new Promise((resolve) => { done = resolve; });
  try {
    await turn;
    const started = performance.now();
    const out = await runOnce(ort, run, data, zs);
    if (timing) timing.ms = performance.now() - started;
    return out;
  } finally {
    done();
  }
}

/** @param {any} ort @param {any} run @param {any} data @param {number[][]} zs */
async function runOnce(ort, run, data, zs) {
  const n = zs.length, latent = data.latent;
  const z = new Float32Array(n * latent);
  zs.forEach((p, i) => { z[i * latent] = p[0]; z[i * latent + 1] = p[1]; });
  /** @type {Record<string, any>} */
  const feeds = { z: new ort.Tensor("float32", z, [n, latent]) };
  if (data.label !== null && data.label !== undefined) {
    feeds.label = new ort.Tensor("int64", BigInt64Array.from(zs, () => BigInt(data.label)), [n]);
  }
  return (await run.run(feeds)).out.data;
}

// ------------------------------------------------------------------ the pad
/** @param {HTMLElement} root */
function setup(root) {
  /** @param {string} sel @returns {any} */
  const q = (sel) => root.querySelector(sel);
  const p = { root, map: q(".pad-canvas"), point: q(".pad-point"), zText: q(".pad-z"), legend: q(".pad-legend"), status: q(".pad-status"),
    quickNote: q(".pad-quick"),
    backdrop: q(".pad-backdrop"), backdropLabel: q(".pad-backdrop-text"),
    view: /** @type {PadView} */ ({ canvas: q(".pad-out"), text: q(".pad-text"), caption: q(".pad-caption"),
      words: {}, fill, audio }),
    /** @type {any} */ data: null, /** @type {Renderer | null} */ renderer: null,
    z: [0, 0], /** @type {string | null} */ shown: null, busy: false, /** @type {any} */ decoded: null, dragging: false,
    /** @type {number[] | null} */ lastSent: null, /** @type {number[][]} */ sentRecently: [],
    /** @type {number[] | null} */ lastDataZ: null, lastSendAt: 0,
    layerKey: "", /** @type {any} */ grid: null,
    gridBusy: false, frame: 0, previews: 0, /** @type {number | null} */ decodeMs: null, lastExactAt: 0,
    /** @type {string | null} */ previewKey: null, playOnExact: false, quickTimer: 0, ready: false, failed: false, raf: 0, keyTimer: 0, legendKey: "",
    /** @type {(key: string, value: any) => void} */ setStateValue: () => {} };
  p.map.addEventListener("pointerdown", (/** @type {PointerEvent} */ e) => {
    p.dragging = true;
    p.mapRect = p.map.getBoundingClientRect();   // once per drag: reading it on every move forces a layout
    p.lastSendAt = performance.now();   // the first trip to the server comes on release or after send_every_ms
    try { p.map.setPointerCapture(e.pointerId); } catch { /* a pointer the browser no longer tracks (or a
      script's synthetic one) cannot be captured; the drag still follows its moves over the map */ }
    p.map.focus();
    moveTo(p, e);
  });
  p.map.addEventListener("pointermove", (/** @type {PointerEvent} */ e) => { if (p.dragging) moveTo(p, e); });
  const release = () => {
    if (!p.dragging) return;
    p.dragging = false;
    p.mapRect = null;
    p.z = snap(p, p.z);
    schedule(p);
    send(p);
    if (!p.renderer || !p.renderer.release) return;
    if (p.shown === decodeKey(p, p.z) && p.previewKey === null) p.renderer.release(p.view, p.data.spec);
    else { p.view.audio(); p.playOnExact = true; }   // sound may start later only if a gesture resumed it now
  };
  p.map.addEventListener("pointerup", release);
  p.map.addEventListener("pointercancel", release);
  p.map.addEventListener("keydown", (/** @type {KeyboardEvent} */ e) => {
    const d = /** @type {Record<string, number[]>} */ ({ ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1],
      ArrowDown: [0, -1] })[e.key];
    if (!d) return;
    e.preventDefault();
    const step = p.data.step * (e.shiftKey ? 5 : 1);
    p.z = snap(p, [p.z[0] + d[0] * step, p.z[1] + d[1] * step]);
    schedule(p);
    clearTimeout(p.keyTimer);
    p.keyTimer = setTimeout(() => send(p), 350);   // a run of key presses is one trip to the server
  });
  p.backdrop.addEventListener("change", () => { p.layerKey = ""; schedule(p); });
  new ResizeObserver(() => { p.layerKey = ""; schedule(p); }).observe(p.map);
  return p;
}

/** @param {any} p @param {number[]} z @returns {number[]} */
function snap(p, z) {
  const { lim, step } = p.data;
  return z.map((v) => Math.min(lim, Math.max(-lim, Math.round(v / step) * step)));
}

/** @param {any} p @param {number[]} z @returns {[number, number]} */
function toPixel(p, z) {
  const s = p.map.width, lim = p.data.lim;
  return [((z[0] + lim) / (2 * lim)) * s, ((lim - z[1]) / (2 * lim)) * s];
}

/** @param {any} p @param {PointerEvent} e */
function moveTo(p, e) {
  const r = p.mapRect || p.map.getBoundingClientRect(), lim = p.data.lim;
  const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
  p.z = [Math.min(lim, Math.max(-lim, -lim + 2 * lim * fx)), Math.min(lim, Math.max(-lim, lim - 2 * lim * fy))];
  schedule(p);
  if (performance.now() - p.lastSendAt > p.data.send_every_ms) send(p);
}

/** @param {any} p */
function send(p) {
  const z = snap(p, p.z).map((v) => Number(v.toFixed(2)));
  if (p.lastSent && z[0] === p.lastSent[0] && z[1] === p.lastSent[1]) return;
  p.lastSent = z;
  p.sentRecently = [...p.sentRecently.slice(-(SENT_REMEMBERED - 1)), z];
  p.lastSendAt = performance.now();
  p.setStateValue("z", z);
}

/** @param {any} p */
function schedule(p) {
  if (!p.raf) p.raf = requestAnimationFrame(() => { p.raf = 0; tick(p); });
}

/** @param {any} p @param {number[]} z */
function decodeKey(p, z) {
  return `${z[0]},${z[1]},${p.data.model_url},${p.data.label}`;
}

/**
 * One animation frame. One decode at a time, always of the latest point; the point follows the pointer on
 * every frame meanwhile (drawMap moves an element, no canvas is drawn). On a device too slow to decode every
 * frame, a drag shows previews between exact decodes (pacing.mjs).
 * @param {any} p
 */
function tick(p) {
  if (!p.root.isConnected || !p.ready) return;
  if (p.decoded) {
    if (p.decoded.key === decodeKey(p, p.decoded.z)) {     // not a decode of the model shown before
      showOutput(p, p.decoded.out, p.decoded.z);
      p.shown = p.decoded.key;
      p.previewKey = null;
      if (p.playOnExact && !p.dragging && p.shown === decodeKey(p, p.z)) {
        p.playOnExact = false;
        if (p.renderer && p.renderer.release) p.renderer.release(p.view, p.data.spec);
      }
    }
    p.decoded = null;
  }
  drawMap(p);
  startDecode(p);
}

/** @param {any} p */
function startDecode(p) {
  const want = p.z.slice(), key = decodeKey(p, want);
  if (p.busy || p.shown === key) {
    if (!p.busy && needsGrid(p) && !p.grid && !p.gridBusy) schedule(p);   // the grid, after the first frame
    return;
  }
  const now = performance.now();
  if (!exactDue(now, p.lastExactAt, p.decodeMs, p.dragging)) {
    showPreview(p, want);
    clearTimeout(p.quickTimer);   // the exact decode of a point the pointer rests on comes without a move
    p.quickTimer = setTimeout(() => schedule(p), p.lastExactAt + p.decodeMs / EXACT_SHARE - now);
    return;
  }
  p.busy = true;
  p.lastExactAt = now;
  const timing = { ms: 0 };
  decode(p.data, [want], timing).then((out) => {
    p.decodeMs = updateDecodeMs(p.decodeMs, timing.ms);
    p.root.dataset.decodeMs = p.decodeMs.toFixed(1);
    p.decoded = { out, z: want, key };
  })
    .catch((err) => fail(p, err))
    // painted as soon as it is ready, and the next decode started, rather than at the next animation frame: a
    // decode of 20 ms would otherwise take two frames (33 ms) from one picture to the next
    .finally(() => { p.busy = false; tick(p); });
}

/** @param {any} p @param {ArrayLike<number>} out @param {number[]} z */
function showOutput(p, out, z) {
  p.zText.textContent = fill(p.data.text.decoded_at, { x: z[0].toFixed(2), y: z[1].toFixed(2) });
  const alt = /** @type {Renderer} */ (p.renderer).show(p.view, p.data.spec, out);
  p.view.canvas.setAttribute("aria-label", alt || p.zText.textContent);
  p.frame += 1;
  p.root.dataset.frame = String(p.frame);
  p.root.dataset.z = `${z[0].toFixed(2)},${z[1].toFixed(2)}`;
  p.root.dataset.preview = "false";
}

/**
 * A slow device's drag: the preview at z from the grid of decodes, drawn when it differs from the one shown.
 * data-z keeps the last exact decode's point; data-preview says the picture is a preview.
 * @param {any} p @param {number[]} z
 */
function showPreview(p, z) {
  if (!p.grid || p.grid.key !== p.data.model_url + p.data.label) return;
  const renderer = /** @type {Renderer} */ (p.renderer);
  const [values, key] = preview(p.grid, p.data.lim, z, !!renderer.blends);
  if (key === p.previewKey) return;
  p.zText.textContent = fill(p.data.text.decoded_at, { x: z[0].toFixed(2), y: z[1].toFixed(2) });
  renderer.show(p.view, p.data.spec, values);
  p.previewKey = key;
  p.shown = null;
  p.frame += 1;
  p.previews += 1;
  p.root.dataset.frame = String(p.frame);
  p.root.dataset.previews = String(p.previews);
  p.root.dataset.preview = "true";
  p.root.dataset.quick = "true";
  const note = fill(p.data.text.quick, { ms: Math.round(p.decodeMs), n: p.grid.n });
  if (p.quickNote.textContent !== note) p.quickNote.textContent = note;
}

/** The grid of decodes is wanted behind the map (the backdrop option) or for a slow device's previews. @param {any} p */
function needsGrid(p) {
  return p.backdrop.checked || tooSlow(p.decodeMs);
}

// ------------------------------------------------------------------ the map (a cached layer + the point)
/** @param {any} p */
async function backdropGrid(p) {
  const data = p.data, n = data.spec.grid, lim = data.lim, rows = [];
  for (let r = 0; r < n; r++) {   // a row per decode: a slow device's page never waits for the whole grid at once
    const zs = [];
    for (let c = 0; c < n; c++) zs.push([-lim + (2 * lim * (c + 0.5)) / n, lim - (2 * lim * (r + 0.5)) / n]);
    rows.push(await decode(data, zs));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const out = new rows[0].constructor(rows.reduce((sum, row) => sum + row.length, 0));
  rows.reduce((at, row) => { out.set(row, at); return at + row.length; }, 0);
  return { n, out };
}

/** @param {CanvasRenderingContext2D} ctx @param {any} p @param {number} size */
function drawBackdrop(ctx, p, size) {
  const { n, out } = p.grid, cell = size / n, per = out.length / (n * n);
  const renderer = /** @type {Renderer} */ (p.renderer);
  for (let i = 0; i < n * n; i++) {
    const x = (i % n) * cell, y = Math.floor(i / n) * cell;
    renderer.tile(ctx, p.data.spec, out.subarray(i * per, (i + 1) * per), x, y, cell, cell);
  }
}

/**
 * The map: its canvas (the points, the marks, the backdrop) is drawn only when one of those changes; the
 * current point is an element of its own moved by a CSS transform, so a drag repaints no canvas but the output.
 * @param {any} p
 */
function drawMap(p) {
  const dpr = window.devicePixelRatio || 1, css = p.map.clientWidth || 400, size = Math.round(css * dpr);
  if (p.map.width !== size) { p.map.width = size; p.map.height = size; }
  const want = `${size}|${p.data.points_key}|${p.backdrop.checked}|${p.grid ? p.grid.key : ""}`;
  // the grid of decodes waits for the first decoded frame, so the pad is usable first
  if (needsGrid(p) && p.frame > 0 && (!p.grid || p.grid.key !== p.data.model_url + p.data.label)) {
    if (!p.gridBusy) {
      p.gridBusy = true;
      backdropGrid(p).then((g) => { p.grid = { ...g, key: p.data.model_url + p.data.label }; p.layerKey = ""; })
        .catch((err) => fail(p, err)).finally(() => { p.gridBusy = false; schedule(p); });
    }
  }
  if (p.layerKey !== want) {
    const ctx = p.map.getContext("2d");
    ctx.drawImage(staticLayer(p, size), 0, 0);
    for (const [name, x, y, colour] of p.data.marks) marker(ctx, toPixel(p, [x, y]), colour, name, dpr);
    p.layerKey = want;
  }
  const lim = p.data.lim, x = ((p.z[0] + lim) / (2 * lim)) * css, y = ((lim - p.z[1]) / (2 * lim)) * css;
  p.point.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)`;
  const valueText = `z = (${p.z[0].toFixed(2)}, ${p.z[1].toFixed(2)})`;
  if (p.map.getAttribute("aria-valuetext") !== valueText) p.map.setAttribute("aria-valuetext", valueText);
}

/** @param {CanvasRenderingContext2D} ctx @param {number[]} xy @param {string} colour @param {string} name @param {number} dpr */
function marker(ctx, [x, y], colour, name, dpr) {
  ctx.fillStyle = colour;
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 1.5 * dpr;
  ctx.beginPath();
  ctx.arc(x, y, 6 * dpr, 0, 2 * Math.PI);
  ctx.fill(); ctx.stroke();
  ctx.fillStyle = "#222";
  ctx.font = `${11 * dpr}px sans-serif`;
  ctx.textAlign = "center";
  ctx.fillText(name, x, y - 9 * dpr);
}

/** @param {any} p @param {number} size */
function staticLayer(p, size) {
  const layer = document.createElement("canvas");
  layer.width = layer.height = size;
  const ctx = /** @type {CanvasRenderingContext2D} */ (layer.getContext("2d")), d = p.data;
  const dpr = window.devicePixelRatio || 1;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  if (p.backdrop.checked && p.grid) drawBackdrop(ctx, p, size);
  ctx.strokeStyle = "#eee";
  ctx.lineWidth = 1;
  for (let v = -d.lim; v <= d.lim + 1e-9; v += 1) {
    const [gx] = toPixel(p, [v, 0]), [, gy] = toPixel(p, [0, v]);
    ctx.beginPath(); ctx.moveTo(gx, 0); ctx.lineTo(gx, size); ctx.moveTo(0, gy); ctx.lineTo(size, gy); ctx.stroke();
  }
  ctx.fillStyle = "#888";
  ctx.font = `${10 * dpr}px sans-serif`;
  ctx.fillText(`z₁ →   (±${d.lim})`, 6 * dpr, size - 6 * dpr);
  ctx.fillText("z₂ ↑", 6 * dpr, 14 * dpr);
  const pts = d.points, labels = d.labels, rad = 2.6 * dpr;
  ctx.globalAlpha = p.backdrop.checked ? 0.5 : 0.8;
  for (let i = 0; i < pts.length; i += 2) {
    const c = labels ? labels[i / 2] : 0;
    ctx.fillStyle = ctx.strokeStyle = d.palette[c % d.palette.length];
    shape(ctx, d.symbols[c % d.symbols.length], toPixel(p, [pts[i], pts[i + 1]]), rad, dpr);
  }
  ctx.globalAlpha = 1;
  return layer;
}

// One class's marker: its colour from data.palette and its shape from data.symbols (plotly's names), so the
// pad's map matches the server-drawn one (seqgen/ui/figures.py: class_style).
/** @param {CanvasRenderingContext2D} ctx @param {string} symbol @param {number[]} xy @param {number} r @param {number} dpr */
function shape(ctx, symbol, [x, y], r, dpr) {
  ctx.lineWidth = 1.2 * dpr;
  ctx.beginPath();
  /** @param {number[][]} pts */
  const poly = (pts) => {
    pts.forEach(([a, b], k) => (k ? ctx.lineTo(x + a * r, y + b * r) : ctx.moveTo(x + a * r, y + b * r)));
    ctx.closePath(); ctx.fill();
  };
  /** @param {number} n @param {number} inner */
  const star = (n, inner) => poly(Array.from({ length: 2 * n }, (_, k) => {
    const a = -Math.PI / 2 + (k * Math.PI) / n, s = k % 2 ? inner : 1.15;
    return [s * Math.cos(a), s * Math.sin(a)];
  }));
  switch (symbol) {
    case "square": poly([[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]]); break;
    case "diamond": poly([[0, -1.2], [1.2, 0], [0, 1.2], [-1.2, 0]]); break;
    case "triangle-up": poly([[0, -1.2], [1.1, 0.9], [-1.1, 0.9]]); break;
    case "triangle-down": poly([[0, 1.2], [1.1, -0.9], [-1.1, -0.9]]); break;
    case "cross": poly([[-0.35, -1], [0.35, -1], [0.35, -0.35], [1, -0.35], [1, 0.35], [0.35, 0.35], [0.35, 1],
      [-0.35, 1], [-0.35, 0.35], [-1, 0.35], [-1, -0.35], [-0.35, -0.35]]); break;
    case "x":
      ctx.lineWidth = 1.8 * dpr;
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
      ctx.stroke(); break;
    case "star": star(5, 0.5); break;
    case "pentagon": star(5, 0.95); break;
    case "hexagon": poly(Array.from({ length: 6 }, (_, k) => [Math.cos((k * Math.PI) / 3), Math.sin((k * Math.PI) / 3)])); break;
    default: ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
  }
}

/**
 * "{x} and {y}" with the values of `vals` (messages come translated from Python)
 * @param {string} message @param {Record<string, any>} vals
 */
function fill(message, vals) {
  return String(message).replace(/\{(\w+)\}/g, (m, k) => (k in vals ? String(vals[k]) : m));
}

/** One AudioContext for the page, made on first use (after a tap or click, as mobile browsers require). */
function audio() {
  const AC = window.AudioContext || /** @type {any} */ (window).webkitAudioContext;
  if (!AC) return null;
  // called from a pointer release: a phone lets a page start or resume sound only inside such a gesture
  const ac = (G.audioContext ||= new AC());
  if (ac.state === "suspended") ac.resume();
  return ac;
}

/** @param {any} p */
function legend(p) {
  const d = p.data, key = d.label_names.join("|");
  if (p.legendKey === key) return;
  p.legendKey = key;
  p.legend.replaceChildren(...d.label_names.map((/** @type {string} */ name, /** @type {number} */ i) => {
    const span = document.createElement("span"), dot = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    dot.width = dot.height = Math.round(12 * dpr);
    dot.style.width = dot.style.height = "12px";
    dot.style.marginRight = "0.25rem";
    dot.style.verticalAlign = "-1px";
    const c = /** @type {CanvasRenderingContext2D} */ (dot.getContext("2d"));
    c.fillStyle = c.strokeStyle = d.palette[i % d.palette.length];
    shape(c, d.symbols[i % d.symbols.length], [6 * dpr, 6 * dpr], 4.5 * dpr, dpr);
    span.append(dot, document.createTextNode(name));   // label names are text, never markup
    return span;
  }));
}

// ------------------------------------------------------------------ status
/** @param {any} p @param {any} err */
function fail(p, err) {
  if (p.failed) return;
  p.failed = true;
  const why = String(err && err.message ? err.message : err);
  p.status.textContent = fill(p.data.text.failed, { error: why });
  p.root.dataset.failed = why;
  p.setStateValue("failed", why);
}

export default function (/** @type {any} */ component) {
  const { data, parentElement, setStateValue } = component;
  if (data.preload) { session(data).catch(() => {}); return; }   // latent_pad.preload: load, draw nothing
  const root = parentElement.querySelector(".pad-root");
  let p = PADS.get(root);
  if (!p) { p = setup(root); PADS.set(root, p); }
  p.setStateValue = setStateValue;
  const renderer = RENDERERS[data.spec.kind];
  if (!renderer) { p.data = data; fail(p, new Error(`no renderer for ${data.spec.kind}`)); return; }
  const modelChanged = !p.data || p.data.model_url !== data.model_url || p.data.label !== data.label
    || p.renderer !== renderer;
  p.data = data;
  p.view.words = data.text;
  p.root.dataset.kind = data.spec.kind;
  p.root.classList.toggle("pad-large", !!data.large);     // Presenter mode: a projector's larger map
  p.point.style.setProperty("--pad-current", data.current_colour);
  p.map.setAttribute("aria-label", data.text.aria);
  p.backdropLabel.textContent = " " + data.text.backdrop;
  if (modelChanged) {
    p.renderer = renderer;
    renderer.configure(p.view, data.spec);
    p.view.canvas.style.aspectRatio = `${p.view.canvas.width} / ${p.view.canvas.height}`;
    p.shown = null; p.grid = null; p.layerKey = ""; p.decodeMs = null; p.previewKey = null;
    delete p.root.dataset.quick;
    p.quickNote.textContent = "";
  }
  legend(p);
  // A z from Python moves the point only when Python changed it (map click, "Go there", a link), not when it
  // is the echo of something this pad sent, the last send or an earlier one: the rerun that answers a send made
  // while dragging can arrive after the release, and must not take the point back to where the finger was then.
  const z = data.z, echo = p.sentRecently.some((s) => z[0] === s[0] && z[1] === s[1]);
  const fresh = !p.lastDataZ || z[0] !== p.lastDataZ[0] || z[1] !== p.lastDataZ[1];
  if (!p.dragging && fresh && !echo) p.z = z.slice();
  p.lastDataZ = z.slice();
  p.layerKey = "";
  p.status.textContent = p.ready ? "" : data.text.loading;
  session(data).then(() => {
    p.ready = true;
    p.root.dataset.ready = "true";
    p.status.textContent = "";
    schedule(p);
  }).catch((/** @type {any} */ err) => fail(p, err));
  schedule(p);
}
