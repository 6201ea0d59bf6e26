// The latent pad: a 2-D map of the latent plane whose decoder runs in the browser (onnxruntime-web, WebAssembly),
// so the decoded output repaints on every animation frame while the point is dragged. The point goes back
// to Python only on release, after a key nudge and at most every `data.send_every_ms` while dragging, so a
// drag costs the server (almost) nothing. Everything per domain arrives in `data.spec`, drawn by its kind.

const G = (globalThis.__seqgenPad ||= { sessions: new Map(), ort: null, frames: [], pads: new Set() });
const PADS = new WeakMap();
const MAX_FRAMES = 20000;

// ------------------------------------------------------------------ runtime and decoder
async function runtime(data) {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw new Error("this browser has no WebAssembly");
  }
  if (!G.ort) {
    G.ort = import(new URL(data.runtime.module, location.origin).href).then((ort) => {
      ort.env.wasm.wasmPaths = new URL(data.runtime.folder, location.origin).href;
      ort.env.wasm.numThreads = 1;   // threads need cross-origin isolation, which the app does not ask for
      ort.env.wasm.proxy = false;
      return ort;
    });
  }
  return G.ort;
}

function session(data) {
  const url = new URL(data.model_url, location.origin).href;
  if (!G.sessions.has(url)) {
    G.sessions.set(url, runtime(data).then(async (ort) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return { ort, run: await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] }) };
    }));
  }
  return G.sessions.get(url);
}

// z rows [[z1, z2], ...] -> flat output array (pixels or tokens), decoded in one batch
async function decode(data, zs) {
  const { ort, run } = await session(data);
  const n = zs.length, latent = data.latent;
  const z = new Float32Array(n * latent);
  zs.forEach((p, i) => { z[i * latent] = p[0]; z[i * latent + 1] = p[1]; });
  const feeds = { z: new ort.Tensor("float32", z, [n, latent]) };
  if (data.label !== null && data.label !== undefined) {
    feeds.label = new ort.Tensor("int64", BigInt64Array.from(zs, () => BigInt(data.label)), [n]);
  }
  return (await run.run(feeds)).out.data;
}

// ------------------------------------------------------------------ artifacts, by kind
function tokensToText(spec, toks) {
  let s = "";
  for (const t of toks) {
    if (spec.stop.includes(t)) break;
    const letter = spec.letters[t];
    if (letter) s += letter;
  }
  return spec.capitalize && s ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
}

function tokensToNotes(spec, toks) {
  const notes = [];
  let cur = null;
  toks.forEach((t, step) => {
    if (spec.hold.includes(t) && cur) { cur.length += 1; return; }
    if (cur) notes.push(cur);
    cur = null;
    const p = spec.pitch[t];
    if (p !== null && p !== undefined) cur = { pitch: p, start: step, length: 1 };
  });
  if (cur) notes.push(cur);
  return notes;
}

function drawImage(ctx, spec, out, offset, x, y, w, h, alpha = 1) {
  const rows = spec.rows, cols = spec.cols;
  const img = new ImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.round(Math.min(1, Math.max(0, out[offset + i])) * 255);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  const tile = (G.tile ||= document.createElement("canvas"));
  tile.width = cols; tile.height = rows;
  tile.getContext("2d").putImageData(img, 0, 0);
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, w, h);
  ctx.restore();
}

function drawRoll(ctx, spec, notes, x, y, w, h, alpha = 1) {
  const steps = spec.steps, lo = spec.min_pitch, span = spec.max_pitch - spec.min_pitch + 1;
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.fillStyle = "#15171c";
  ctx.fillRect(x, y, w, h);
  ctx.fillStyle = "#3a3f4b";
  for (let s = 0; s <= steps; s += spec.steps_per_bar) ctx.fillRect(x + (s / steps) * w, y, 1, h);
  for (const n of notes) {
    const nx = x + (n.start / steps) * w, nw = Math.max(1, (n.length / steps) * w - 1);
    const ny = y + ((spec.max_pitch - n.pitch) / span) * h;
    ctx.fillStyle = "#4ea1ff";
    ctx.fillRect(nx, ny, nw, Math.max(1, h / span));
    ctx.fillStyle = "#cfe6ff";
    ctx.fillRect(nx, ny, Math.max(1, Math.min(2, nw)), Math.max(1, h / span));
  }
  ctx.restore();
}

// ------------------------------------------------------------------ the pad
function setup(root) {
  const q = (sel) => root.querySelector(sel);
  const p = { root, map: q(".pad-canvas"), out: q(".pad-out"), text: q(".pad-text"), zText: q(".pad-z"),
    caption: q(".pad-caption"), legend: q(".pad-legend"), status: q(".pad-status"), backdrop: q(".pad-backdrop"),
    z: [0, 0], shown: null, busy: false, dragging: false, lastSent: null, lastDataZ: null, lastSendAt: 0,
    layer: null, layerKey: "", grid: null, frame: 0, ready: false, failed: false,
    backdropLabel: q(".pad-backdrop-text") };
  p.map.addEventListener("pointerdown", (e) => {
    p.dragging = true;
    p.lastSendAt = performance.now();   // the first trip to the server comes on release or after send_every_ms
    p.map.setPointerCapture(e.pointerId);
    p.map.focus();
    moveTo(p, e);
  });
  p.map.addEventListener("pointermove", (e) => { if (p.dragging) moveTo(p, e); });
  const release = () => {
    if (!p.dragging) return;
    p.dragging = false;
    p.z = snap(p, p.z);
    schedule(p);
    send(p);
    if (p.data.spec.kind === "melody") play(p);
  };
  p.map.addEventListener("pointerup", release);
  p.map.addEventListener("pointercancel", release);
  p.map.addEventListener("keydown", (e) => {
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[e.key];
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
  G.pads.add(p);
  return p;
}

function snap(p, z) {
  const { lim, step } = p.data;
  return z.map((v) => Math.min(lim, Math.max(-lim, Math.round(v / step) * step)));
}

function toPixel(p, z) {
  const s = p.map.width, lim = p.data.lim;
  return [((z[0] + lim) / (2 * lim)) * s, ((lim - z[1]) / (2 * lim)) * s];
}

function moveTo(p, e) {
  const r = p.map.getBoundingClientRect(), lim = p.data.lim;
  const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
  p.z = [Math.min(lim, Math.max(-lim, -lim + 2 * lim * fx)), Math.min(lim, Math.max(-lim, lim - 2 * lim * fy))];
  schedule(p);
  if (performance.now() - p.lastSendAt > p.data.send_every_ms) send(p);
}

function send(p) {
  const z = snap(p, p.z).map((v) => Number(v.toFixed(2)));
  if (p.lastSent && z[0] === p.lastSent[0] && z[1] === p.lastSent[1]) return;
  p.lastSent = z;
  p.lastSendAt = performance.now();
  p.setStateValue("z", z);
}

function schedule(p) {
  if (!p.raf) p.raf = requestAnimationFrame(() => { p.raf = 0; tick(p); });
}

async function tick(p) {
  if (!p.root.isConnected || !p.ready) return;
  drawMap(p);
  if (p.busy) { schedule(p); return; }
  const want = p.z.slice();
  const key = `${want[0]},${want[1]},${p.data.model_url},${p.data.label}`;
  if (p.shown === key) return;
  p.busy = true;
  try {
    const out = await decode(p.data, [want]);
    showOutput(p, out, want);
    p.shown = key;
    G.frames.push(performance.now());
    if (G.frames.length > MAX_FRAMES) G.frames.splice(0, G.frames.length - MAX_FRAMES);
  } catch (err) {
    fail(p, err);
  } finally {
    p.busy = false;
  }
  if (p.shown !== `${p.z[0]},${p.z[1]},${p.data.model_url},${p.data.label}`) schedule(p);
}

function showOutput(p, out, z) {
  const spec = p.data.spec;
  p.zText.textContent = fill(p.data.text.decoded_at, { x: z[0].toFixed(2), y: z[1].toFixed(2) });
  p.last = out;
  if (spec.kind === "image") {
    drawImage(p.out.getContext("2d"), spec, out, 0, 0, 0, p.out.width, p.out.height);
  } else if (spec.kind === "text") {
    const name = tokensToText(spec, Array.from(out));
    p.text.textContent = name || "∅";
    p.caption.textContent = name ? "" : p.data.text.empty;
  } else {
    const notes = tokensToNotes(spec, Array.from(out));
    p.notes = notes;
    drawRoll(p.out.getContext("2d"), spec, notes, 0, 0, p.out.width, p.out.height);
    const forms = p.data.text.notes;
    p.caption.textContent = fill(forms[Math.min(notes.length, forms.length - 1)], { n: notes.length });
  }
  p.out.dataset.frame = String(++p.frame);
  p.root.dataset.frame = String(p.frame);
}

// ------------------------------------------------------------------ the map (a cached layer + the point)
async function backdropGrid(p) {
  const n = p.data.spec.grid, lim = p.data.lim, zs = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    zs.push([-lim + (2 * lim * (c + 0.5)) / n, lim - (2 * lim * (r + 0.5)) / n]);
  }
  return { n, out: await decode(p.data, zs) };
}

function drawBackdrop(ctx, p, size) {
  const spec = p.data.spec, { n, out } = p.grid, cell = size / n, per = out.length / (n * n);
  for (let i = 0; i < n * n; i++) {
    const x = (i % n) * cell, y = Math.floor(i / n) * cell;
    if (spec.kind === "image") drawImage(ctx, spec, out, i * per, x, y, cell, cell, 0.55);
    else {
      const toks = Array.from(out.subarray(i * per, (i + 1) * per));
      if (spec.kind === "text") {
        ctx.fillStyle = "rgba(60,60,60,0.55)";
        ctx.font = `${Math.max(9, cell / 5)}px sans-serif`;
        ctx.textAlign = "center";
        ctx.fillText(tokensToText(spec, toks) || "∅", x + cell / 2, y + cell / 2);
      } else drawRoll(ctx, spec, tokensToNotes(spec, toks), x + 2, y + 2, cell - 4, cell - 4, 0.45);
    }
  }
}

function drawMap(p) {
  const dpr = window.devicePixelRatio || 1, css = p.map.clientWidth || 400, size = Math.round(css * dpr);
  if (p.map.width !== size) { p.map.width = size; p.map.height = size; }
  const want = `${size}|${p.data.points_key}|${p.backdrop.checked}|${p.grid ? p.grid.key : ""}`;
  if (p.backdrop.checked && (!p.grid || p.grid.key !== p.data.model_url + p.data.label)) {
    if (!p.gridBusy) {
      p.gridBusy = true;
      backdropGrid(p).then((g) => { p.grid = { ...g, key: p.data.model_url + p.data.label }; p.layerKey = ""; })
        .catch((err) => fail(p, err)).finally(() => { p.gridBusy = false; schedule(p); });
    }
  }
  if (p.layerKey !== want) { p.layer = staticLayer(p, size); p.layerKey = want; }
  const ctx = p.map.getContext("2d");
  ctx.drawImage(p.layer, 0, 0);
  for (const [name, x, y, colour] of p.data.marks) marker(ctx, toPixel(p, [x, y]), colour, name, dpr);
  const [px, py] = toPixel(p, p.z);
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 3 * dpr;
  const r = 9 * dpr;
  ctx.beginPath();
  ctx.moveTo(px - r, py - r); ctx.lineTo(px + r, py + r); ctx.moveTo(px + r, py - r); ctx.lineTo(px - r, py + r);
  ctx.stroke();
  p.map.setAttribute("aria-valuetext", `z = (${p.z[0].toFixed(2)}, ${p.z[1].toFixed(2)})`);
}

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

function staticLayer(p, size) {
  const layer = document.createElement("canvas");
  layer.width = layer.height = size;
  const ctx = layer.getContext("2d"), d = p.data, dpr = window.devicePixelRatio || 1;
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
function shape(ctx, symbol, [x, y], r, dpr) {
  ctx.lineWidth = 1.2 * dpr;
  ctx.beginPath();
  const poly = (pts) => { pts.forEach(([a, b], k) => (k ? ctx.lineTo(x + a * r, y + b * r) : ctx.moveTo(x + a * r, y + b * r))); ctx.closePath(); ctx.fill(); };
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

// "{x} and {y}" with the values of `vals` (messages come translated from Python)
function fill(message, vals) {
  return String(message).replace(/\{(\w+)\}/g, (m, k) => (k in vals ? String(vals[k]) : m));
}

function legend(p) {
  const d = p.data, key = d.label_names.join("|");
  if (p.legendKey === key) return;
  p.legendKey = key;
  p.legend.replaceChildren(...d.label_names.map((name, i) => {
    const span = document.createElement("span"), dot = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    dot.width = dot.height = Math.round(12 * dpr);
    dot.style.width = dot.style.height = "12px";
    dot.style.marginRight = "0.25rem";
    dot.style.verticalAlign = "-1px";
    const c = dot.getContext("2d");
    c.fillStyle = c.strokeStyle = d.palette[i % d.palette.length];
    shape(c, d.symbols[i % d.symbols.length], [6 * dpr, 6 * dpr], 4.5 * dpr, dpr);
    span.append(dot, document.createTextNode(name));   // label names are text, never markup
    return span;
  }));
}

// ------------------------------------------------------------------ sound (melodies, on release)
function play(p) {
  if (!p.notes || !p.notes.length) return;
  const spec = p.data.spec, AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return;
  const ac = (G.audio ||= new AC()), t0 = ac.currentTime + 0.05, step = 60 / spec.tempo / spec.steps_per_beat;
  if (G.voice) G.voice.disconnect();
  const out = ac.createGain();
  out.gain.value = 0.18;
  out.connect(ac.destination);
  G.voice = out;
  for (const n of p.notes) {
    const osc = ac.createOscillator(), env = ac.createGain(), start = t0 + n.start * step, dur = n.length * step;
    osc.type = "triangle";
    osc.frequency.value = 440 * Math.pow(2, (n.pitch - 69) / 12);
    env.gain.setValueAtTime(0, start);
    env.gain.linearRampToValueAtTime(1, start + 0.01);
    env.gain.exponentialRampToValueAtTime(0.3, start + Math.max(0.02, dur * 0.8));
    env.gain.linearRampToValueAtTime(0, start + dur);
    osc.connect(env).connect(out);
    osc.start(start);
    osc.stop(start + dur + 0.02);
  }
}

// ------------------------------------------------------------------ status
function fail(p, err) {
  if (p.failed) return;
  p.failed = true;
  p.status.textContent = fill(p.data.text.failed, { error: err && err.message ? err.message : err });
  p.setStateValue("failed", String(err && err.message ? err.message : err));
}

function configure(p, data) {
  const spec = data.spec;
  p.out.style.display = spec.kind === "text" ? "none" : "block";
  p.text.style.display = spec.kind === "text" ? "block" : "none";
  p.out.width = spec.kind === "image" ? spec.cols * 8 : 256;
  p.out.height = spec.kind === "image" ? spec.rows * 8 : 160;
  p.out.style.aspectRatio = `${p.out.width} / ${p.out.height}`;
  p.shown = null;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".pad-root");
  let p = PADS.get(root);
  if (!p) { p = setup(root); PADS.set(root, p); }
  p.setStateValue = setStateValue;
  const modelChanged = !p.data || p.data.model_url !== data.model_url || p.data.label !== data.label
    || p.data.spec.kind !== data.spec.kind;
  p.data = data;
  p.map.setAttribute("aria-label", data.text.aria);
  p.backdropLabel.textContent = " " + data.text.backdrop;
  if (modelChanged) { configure(p, data); p.grid = null; p.layerKey = ""; }
  legend(p);
  // A z from Python moves the point only when Python changed it (map click, "Go there", a link), not when
  // it is the echo of what this pad sent while the pointer has since moved on.
  const z = data.z, echo = p.lastSent && z[0] === p.lastSent[0] && z[1] === p.lastSent[1];
  const fresh = !p.lastDataZ || z[0] !== p.lastDataZ[0] || z[1] !== p.lastDataZ[1];
  if (!p.dragging && fresh && !echo) p.z = z.slice();
  p.lastDataZ = z.slice();
  p.layerKey = "";
  p.status.textContent = p.ready ? "" : data.text.loading;
  session(data).then(() => {
    p.ready = true;
    p.status.textContent = "";
    schedule(p);
  }).catch((err) => fail(p, err));
  schedule(p);
}

// Tests and benchmarks (the pad lives in a shadow root): decode a batch in this page's runtime, read the
// pad's state; G.frames holds the repaint times.
const livePad = () => [...G.pads].find((x) => x.root.isConnected);
G.decodeBatch = async (zs) => Array.from(await decode(livePad().data, zs));
G.state = () => {
  const p = livePad();
  return p && { ready: p.ready, failed: p.failed, frame: p.frame, z: p.z, sent: p.lastSent,
    text: p.text.textContent, status: p.status.textContent, kind: p.data.spec.kind,
    out: p.last ? Array.from(p.last.slice(0, 4096)) : null };
};
