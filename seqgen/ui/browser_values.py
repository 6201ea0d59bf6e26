"""Values from the browser, checked before use.

Anything a page receives from a browser (a component's state, a map click, a widget value) can be forged: a
student with the browser's developer tools can send any JSON over the page's websocket. Three layers keep a
forged value from reaching the page as Streamlit's generic "This app has encountered an error" box:

1. `StateShield`, an ASGI middleware on the app (app.py), leaves out a widget value Streamlit could not decode
   before Streamlit reads it: JSON that does not parse, or a chart's selection or a data editor's edits of the
   wrong shape (it learns which widgets those are from what the server sends). Streamlit decodes these before
   any page code runs, and a session that kept one would fail on every later rerun. The page then runs as if
   that widget had not changed, and says a value was ignored.
2. The pages check what they use: `point()` for a point sent by the latent pad or a map click, `choice()`
   before a select box or radio (Streamlit hands back a forged option as the string that was sent: a model
   name with a '/' in it would be read as a folder on the server).
3. `script_error()`, the app's script-error handler, turns whatever still fails while Streamlit applies the
   browser's values (a chart selection or a data-editor edit that Streamlit's own decoder cannot read) into a
   sentence on the page instead of the box. The page stops there; the browser's own next message carries the
   widget's real value again.

Each refused value puts one sentence on the page: `show_notice()` (called by the frame, and by a fragment that
takes browser values) shows what a callback or the shield left; `choice()` says it in place.
"""
from __future__ import annotations

import json
import logging
import math

import streamlit as st
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from .i18n import _
from .widgets import plain, snap

log = logging.getLogger(__name__)

NOTICE_KEY = "_browser_value_notice"
STREAM_PATH = "/_stcore/stream"
REFUSED_PARAM = "refused"   # set on a message the shield left a value out of, so the page can say so
# Elements whose widget value is JSON text that Streamlit parses before any page code runs: a chart's or a
# table's selection, a data editor's edits.
JSON_TEXT_ELEMENTS = frozenset({"dataframe", "plotly_chart", "vega_lite_chart", "deck_gl_json_chart",
                                "echarts_chart"})
MAX_SHOWN = 60      # characters of a refused value quoted back in the sentence


# ---------------------------------------------------------------- points
def point(value, lim: float, step: float) -> tuple[float, float] | None:
    """A 2-D point (x, y) as a browser component sent it -> (x, y) on the slider grid, or None.

    Two real, finite numbers are needed (booleans, strings and nested values are refused); a point outside
    [-lim, lim]² is moved onto the edge. Either case leaves a sentence for the page."""
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        notice(_("Your browser sent a point this page cannot use ({value}), so it was ignored.").format(
            value=_shown(value)))
        return None
    x, y = (float(v) for v in value)
    if not (math.isfinite(x) and math.isfinite(y)):
        notice(_("Your browser sent a point that is not a finite number ({value}), so it was ignored.").format(
            value=_shown(value)))
        return None
    if abs(x) > lim or abs(y) > lim:
        notice(_("Your browser sent a point outside the map ({value}); it was moved onto the map's edge.").format(
            value=_shown(value)))
    return snap(x, lim, step), snap(y, lim, step)


# ---------------------------------------------------------------- choices
def choice(key: str, options, *, options_change: bool = False) -> None:
    """Before the select box or radio with `key` over `options`: a value that is not one of them is put back
    to the first option (the widget then shows that option), with a sentence when the browser sent it.

    `options_change`: the options follow something else (the chosen model), so a value of the options' own
    type may just be gone (a label the new model lacks, a deleted model) and is put back quietly."""
    options = list(options)
    if key in st.session_state and options and st.session_state[key] not in options:
        sent = st.session_state[key]
        st.session_state[key] = options[0]
        if options_change and isinstance(sent, type(options[0])):
            return
        st.warning(_("Your browser sent a choice this page does not offer ({value}), so the first choice is shown "
                 "instead.").format(value=_shown(sent)), icon=":material/block:")


def _shown(value) -> str:
    return plain(repr(value), MAX_SHOWN)


# ---------------------------------------------------------------- the sentence on the page
def notice(sentence: str) -> None:
    """Leave `sentence` for the page (callbacks run before the page is drawn, so it is shown by the frame)."""
    st.session_state[NOTICE_KEY] = sentence


def show_notice() -> None:
    """Show, once, the sentence a refused browser value left (or the shield's mark in the query string)."""
    if REFUSED_PARAM in st.query_params:
        del st.query_params[REFUSED_PARAM]
        notice(_("Your browser sent a value this page cannot read, so it was ignored."))
    sentence = st.session_state.pop(NOTICE_KEY, None)
    if sentence:
        st.warning(sentence, icon=":material/block:")


def script_error(error: Exception) -> bool:
    """The app's handler for an exception Streamlit caught outside the pages' own guards (while it applied the
    browser's widget values, or in the frame): one sentence instead of the generic error box. -> True (handled)."""
    log.warning("a script run failed outside the pages' guards", exc_info=error)
    try:
        st.warning(_("Your browser sent something this page could not use, so the page stopped here. Reload the "
                     "page to start again."), icon=":material/block:")
    except Exception:  # noqa: BLE001 - no script context to draw in: Streamlit's own box is then all there is
        return False
    return True


# ---------------------------------------------------------------- the websocket
_UNREADABLE = object()


def _parsed(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _UNREADABLE


def _row_number(key) -> bool:
    return isinstance(key, str) and key.isdigit() and len(key) <= 9


def decodable_text(text: str) -> bool:
    """Whether Streamlit's decoders of a JSON_TEXT_ELEMENTS value can read `text`: an object, whose selection
    (a chart's, a table's), if any, is an object, and whose edits (a data editor's), if any, are shaped as the
    browser sends them: edited rows by row number, added rows as objects, deleted rows as numbers."""
    value = _parsed(text)
    if not isinstance(value, dict):
        return False
    if not isinstance(value.get("selection", {}), dict):
        return False
    edited, added, deleted = (value.get(k, e) for k, e in (("edited_rows", {}), ("added_rows", []),
                                                            ("deleted_rows", [])))
    return (isinstance(edited, dict) and all(_row_number(k) and isinstance(v, dict) for k, v in edited.items())
            and isinstance(added, list) and all(isinstance(r, dict) for r in added)
            and isinstance(deleted, list) and all(type(i) is int for i in deleted))


def _decodable(state, json_text_ids) -> bool:
    field = state.WhichOneof("value")
    if state.id in json_text_ids:          # JSON text, and only that, is what Streamlit decodes for these
        return field == "string_value" and decodable_text(state.string_value)
    return field != "json_value" or _parsed(state.json_value) is not _UNREADABLE


def shielded(data: bytes, json_text_ids=frozenset()) -> bytes:
    """A BackMsg from a browser without the widget states Streamlit could not decode: a JSON value that does not
    parse, or a JSON text value of one of `json_text_ids` (those elements' widget ids) that `decodable_text`
    refuses. When one is left out, the message's query string says so (REFUSED_PARAM), for the page's sentence.
    Anything else passes byte for byte."""
    try:
        msg = BackMsg.FromString(data)
    except Exception:  # noqa: BLE001 - not a BackMsg: Streamlit answers that itself
        return data
    if msg.WhichOneof("type") != "rerun_script":
        return data
    states = msg.rerun_script.widget_states.widgets
    bad = [i for i, w in enumerate(states) if not _decodable(w, json_text_ids)]
    if not bad:
        return data
    log.warning("dropped %d widget value(s) Streamlit could not decode", len(bad))
    for i in reversed(bad):
        del states[i]
    query = msg.rerun_script.query_string
    msg.rerun_script.query_string = f"{query}&{REFUSED_PARAM}=1" if query else f"{REFUSED_PARAM}=1"
    return msg.SerializeToString()


def json_text_widgets(data: bytes) -> list[str]:
    """The widget ids of JSON_TEXT_ELEMENTS in a ForwardMsg the server sends (none in most)."""
    try:
        msg = ForwardMsg.FromString(data)
    except Exception:  # noqa: BLE001 - not one: nothing to learn
        return []
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return []
    kind = msg.delta.new_element.WhichOneof("type")
    if kind not in JSON_TEXT_ELEMENTS:
        return []
    wid = getattr(getattr(msg.delta.new_element, kind), "id", "")
    return [wid] if wid else []


class StateShield:
    """ASGI middleware on the app's websocket: it learns from what the server sends which widgets carry JSON text,
    and passes what the browser sends through `shielded()` before Streamlit reads it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not scope.get("path", "").endswith(STREAM_PATH):
            return await self.app(scope, receive, send)
        json_text_ids: set[str] = set()

        async def watched_send(message):
            if message.get("type") == "websocket.send" and message.get("bytes"):
                json_text_ids.update(json_text_widgets(message["bytes"]))
            await send(message)

        async def checked_receive():
            message = await receive()
            if message.get("type") == "websocket.receive" and message.get("bytes"):
                message = {**message, "bytes": shielded(message["bytes"], json_text_ids)}
            return message

        return await self.app(scope, checked_receive, watched_send)
