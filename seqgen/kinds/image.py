"""The image kind: greyscale pictures as sequences, T rows (time steps) of F pixels (features) in [0, 1].

`ImageDomain` holds everything image domains share: the artifact (uint8 [T, F]), mosaics, PNG files, a
drawing turned into what the model sees, and the figures that judge generated images with the domain's
reference classifier. A concrete image domain (digits, fashion) only says where its data is and what its
classes are called.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import metrics
from ..locale import N_, Sentence
from ..models import ModelConfig, build_model
from ..models.reference import train_classifier
from ..render import image_grid, png_bytes, upscale
from .base import Domain, Entry, classifier_guesses

SIZE = 28
MAX_DRAWING_SIDE = 2048     # larger pictures are refused before any pixel is decoded or resampled
MIN_INK = 0.25              # total ink (in pixels at full strength) below which a canvas counts as empty
MAX_COVER = 0.6             # a drawing leaves most of the canvas blank; a photo does not
MAX_MIDTONE = 0.6           # strokes are mostly full ink; a photo is mostly in-between shades
MAX_PICTURE_BYTES = 20_000_000


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Pixels > 0.5 -> 1.0 else 0.0: the targets of the Bernoulli likelihood."""
    return (x > 0.5).float()


def _crop(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 32)
    if not len(ys):
        raise ValueError(Sentence("The canvas is empty: draw something first."))
    return np.ascontiguousarray(ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _stroke_width(mask: np.ndarray) -> float:
    """Mean width of the strokes of a binary picture: 2 * area / boundary pixels (a stroke of width w and
    length L has area wL and about 2L boundary pixels)."""
    area = mask.sum()
    if not area:
        return 0.0
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return float(2 * area / max((mask & ~inner).sum(), 1))


def read_picture(path: str | Path) -> np.ndarray:
    """A picture file -> RGBA array, refused before decoding when it is too large or not a picture."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(Sentence("{name} is not a regular file; give a PNG or JPEG drawing.", name=p.name[:80]))
    if p.stat().st_size > MAX_PICTURE_BYTES:
        raise ValueError(Sentence("{name} is {mb} MB; a drawing of one item is a few kB. Scale it down first.",
                                  name=p.name[:80], mb=f"{p.stat().st_size / 1e6:.0f}"))
    return decode_picture(p.read_bytes(), p.name[:80])


def decode_picture(data: bytes, name: str, largest_side: int = MAX_DRAWING_SIDE,
                   formats: tuple[str, ...] | None = None) -> np.ndarray:
    """Encoded picture bytes -> RGBA array. The size is read from the header and refused before a pixel is
    decoded, so a small file that inflates to gigabytes (a decompression bomb) costs nothing."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_PICTURE_BYTES:
        raise ValueError(Sentence("{name} is {mb} MB; a drawing of one item is a few kB. Scale it down first.",
                                  name=name, mb=f"{len(data) / 1e6:.0f}"))
    # Pillow refuses to open (not just decode) pictures over twice this, before reading their pixels
    Image.MAX_IMAGE_PIXELS = (2 * largest_side) ** 2
    try:
        with Image.open(io.BytesIO(data), formats=formats) as im:   # reads the header only
            w, h = im.size
            if max(w, h) > largest_side:
                raise ValueError(Sentence("{name} is {w}×{h} pixels; the largest accepted is {side}×{side}. Scale it "
                                          "down first.", name=name, w=w, h=h, side=largest_side))
            return np.asarray(im.convert("RGBA"))
    except Image.DecompressionBombError:
        raise ValueError(Sentence("{name} is far larger than {side}×{side} pixels, the largest accepted. Scale it "
                                  "down first.", name=name, side=largest_side)) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:   # Pillow raises SyntaxError on some broken files
        raise ValueError(Sentence("{name} could not be read as a picture ({error}); give a PNG or JPEG drawing.",
                                  name=name, error=type(e).__name__)) from None


class ImageDomain(Domain):
    kind = "image"
    discrete = False
    seq_len = SIZE
    n_features = SIZE
    explorer_grid = (3, 20, 12)
    item_noun_plural = N_("images")
    step_noun, step_noun_plural = N_("row"), N_("rows")
    default_prefix_length = SIZE // 2   # a completion keeps the top half unless told
    start_flag, start_help = "image", "a PNG/JPEG drawing (dark on light or light on dark)"
    upload_types = ("png", "jpg", "jpeg")
    keep_flag, keep_help = "rows", f"top rows to keep (default {SIZE // 2} of {SIZE})"
    class_word = "class"            # "requested_<class_word>_accuracy" in the metrics
    classes_word = "classes"        # "grid_<classes_word>_present"

    def to_artifact(self, seq) -> np.ndarray:
        """[28, 28] float in [0, 1] -> uint8 [28, 28] greyscale image (white on black)."""
        a = torch.as_tensor(seq, dtype=torch.float32).detach().cpu().reshape(SIZE, SIZE)
        return (a.clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    def from_artifact(self, img) -> torch.Tensor:
        """2-D greyscale image (uint8 0-255 or float 0-1, any size) -> float [28, 28] in [0, 1]."""
        a = np.asarray(img)
        if a.ndim != 2:
            raise ValueError(f"Expected a 2-D greyscale image, got an array of shape {a.shape}.")
        if a.size == 0:
            raise ValueError("The image is empty.")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"Expected numeric pixels, got dtype {a.dtype}.")
        on_0_1 = a.dtype == bool or np.issubdtype(a.dtype, np.floating)
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError("The image contains NaN or infinite pixels.")
        if not on_0_1 or a.max() > 1.0:  # integer images, and float ones above 1, are on the 0-255 scale
            a = a / 255.0
        x = torch.from_numpy(a).clamp(0, 1)
        if x.shape != (SIZE, SIZE):
            x = F.interpolate(x[None, None], size=(SIZE, SIZE), mode="area")[0, 0]
        return x

    # ---------------------------------------------------------------- your own drawing
    @property
    def drawing_box(self) -> int:
        """Side (pixels) the longer side of a drawing is scaled to: the median one of the domain's own
        items (20 for MNIST digits, which were made that way; the full 28 for Fashion-MNIST)."""
        if not hasattr(self, "_drawing_box"):
            x, _ = self.dataset("train")
            ink = x[:2000] > 0.1
            rows, cols = ink.any(2), ink.any(1)

            def extent(m):
                idx = torch.arange(SIZE).expand_as(m)
                first = torch.where(m, idx, SIZE).min(1).values
                last = torch.where(m, idx, -1).max(1).values
                return (last - first + 1).clamp(min=1)
            self._drawing_box = int(torch.maximum(extent(rows), extent(cols)).float().median())
        return self._drawing_box

    @property
    def stroke_width(self) -> float:
        """Median stroke width (pixels) of the domain's items: a filled shape counts as one wide stroke."""
        if not hasattr(self, "_stroke_width"):
            x, _ = self.dataset("train")
            # measured on the binarised items; anti-aliased resampling widens a drawn stroke by a fraction
            # of a pixel, so aim a little below (benchmarks/completion.py: drawn-digit recognition)
            self._stroke_width = 0.85 * float(np.median([_stroke_width(m) for m in (x[:500] > 0.5).numpy()]))
        return self._stroke_width

    def from_drawing(self, picture) -> np.ndarray:
        """A drawing (the canvas's RGBA array, or any RGB / greyscale picture, dark-on-light or
        light-on-dark) -> uint8 [28, 28] the way MNIST was made: the ink's bounding box scaled
        (anti-aliased) so its longer side is `drawing_box`, then placed in 28x28 with its centre of
        mass in the middle. ValueError with what to do for an empty canvas, a huge or odd array, a photo."""
        ink = self._ink(picture)
        total = float(ink.sum())
        if total < MIN_INK * 255 or ink.max() < 64:
            raise ValueError(Sentence("The canvas is empty: draw a {noun} with the mouse, a finger or a pen.",
                                      noun=Sentence(self.item_noun)))
        marked = ink > 32
        if marked.mean() > MAX_COVER or (ink[marked] < 160).mean() > MAX_MIDTONE:
            raise ValueError(Sentence("This looks like a photo or a shaded picture, not a drawing. Draw one {noun} in "
                                      "strokes on a plain background.", noun=Sentence(self.item_noun)))
        from PIL import Image, ImageFilter
        crop = _crop(ink)
        box = self.drawing_box
        # A pen as wide as the canvas allows draws far bolder digits than MNIST's: bring the strokes to the
        # data's width (erode or dilate at full resolution) so the models see the strokes they know.
        scale = box / max(crop.shape)
        width = _stroke_width(crop > 127) * scale
        target = self.stroke_width
        if width > 1.3 * target or width < target / 1.6:
            r = int(round(abs(width - target) / scale / 2))
            if r >= 1:
                grow = ImageFilter.MaxFilter if width < target else ImageFilter.MinFilter
                crop = _crop(np.asarray(Image.fromarray(crop).filter(grow(2 * min(r, 25) + 1))))
        h, w = crop.shape
        scale = box / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0),
                           np.float32).clip(0, 255)
        out = np.zeros((SIZE, SIZE), np.float32)
        mass = small.sum()
        cy = (small.sum(1) * np.arange(size[1])).sum() / mass
        cx = (small.sum(0) * np.arange(size[0])).sum() / mass
        top = int(np.clip(round(SIZE / 2 - 0.5 - cy), 0, SIZE - size[1]))
        left = int(np.clip(round(SIZE / 2 - 0.5 - cx), 0, SIZE - size[0]))
        out[top:top + size[1], left:left + size[0]] = small
        peak = out.max()
        return (out * (255.0 / peak)).round().clip(0, 255).astype(np.uint8) if peak > 0 else out.astype(np.uint8)

    def read_start(self, path: str) -> tuple[np.ndarray, list[str]]:
        return self.from_drawing(read_picture(path)), []

    def read_file(self, name: str, data: bytes) -> list[Entry]:
        """A drawing (PNG or JPEG), made into a 28x28 item the way the canvas's drawings are."""
        return [Entry(name, self.from_drawing(decode_picture(data, name)))]

    @staticmethod
    def _ink(picture) -> np.ndarray:
        """Ink strength uint8 [H, W] (0 = background), whatever the picture's colours."""
        a = np.asarray(picture)
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError("Expected a picture (an array of pixel values).")
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or min(a.shape[:2]) < 1:
            raise ValueError(f"Expected a greyscale, RGB or RGBA picture, got an array of shape {a.shape}.")
        if max(a.shape[:2]) > MAX_DRAWING_SIDE:
            raise ValueError(Sentence("The picture is {w}×{h} pixels; the largest accepted is {side}×{side}. Scale "
                                      "it down first.", w=a.shape[1], h=a.shape[0], side=MAX_DRAWING_SIDE))
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError("The picture contains NaN or infinite pixels.")
        if a.max() <= 1.0:
            a = a * 255.0
        if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() < 255:
            return a[..., 3].clip(0, 255).astype(np.uint8)   # strokes on a transparent canvas: alpha is ink
        lum = a if a.ndim == 2 else a[..., :3].mean(-1)
        border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
        return np.abs(lum - np.median(border)).clip(0, 255).astype(np.uint8)

    def prefix(self, item, length: int | None = None) -> torch.Tensor:
        """The top `length` rows of an image (artifact or model rows) -> float [length, 28]: what a
        completion keeps."""
        x = item if isinstance(item, torch.Tensor) and item.dtype == torch.float32 else self.from_artifact(item)
        length = int(self.default_prefix_length if length is None else length)
        if not 1 <= length < SIZE:
            raise ValueError(Sentence("Keep between 1 and {most} rows of the {all} (got {n}).", most=SIZE - 1,
                                      all=SIZE, n=length))
        return x.reshape(SIZE, SIZE)[:length].clone()

    def recognise(self, artifacts) -> list[tuple[int, float]] | None:
        """The reference classifier's guess and its confidence for each image, or None without one."""
        return classifier_guesses(self, artifacts)

    def describe(self, artifact) -> str:
        a = np.asarray(artifact)
        return f"{a.shape[0]}x{a.shape[1]} image, {int((a > 127).sum())} ink pixels"

    def picture(self, artifacts: Sequence, cols: int, scale: int = 1) -> np.ndarray:
        return upscale(image_grid(np.stack(artifacts), cols=cols, pad=1, value=60), scale)

    def write_samples(self, artifacts, folder: Path, stem: str, **options) -> list[str]:
        path = Path(folder) / f"{stem}.png"
        path.write_bytes(png_bytes(self.picture(artifacts, cols=int(np.ceil(np.sqrt(len(artifacts)))), scale=3)))
        return [f"wrote {path} ({len(artifacts)} {self.item_noun_plural})"]

    def pad_spec(self) -> dict:
        return {"kind": "image", "rows": self.seq_len, "cols": self.n_features, "grid": int(self.explorer_grid[2])}

    # ---------------------------------------------------------------- quality figures
    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        return self._vae_metrics(model) if model.cfg.family == "vae" else \
            self._gan_metrics(model, n, seed, 5 * n if slow else 0)

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        clf = self.reference()
        if model.cfg.family != "gan" or not model.cfg.conditional or clf is None:
            return {}
        samples, labels = metrics.sample_with_labels(model, n, seed)
        return {f"requested_{self.class_word}_accuracy": float((clf.predict(samples) == labels).float().mean())}

    def _gan_metrics(self, model, n: int, seed: int, tstr_n: int) -> dict:
        out = {}
        clf = self.reference()
        samples, labels = metrics.sample_with_labels(model, n, seed)
        test_x, test_y = self.dataset("test")
        if labels is None:
            return out
        out["spread_ratio"] = metrics.within_class_spread(samples, labels) / metrics.within_class_spread(test_x, test_y)
        if clf is not None:
            pred = clf.predict(samples)
            out[f"requested_{self.class_word}_accuracy"] = float((pred == labels).float().mean())
            out[f"per_{self.class_word}_accuracy"] = [round(float((pred[labels == c] == c).float().mean()), 3)
                                                     for c in range(self.n_labels)]
        if tstr_n:
            gen_x, gen_y = metrics.sample_with_labels(model, tstr_n, seed + 1)
            tstr = train_classifier(gen_x, gen_y, self.tstr_classifier, seed=seed)
            out["tstr_accuracy"] = float((tstr.predict(test_x) == test_y).float().mean())
        return out

    def tstr_classifier(self):
        """A fresh classifier of this domain's sequences, the shape TSTR trains on generated images."""
        return build_model(ModelConfig.for_domain(self, "classifier", hidden=128))

    def _vae_metrics(self, model) -> dict:
        tx, ty = self.dataset("train")
        vx, vy = self.dataset("test")
        out = {"knn5_latent_accuracy": metrics.knn_accuracy(metrics.encoder_means(model, tx), ty,
                                                            metrics.encoder_means(model, vx), vy)}
        clf = self.reference()
        if clf is not None and model.cfg.latent == 2:
            out.update(metrics.latent_grid_quality(model, clf, self.classes_word))
        return out


