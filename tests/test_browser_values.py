"""What browsers send, checked before use (seqgen.ui.browser_values); the forged messages themselves, sent to a
real server, are in tests/e2e/test_forged_values.py."""
from __future__ import annotations

import asyncio
import math

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from seqgen.ui import browser_values


@pytest.fixture
def notices(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(browser_values, "notice", said.append)
    return said


@pytest.mark.parametrize("sent, expected", [
    ([0.5, -1.2], (0.5, -1.2)), ((1, 2), (1.0, 2.0)), ([0.123, 0.0], (0.1, 0.0)),
])
def test_a_real_point_is_used_on_the_slider_grid_without_a_word(sent, expected, notices):
    assert browser_values.point(sent, 4.0, 0.05) == pytest.approx(expected)
    assert notices == []


@pytest.mark.parametrize("sent, expected", [([1e308, 0], (4.0, 0.0)), ([-9, 5], (-4.0, 4.0))])
def test_a_point_off_the_map_is_moved_onto_its_edge_with_a_sentence(sent, expected, notices):
    assert browser_values.point(sent, 4.0, 0.05) == expected
    assert len(notices) == 1 and "edge" in notices[0]


@pytest.mark.parametrize("sent", [
    [math.nan, 0], [0, math.inf], [-math.inf, 1], ["1", "2"], "ab", [[1], [2]], {"x": 1, "y": 2}, [1, 2, 3],
    [True, False], 7, None, [None, 1],
])
def test_anything_else_is_ignored_with_a_sentence(sent, notices):
    assert browser_values.point(sent, 4.0, 0.05) is None
    assert len(notices) == 1 and "ignored" in notices[0]


def test_the_sentence_quotes_a_forged_value_short_and_escaped(notices):
    browser_values.point(["<img src=x>" * 1000, 1], 4.0, 0.05)
    assert len(notices[0]) < 300
    assert "<img" not in notices[0].replace("\\<img", "")            # every '<' escaped: shown, never markup


def _rerun(*states: WidgetState) -> bytes:
    msg = BackMsg()
    msg.rerun_script.widget_states.widgets.extend(states)
    msg.rerun_script.page_name = "latent"
    return msg.SerializeToString()


def test_the_shield_drops_only_json_states_that_do_not_parse():
    keep = [WidgetState(id="pad", json_value='{"z": [NaN, 1]}'),            # parses: the page checks its z
            WidgetState(id="list", json_value="[1, 2]"), WidgetState(id="number", json_value="5"),
            WidgetState(id="name", string_value="{{{ not json, a text box"),
            WidgetState(id="events", json_trigger_value="garbage"),          # Streamlit reads events safely
            WidgetState(id="slider", double_array_value={"data": [0.5]})]
    drop = [WidgetState(id="pad2", json_value="garbage"), WidgetState(id="pad3", json_value='{"z": '),
            WidgetState(id="deep", json_value="[" * 100_000), WidgetState(id="empty", json_value="")]
    mixed = [keep[0], drop[0], keep[1], drop[1], keep[2], drop[2], keep[3], drop[3], keep[4], keep[5]]
    out = BackMsg.FromString(browser_values.shielded(_rerun(*mixed)))
    assert [w.id for w in out.rerun_script.widget_states.widgets] == [w.id for w in keep]
    assert out.rerun_script.page_name == "latent"
    clean = _rerun(*keep)
    assert browser_values.shielded(clean) == clean                           # untouched, byte for byte


@pytest.mark.parametrize("data", [b"\xff\x00 not a protobuf", BackMsg(stop_script=True).SerializeToString()])
def test_the_shield_passes_other_messages_as_they_are(data):
    assert browser_values.shielded(data) == data


def test_the_shield_sits_on_the_app_websocket_only():
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["path"], await receive()))

    bad = _rerun(WidgetState(id="pad", json_value="garbage"))

    async def receive():
        return {"type": "websocket.receive", "bytes": bad}

    shield = browser_values.StateShield(app)
    asyncio.run(shield({"type": "websocket", "path": "/_stcore/stream"}, receive, None))
    asyncio.run(shield({"type": "http", "path": "/other"}, receive, None))
    stream, other = seen
    assert BackMsg.FromString(stream[1]["bytes"]).rerun_script.widget_states.widgets == []
    assert other[1]["bytes"] == bad


def _choice_app():
    import streamlit as st

    from seqgen.ui import browser_values

    for key, sent in st.session_state.pop("forge", {}).items():    # what the browser's message would hold
        st.session_state[key] = sent
    browser_values.choice("mode", ["draw", "pick"])
    st.radio("Mode", ["draw", "pick"], key="mode")
    browser_values.choice("label", range(3), options_change=True)
    st.selectbox("Label", range(3), key="label")
    browser_values.show_notice()


@pytest.mark.parametrize("key, sent, put_back, said", [
    ("mode", "../../etc/passwd", "draw", True),       # a radio's forged option
    ("label", "7", 0, True),                          # text where the labels are numbers: sent by hand
    ("label", 9, 0, False),                           # a label the newly chosen model lacks: gone, not forged
])
def test_a_choice_not_offered_is_put_back(key, sent, put_back, said):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_function(_choice_app).run()
    at.session_state["forge"] = {key: sent}
    at.run()
    assert not at.exception
    assert at.session_state[key] == put_back
    assert bool(at.warning) == said
    if said:
        assert "does not offer" in at.warning[0].value


def _failing_app():
    from seqgen.ui import browser_values

    assert browser_values.script_error(KeyError("deep in Streamlit")) is True


def test_an_error_outside_the_pages_guards_is_a_sentence_not_the_error_box():
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_function(_failing_app).run()
    assert not at.exception
    assert "could not use" in at.warning[0].value
    assert "deep in Streamlit" not in at.warning[0].value          # nothing of the error itself reaches the page


@pytest.mark.parametrize("edits, fits", [
    (None, True), ({"edited_rows": {0: {"1": True}, 24: {"16": False}}, "added_rows": [], "deleted_rows": []}, True),
    ({"edited_rows": {25: {"1": True}}, "added_rows": [], "deleted_rows": []}, False),
    ({"edited_rows": {-1: {"1": True}}, "added_rows": [], "deleted_rows": []}, False),
    ({"edited_rows": {0: {"17": True}}, "added_rows": [], "deleted_rows": []}, False),
    ({"edited_rows": {0: {"1": "yes"}}, "added_rows": [], "deleted_rows": []}, False),
    ({"edited_rows": {0: {"1": 1}}, "added_rows": [], "deleted_rows": []}, False),
    ({"edited_rows": {}, "added_rows": [{"1": True}], "deleted_rows": []}, False),
    ({"edited_rows": {}, "added_rows": [], "deleted_rows": [3]}, False),
    ({"edited_rows": []}, False), ("edits", False),
])
def test_note_grid_edits_are_ticks_on_its_cells(edits, fits):
    from seqgen.ui.kinds.melody import grid_edits_fit
    assert grid_edits_fit(edits, 25, [str(c) for c in range(1, 17)]) is fits


@pytest.mark.parametrize("state, fits", [
    ({}, True), ({"drawing": {"raw": {"objects": []}, "data": None}, "backgroundFit": None}, True),
    ({"drawing": {"data": "data:image/png;base64,AAAA"}}, True),
    ({"backgroundFit": dict.fromkeys(("naturalWidth", "naturalHeight", "scaleX", "scaleY", "offsetX", "offsetY"),
                                     1.0)}, True),
    ({"drawing": 7}, False), ({"drawing": {"data": 5}}, False), ({"drawing": {"raw": "x"}}, False),
    ({"backgroundFit": {"naturalWidth": 1}}, False), ({"backgroundFit": 5}, False),
    ({"backgroundFit": dict.fromkeys(("naturalWidth", "naturalHeight", "scaleX", "scaleY", "offsetX", "offsetY"),
                                     True)}, False),
])
def test_a_canvas_state_has_the_shape_the_canvas_library_reads(state, fits):
    from seqgen.ui.kinds.image import canvas_state_fits
    assert canvas_state_fits(state) is fits
