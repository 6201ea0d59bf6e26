"""Values a student's developer tools can send over the page's websocket, sent as they would be (the protocol-level
client, benchmarks/st_client.py): each is ignored or clamped with a sentence on the page, never Streamlit's generic
error box, and the page keeps working afterwards, on later reruns too."""
import asyncio
import json
import urllib.parse

import pytest
from e2e_helpers import st_client

pytestmark = pytest.mark.e2e

IGNORED = "so it was ignored"
CLAMPED = "it was moved onto the map's edge"
UNREADABLE = "cannot read, so it was ignored"      # the page's, or the websocket shield's, sentence
NOT_OFFERED = "does not offer"
GRID = "do not fit the grid, so they were ignored"


def _check(run, expect: str | None, case: str) -> None:
    """No error box and no error sentence; `expect` (a part of our sentence) among the page's warnings."""
    assert not run.errors, (case, run.errors)
    if expect is not None:
        assert any(expect in t for t in run.texts), (case, run.texts)


def _query(session) -> str:
    """The address bar's query as the page last set it, decoded."""
    return urllib.parse.unquote(session.query or "")


async def _latent(url: str):
    session = st_client().Session(url, "latent", fetch_media=False)
    run = await session.open()
    assert not run.errors, run.errors
    return session


# The latent pad's state as a forged message can give it: (JSON text, what the page should say).
PAD_STATES = {
    "NaN": ('{"z": [NaN, 0]}', IGNORED),
    "Infinity": ('{"z": [0, Infinity]}', IGNORED),
    "-Infinity from 1e309": ('{"z": [-1e309, 1]}', IGNORED),
    "1e308": ('{"z": [1e308, 0]}', CLAMPED),
    "strings": ('{"z": ["1", "2"]}', IGNORED),
    "a two-letter string": ('{"z": "ab"}', IGNORED),
    "nested": ('{"z": [[1], {"a": 2}]}', IGNORED),
    "an object": ('{"z": {"x": 1, "y": 2}}', IGNORED),
    "three numbers": ('{"z": [1, 2, 3]}', IGNORED),
    "booleans": ('{"z": [true, false]}', IGNORED),
    "a number": ('{"z": 7}', IGNORED),
    "not JSON": ("}{garbage", UNREADABLE),           # left out before Streamlit reads it
    "a list, not an object": ("[1, 2]", None),       # Streamlit reads a component's state that is no object as {}
}

# A map click: the chart's selection as JSON text (what the browser sends for st.plotly_chart).
MAP_CLICKS = {
    "x NaN": ('{"selection": {"points": [{"x": NaN, "y": 0}]}}', IGNORED),
    "x 1e309": ('{"selection": {"points": [{"x": 1e309, "y": 0}]}}', IGNORED),
    "y 1e308": ('{"selection": {"points": [{"x": 0.5, "y": 1e308}]}}', CLAMPED),
    "a dict of points": ('{"selection": {"points": {"0": {"x": 1, "y": 2}}}}', UNREADABLE),
    "points without x": ('{"selection": {"points": [{"y": 2}]}}', UNREADABLE),
    "selection a string": ('{"selection": "all"}', UNREADABLE),   # left out before Streamlit's decoder sees it
    "x a string": ('{"selection": {"points": [{"x": "1", "y": 2}]}}', IGNORED),
    "garbage": ("garbage", UNREADABLE),
    "a number": ("5", UNREADABLE),
    "in the JSON field instead of the text one": ('{"selection": {"points": []}}', UNREADABLE),
}


def test_forged_pad_states_get_a_sentence_and_the_pad_still_moves(app_server):
    async def go():
        session = await _latent(app_server)
        try:
            for case, (state, expect) in PAD_STATES.items():
                run = await session.set_widget("le_pad", json_value=state)
                _check(run, expect, case)
                _check(await session.rerun(), None, f"{case}, the next rerun")   # no box left behind
                if case == "1e308":
                    assert "z=4.00,0.00" in _query(session), session.query
            run = await session.set_widget("le_pad", json_value={"z": [1.0, -0.5]})
            _check(run, None, "a real drag after them")
            assert "z=1.00,-0.50" in _query(session), session.query
        finally:
            await session.close()

    asyncio.run(go())


def test_forged_map_clicks_get_a_sentence_and_a_real_click_still_moves_the_point(app_server):
    async def go():
        session = await _latent(app_server)
        try:
            _check(await session.set_widget("le_classic", bool_value=True), None, "classic sliders on")
            for case, (state, expect) in MAP_CLICKS.items():
                field = "json_value" if "JSON field" in case else "string_value"
                run = await session.set_widget("le_map", **{field: state})
                _check(run, expect, case)
                _check(await session.rerun(), None, f"{case}, the next rerun")
                if case == "y 1e308":
                    assert "z=0.50,4.00" in _query(session), session.query
            real = {"selection": {"points": [{"x": -1.234, "y": 2.0}], "point_indices": [], "box": [], "lasso": []}}
            _check(await session.set_widget("le_map", string_value=json.dumps(real)), None, "a real click after them")
            assert "z=-1.25,2.00" in _query(session), session.query
            for value in ([float("nan")], [1e308], [1.0, 2.0]):      # the sliders themselves: Streamlit keeps them
                _check(await session.set_widget("le_z0", double_array_value=value), None, f"slider {value}")
        finally:
            await session.close()

    asyncio.run(go())


def test_forged_choices_are_put_back_with_a_sentence_and_a_forged_model_path_is_never_read(app_server):
    async def go():
        session = await _latent(app_server)
        try:
            run = await session.set_widget("le_interp_mode", string_value="</script><b>x</b>")
            _check(run, NOT_OFFERED, "interpolation mode")
            assert not any("<b>" in t for t in run.texts), run.texts
            for forged in ("/etc", "../checkpoints/digits-vae", "x" * 5000):
                run = await session.set_widget("le_model", string_value=forged)
                _check(run, None, f"model {forged[:20]}")        # put back quietly: a saved model can go away too
                assert not any("/etc" in t or "No checkpoint" in t for t in run.texts), run.texts
        finally:
            await session.close()

    asyncio.run(go())


def test_a_forged_note_grid_or_instrument_gets_a_sentence_not_the_error_box(app_server):
    async def go():
        session = st_client().Session(app_server, "music", fetch_media=False)
        try:
            assert not (await session.open()).errors
            run = await session.set_widget("mu_instrument", string_value="../../etc/passwd")
            _check(run, NOT_OFFERED, "instrument")
            grid = {"not JSON": ("{{{", UNREADABLE), "a list": ("[1, 2]", UNREADABLE),
                    "a row key that is not a number": ('{"edited_rows": {"x": {"1": true}}}', UNREADABLE),
                    "deleted rows that are not numbers": ('{"deleted_rows": ["all"]}', UNREADABLE),
                    "a row far off the grid": ('{"edited_rows": {"999": {"1": true}}}', GRID),
                    "a column not on the grid": ('{"edited_rows": {"0": {"99": true}}}', GRID),
                    "a cell that is not a tick": ('{"edited_rows": {"0": {"1": "yes"}}}', GRID),
                    "an added row": ('{"added_rows": [{"1": true}]}', GRID)}
            for case, (value, expect) in grid.items():
                _check(await session.set_widget("own_mel_grid", string_value=value), expect, case)
                _check(await session.rerun(), None, f"{case}, the next rerun")
            tick = json.dumps({"edited_rows": {"0": {"1": True}}, "added_rows": [], "deleted_rows": []})
            run = await session.set_widget("own_mel_grid", string_value=tick)
            _check(run, None, "a real tick after them")
        finally:
            await session.close()

    asyncio.run(go())


def _png_url(size: int = 280) -> str:
    import base64
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGBA", (size, size), (0, 0, 0, 255)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_forged_canvas_states_get_a_sentence(app_server):
    png = _png_url()
    drawing = "a drawing this page cannot read"
    cases = {"a number for the picture": ({"drawing": {"data": 5}}, drawing),
             "a list for the picture": ({"drawing": {"data": [png]}}, drawing),
             "a drawing that is a number": ({"drawing": 7}, drawing),
             "strokes that are a string": ({"drawing": {"raw": "x", "data": png}}, drawing),
             "a background fit that is a number": ({"backgroundFit": 5}, drawing),
             "a background fit without its numbers": ({"backgroundFit": {"a": 1}}, drawing),
             "a picture that is not one": ({"drawing": {"data": "data:image/png;base64,!!!"}}, "could not be read"),
             "not JSON": ("{", UNREADABLE),
             "an empty canvas": ({"drawing": {"data": png}}, "The canvas is empty")}

    async def go():
        session = await _latent(app_server)
        try:
            for case, (state, expect) in cases.items():
                _check(await session.set_widget("le_draw_0", json_value=state), expect, case)
        finally:
            await session.close()

    asyncio.run(go())
