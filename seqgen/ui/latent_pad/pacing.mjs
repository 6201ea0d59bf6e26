// @ts-check
// How the latent pad keeps up on a slow device (a phone-class CPU): when one decode takes longer than a frame,
// the pad stops decoding on every frame while the point is dragged. It decodes the exact point only now and
// then, and in between shows a preview made from the grid of decodes behind the map, made once per model: a
// blend of the four cells around the point where a kind's values can be averaged (pixels, spectrogram
// frames), the nearest cell where they cannot (tokens). The exact decode follows when the pointer pauses or
// lets go. The pad says so on screen while it does this.
//
// Pure functions, so that `node --test tests/js` checks them; seqgen/ui/latent_pad.py puts this file in front
// of pad.js when it assembles the pad's module.

/**
 * The most a decode may take for the pad to repaint 30 times a second while it decodes every frame: 60 % of a
 * frame at 30 a second. The rest goes to the pointer's events, the map and painting, which wait while a decode
 * holds the page's thread.
 */
export const FRAME_BUDGET_MS = 0.6 * (1000 / 30);

/** At most this share of a drag's time goes to exact decodes on a slow device; previews fill the rest. */
export const EXACT_SHARE = 0.25;

/**
 * The running estimate of one decode's time: the first measurement as it is, then an exponential average,
 * so one slow decode (a garbage collection, a background tab) does not switch the pad into its quick mode.
 * @param {number | null} previous @param {number} ms @returns {number}
 */
export function updateDecodeMs(previous, ms) {
  return previous === null ? ms : 0.7 * previous + 0.3 * ms;
}

/** @param {number | null} decodeMs @returns {boolean} too slow to decode on every frame */
export function tooSlow(decodeMs) {
  return decodeMs !== null && decodeMs > FRAME_BUDGET_MS;
}

/**
 * Should the pad start an exact decode now? Always, unless a drag is going on on a device too slow to decode
 * every frame; then only once EXACT_SHARE of the time since the last one has gone by.
 * @param {number} now @param {number} lastExactAt @param {number | null} decodeMs @param {boolean} dragging
 * @returns {boolean}
 */
export function exactDue(now, lastExactAt, decodeMs, dragging) {
  if (!dragging || !tooSlow(decodeMs)) return true;
  return now - lastExactAt >= /** @type {number} */ (decodeMs) / EXACT_SHARE;
}

/**
 * Where z falls among the centres of an n×n grid over [-lim, lim]² (row 0 at the top, as the grid is decoded):
 * fractional column and row, clamped to the outermost centres.
 * @param {number} n @param {number} lim @param {number[]} z @returns {[number, number]}
 */
export function gridPosition(n, lim, z) {
  const clamp = (/** @type {number} */ v) => Math.min(n - 1, Math.max(0, v));
  return [clamp(((z[0] + lim) / (2 * lim)) * n - 0.5), clamp(((lim - z[1]) / (2 * lim)) * n - 0.5)];
}

/**
 * The preview at z from a grid of decodes ({n, out}: n×n decodes, row-major, `out.length / (n*n)` values each):
 * the bilinear blend of the four cells around z when `blend` (values that can be averaged), else the nearest
 * cell's values unchanged (tokens). -> [values, key]: the key names what is shown, so an unchanged preview is
 * not drawn twice.
 * @param {{n: number, out: ArrayLike<number> & {subarray: (a: number, b: number) => any}}} grid
 * @param {number} lim @param {number[]} z @param {boolean} blend @returns {[ArrayLike<number>, string]}
 */
export function preview(grid, lim, z, blend) {
  const { n, out } = grid, per = out.length / (n * n);
  const [u, v] = gridPosition(n, lim, z);
  if (!blend) {
    const cell = Math.round(v) * n + Math.round(u);
    return [out.subarray(cell * per, (cell + 1) * per), `cell ${cell}`];
  }
  const c0 = Math.floor(u), r0 = Math.floor(v), c1 = Math.min(n - 1, c0 + 1), r1 = Math.min(n - 1, r0 + 1);
  const fu = u - c0, fv = v - r0;
  const corners = [[r0 * n + c0, (1 - fu) * (1 - fv)], [r0 * n + c1, fu * (1 - fv)],
    [r1 * n + c0, (1 - fu) * fv], [r1 * n + c1, fu * fv]];
  const values = new Float32Array(per);
  for (const [cell, weight] of corners) {
    if (weight === 0) continue;
    const base = cell * per;
    for (let i = 0; i < per; i++) values[i] += weight * Number(out[base + i]);
  }
  return [values, `blend ${u.toFixed(3)},${v.toFixed(3)}`];
}
