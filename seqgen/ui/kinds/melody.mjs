// @ts-check
// The melody kind's renderer for the latent pad: the decoder's note-event tokens as a piano roll, played on
// release with a small Web Audio synth.
// spec: {kind: "melody", pitch, hold, steps, steps_per_beat, steps_per_bar, min_pitch, max_pitch, tempo, grid}
// (seqgen.kinds.melody.MelodyDomain.pad_spec).

/**
 * @typedef {{pitch: number, start: number, length: number}} Note
 */

/**
 * Tokens -> notes: a token with a pitch starts a note, a HOLD token lengthens the sounding one, anything
 * else (a rest, a HOLD with nothing sounding) is silence.
 * @param {{pitch: (number | null)[], hold: number[]}} spec @param {ArrayLike<number>} tokens
 * @returns {Note[]}
 */
export function tokensToNotes(spec, tokens) {
  /** @type {Note[]} */
  const notes = [];
  /** @type {Note | null} */
  let cur = null;
  Array.from(tokens, Number).forEach((t, step) => {
    if (spec.hold.includes(t) && cur) { cur.length += 1; return; }
    if (cur) notes.push(cur);
    cur = null;
    const p = spec.pitch[t];
    if (p !== null && p !== undefined) cur = { pitch: p, start: step, length: 1 };
  });
  if (cur) notes.push(cur);
  return notes;
}

/** @param {number} pitch MIDI number -> Hz */
export function frequency(pitch) {
  return 440 * Math.pow(2, (pitch - 69) / 12);
}

const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/**
 * MIDI pitch -> its name with octave, as the server writes it (seqgen.kinds.notes.pitch_name): 60 -> "C4"
 * @param {number} pitch @returns {string}
 */
export function pitchName(pitch) {
  return `${NOTE_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

/**
 * @param {CanvasRenderingContext2D} ctx @param {any} spec @param {Note[]} notes
 * @param {number} x @param {number} y @param {number} w @param {number} h @param {number} alpha
 */
function drawRoll(ctx, spec, notes, x, y, w, h, alpha) {
  const steps = spec.steps, span = spec.max_pitch - spec.min_pitch + 1;
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

/** @type {GainNode | null} */
let voice = null;

/** @param {AudioContext} ac @param {any} spec @param {Note[]} notes */
function play(ac, spec, notes) {
  const t0 = ac.currentTime + 0.05, step = 60 / spec.tempo / spec.steps_per_beat;
  if (voice) voice.disconnect();
  const out = ac.createGain();
  out.gain.value = 0.18;
  out.connect(ac.destination);
  voice = out;
  for (const n of notes) {
    const osc = ac.createOscillator(), env = ac.createGain(), start = t0 + n.start * step, dur = n.length * step;
    osc.type = "triangle";
    osc.frequency.value = frequency(n.pitch);
    env.gain.setValueAtTime(0, start);
    env.gain.linearRampToValueAtTime(1, start + 0.01);
    env.gain.exponentialRampToValueAtTime(0.3, start + Math.max(0.02, dur * 0.8));
    env.gain.linearRampToValueAtTime(0, start + dur);
    osc.connect(env).connect(out);
    osc.start(start);
    osc.stop(start + dur + 0.02);
  }
}

/** @type {import("../latent_pad/pad.js").Renderer} */
const renderer = {
  configure(view) {
    view.canvas.style.display = "block";
    view.text.style.display = "none";
    view.canvas.width = 256;
    view.canvas.height = 160;
  },
  show(view, spec, out) {
    const notes = tokensToNotes(spec, out);
    view.last = notes;
    const ctx = /** @type {CanvasRenderingContext2D} */ (view.canvas.getContext("2d"));
    drawRoll(ctx, spec, notes, 0, 0, view.canvas.width, view.canvas.height, 1);
    const forms = view.words.notes;
    view.caption.textContent = view.fill(forms[Math.min(notes.length, forms.length - 1)], { n: notes.length });
    if (!notes.length) return view.caption.textContent;
    const pitches = notes.map((n) => n.pitch);
    return `${view.caption.textContent} (${pitchName(Math.min(...pitches))}–${pitchName(Math.max(...pitches))})`;
  },
  tile(ctx, spec, out, x, y, w, h) {
    drawRoll(ctx, spec, tokensToNotes(spec, out), x + 2, y + 2, w - 4, h - 4, 0.45);
  },
  release(view, spec) {
    const ac = view.audio();
    if (ac && view.last && view.last.length) play(ac, spec, view.last);
  },
};
export default renderer;
