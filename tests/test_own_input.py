"""Put your own in: drawing preprocessing, the posterior over z given visible rows, every completion path
(the start is kept exactly), planes through a larger latent, the CLI's `complete`, and the page sections."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import seqgen
from seqgen import completion, explore
from seqgen.cli import main as cli

digits = seqgen.get_domain("digits")


def canvas_of(img: np.ndarray, offset=(40, 90), size=400) -> np.ndarray:
    """A 28x28 digit as the canvas returns it: x10, RGBA, strokes in alpha, off-centre."""
    big = np.asarray(Image.fromarray(img).resize((280, 280), Image.Resampling.BILINEAR))
    out = np.zeros((size, size, 4), np.uint8)
    out[offset[0]:offset[0] + 280, offset[1]:offset[1] + 280, 3] = big
    return out


# ---------------------------------------------------------------- preprocessing
def test_drawing_is_scaled_into_the_box_and_centred_by_mass():
    x, y = digits.dataset("test")
    out = digits.from_drawing(canvas_of(digits.to_artifact(x[0])))
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    ys, xs = np.nonzero(out > 32)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 in (19, 20, 21)
    w = out.astype(float)
    cy, cx = (w.sum(1) * np.arange(28)).sum() / w.sum(), (w.sum(0) * np.arange(28)).sum() / w.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1
    assert digits.recognise([out])[0][0] == int(y[0])


def test_dark_on_light_and_light_on_dark_read_the_same():
    img = digits.to_artifact(digits.dataset("test")[0][1])
    light = 255 - np.asarray(Image.fromarray(img).resize((280, 280)))
    rgb = np.stack([light] * 3, -1)
    dark = np.asarray(Image.fromarray(img).resize((280, 280)))
    assert np.abs(digits.from_drawing(rgb).astype(int) - digits.from_drawing(dark).astype(int)).max() <= 1


@pytest.mark.parametrize("picture, words", [
    (np.zeros((280, 280, 4), np.uint8), "empty"),
    (np.full((280, 280, 4), 255, np.uint8), "empty"),
    ((np.random.default_rng(0).random((300, 300, 3)) * 255).astype(np.uint8), "photo"),
    (np.zeros((4000, 10), np.uint8), "Scale it down"),
    (np.zeros((5, 5, 7)), "shape"),
    (np.array([["a"]]), "picture"),
])
def test_bad_drawings_get_a_sentence(picture, words):
    with pytest.raises(ValueError, match=words):
        digits.from_drawing(picture)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says width x height, with one tiny compressed block of pixels: the shape of a
    decompression bomb (a few bytes that would decode to gigabytes), built without decoding anything."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("data, words", [
    (png_header_only(13_300, 13_300), "far larger"),             # under Pillow's default bomb limit
    (png_header_only(100_000, 100_000), "far larger"),
    (png_header_only(1121, 10), "1121×10 pixels"),
    (png_header_only(2000, 2000), "2000×2000 pixels"),
    (b"not a png at all", "could not be read"),
    (b"GIF89a" + bytes(40), "could not be read"),                 # the canvas sends PNG only
    (b"\0" * 30_000_000, "30 MB"),
])
def test_canvas_pictures_are_refused_from_their_header(data, words, monkeypatch):
    """The guard on benchmarks/hostile_pictures.py's figures: no pixel of a refused picture is decoded."""
    from PIL import ImageFile

    from seqgen.kinds.image import decode_picture
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(1))
    with pytest.raises(ValueError, match=words):
        decode_picture(data, "The drawing", largest_side=1120, formats=("PNG",))
    assert not loads


def test_a_canvas_picture_is_decoded_once_per_content(monkeypatch):
    import io

    from seqgen.kinds import image as image_kind
    from seqgen.ui.kinds.image import drawing_seen

    buf = io.BytesIO()
    Image.fromarray(canvas_of(digits.to_artifact(digits.dataset("test")[0][0]), (0, 0), size=280)).save(buf, "PNG")
    decoded = []
    real = image_kind.decode_picture
    monkeypatch.setattr("seqgen.ui.kinds.image.decode_picture", lambda *a, **k: decoded.append(1) or real(*a, **k))
    drawing_seen.clear()
    first, again = drawing_seen("digits", buf.getvalue()), drawing_seen("digits", buf.getvalue())
    assert first.shape == (28, 28) and np.array_equal(first, again) and len(decoded) == 1
    refused = drawing_seen("digits", png_header_only(13_300, 13_300))
    assert isinstance(refused, ValueError) and "far larger" in str(refused)


def test_a_picture_that_is_not_a_regular_file_is_refused(tmp_path):
    import os

    from seqgen.kinds.image import read_picture
    os.mkfifo(tmp_path / "drawing.png")
    with pytest.raises(ValueError, match="not a regular file"):
        read_picture(tmp_path / "drawing.png")


def test_fashion_items_fill_the_whole_box():
    assert digits.drawing_box == 20
    assert seqgen.get_domain("fashion").drawing_box == 28


# ---------------------------------------------------------------- completions keep the start exactly
def test_posterior_grid_is_a_distribution_that_peaks_near_the_encoding():
    ckpt = seqgen.load("digits-vae")
    x, _ = digits.dataset("test")
    close = 0
    for i in range(6):          # nearly every row visible: the peak should sit where the encoder puts the digit
        res = explore.complete(ckpt, x[i], 8, 1.0, seed=0, length=27)
        grid, axis = res["grid"], res["grid_axis"]
        assert grid.shape == (completion.GRID_N, completion.GRID_N) and abs(grid.sum() - 1) < 1e-4
        r, c = np.unravel_index(grid.argmax(), grid.shape)
        mu = explore.encode(ckpt, x[i])["mu"]
        close += np.hypot(axis[c] - mu[0], axis[::-1][r] - mu[1]) < 0.5
    assert close >= 4
    res = explore.complete(ckpt, x[3], 8, 1.0, seed=0, length=20)
    for art in res["artifacts"]:
        assert np.array_equal(art[:20], digits.to_artifact(x[3])[:20])
    assert len({a.tobytes() for a in res["artifacts"]}) > 1


@pytest.mark.parametrize("name", ["digits-vae", "digits-gan", "fashion-vae"])
def test_image_completions_keep_the_rows(name):
    ckpt = seqgen.load(name)
    d = explore.domain_of(ckpt)
    img = d.to_artifact(d.dataset("test")[0][5])
    res = explore.complete(ckpt, img, 4, seed=1, length=10)
    assert len(res["artifacts"]) == 4
    assert all(np.array_equal(a[:10], img[:10]) for a in res["artifacts"])


@pytest.mark.parametrize("name", ["spoken-vae", "spoken-gan"])
def test_spoken_completions_keep_the_frames(name):
    ckpt = seqgen.load(name)
    d = explore.domain_of(ckpt)
    said = d.to_artifact(d.dataset("test")[0][5])
    res = explore.complete(ckpt, said, 3, seed=1, length=12)
    assert len(res["artifacts"]) == 3
    assert all(np.array_equal(a[:12], said[:12]) for a in res["artifacts"])


@pytest.mark.parametrize("name", ["names-vae", "names-vae-32", "names-gan", "names-lm"])
def test_name_completions_start_with_the_letters(name):
    res = explore.complete(seqgen.load(name), "Mar", 8, 1.0, seed=3)
    assert all(a.startswith("Mar") for a in res["artifacts"])
    assert res["prefix_len"] == 3 and res["hidden"].shape[:2] == (8, 12)
    again = explore.complete(seqgen.load(name), "Mar", 8, 1.0, seed=3)
    assert again["artifacts"] == res["artifacts"]          # seeded


@pytest.mark.parametrize("name", ["melodies-vae", "melodies-gan"])
def test_melody_continuations_keep_the_bars(name):
    d = seqgen.get_domain("melodies")
    tune = d.to_artifact(d.dataset("test")[0][2])
    res = explore.complete(seqgen.load(name), tune, 3, 1.0, seed=0, length=2)
    for notes in res["artifacts"]:
        assert torch.equal(d.from_artifact(notes)[:32], d.prefix(tune, 2))


@pytest.mark.parametrize("start, words", [("", "Type the first letters"), ("Jo!", "letters a–z"),
                                          ("Abcdefghijk", "at most 10")])
def test_bad_name_starts(start, words):
    with pytest.raises(ValueError, match=words):
        explore.complete(seqgen.load("names-lm"), start)


def test_bad_lengths_and_counts():
    d = seqgen.get_domain("melodies")
    with pytest.raises(ValueError, match="between 1 and 3 bars"):
        explore.complete(seqgen.load("melodies-gan"), d.to_artifact(d.dataset("test")[0][0]), length=4)
    with pytest.raises(ValueError, match="no notes"):
        d.prefix([seqgen.domains.melodies.Note(60, 40, 2)], 1)
    with pytest.raises(ValueError, match="rows"):
        explore.complete(seqgen.load("digits-vae"), np.zeros((28, 28), np.uint8), length=28)
    with pytest.raises(ValueError, match="completions"):
        explore.complete(seqgen.load("names-lm"), "Jo", n=0)
    with pytest.raises(ValueError, match="classifier"):
        explore.complete(seqgen.load("digits-classifier"), np.zeros((28, 28), np.uint8))


# ---------------------------------------------------------------- larger latents
def test_plane_through_two_names_puts_them_at_the_ends():
    ckpt = seqgen.load("names-vae-32")
    a, b = (explore.encode_artifact(ckpt, s)["mu"] for s in ("Oliver", "Michael"))
    mu = explore.latent_map(ckpt)["mu"]
    plane = explore.plane_through(a, b, mu)
    assert np.allclose(explore.plane_coords(np.stack([a, b]), plane), [[-1.5, 0], [1.5, 0]], atol=1e-4)
    morph = explore.interpolate(ckpt, (-1.5, 0), (1.5, 0), 5, plane=plane)["artifacts"]
    assert morph[0] == "Oliver" and morph[-1] == "Michael"
    pca = explore.pca_plane(mu)
    coords = explore.plane_coords(mu, pca)
    assert np.allclose(coords.std(0), 1, atol=0.05) and abs(coords.mean()) < 1e-3


def test_char_lm_judges_what_looks_like_a_name():
    names = seqgen.get_domain("names")
    assert names.looks_like(["Mary", "Xqzvbk", "M4ry"]) == [True, False, False]


# ---------------------------------------------------------------- the CLI
def test_cli_complete_writes_like_sample(tmp_path, capsys):
    img = 255 - digits.to_artifact(digits.dataset("test")[0][1])
    Image.fromarray(img).resize((280, 280)).save(tmp_path / "seven.png")
    assert cli(["complete", "names-lm", "--prefix", "Mar", "-n", "3", "--out", str(tmp_path)]) == 0
    assert all(line.startswith("Mar") for line in (tmp_path / "names-lm-completed.txt").read_text().splitlines())
    assert cli(["complete", "digits-vae", "--image", str(tmp_path / "seven.png"), "--rows", "14",
                "--out", str(tmp_path)]) == 0
    assert (tmp_path / "digits-vae-completed.png").exists()


@pytest.mark.parametrize("make, args, words", [
    (lambda p: Image.new("L", (4000, 4000), 255).save(p / "big.png"), ["digits-vae", "--image", "big.png"],
     "4000×4000"),
    (lambda p: (p / "x.png").write_bytes(b"not a png"), ["digits-vae", "--image", "x.png"], "could not be read"),
    (lambda p: (p / "x.mid").write_bytes(b"not midi"), ["melodies-vae", "--midi", "x.mid"], "not a MIDI file"),
    (lambda p: None, ["names-vae", "--prefix", "Jo", "--image", "a.png"], "exactly one start"),
    (lambda p: None, ["names-vae", "--prefix", "Jo9"], "letters a–z"),
])
def test_cli_complete_bad_input_writes_nothing(tmp_path, capsys, make, args, words):
    make(tmp_path)
    args = [str(tmp_path / a) if a.endswith((".png", ".mid")) else a for a in args]
    out = tmp_path / "out"
    assert cli(["complete", *args, "--out", str(out)]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------- page sections (AppTest)
def _app(page):
    from streamlit.testing.v1 import AppTest
    return AppTest.from_file(str(seqgen.checkpoints.SHIPPED_DIR.parent / "pages" / page), default_timeout=120)


def test_text_page_completes_a_start_from_every_names_model():
    at = _app("3_text.py").run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert {"names-vae", "names-gan", "names-lm"} <= set(table["model"])
    assert all(str(n).startswith("Mar") for n in table["name"])
    at.text_input(key="own_name_text").input("<b>J0</b>").run()
    assert not at.exception and "letters a–z" in at.error[0].value and "<b>" not in at.error[0].value


def test_music_page_continues_the_note_grid():
    at = _app("4_music.py").run()
    assert not at.exception and not at.error
    assert any("kept exactly" in c.value for c in at.caption)
    at.radio(key="own_mel_how").set_value("a MIDI file").run()
    assert not at.exception and not at.error


def test_explorer_offers_the_canvas_for_images_and_a_plane_for_32_d():
    at = _app("1_latent_explorer.py").run()
    assert not at.exception
    assert any("Draw" in c.value for c in at.caption)      # the canvas waits for a drawing
    at.selectbox(key="le_model").set_value("names-vae-32").run()
    assert not at.exception and at.radio(key="le_plane")
    at.radio(key="le_plane").set_value("the plane through two examples").run()
    assert not at.exception and "Oliver" in at.text[0].value and at.text[0].value.endswith("Michael")
