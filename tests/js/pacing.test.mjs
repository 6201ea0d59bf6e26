// Unit tests of the latent pad's pacing on slow devices (seqgen/ui/latent_pad/pacing.mjs), under `node --test tests/js`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EXACT_SHARE, FRAME_BUDGET_MS, exactDue, gridPosition, preview, tooSlow, updateDecodeMs } from
  "../../seqgen/ui/latent_pad/pacing.mjs";

test("the decode-time estimate starts at the first measurement and one slow decode does not flip it", () => {
  const usual = 0.4 * FRAME_BUDGET_MS, spike = 2 * FRAME_BUDGET_MS;
  let ms = updateDecodeMs(null, usual);
  assert.equal(ms, usual);
  ms = updateDecodeMs(ms, spike);                   // one garbage collection
  assert.ok(!tooSlow(ms), `one slow decode made the device slow: ${ms}`);
  for (let i = 0; i < 5; i++) ms = updateDecodeMs(ms, spike);
  assert.ok(tooSlow(ms), "a device that stays slow is found slow");
  assert.ok(!tooSlow(null), "before the first decode the device is not called slow");
});

test("a fast device decodes on every frame; a slow one, during a drag, keeps exact decodes to their share", () => {
  const fast = FRAME_BUDGET_MS - 1, slow = 80;
  assert.ok(exactDue(1000, 999, fast, true));
  assert.ok(exactDue(1000, 999, slow, false), "not dragging: the exact point, now");
  assert.ok(!exactDue(1000 + slow, 1000, slow, true), "dragging: no exact decode right after the last one");
  assert.ok(exactDue(1000 + slow / EXACT_SHARE, 1000, slow, true));
});

test("grid positions are fractional cells between the outermost centres, row 0 at the top", () => {
  assert.deepEqual(gridPosition(4, 2, [0, 0]), [1.5, 1.5]);
  assert.deepEqual(gridPosition(4, 2, [-1.5, 1.5]), [0, 0]);      // the top-left cell's centre
  assert.deepEqual(gridPosition(4, 2, [-2, -2]), [0, 3]);         // clamped: the bottom-left centre
  assert.deepEqual(gridPosition(4, 2, [9, 9]), [3, 0]);
});

// A 2×2 grid over [-2, 2]², 2 values per cell; cell values chosen so a blend is easy to check by hand.
const grid = { n: 2, out: Float32Array.from([0, 10, 100, 110, 200, 210, 300, 310]) };

test("values that can be averaged are blended from the four cells around the point", () => {
  const [atCentre] = preview(grid, 2, [-1, 1], true);                    // exactly the top-left cell
  assert.deepEqual(Array.from(atCentre), [0, 10]);
  const [middle] = preview(grid, 2, [0, 0], true);                       // all four equally
  assert.deepEqual(Array.from(middle), [150, 160]);
  const [, key1] = preview(grid, 2, [0, 0], true), [, key2] = preview(grid, 2, [0.1, 0], true);
  assert.notEqual(key1, key2, "a move is a new preview");
});

test("tokens are never averaged: the nearest cell's tokens, unchanged, and the same key within a cell", () => {
  const tokens = { n: 2, out: BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]) };
  const [values, key] = preview(tokens, 2, [0.9, -0.8], false);         // nearest: bottom-right
  assert.deepEqual(Array.from(values), [7n, 8n]);
  assert.equal(preview(tokens, 2, [1.2, -1.1], false)[1], key);
});
