"""Your own data in a real browser: paste names → train → the latent map shows them → a start completes from the new
model; upload a zip of MIDI files → train → play a sample; upload drawings → train → the explorer decodes them."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
from e2e_helpers import wait_idle  # noqa: E402
from live_e2e_helpers import CHROME_ARGS, CHROMIUM, live_server, progress_step  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_own_data import NAMES, drawing_of, midi_file, zipped  # noqa: E402

pytestmark = pytest.mark.e2e
expect.set_options(timeout=45_000)
STEPS = 30                        # a model that decodes something: the test is about the path, not quality


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(str(tmp_path_factory.mktemp("user_models"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, base_url=server)
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    ctx.close()


def read_your_data(page, what: str, read_as: str, title: str, *, pasted: str | None = None,
                   upload: tuple[str, bytes] | None = None, kept: str) -> None:
    """Live training → Your data → what it is (`what`, the choice of the bundled domain `read_as`) → paste or
    upload → a name → Read; the report says `kept`."""
    page.goto("/training")
    page.locator(".st-key-lt_start button").wait_for()
    page.get_by_test_id("stRadio").filter(has_text="What to learn").get_by_text("Your data").click()
    page.get_by_test_id("stRadio").filter(has_text="What your data is").get_by_text(what).click()
    wait_idle(page, 60_000)
    if pasted is not None:
        page.locator(f".st-key-lt_own_text_{read_as} textarea").fill(pasted)
    if upload is not None:
        name, data = upload
        upload = page.locator(f".st-key-lt_own_files_{read_as} input[type=file]")
        upload.wait_for(state="attached")
        upload.set_input_files(files=[{"name": name, "mimeType": "application/zip", "buffer": data}])
        expect(page.get_by_text(name).first).to_be_visible()
    page.locator(".st-key-lt_own_title input").fill(title)
    page.locator(".st-key-lt_own_title input").press("Enter")
    wait_idle(page, 60_000)
    page.locator(".st-key-lt_own_read button").click()
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text=kept)).to_be_visible()


def train_and_save(page, name: str) -> None:
    """Start, train for STEPS steps, stop, save as `name`."""
    page.locator(".st-key-lt_start button").click()
    end = time.monotonic() + 120
    while progress_step(page) < STEPS and time.monotonic() < end:
        time.sleep(0.5)
    assert progress_step(page) >= STEPS
    page.locator(".st-key-lt_stop button").click()
    expect(page.locator(".st-key-lt_status", has_text="stopped").first).to_be_visible()
    wait_idle(page, 60_000)
    page.locator(".st-key-lt_save_name input").fill(name)
    page.locator(".st-key-lt_save_name input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-lt_save button").click()
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Saved as")).to_be_visible()


def pick(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} input").click()
    page.get_by_role("option", name=option).click()
    expect(page.locator(f".st-key-{key} input")).to_have_value(option)
    wait_idle(page, 60_000)


def test_pasted_names_train_sit_on_the_map_and_finish_a_start(page):
    pasted = NAMES[:300]
    read_your_data(page, "Names (letters)", "names", "Our names", pasted="\n".join(pasted + ["Mary Ann"]), kept="Kept 300 items")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()          # the line with a space: dropped, and why
    train_and_save(page, "our-names")

    page.goto("/latent")
    pick(page, "le_model", "our-names (yours)")
    page.locator(".st-key-le_classic label").click()                    # the map as a plotly chart
    expect(page.locator(".st-key-le_map .js-plotly-plot").first).to_be_visible()
    wait_idle(page, 60_000)
    hover = page.evaluate("""() => JSON.stringify(Array.from(document.querySelectorAll('.st-key-le_map .js-plotly-plot'))
        .flatMap(gd => (gd.data || []).map(t => t.text || t.hovertext || t.customdata)))""")
    on_map = [n for n in pasted if n.capitalize() in hover or n in hover]
    assert len(on_map) >= 15, hover[:400]                                # the held-out tenth of the names, placed

    page.goto("/text")
    pick(page, "tx_model", "our-names (yours)")
    start = page.locator(".st-key-own_name_text input")
    start.fill("Ka")
    start.press("Enter")
    wait_idle(page, 60_000)
    expect(page.locator(".st-key-own_name_hid_model input")).to_have_value("our-names")   # the new model's own
    expect(page.locator(".st-key-data_own_name_hid_name")).to_contain_text("Ka")         # it finished "Ka"
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_zip_of_midi_files_trains_and_a_sample_plays(page):
    rng = np.random.default_rng(0)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    songs = {f"songs/{i}.mid": midi_file([scale[j] for j in rng.integers(0, 8, 32)]) for i in range(6)}
    read_your_data(page, "Melodies (notes)", "melodies", "Our songs", upload=("songs.zip", zipped(songs)), kept="Kept 30 items")
    train_and_save(page, "our-songs")

    page.goto("/music")
    pick(page, "mu_model", "our-songs (yours)")
    expect(page.locator(".st-key-mu_roll .js-plotly-plot")).to_be_visible()
    wait_idle(page, 60_000)
    player = "document.querySelector('.st-key-mu_player audio')"
    page.evaluate(f"() => {player}.play()")
    page.wait_for_function(f"() => {player} && {player}.currentTime > 0.2")          # it is playing
    assert page.evaluate(f"() => {player}.duration") > 4                              # 4 bars of it
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_uploaded_drawings_train_and_the_explorer_decodes_them(page):
    members = {}
    for i in range(40):
        data, label = drawing_of(i)
        members[f"drawings/{label}/{i}.png"] = data
    read_your_data(page, "Digits (28 rows of pixels)", "digits", "Our digits", upload=("drawings.zip", zipped(members)),
                   kept="Kept 40 items")
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("folders")
    train_and_save(page, "our-digits")

    page.goto("/latent")
    pick(page, "le_model", "our-digits (yours)")
    page.locator(".st-key-le_classic label").click()
    wait_idle(page, 60_000)
    decoded = page.locator(".st-key-le_output img").first
    expect(decoded).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", decoded.element_handle()) > 0
    expect(page.get_by_test_id("stException")).to_have_count(0)
