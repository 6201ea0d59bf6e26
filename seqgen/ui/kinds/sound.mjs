// @ts-check
// The sound kind's renderer for the latent pad: the decoder's log-mel frames drawn as a spectrogram on every
// frame, and turned into sound on release (mel -> linear magnitude -> Griffin-Lim phase -> Web Audio).
// spec: {kind: "sound", frames, bands, sample_rate, n_fft, hop_length, db_floor, db_top, mel_pinv, grid}
// (seqgen.kinds.sound.SoundDomain.pad_spec). The Python side makes its sound with librosa's Griffin-Lim; this
// is the same algorithm, small enough to run in the page.

// A dark-to-bright colour ramp (black, purple, red, orange, pale yellow): loud is bright.
const RAMP = [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]];

/**
 * A value in [0, 1] -> [r, g, b] on the ramp.
 * @param {number} v
 */
export function colour(v) {
  const x = Math.min(1, Math.max(0, v)) * (RAMP.length - 1), i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i, a = RAMP[i], b = RAMP[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + f * (b[k] - a[k])));
}

/**
 * Frames x bands values (frame-major, as the decoder writes them) -> RGBA of a picture with time across
 * and pitch up: pixel (x = frame, y = band counted from the top).
 * @param {ArrayLike<number>} out @param {number} frames @param {number} bands
 */
export function spectrogramRGBA(out, frames, bands) {
  const rgba = new Uint8ClampedArray(frames * bands * 4);
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bands; b++) {
      const [r, g, bl] = colour(out[t * bands + b]), i = 4 * ((bands - 1 - b) * frames + t);
      rgba[i] = r; rgba[i + 1] = g; rgba[i + 2] = bl; rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/**
 * In-place radix-2 FFT of (re, im), length a power of two.
 * @param {Float64Array} re @param {Float64Array} im @param {boolean} inverse
 */
export function fft(re, im, inverse = false) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (2 * Math.PI / len) * (inverse ? 1 : -1), wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
        const nr = cr * wr - ci * wi; ci = cr * wi + ci * wr; cr = nr;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) { re[i] /= n; im[i] /= n; }
}

/** A periodic Hann window (what librosa's STFT uses). @param {number} n */
export function hann(n) {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * Short-time Fourier transform of a centred signal (padded by n_fft/2 zeros each side, as librosa's center=True):
 * -> frames of (re, im), n_fft/2 + 1 bins each.
 * @param {Float64Array} y @param {number} nFft @param {number} hop @param {number} frames @param {Float64Array} win
 */
export function stft(y, nFft, hop, frames, win) {
  const half = nFft / 2, bins = half + 1, re = new Float64Array(frames * bins), im = new Float64Array(frames * bins);
  const fr = new Float64Array(nFft), fi = new Float64Array(nFft);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < nFft; k++) {
      const i = t * hop + k - half;
      fr[k] = i >= 0 && i < y.length ? y[i] * win[k] : 0;
      fi[k] = 0;
    }
    fft(fr, fi);
    re.set(fr.subarray(0, bins), t * bins);
    im.set(fi.subarray(0, bins), t * bins);
  }
  return { re, im };
}

/**
 * Inverse STFT by weighted overlap-add (the window-square sum normalises), to a signal of `length` samples.
 * @param {Float64Array} re @param {Float64Array} im @param {number} nFft @param {number} hop @param {number} frames
 * @param {Float64Array} win @param {number} length
 */
export function istft(re, im, nFft, hop, frames, win, length) {
  const half = nFft / 2, bins = half + 1, y = new Float64Array(length), norm = new Float64Array(length);
  const fr = new Float64Array(nFft), fi = new Float64Array(nFft);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < bins; k++) { fr[k] = re[t * bins + k]; fi[k] = im[t * bins + k]; }
    for (let k = 1; k < half; k++) { fr[nFft - k] = fr[k]; fi[nFft - k] = -fi[k]; }   // a real signal's spectrum
    fft(fr, fi, true);
    for (let k = 0; k < nFft; k++) {
      const i = t * hop + k - half;
      if (i >= 0 && i < length) { y[i] += fr[k] * win[k]; norm[i] += win[k] * win[k]; }
    }
  }
  for (let i = 0; i < length; i++) if (norm[i] > 1e-8) y[i] /= norm[i];
  return y;
}

/**
 * Griffin-Lim: a signal whose STFT magnitude is `mag` (frames x bins), its phase found by alternating
 * projections from a fixed start (every bin's phase 0), so the same spectrogram always sounds the same.
 * @param {Float64Array} mag @param {number} nFft @param {number} hop @param {number} frames @param {number} iterations
 */
export function griffinLim(mag, nFft, hop, frames, iterations = 32) {
  const win = hann(nFft), length = hop * (frames - 1), n = mag.length;
  let re = Float64Array.from(mag), im = new Float64Array(n);
  let y = istft(re, im, nFft, hop, frames, win, length);
  for (let it = 0; it < iterations; it++) {
    const s = stft(y, nFft, hop, frames, win);
    re = s.re; im = s.im;
    for (let i = 0; i < n; i++) {
      const a = Math.hypot(re[i], im[i]);
      if (a > 1e-12) { re[i] *= mag[i] / a; im[i] *= mag[i] / a; } else { re[i] = mag[i]; im[i] = 0; }
    }
    y = istft(re, im, nFft, hop, frames, win, length);
  }
  return y;
}

/**
 * Decoded log-mel frames in [0, 1] -> linear STFT magnitudes (frames x bins): back to decibels, to power (a
 * value of 0, the floor, is silence, as in the Python kind), through the mel filter bank's pseudo-inverse
 * (negative power clipped), to magnitude.
 * @param {any} spec @param {ArrayLike<number>} out
 */
export function magnitudes(spec, out) {
  const bins = spec.n_fft / 2 + 1, mag = new Float64Array(spec.frames * bins), span = spec.db_top - spec.db_floor;
  const power = new Float64Array(spec.bands);
  for (let t = 0; t < spec.frames; t++) {
    for (let b = 0; b < spec.bands; b++) {
      const v = out[t * spec.bands + b];
      power[b] = v > 0 ? Math.pow(10, (spec.db_floor + v * span) / 10) : 0;   // the floor itself is silence
    }
    for (let k = 0; k < bins; k++) {
      let p = 0;
      const row = spec.mel_pinv[k];
      for (let b = 0; b < spec.bands; b++) p += row[b] * power[b];
      mag[t * bins + k] = Math.sqrt(Math.max(0, p));
    }
  }
  return mag;
}

/**
 * The sound of a decode: samples at spec.sample_rate, peak-normalised to 0.9.
 * @param {any} spec @param {ArrayLike<number>} out
 */
export function toWave(spec, out) {
  const y = griffinLim(magnitudes(spec, out), spec.n_fft, spec.hop_length, spec.frames);
  let peak = 0;
  for (const v of y) peak = Math.max(peak, Math.abs(v));
  return Float32Array.from(y, (v) => (peak > 0 ? (0.9 * v) / peak : 0));
}

/** @type {HTMLCanvasElement | null} */
let tileCanvas = null;

/**
 * @param {CanvasRenderingContext2D} ctx @param {any} spec @param {ArrayLike<number>} out
 * @param {number} x @param {number} y @param {number} w @param {number} h @param {number} alpha
 */
function paint(ctx, spec, out, x, y, w, h, alpha) {
  const tile = (tileCanvas ||= document.createElement("canvas"));
  tile.width = spec.frames; tile.height = spec.bands;
  const img = new ImageData(spectrogramRGBA(out, spec.frames, spec.bands), spec.frames, spec.bands);
  /** @type {CanvasRenderingContext2D} */ (tile.getContext("2d")).putImageData(img, 0, 0);
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, w, h);
  ctx.restore();
}

/** @type {AudioBufferSourceNode | null} */
let playing = null;

/** @type {import("../latent_pad/pad.js").Renderer} */
const renderer = {
  blends: true,   // values are averaged into a slow device's drag previews (latent_pad/pacing.mjs)
  configure(view, spec) {
    view.canvas.style.display = "block";
    view.text.style.display = "none";
    view.canvas.width = spec.frames * 4;
    view.canvas.height = spec.bands * 4;
  },
  show(view, spec, out) {
    view.last = Float32Array.from(out);
    const ctx = /** @type {CanvasRenderingContext2D} */ (view.canvas.getContext("2d"));
    paint(ctx, spec, out, 0, 0, view.canvas.width, view.canvas.height, 1);
    view.caption.textContent = view.words.sound;
    return view.words.sound;
  },
  tile(ctx, spec, out, x, y, w, h) {
    paint(ctx, spec, out, x, y, w, h, 0.6);
  },
  release(view, spec) {
    const ac = view.audio();
    if (!ac || !view.last) return;
    const wave = toWave(spec, view.last);
    const buffer = ac.createBuffer(1, wave.length, spec.sample_rate);
    buffer.copyToChannel(wave, 0);
    if (playing) playing.stop();
    playing = ac.createBufferSource();
    playing.buffer = buffer;
    playing.connect(ac.destination);
    playing.start();
  },
};
export default renderer;
