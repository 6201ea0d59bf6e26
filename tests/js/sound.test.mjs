// Unit tests of the sound kind's renderer (seqgen/ui/kinds/sound.mjs): the spectrogram picture and the
// in-browser way back to sound (FFT, STFT, Griffin-Lim), under Node's built-in test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import sound, { colour, fft, griffinLim, hann, istft, magnitudes, spectrogramRGBA, stft, toWave }
  from "../../seqgen/ui/kinds/sound.mjs";

test("the renderer plays on release", () => {
  for (const name of ["configure", "show", "tile", "release"]) assert.equal(typeof sound[name], "function", name);
});

test("fft matches the direct DFT, and the inverse undoes it", () => {
  const n = 16, x = Float64Array.from({ length: n }, (_, i) => Math.sin(i) + 0.3 * Math.cos(3 * i) + (i % 5) / 7);
  const re = Float64Array.from(x), im = new Float64Array(n);
  fft(re, im);
  for (let k = 0; k < n; k++) {
    let dr = 0, di = 0;
    for (let t = 0; t < n; t++) { dr += x[t] * Math.cos((2 * Math.PI * k * t) / n); di -= x[t] * Math.sin((2 * Math.PI * k * t) / n); }
    assert.ok(Math.abs(re[k] - dr) < 1e-9 && Math.abs(im[k] - di) < 1e-9, `bin ${k}`);
  }
  fft(re, im, true);
  assert.ok(re.every((v, i) => Math.abs(v - x[i]) < 1e-12) && im.every((v) => Math.abs(v) < 1e-12));
});

const NFFT = 256, HOP = 64, FRAMES = 40, LEN = HOP * (FRAMES - 1);
const chirp = Float64Array.from({ length: LEN }, (_, i) => Math.sin(2 * Math.PI * (0.02 + 0.1 * i / LEN) * i));

test("the STFT's overlap-add inverse gives the signal back", () => {
  const win = hann(NFFT), s = stft(chirp, NFFT, HOP, FRAMES, win);
  const y = istft(s.re, s.im, NFFT, HOP, FRAMES, win, LEN);
  let err = 0;
  for (let i = NFFT; i < LEN - NFFT; i++) err = Math.max(err, Math.abs(y[i] - chirp[i]));
  assert.ok(err < 1e-9, `max error ${err}`);
});

test("Griffin-Lim finds a signal with the asked-for magnitudes", () => {
  const win = hann(NFFT), s = stft(chirp, NFFT, HOP, FRAMES, win);
  const mag = Float64Array.from(s.re, (r, i) => Math.hypot(r, s.im[i]));
  const convergence = (y) => {
    const t = stft(y, NFFT, HOP, FRAMES, win);
    let num = 0, den = 0;
    mag.forEach((m, i) => { num += (m - Math.hypot(t.re[i], t.im[i])) ** 2; den += m * m; });
    return Math.sqrt(num / den);
  };
  const few = convergence(griffinLim(mag, NFFT, HOP, FRAMES, 2));
  const many = convergence(griffinLim(mag, NFFT, HOP, FRAMES, 32));
  assert.ok(many < 0.25 && many < few, `spectral convergence ${many} after 32 iterations, ${few} after 2`);
});

const spec = { frames: 3, bands: 2, n_fft: 4, hop_length: 2, sample_rate: 16000, db_floor: -80, db_top: 0,
  mel_pinv: [[1, 0], [0.5, 0.5], [0, 1]] };

test("spectrogram: time across, low bands at the bottom, loud is bright", () => {
  const out = [0, 1, 0.5, 0.5, 1, 0];        // frame 0: band 0 quiet, band 1 loud; ...
  const rgba = spectrogramRGBA(out, 3, 2);
  const px = (x, y) => Array.from(rgba.slice(4 * (y * 3 + x), 4 * (y * 3 + x) + 3));
  assert.deepEqual(px(0, 1), colour(0));     // frame 0, band 0: the bottom row
  assert.deepEqual(px(0, 0), colour(1));     // frame 0, band 1: the top row
  assert.deepEqual(px(2, 1), colour(1));
  assert.ok(colour(1).reduce((a, b) => a + b) > colour(0.5).reduce((a, b) => a + b));
});

test("decoded frames become magnitudes through the filter bank's pseudo-inverse", () => {
  const mag = magnitudes(spec, [1, 0, 0, 1, 1, 1]);   // 1 = the top (0 dB, power 1); 0 = the floor: silence
  assert.equal(mag.length, 3 * 3);
  assert.ok(Math.abs(mag[0] - 1) < 1e-6 && mag[2] === 0);                     // frame 0: bins 0 and 2
  assert.ok(Math.abs(mag[7] - 1) < 1e-6);                                      // frame 2, bin 1: mean of 1 and 1
  const wave = toWave(spec, [1, 0, 0, 1, 1, 1]);
  assert.equal(wave.length, spec.hop_length * (spec.frames - 1));
  assert.ok(Math.max(...wave.map(Math.abs)) <= 0.9 + 1e-6);
});
