"""The latent pad in a real browser: the decoder runs in Chromium (onnxruntime-web) and must agree with torch;
dragging repaints the output before release, and the point reaches the URL after it.

    python -m pytest -q tests/e2e/test_latent_pad.py
    SEQGEN_SCREENSHOTS=1 python -m pytest -q tests/e2e/test_latent_pad.py   # also writes docs/latent_pad*.png
"""
from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import pytest
from e2e_helpers import REPO, browser_api, wait_idle
from pad_helpers import browser_decode, finger_sweep, pad_box, to_screen, wait_pad_frame

pytestmark = pytest.mark.e2e

expect, _ = browser_api()

SHOTS = os.environ.get("SEQGEN_SCREENSHOTS") == "1"
MODELS = ["digits-vae", "names-vae", "melodies-vae", "spoken-vae"]


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.base_url = server
    yield pg
    ctx.close()


def open_pad(page, model: str, z: str = "0.00,0.00") -> dict:
    page.goto(f"{page.base_url}/latent?model={model}&z={z}")
    state = wait_pad_frame(page)
    wait_idle(page)
    return state


def url_z(page) -> str:
    return page.evaluate("() => new URL(location.href).searchParams.get('z')")


@pytest.mark.parametrize("model", MODELS)
def test_the_browser_decodes_exactly_like_torch(page, model):
    import torch

    import seqgen
    state = open_pad(page, model)
    assert state["ready"] and not state["failed"], state
    vae = seqgen.load(model).model.eval()
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(7)) * 2
    got = np.array(browser_decode(page, model, z.tolist()))
    want = vae.decode(z).numpy()
    if vae.cfg.discrete:
        assert (got.reshape(want.shape) == want).all(), "browser tokens differ from torch's argmax"
    else:
        assert np.abs(got.reshape(want.shape) - want).max() <= 1e-4


def test_dragging_repaints_before_release_and_the_url_follows_after(page):
    first = open_pad(page, "digits-vae")
    box = pad_box(page)
    start = to_screen(box, (-3.0, -2.0))
    page.mouse.move(*start)
    page.mouse.down()
    seen, frame = set(), first["frame"]
    for i in range(1, 7):   # six moves while the button is held: each one repainted in the browser
        page.mouse.move(*to_screen(box, (-3.0 + i, -2.0 + 0.6 * i)))
        state = wait_pad_frame(page, after=frame, timeout=10_000)
        frame = state["frame"]
        seen.add(hashlib.sha1(json.dumps(state["out"]).encode()).hexdigest())
    assert len(seen) >= 4, "the decoded digit did not change while dragging"
    assert url_z(page) == "0.00,0.00"              # nothing went to the server yet
    page.mouse.up()
    page.wait_for_function("() => new URL(location.href).searchParams.get('z') !== '0.00,0.00'", timeout=15_000)
    wait_idle(page)
    z0, z1 = (float(v) for v in url_z(page).split(","))
    assert z0 == pytest.approx(3.0, abs=0.1) and z1 == pytest.approx(1.6, abs=0.1)
    expect(page.get_by_text(f"z = ({z0:.2f}, {z1:.2f})", exact=True)).to_be_visible()   # the server side agrees
    expect(page.get_by_test_id("stException")).to_have_count(0)
    if SHOTS:
        page.screenshot(path=str(REPO / "docs" / "latent_pad.png"), full_page=False)


def test_a_slow_device_drags_through_previews_says_so_and_ends_on_the_exact_decode(page):
    """A CPU slowed 20 times (a decode far over a frame's budget): while the finger drags, the pad paints previews
    made from its grid of decodes between exact decodes, and says so; on release the picture is the exact decode
    of the released point, which the address bar gets. (At this pace the rerun answering the send made during
    the drag lands after the release; it once took the point back to where the finger had been.)"""
    first = open_pad(page, "digits-vae")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 20})
    root = page.locator(".pad-root").first
    try:
        deadline = time.monotonic() + 60        # its grid of decodes comes first, at the slowed CPU's pace
        while True:
            finger_sweep(page, 4.0, start=(-3.0, -2.0), end=(2.0, 1.0))
            if root.evaluate("root => root.dataset.quick === 'true'") or time.monotonic() > deadline:
                break
        deadline = time.monotonic() + 30          # the exact decode of the point let go, asked of the pad as it is now
        while (data := root.evaluate("root => ({...root.dataset})")).get("z") != "2.00,1.00" \
                or data.get("preview") != "false":
            assert time.monotonic() < deadline, f"no exact decode of the released point: {data}"
            page.wait_for_timeout(200)
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    assert data.get("quick") == "true", f"decodes of {data.get('decodeMs')} ms did not switch the pad to previews"
    assert int(data["previews"]) > 0 and int(data["frame"]) > first["frame"] + int(data["previews"])
    expect(page.locator(".pad-quick")).to_contain_text(" ms ")          # says so (the pad's words, with its figure)
    page.wait_for_function("() => new URL(location.href).searchParams.get('z') === '2.00,1.00'", timeout=15_000)


def test_arrow_keys_nudge_the_point_and_a_name_follows(page):
    first = open_pad(page, "names-vae", "1.00,1.00")
    page.locator(".pad-canvas").focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    state = wait_pad_frame(page, after=first["frame"])
    page.wait_for_function("() => new URL(location.href).searchParams.get('z') === '0.50,1.00'", timeout=15_000)
    assert state["text"]
    if SHOTS:
        wait_idle(page)
        page.screenshot(path=str(REPO / "docs" / "latent_pad_names.png"), full_page=False)


def test_the_classic_sliders_are_one_toggle_away(page):
    open_pad(page, "melodies-vae")
    page.locator(".st-key-le_classic label").click()
    expect(page.locator(".st-key-le_z0 input[type=range]")).to_be_visible()
    expect(page.locator(".pad-canvas")).to_have_count(0)
    if SHOTS:
        page.locator(".st-key-le_classic label").click()
        wait_pad_frame(page)
        wait_idle(page)
        page.screenshot(path=str(REPO / "docs" / "latent_pad_melodies.png"), full_page=False)


# Records every sound the page starts: its samples, rate and length (the pad plays through Web Audio).
RECORD_SOUNDS_JS = """(() => {
  window.__played = [];
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {
    const b = this.buffer;
    window.__played.push({rate: b.sampleRate, samples: Array.from(b.getChannelData(0))});
    return start.apply(this, args);
  };
})();"""


def test_a_spoken_digit_plays_when_the_finger_lets_go_and_says_what_the_picture_shows(page):
    """Drag the spoken-digits pad: the spectrogram repaints while dragging; on release the browser's own
    Griffin-Lim plays it, and what it plays is heard (by the reference classifier, through the same
    spectrogram front end as a microphone) as the digit the decoded spectrogram shows."""
    import torch

    import seqgen
    page.add_init_script(RECORD_SOUNDS_JS)
    first = open_pad(page, "spoken-vae")
    assert first["ready"] and not first["failed"], first
    box = pad_box(page)
    page.mouse.move(*to_screen(box, (-1.0, -1.0)))
    page.mouse.down()
    frame = first["frame"]
    for i in range(1, 4):
        page.mouse.move(*to_screen(box, (-1.0 + 0.5 * i, -1.0 + 0.4 * i)))
        frame = wait_pad_frame(page, after=frame, timeout=10_000)["frame"]
    assert page.evaluate("() => window.__played.length") == 0, "it played before the finger let go"
    page.mouse.up()
    page.wait_for_function("() => window.__played.length === 1", timeout=10_000)
    played = page.evaluate("() => window.__played[0]")
    domain = seqgen.get_domain("spoken")
    wave = np.array(played["samples"], np.float32)
    assert played["rate"] == domain.sample_rate and len(wave) == domain.window_samples
    assert 0.05 < np.sqrt((wave ** 2).mean()) and np.abs(wave).max() <= 0.9 + 1e-6
    page.wait_for_function("() => new URL(location.href).searchParams.get('z') !== '0.00,0.00'", timeout=15_000)
    z = torch.tensor([[float(v) for v in url_z(page).split(",")]])
    assert z[0].tolist() == pytest.approx([0.5, 0.2], abs=0.1)
    decoded = seqgen.load("spoken-vae").model.eval().decode(z)[0]
    heard = torch.from_numpy(domain.mel_from_wave(wave, played["rate"]))
    clf = domain.reference()
    said = domain.meaning(clf.predict(torch.stack([decoded, heard])))
    assert said[0] == said[1], f"the picture shows {int(said[0])}, the sound says {int(said[1])}"
    wait_idle(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
