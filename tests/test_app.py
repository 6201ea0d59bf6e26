"""The Streamlit app, driven by AppTest (no browser): every page, its widgets, the latent map, the URL, audio."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import streamlit as st
from st_helpers import PAGES, REPO, app, click_point, errors, image_urls, open_page, page_app, run_with_plotly_selection

import seqgen
from seqgen import audio


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """An empty user-model folder for every test, and a fresh model list. Computed maps and grids stay
    cached between tests: their keys include the checkpoint's file stamp, so they cannot go stale."""
    from seqgen.ui import resources
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "user_models"))
    resources.list_models.clear()
    yield tmp_path / "user_models"
    resources.list_models.clear()


def decoded(at) -> tuple:
    """What the explorer shows as the decode of the current point: the digit's image, the name, or the piano
    roll (each is the first of its kind on the page: the output column comes before the map and the grid)."""
    names = [m.value for m in at.markdown if "font-size:2.6rem" in m.value][:1]
    rolls = [c.proto.spec for c in at.get("plotly_chart") if c.key == "le_out"][:1]
    images = image_urls(at)[:1] if not names and not rolls else []
    return tuple(images), tuple(names), tuple(rolls)


# ---------------------------------------------------------------- navigation and every page
def test_navigation_registers_every_page_file_once():
    at = app().run()
    assert not at.exception
    pages = list(at._registered_pages.values())
    titles = [p["page_name"] for p in pages]
    urls = [p["url_pathname"] for p in pages]
    assert len(titles) == len(set(titles)) and len(urls) == len(set(urls))
    files = sorted(Path(p["script_path"]).name for p in pages if p["script_path"])
    assert files == sorted(p.name for p in (REPO / "pages").glob("*.py"))
    assert titles[0] == "Home" and at.title[0].value.startswith("seqgen")


@pytest.mark.parametrize("page", ["latent", "noise", "text", "music", "training"])
def test_every_page_renders_without_exception(page):
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "page has no title"
    if page != "training":  # owned by live training
        assert not errors(at), errors(at)
        intro = at.expander[0]
        assert intro.label == "What is happening here"
        assert len([m for m in intro.markdown if len(m.value) > 80]) == 2  # two real paragraphs


def test_home_links_to_every_page():
    at = app().run()
    links = {p.proto.page for p in at.get("page_link")}          # the url paths the cards link to
    assert links == {p["url_pathname"] for p in at._registered_pages.values() if p["script_path"]}
    assert len(at.get("page_link")) == len(PAGES)


# ---------------------------------------------------------------- latent explorer
def sliders(at):
    """The explorer's classic sliders: the default drag pad decodes in the browser, which AppTest has not
    (tests/e2e/test_latent_pad.py drives the pad; tests/test_export.py its fallback)."""
    at.toggle(key="le_classic").set_value(True).run()
    assert not at.exception, at.exception
    return at

@pytest.mark.parametrize("model", ["digits-vae", "names-vae", "melodies-vae", "spoken-vae"])
def test_each_latent_slider_changes_the_decoded_output(model):
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value(model).run()
    assert not at.exception and not errors(at)
    for key in ("le_z0", "le_z1"):
        seen = {decoded(at)}
        for v in (-3.0, -1.5, 1.5, 3.0):
            at.slider(key=key).set_value(v).run()
            assert at.slider(key=key).value == v
            seen.add(decoded(at))
        assert len(seen) > 1, f"moving {key} never changed what {model} decodes"
        at.slider(key=key).set_value(0.0).run()
    assert not at.exception


def test_digit_image_follows_the_slider():
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value("digits-vae").run()
    before = image_urls(at)[0]
    at.slider(key="le_z0").set_value(2.5).run()
    assert image_urls(at)[0] != before            # a new decoded image is shown
    assert at.query_params["z"] == "2.50,0.00"


def test_clicking_the_map_moves_z():
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value("digits-vae").run()
    before = decoded(at)
    run_with_plotly_selection(at, "le_map", click_point(1.2, -0.8))
    assert not at.exception
    assert at.slider(key="le_z0").value == pytest.approx(1.2)
    assert at.slider(key="le_z1").value == pytest.approx(-0.8)
    assert at.query_params["z"] == "1.20,-0.80"
    assert decoded(at) != before
    # the current-z marker on the map moved too
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    cross = [s for s in spec["layout"]["shapes"] if s.get("name") == "current z"]
    assert cross and all((s["x0"] + s["x1"]) / 2 == pytest.approx(1.2) for s in cross)
    assert all((s["y0"] + s["y1"]) / 2 == pytest.approx(-0.8) for s in cross)
    # a click on a data point (not the grid) also works and snaps to the slider step
    run_with_plotly_selection(at, "le_map", click_point(-0.523, 0.377, curve=1, index=3))
    assert (at.slider(key="le_z0").value, at.slider(key="le_z1").value) == pytest.approx((-0.5, 0.4))


def test_query_params_round_trip():
    at = page_app("latent")
    at.session_state["le_classic"] = True
    at.query_params["model"] = "names-vae"
    at.query_params["z"] = "0.50,-1.20"
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="le_model").value == "names-vae"
    assert (at.slider(key="le_z0").value, at.slider(key="le_z1").value) == pytest.approx((0.5, -1.2))
    at.slider(key="le_z1").set_value(2.0).run()
    assert at.query_params["z"] == "0.50,2.00" and at.query_params["model"] == "names-vae"
    at.selectbox(key="le_model").set_value("digits-vae").run()
    assert at.query_params["model"] == "digits-vae"
    assert at.slider(key="le_z1").value == pytest.approx(2.0)  # the URL write did not reset the view


@pytest.mark.parametrize("params, warns", [
    ({"z": "abc"}, "could not be used"),
    ({"z": "1,2,3"}, "could not be used"),
    ({"z": "99,0"}, "could not be used"),
    ({"z": "nan,0"}, "could not be used"),
    ({"model": "no-such-model", "z": "1,1"}, "not available"),
])
def test_bad_url_values_fall_back_with_a_warning(params, warns):
    at = page_app("latent")
    at.session_state["le_classic"] = True
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception and not errors(at)
    assert any(warns in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.selectbox(key="le_model").value in seqgen.ui.resources.model_names("vae")
    if "model" not in params:
        assert (at.slider(key="le_z0").value, at.slider(key="le_z1").value) == (0.0, 0.0)
    at.run()  # the warning was for the link; the URL now holds a valid view
    assert not at.warning
    assert "," in at.query_params["z"]


def test_typed_bad_name_shows_a_message_not_an_exception():
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value("names-vae").run()
    at.text_input(key="le_text").input("R2D2").run()
    assert not at.exception
    assert any("only contain the letters" in e for e in errors(at))
    at.text_input(key="le_text").input("Bartholomewxyz").run()
    assert any("at most" in e for e in errors(at))
    at.text_input(key="le_text").input("maria").run()
    assert not errors(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(t.get("name") == "your input" for t in spec["data"])  # it lands on the map


def test_manifold_and_interpolation_use_one_decoder_call_each(monkeypatch):
    from seqgen.models.vae import RNNVAE
    calls = []
    real = RNNVAE.decode
    monkeypatch.setattr(RNNVAE, "decode", lambda self, z, *a, **k: calls.append(len(z)) or real(self, z, *a, **k))
    st.cache_data.clear()
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value("digits-vae").run()
    calls.clear()
    at.slider(key="le_z0").set_value(1.0).run()
    assert calls == [1]                           # a slider move decodes one point, nothing else
    calls.clear()
    at.slider(key="le_grid_digits").set_value(7).run()
    assert calls == [49]                          # the 7x7 grid: one batched call
    calls.clear()
    at.slider(key="le_z0").set_value(0.0).run()   # back to a point seen before: cached
    assert calls == []


def test_interpolation_between_dataset_items():
    at = sliders(open_page("latent"))
    at.selectbox(key="le_model").set_value("melodies-vae").run()
    at.radio(key="le_interp_mode").set_value("two held-out examples").run()
    at.number_input(key="le_ib").set_value(5).run()
    assert not at.exception and not errors(at)
    assert len(at.get("audio")) >= 2              # the decoded melody and the interpolation, played


def test_latent_view_survives_a_page_switch():
    at = sliders(open_page("latent"))
    at.slider(key="le_z0").set_value(1.5).run()
    at.switch_page(PAGES["music"]).run()
    at.switch_page(PAGES["latent"]).run()
    assert at.slider(key="le_z0").value == 1.5


def test_user_models_are_listed_and_damaged_ones_explained(isolated):
    from seqgen.models import ModelConfig, build_model
    domain = seqgen.get_domain("digits")
    model = build_model(ModelConfig.for_domain(domain, "vae", hidden=16, latent=3)).eval()
    seqgen.save(model, isolated / "my-vae", {"description": "test"})
    broken = isolated / "broken-vae"
    seqgen.save(model, broken, {})
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    at = open_page("latent")
    options = at.selectbox(key="le_model").options
    assert any(o.startswith("my-vae") for o in options) and any(o.startswith("broken-vae") for o in options)
    at.selectbox(key="le_model").set_value("my-vae").run()
    assert not at.exception and not errors(at)
    assert any("3-D latent" in i.value for i in at.info)
    at.selectbox(key="le_model").set_value("broken-vae").run()
    assert not at.exception
    assert any("could not be loaded" in e for e in errors(at))


# ---------------------------------------------------------------- noise -> image
def test_noise_page_label_seed_and_replay_change_the_samples():
    at = open_page("noise")
    assert not errors(at)
    first = image_urls(at)[0]
    at.selectbox(key="ni_label").set_value(3).run()
    assert image_urls(at)[0] != first
    three = image_urls(at)[0]
    assert "3" in at.image[0].captions[0]
    at.number_input(key="ni_seed").set_value(7).run()
    assert image_urls(at)[0] != three
    grid = image_urls(at)[0]
    at.slider(key="ni_rows").set_value(10).run()  # replay: only 10 rows drawn
    assert image_urls(at)[0] != grid and "first 10 of 28 rows" in at.image[0].captions[0]
    heat = json.loads(next(c for c in at.get("plotly_chart") if c.key == "ni_heat").proto.spec)["data"][0]
    assert heat["type"] == "heatmap"
    at.slider(key="ni_n").set_value(5).run()
    assert not at.exception
    assert at.get("download_button")[0].proto.label.startswith("Download")


# ---------------------------------------------------------------- text
def test_text_page_marks_known_and_new_names():
    at = open_page("text")
    domain = seqgen.get_domain("names")
    for temp in (0.0, 1.5):
        at.slider(key="tx_temp").set_value(temp).run()
        assert not at.exception and not errors(at)
        table = at.dataframe[0].value
        assert len(table) == at.slider(key="tx_n").value
        for name, status in zip(table["name"], table["status"]):
            known = name != "(empty)" and domain.is_known(name)
            assert status == ("in the training data" if known else "new ✨"), name
    before = list(at.dataframe[0].value["name"])
    at.button(key="tx_new").click().run()
    assert list(at.dataframe[0].value["name"]) != before
    at.selectbox(key="tx_model").set_value("names-gan").run()
    assert not at.exception and not errors(at)


def test_text_page_nearest_neighbours_and_bad_input():
    at = open_page("text")
    at.text_input(key="tx_name").input("Oliver").run()
    assert not errors(at)
    near = at.dataframe[1].value
    assert len(near) == 10 and "oliver" not in {n.lower() for n in near["name"]}
    assert list(near["distance in latent space"]) == sorted(near["distance in latent space"])
    at.text_input(key="tx_name").input("Jo hn").run()
    assert not at.exception and any("only contain the letters" in e for e in errors(at))


# ---------------------------------------------------------------- music
def test_music_page_audio_is_a_wav_and_follows_tempo_and_instrument():
    at = open_page("music")
    player = at.get("audio")[0]          # the generated melody's; the "play the start" section has its own
    assert player.proto.url.endswith(".wav")
    urls = {player.proto.url}
    at.slider(key="mu_tempo").set_value(140).run()
    urls.add(at.get("audio")[0].proto.url)
    at.selectbox(key="mu_instrument").set_value("organ").run()
    urls.add(at.get("audio")[0].proto.url)
    assert len(urls) == 3                         # each change re-renders the sound
    roll = next(c.proto.spec for c in at.get("plotly_chart") if c.key == "mu_roll")
    at.button(key="mu_new").click().run()
    assert next(c.proto.spec for c in at.get("plotly_chart") if c.key == "mu_roll") != roll
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download WAV", "Download MIDI"]
    at.selectbox(key="mu_model").set_value("melodies-gan").run()
    assert not at.exception and not errors(at) and at.get("audio")


@pytest.mark.parametrize("tempo, instrument", [(90, "piano"), (140, "organ"), (40, "flute")])
def test_melody_wav_has_the_expected_length(tempo, instrument):
    from seqgen.ui.kinds import melody as music
    domain = seqgen.get_domain("melodies")
    notes = tuple(domain.to_artifact(domain.dataset("test")[0][0]))
    wav = music.melody_wav(notes, 64, tempo, instrument)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    data, sr = sf.read(io.BytesIO(wav))
    assert sr == music.SAMPLE_RATE
    assert len(data) == audio.wave_length(64, tempo, music.SAMPLE_RATE)
    assert np.abs(data).max() > 0.1               # not silence
    midi = music.melody_midi(notes, tempo)
    assert midi[:4] == b"MThd"


# ---------------------------------------------------------------- home page pictures
def test_home_pictures_are_what_the_shipped_models_make():
    """assets/home/ is written by scripts/home_pictures.py; after a model is retrained it must be rerun."""
    import importlib.util

    from PIL import Image
    spec = importlib.util.spec_from_file_location("home_pictures", REPO / "scripts" / "home_pictures.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fresh = script.pictures()
    assert set(fresh) == {"latent.png", "noise.png", "music.png", "names.json"}
    for name, data in fresh.items():
        shipped = (REPO / "assets" / "home" / name).read_bytes()
        if name.endswith(".json"):
            a, b = json.loads(shipped), json.loads(data)
            assert len(a) == len(b) and sum(x == y for x, y in zip(a, b)) >= len(a) - 1, (a, b)
        else:
            a, b = (np.asarray(Image.open(io.BytesIO(d)), dtype=np.float32) for d in (shipped, data))
            assert a.shape == b.shape and np.abs(a - b).mean() < 1.0, f"{name}: rerun scripts/home_pictures.py"



def test_home_page_shows_a_picture_per_model_page():
    at = app().run()
    assert not at.exception
    assert len(image_urls(at)) == 3                             # explorer, noise -> image, music
    names = json.loads((REPO / "assets" / "home" / "names.json").read_text())
    assert any(names[0] in m.value for m in at.markdown)        # the text card lists the sampled names


def test_classroom_mode_hides_unsuitable_generated_names(monkeypatch):
    from seqgen.ui import compute
    monkeypatch.setenv("SEQGEN_CLASSROOM", "1")
    monkeypatch.setattr(compute, "samples", lambda *a, **k: ["Maria", "Shit", "Oliver"])
    at = open_page("text")
    assert not at.exception, at.exception
    shown = list(at.dataframe[0].value.iloc[:, 0])
    assert shown[0] == "Maria" and shown[2] == "Oliver"
    assert shown[1] != "Shit" and "classroom filter" in shown[1]


def test_melody_interpolation_lets_you_hear_one_step():
    at = open_page("latent")
    at.selectbox(key="le_model").set_value("melodies-vae").run()
    at.toggle(key="le_classic").set_value(True).run()
    steps = at.select_slider(key="le_strip_step")
    assert steps.options[0] == "1" and len(steps.options) == at.slider(key="le_steps").value
    before = [a.proto.url for a in at.get("audio")]
    steps.set_value(3).run()
    after = [a.proto.url for a in at.get("audio")]
    assert not at.exception and len(after) == len(before)
    assert sum(a != b for a, b in zip(before, after)) == 1    # only the chosen step's player changed


def test_spoken_digits_gan_shows_spectrograms_and_one_wav_in_both_languages():
    for lang in ("en", "zh"):
        at = open_page("noise")
        at.query_params["lang"] = lang
        at.selectbox(key="ni_model").set_value("spoken-gan").run()
        assert not at.exception and not errors(at), (lang, errors(at))
        assert image_urls(at)
        sounds = [a for a in at.get("audio")]
        assert sounds, "no player for the spoken digits"


def test_a_failure_the_browser_reports_is_shown_as_text():
    """The pad's failure reason comes from the browser, so a student can forge it: it is shown as the
    characters it is, never as markdown (an image link in it would make every viewer's browser fetch it)."""
    at = open_page("latent")
    at.session_state["le_pad_failed"] = "![x](http://198.51.100.7/p.png) **bold**"
    at.run()
    assert not at.exception
    shown = [i.value for i in at.info if "drag pad is not available" in i.value]
    assert shown and "\\!\\[x\\]" in shown[0] and "\\*\\*bold" in shown[0], shown
