"""Put your own in, in a real browser: strokes drawn on the canvas with the mouse reach the model; the page
shows what the model sees, the point on the map and the completions."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from e2e_helpers import REPO, browser_api, launch, stroke, wait_idle

pytestmark = pytest.mark.e2e

if importlib.util.find_spec("streamlit_drawable_canvas") is None:   # it registers itself only inside a server
    pytest.skip("pip install -r requirements.txt (the drawing canvas)", allow_module_level=True)
expect, sync_playwright = browser_api(45_000)


@pytest.fixture(scope="module")
def page(server):
    url = server
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1400, "height": 1100})
        pg.goto(url + "/latent?model=digits-vae&z=0.00,0.00")
        pg.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=60_000)
        wait_idle(pg, 60_000)
        yield pg
        browser.close()


def test_drawing_a_seven_shows_the_point_and_the_completions(page):
    canvas = page.locator(".st-key-le_draw canvas").last
    canvas.scroll_into_view_if_needed()
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    stroke(page, box, [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2)])           # the bar of a 7
    stroke(page, box, [(0.75, 0.2), (0.62, 0.5), (0.5, 0.85)])          # its stem
    expect(page.get_by_text("What the model sees")).to_be_visible()
    expect(page.get_by_text("reads it as 7")).to_be_visible()          # both strokes reached the model
    expect(page.get_by_text("The encoder puts your drawing at")).to_be_visible()
    expect(page.get_by_text("kept exactly; the model drew the rest")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "your drawing" in page.content()                             # the map's mark for the star
    if os.environ.get("SEQGEN_SCREENSHOTS") == "1":
        page.get_by_text("What the model sees").scroll_into_view_if_needed()
        page.screenshot(path=str(REPO / "docs" / "own_input_drawing.png"), full_page=False)


def _midi_file(path: Path) -> Path:
    """Two bars of a tune in D major with a chord under it and a drum track: what a student might export."""
    import mido
    mid = mido.MidiFile(ticks_per_beat=480)
    tune, drums = mido.MidiTrack(), mido.MidiTrack()
    mid.tracks += [tune, drums]
    tune.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100)))
    for pitch in (74, 76, 78, 79, 81, 79, 78, 76):               # quarter notes, with a lower chord tone
        tune.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        tune.append(mido.Message("note_on", note=pitch - 12, velocity=60, time=0))
        tune.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
        tune.append(mido.Message("note_off", note=pitch - 12, velocity=0, time=0))
    for _ in range(8):
        drums.append(mido.Message("note_on", note=36, velocity=90, channel=9, time=0))
        drums.append(mido.Message("note_off", note=36, velocity=0, channel=9, time=480))
    mid.save(str(path))
    return path


def test_uploading_a_midi_file_continues_it_and_a_bad_file_gets_a_sentence(page, tmp_path):
    base = page.url.split("/latent")[0]
    page.goto(base + "/music")
    page.get_by_text("Play the start of a melody").first.wait_for()
    wait_idle(page, 60_000)
    page.locator(".st-key-own_mel_how").get_by_text("a MIDI file").click()
    upload = page.locator(".st-key-own_mel_file input[type=file]")
    upload.wait_for(state="attached")
    upload.set_input_files(str(_midi_file(tmp_path / "tune.mid")))
    expect(page.locator(".st-key-own_mel_roll0 .js-plotly-plot")).to_be_visible()
    expect(page.get_by_text("The shaded part is yours").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    (tmp_path / "notes.mid").write_bytes(b"these are my notes, not a MIDI file")
    upload.set_input_files(str(tmp_path / "notes.mid"))
    expect(page.get_by_text("This is not a MIDI file").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
