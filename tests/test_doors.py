"""Every door a visitor can push: URL parameters, text boxes and the user models folder, with hostile input.

Each test asserts what the visitor sees (a plain, short message; never markup from the input, never a
traceback) and that nothing was written or run."""
from __future__ import annotations

import json
import os
import re
import time

import pytest
import streamlit as st
import torch
from st_helpers import PAGES, app, errors, open_page, page_app

import seqgen
from seqgen import browsers
from seqgen.ui import live, resources

# Raw sequences that must never reach the page as they are: each would be markup, an image fetch,
# a colour or formula directive, or a control / bidi character.
HOSTILE = {
    "markdown image": "![x](http://127.0.0.1:9/pixel.png)",
    "html": "<img src=x onerror=alert(1)>",
    "link": "[click me](javascript:alert(1))",
    "directives": ":red[big] $x^2$ **bold** _it_",
    "emoji": "🎉" * 50,
    "rtl override": "\u202eeav-stigid",
    "control chars": "x\x00\x1b[2J\ny",
    "100 kB": "a" * 100_000,
}
RAW = ("![", "](", "<img", "[click", ":red[", "$x", "**bold", "_it_", "\u202e", "\x1b", "\x00")


def assert_plain(text: str, limit: int = 700) -> None:
    """Short, and no markup left once every backslash-escaped character is taken out."""
    assert len(text) < limit, len(text)
    unescaped = re.sub(r"\\.", "", text)
    for raw in RAW:
        assert raw not in unescaped, (raw, text[:200])


@pytest.fixture(autouse=True)
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "user_models"
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(folder))
    resources.list_models.clear()
    yield folder
    resources.list_models.clear()


def nothing_written(folder) -> bool:
    """No model, and nothing half-written, in the user folder (the record of known browsers a run start made
    is not a save)."""
    record = (browsers.KEY_FILE, browsers.RECORD_FILE)
    return not folder.exists() or not any(p for p in folder.iterdir() if not p.name.startswith(record))


# ------------------------------------------------------------------------------------------------ URL parameters
def test_hostile_model_parameter_is_echoed_as_short_plain_text(user_folder):
    at = page_app("latent")
    for name, value in HOSTILE.items():
        at.query_params["model"] = value
        at.query_params.pop("z", None)
        at.run()
        assert not at.exception, (name, at.exception)
        warnings = [w.value for w in at.warning if "not available here" in w.value]
        assert len(warnings) == 1, (name, [w.value for w in at.warning])
        assert_plain(warnings[0])
        assert at.selectbox(key="le_model").value == "digits-vae"
    assert "…" in warnings[0]                                                   # the 100 kB one, cut short
    assert nothing_written(user_folder)


POINTS = {"markup": HOSTILE["markdown image"] + ",1", "nan": "nan,nan", "huge": "1e308,1e308", "inf": "inf,0",
          "emoji": "🎉,🎉", "100 kB": "1," * 50_000, "rtl": "\u202e1,2", "hex": "0x10,1", "three": "-0,-0,-0"}


@pytest.mark.parametrize("z", list(POINTS.values()), ids=list(POINTS))
def test_hostile_point_parameter_starts_at_the_origin_with_a_plain_warning(z, user_folder):
    at = page_app("latent")
    at.query_params["model"] = "digits-vae"
    at.query_params["z"] = z
    at.run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "could not be used" in warnings[0], warnings
    assert_plain(warnings[0])
    assert (at.session_state["le_z0"], at.session_state["le_z1"]) == (0.0, 0.0)
    assert nothing_written(user_folder)


# ------------------------------------------------------------------------------------------------ text boxes
def _typed(at, key: str, values: dict) -> None:
    for name, value in values.items():
        at.text_input(key=key).set_value(value).run()
        assert not at.exception, (name, at.exception)
        shown = errors(at)
        assert len(shown) == 1, (name, shown)
        assert_plain(shown[0])


TYPED = {k: v for k, v in HOSTILE.items() if k != "emoji"} | {"emoji": "🎉x", "digits": "12345",
                                                               "spaces only then text": "   ![a](b)"}


def test_latent_explorer_text_box(user_folder):
    at = open_page("latent")
    at.selectbox(key="le_model").set_value("names-vae").run()
    assert not at.exception, at.exception
    _typed(at, "le_text", TYPED)
    assert nothing_written(user_folder)


def test_text_page_name_box(user_folder):
    at = open_page("text")
    assert not at.exception, at.exception
    _typed(at, "tx_name", TYPED)
    assert nothing_written(user_folder)


@pytest.fixture
def live_at(user_folder):
    st.cache_data.clear()
    at = app().run()
    at.switch_page("../pages/5_live_training.py").run()
    assert not at.exception, at.exception
    yield at
    run = at.session_state["lt_run"] if "lt_run" in at.session_state else None
    if run is not None:
        run.stop()
        run.join(5)


def _one_step(at):
    k = "lt_k_digits_vae_"
    at.select_slider(key=k + "hidden").set_value(16)
    at.select_slider(key=k + "batch_size").set_value(8)
    at.button(key="lt_step").click().run()                     # start paused, make one step
    run = at.session_state["lt_run"]
    end = time.monotonic() + 30
    while time.monotonic() < end and not (run.snapshot().step >= 1 and run.snapshot().status == "paused"):
        time.sleep(0.1)
    at.run()
    return run


def test_live_training_save_name_box(live_at, user_folder):
    _one_step(live_at)
    names = {**HOSTILE, "100 kB": "!" * 100_000, "dot dot": "..", "path": "../../etc/x", "absolute": "/tmp/x", "shipped": "digits-vae",
             "spaces": "my model", "unicode": "ünïcødé"}
    for name, value in names.items():
        live_at.text_input(key="lt_save_name").set_value(value).run()
        live_at.button(key="lt_save").click().run()
        assert not live_at.exception, (name, live_at.exception)
        shown = errors(live_at)
        assert len(shown) == 1, (name, shown)
        assert_plain(shown[0])
        assert str(user_folder) not in shown[0] and "/tmp/" not in shown[0]
    assert nothing_written(user_folder)


# ------------------------------------------------------------------------------------------------ live training
def test_one_browser_cannot_fill_every_slot_from_two_tabs(user_folder, monkeypatch):
    monkeypatch.setattr(live, "client_key", lambda: "browser:same-student")
    first, second = app().run(), app().run()
    for at in (first, second):
        at.switch_page("../pages/5_live_training.py").run()
    try:
        _one_step(first)
        second.button(key="lt_start").click().run()
        assert not second.exception, second.exception
        assert "lt_run" not in second.session_state
        shown = [w.value for w in second.warning]
        assert any("already have a training run going" in w for w in shown), shown
    finally:
        first.session_state["lt_run"].stop()
        first.session_state["lt_run"].join(5)
    assert nothing_written(user_folder)


def test_an_error_inside_the_live_panel_is_a_message_not_a_traceback(live_at, monkeypatch):
    _one_step(live_at)

    def broken(snap):
        raise AttributeError("partially initialized module 'pandas' has no attribute 'DataFrame' "
                             "(/srv/seqgen/.venv/lib/pandas/__init__.py)")

    monkeypatch.setattr(live, "draw", broken)
    live_at.run()
    assert not live_at.exception, live_at.exception
    shown = errors(live_at)
    assert any("something went wrong on the live training panel" in e for e in shown), shown
    assert not any("/srv/seqgen" in e for e in shown)


def test_every_tab_of_one_browser_brings_one_token_however_streamlit_masks_it():
    token = bytes(range(16))
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    cookie = f"2|{mask.hex()}|{masked.hex()}|1700000000"
    other_mask = b"\x09\x09\x09\x09"
    other = f"2|{other_mask.hex()}|{bytes(b ^ 9 for b in token).hex()}|1700000000"
    assert live._xsrf_token(cookie) == live._xsrf_token(other) == token.hex()
    assert live._xsrf_token("odd") == "odd"


# ------------------------------------------------------------------------------------------------ hostile models
def _user_models(folder, tmp_path):
    """A user folder holding every kind of broken or hostile checkpoint, next to one good model."""
    domain = seqgen.get_domain("digits")
    model = seqgen.build_model(seqgen.ModelConfig.for_domain(domain, "vae", hidden=16)).eval()
    seqgen.save(model, folder / "good-vae")
    deep = folder / "deep"
    deep.mkdir()
    (deep / "config.json").write_text("[" * 1000)
    big = seqgen.save(model, folder / "huge-vae")
    doc = json.loads((big / "config.json").read_text())
    doc["model"]["hidden"] = 10**6
    (big / "config.json").write_text(json.dumps(doc))
    long = seqgen.save(model, folder / "long-vae")
    doc = json.loads((long / "config.json").read_text())
    doc["model"]["seq_len"] = 10**7
    (long / "config.json").write_text(json.dumps(doc))
    pickled = seqgen.save(model, folder / "pickle-vae")
    torch.save(model.state_dict(), pickled / "model.safetensors")
    truncated = seqgen.save(model, folder / "truncated-vae")
    w = truncated / "model.safetensors"
    w.write_bytes(w.read_bytes()[:100])
    outside = seqgen.save(model, tmp_path / "elsewhere" / "outside-vae")
    (folder / "linked-vae").symlink_to(outside, target_is_directory=True)
    seqgen.save(model, folder / "name with spaces")
    seqgen.save(model, folder / "ünïcødé")
    seqgen.save(model, folder / "![x](http:")


def test_hostile_user_models_are_listed_as_damaged_and_every_page_still_works(user_folder, tmp_path):
    _user_models(user_folder, tmp_path)
    before = sorted(os.listdir(user_folder))
    at = open_page("latent")
    assert not at.exception, at.exception
    options = at.selectbox(key="le_model").options
    assert any(o.startswith("good-vae") for o in options)
    assert not any(re.search(r"deep|huge|long|linked|spaces|ünï|!\[", o) for o in options), options
    notes = [t.value for t in at.text]                            # the "could not be read" expander, plain text
    for broken in ("deep", "huge-vae", "long-vae", "linked-vae", "name with spaces", "ünïcødé", "![x](http:"):
        assert any(n.startswith(broken + ": ") for n in notes), (broken, notes)
    assert not errors(at)
    for weights_only in ("pickle-vae", "truncated-vae"):          # config fine, weights not: refused on opening
        at.selectbox(key="le_model").set_value(next(o for o in options if o.startswith(weights_only))).run()
        assert not at.exception, at.exception
        shown = errors(at)
        assert len(shown) == 1 and "could not be loaded" in shown[0] and "not a readable safetensors" in shown[0]
        assert str(user_folder) not in shown[0]
    at.selectbox(key="le_model").set_value(next(o for o in options if o.startswith("good-vae"))).run()
    assert not at.exception and not errors(at)
    for page in ("noise", "text", "music", "training"):
        at.switch_page(PAGES[page]).run()
        assert not at.exception, (page, at.exception)
    assert sorted(os.listdir(user_folder)) == before                            # nothing written, nothing moved
