// @ts-check
// The text kind's renderer for the latent pad: the decoder's letter tokens as a word, shown as text.
// spec: {kind: "text", letters, stop, capitalize, grid, item_noun} (seqgen.kinds.text.TextDomain.pad_spec).

/**
 * Tokens -> the word they spell: letters up to the first stop token; ids without a letter are skipped.
 * @param {{letters: string[], stop: number[], capitalize: boolean}} spec @param {ArrayLike<number>} tokens
 */
export function tokensToText(spec, tokens) {
  let s = "";
  for (const t of Array.from(tokens, Number)) {
    if (spec.stop.includes(t)) break;
    const letter = spec.letters[t];
    if (letter) s += letter;
  }
  return spec.capitalize && s ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
}

/** @type {import("../latent_pad/pad.js").Renderer} */
const renderer = {
  configure(view) {
    view.canvas.style.display = "none";
    view.text.style.display = "block";
    view.canvas.width = 256;
    view.canvas.height = 160;
  },
  show(view, spec, out) {
    const word = tokensToText(spec, out);
    view.text.textContent = word || "∅";
    view.caption.textContent = word ? "" : view.words.empty;
    return word || view.words.empty;
  },
  tile(ctx, spec, out, x, y, w, h) {
    ctx.fillStyle = "rgba(60,60,60,0.55)";
    ctx.font = `${Math.max(9, w / 5)}px sans-serif`;
    ctx.textAlign = "center";
    ctx.fillText(tokensToText(spec, out) || "∅", x + w / 2, y + h / 2);
  },
};
export default renderer;
