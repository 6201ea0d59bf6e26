// Unit tests of the latent pad's per-kind renderers (seqgen/ui/kinds/*.mjs): the parts that turn the decoder's
// numbers into what a person sees or hears, run under Node's built-in test runner (`node --test tests/js`).
// tests/test_latent_pad_module.py checks the same conversions against the Python kinds.
import assert from "node:assert/strict";
import { test } from "node:test";

import image, { greyRGBA } from "../../seqgen/ui/kinds/image.mjs";
import melody, { frequency, pitchName, tokensToNotes } from "../../seqgen/ui/kinds/melody.mjs";
import text, { tokensToText } from "../../seqgen/ui/kinds/text.mjs";

test("every renderer has the methods the pad calls", () => {
  for (const r of [image, text, melody]) {
    for (const name of ["configure", "show", "tile"]) assert.equal(typeof r[name], "function", name);
  }
  assert.equal(typeof melody.release, "function");      // melodies play on release
  assert.equal(image.release, undefined);               // pictures do not
});

test("image: pixel values become opaque grey, clipped to [0, 1]", () => {
  const rgba = greyRGBA([0, 0.5, 1, -2, 7, 0.25], 2, 3);
  assert.equal(rgba.length, 2 * 3 * 4);
  assert.deepEqual(Array.from(rgba.filter((_, i) => i % 4 === 0)), [0, 128, 255, 0, 255, 64]);
  assert.ok(rgba.filter((_, i) => i % 4 === 3).every((a) => a === 255));
  assert.equal(rgba[4 + 1], rgba[4]);                   // grey: R = G = B
});

const letters = ["", "", "", ..."abcdefghijklmnopqrstuvwxyz"];
const names = { letters, stop: [2, 0], capitalize: true };

test("text: tokens spell a word up to the first stop token, capitalised", () => {
  const tok = (s) => [...s].map((c) => c.charCodeAt(0) - 97 + 3);
  assert.equal(tokensToText(names, [...tok("maria"), 2, 3, 4]), "Maria");
  assert.equal(tokensToText(names, [1, ...tok("jo"), 0]), "Jo");      // BOS (no letter) is skipped
  assert.equal(tokensToText(names, [2, ...tok("abc")]), "");           // EOS first: an empty word
  assert.equal(tokensToText({ ...names, capitalize: false }, tok("MaRy".toLowerCase())), "mary");
  assert.equal(tokensToText(names, new Int32Array(tok("ann"))), "Ann"); // the runtime's typed arrays
});

const chorales = { pitch: [null, null, ...Array.from({ length: 30 }, (_, i) => 55 + i)], hold: [1] };

test("melody: a pitch token starts a note, HOLD lengthens it, a rest ends it", () => {
  const c4 = 2 + 60 - 55, e4 = 2 + 64 - 55;
  const notes = tokensToNotes(chorales, [1, c4, 1, 1, 0, e4, e4, 1, 0, 1]);
  assert.deepEqual(notes, [
    { pitch: 60, start: 1, length: 3 },   // HOLD at step 0 (nothing sounding) is silence
    { pitch: 64, start: 5, length: 1 },   // a repeated pitch is a new note
    { pitch: 64, start: 6, length: 2 },   // HOLD after a rest (step 9) is silence
  ]);
  assert.deepEqual(tokensToNotes(chorales, [0, 0, 1]), []);
  assert.deepEqual(tokensToNotes(chorales, [c4]), [{ pitch: 60, start: 0, length: 1 }]);  // held to the end
});

test("melody: MIDI pitches become the tempered scale's frequencies", () => {
  assert.equal(frequency(69), 440);
  assert.ok(Math.abs(frequency(60) - 261.6256) < 1e-3);
  assert.ok(Math.abs(frequency(81) / frequency(69) - 2) < 1e-12);
});

test("text: show() writes the word as text, never markup", () => {
  const el = () => ({ textContent: "", style: {} });
  const view = { canvas: { width: 0, height: 0, style: {}, getContext: () => null }, text: el(), caption: el(),
    words: { empty: "an empty name" }, fill: (m) => m, audio: () => null };
  const word = [..."<img>"].map((c) => c.charCodeAt(0));         // ids with no letter: nothing is spelled
  assert.equal(text.show(view, names, word), "an empty name");
  assert.equal(view.text.textContent, "∅");
  assert.equal(text.show(view, names, [3 + 1, 3 + 14, 2]), "Bo");
  assert.equal(view.text.textContent, "Bo");
});

test("melody: pitch names match the server's (C4 is MIDI 60)", () => {
  assert.deepEqual([60, 61, 69, 72, 59].map(pitchName), ["C4", "C#4", "A4", "C5", "B3"]);
});
