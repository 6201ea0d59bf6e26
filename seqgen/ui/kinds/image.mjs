// @ts-check
// The image kind's renderer for the latent pad: the decoder's rows of pixels as a greyscale picture.
// spec: {kind: "image", rows, cols, grid} (seqgen.kinds.image.ImageDomain.pad_spec).

/**
 * Pixel values in [0, 1] (rows x cols, row-major) -> opaque grey RGBA bytes.
 * @param {ArrayLike<number>} out @param {number} rows @param {number} cols
 */
export function greyRGBA(out, rows, cols) {
  const rgba = new Uint8ClampedArray(rows * cols * 4);
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.round(Math.min(1, Math.max(0, out[i])) * 255);
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** @type {HTMLCanvasElement | null} */
let tileCanvas = null;

/**
 * @param {CanvasRenderingContext2D} ctx @param {any} spec @param {ArrayLike<number>} out
 * @param {number} x @param {number} y @param {number} w @param {number} h @param {number} alpha
 */
function paint(ctx, spec, out, x, y, w, h, alpha) {
  const tile = (tileCanvas ||= document.createElement("canvas"));
  tile.width = spec.cols; tile.height = spec.rows;
  const img = new ImageData(greyRGBA(out, spec.rows, spec.cols), spec.cols, spec.rows);
  /** @type {CanvasRenderingContext2D} */ (tile.getContext("2d")).putImageData(img, 0, 0);
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, w, h);
  ctx.restore();
}

/** @type {import("../latent_pad/pad.js").Renderer} */
const renderer = {
  blends: true,   // values are averaged into a slow device's drag previews (latent_pad/pacing.mjs)
  configure(view, spec) {
    view.canvas.style.display = "block";
    view.text.style.display = "none";
    view.canvas.width = spec.cols * 8;
    view.canvas.height = spec.rows * 8;
  },
  show(view, spec, out) {
    const ctx = /** @type {CanvasRenderingContext2D} */ (view.canvas.getContext("2d"));
    paint(ctx, spec, out, 0, 0, view.canvas.width, view.canvas.height, 1);
    view.caption.textContent = "";
    return "";
  },
  tile(ctx, spec, out, x, y, w, h) {
    paint(ctx, spec, out, x, y, w, h, 0.55);
  },
};
export default renderer;
