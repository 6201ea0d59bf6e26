"""Real-browser tests: `streamlit run app.py` + Debian chromium driven by Playwright.

    python -m pytest -q tests/e2e                       # about a minute
    SEQGEN_SCREENSHOTS=1 python -m pytest -q tests/e2e  # also writes docs/<page>.png
"""
from __future__ import annotations

import os
import re

import pytest
from e2e_helpers import REPO, browser_api, img_src, wait_idle

pytestmark = pytest.mark.e2e

expect, _ = browser_api()  # first visit of a page imports torch and loads plotly's JS on 2 cores

SHOTS = os.environ.get("SEQGEN_SCREENSHOTS") == "1"
PAGES = [  # (url path, screenshot name, heading)
    ("", "home", "seqgen: how machines learn"),
    ("latent", "latent_explorer", "Latent explorer"),
    ("noise", "noise_to_image", "Noise → image & sound"),
    ("text", "text", "Text: inventing names"),
    ("music", "music", "Music: new chorale melodies"),
    ("training", "live_training", "Live training"),
    ("lessons", "lessons", "Lessons"),
    ("compare", "side_by_side", "Side by side"),
    ("class", "class", "Class"),
]


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.base_url = server
    yield pg
    ctx.close()


def screenshot(page, name: str) -> None:
    """docs/<name>.png of the whole page (only with SEQGEN_SCREENSHOTS=1, so test runs never dirty the tree)."""
    if not SHOTS:
        return
    wait_idle(page)
    h = page.evaluate("() => { const m = document.querySelector('[data-testid=stMain]');"
                      " return m ? m.scrollHeight : document.body.scrollHeight; }")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(min(max(h, 800), 5000))})
    page.wait_for_timeout(600)  # let plotly re-layout to the new size
    wait_idle(page)
    page.screenshot(path=str(REPO / "docs" / f"{name}.png"))
    page.set_viewport_size(size)


def open_page(page, path: str, heading: str) -> None:
    page.goto(f"{page.base_url}/{path}")
    expect(page.get_by_test_id("stHeading").filter(has_text=heading).first).to_be_visible()
    wait_idle(page)


@pytest.mark.skipif(not SHOTS, reason="screenshots only: SEQGEN_SCREENSHOTS=1 (the page sweep in "
                    "test_accessibility.py checks every page)")
def test_screenshot_of_every_page(page):
    for path, shot, heading in PAGES:
        if path in ("latent", "music"):  # those two get their screenshot in the tests below
            continue
        open_page(page, path, heading)
        screenshot(page, shot)


def _wait_src_change(page, key: str, old: str) -> str:
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel); return i && i.getAttribute('src') !== old; }",
        arg=[f".st-key-{key} img", old])
    return img_src(page, key)


def classic_sliders(page) -> None:
    """The explorer's server-side sliders (the default pad decodes in the browser: tests/e2e/test_latent_pad.py)."""
    page.locator(".st-key-le_classic label").click()
    wait_idle(page)


def test_latent_sliders_change_the_decoded_image(page):
    open_page(page, "latent?model=digits-vae&z=0.00,0.00", "Latent explorer")
    classic_sliders(page)
    expect(page.locator(".st-key-le_output img")).to_be_visible()
    # one key press = one value change = one rerun ("End"/"Home" jump to the slider's ends)
    for key, press, expected in (("le_z0", "ArrowRight", "z=0.05,0.00"), ("le_z1", "Home", "z=0.05,-4.00"),
                                 ("le_z0", "End", "z=4.00,-4.00")):
        before = img_src(page, key="le_output")
        page.locator(f".st-key-{key} input[type=range]").press(press)
        after = _wait_src_change(page, "le_output", before)
        assert after and after != before
        page.wait_for_function("exp => decodeURIComponent(location.href).includes(exp)", arg=expected)
        wait_idle(page)
        expect(page.locator(f".st-key-{key} [data-testid=stSliderThumbValue]")).to_have_text(
            expected.split("=")[1].split(",")[0 if key == "le_z0" else 1])
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_latent_map_click_moves_z(page):
    open_page(page, "latent?model=digits-vae&z=0.00,0.00", "Latent explorer")
    classic_sliders(page)
    chart = page.locator(".st-key-le_map .js-plotly-plot")
    expect(chart).to_be_visible()
    wait_idle(page)
    before = img_src(page, "le_output")
    xr, yr = chart.evaluate("el => [el._fullLayout.xaxis.range, el._fullLayout.yaxis.range]")
    box = chart.locator(".nsewdrag").first.bounding_box()
    x, y = 2.0, -1.5   # data coordinates -> pixels (a grid point)
    px = box["x"] + (x - xr[0]) / (xr[1] - xr[0]) * box["width"]
    py = box["y"] + (yr[1] - y) / (yr[1] - yr[0]) * box["height"]
    page.mouse.move(px, py)
    page.mouse.click(px, py)
    _wait_src_change(page, "le_output", before)
    wait_idle(page)
    m = re.search(r"z=(-?[\d.]+)(?:,|%2C)(-?[\d.]+)", page.url)
    assert m, page.url
    assert abs(float(m.group(1)) - x) < 0.5 and abs(float(m.group(2)) - y) < 0.5, page.url
    screenshot(page, "latent_explorer")


def test_music_audio_is_a_wav(page):
    open_page(page, "music", "Music: new chorale melodies")
    audio = page.locator(".st-key-mu_player audio, .st-key-mu_player [data-testid=stAudio]").first
    expect(audio).to_have_attribute("src", re.compile(r".+"))
    wait_idle(page)
    src = audio.get_attribute("src")
    r = page.request.get(src if src.startswith("http") else page.base_url + src)
    body = r.body()
    assert r.ok and body[:4] == b"RIFF" and body[8:12] == b"WAVE", (r.status, body[:12])
    expect(page.locator(".st-key-mu_roll .js-plotly-plot")).to_be_visible()
    screenshot(page, "music")


def test_spoken_digits_from_noise_play_as_one_wav(page):
    """The spoken-digits GAN on the noise page: spectrogram tiles, and one WAV of every sample in turn that
    soundfile reads at the domain's rate, as long as the samples and the gaps between them."""
    import io

    import soundfile as sf

    import seqgen
    open_page(page, "noise", "Noise → image & sound")
    box = page.locator(".st-key-ni_model input")
    box.click()
    box.fill("spoken-gan")
    page.keyboard.press("Enter")
    wait_idle(page)
    n = int(page.locator(".st-key-ni_n [data-testid=stSliderThumbValue]").inner_text())
    audio = page.locator(".st-key-ni_listen_player audio").first
    expect(audio).to_have_attribute("src", re.compile(r".+"))
    src = audio.get_attribute("src")
    body = page.request.get(src if src.startswith("http") else page.base_url + src).body()
    wave, rate = sf.read(io.BytesIO(body))
    domain = seqgen.get_domain("spoken")
    assert rate == domain.sample_rate
    assert len(wave) == n * domain.window_samples + (n - 1) * int(0.25 * rate), (len(wave), n)
    assert page.get_by_role("img", name=re.compile("classifier")).count() >= 1
    expect(page.get_by_test_id("stException")).to_have_count(0)


KINDS = [("Digits (28 rows of pixels)", "img"), ("Clothes (28 rows of pixels)", "img"), ("Names (letters)", "text"),
         ("Melodies (notes)", "audio"), ("Spoken digits (48 frames of a spectrogram)", "audio")]


def test_side_by_side_shows_a_vae_beside_a_gan_of_each_kind(page):
    open_page(page, "compare", "Side by side")
    for data, sees in KINDS:
        wait_idle(page)
        page.locator(".st-key-sb_domain input").click()
        page.get_by_role("option", name=data).click()
        expect(page.locator(".st-key-sb_domain input")).to_have_value(data)
        wait_idle(page)
        for side, family in (("sb_left", "VAE"), ("sb_right", "GAN")):
            box = page.locator(f".st-key-{side}")
            expect(box.get_by_test_id("stHeading")).to_contain_text(family)
            if sees == "text":
                expect(box.locator("[data-testid=stText]")).to_contain_text(" · ")      # ten names in a line
            else:
                expect(box.locator(sees).first).to_be_attached()
                if sees == "img":
                    assert box.locator("img").first.get_attribute("alt")              # a text alternative
        expect(page.get_by_test_id("stException")).to_have_count(0)
        if data.startswith("Digits"):
            screenshot(page, "side_by_side")
