"""The explorer's view (model, z) in the URL, so a shared link opens the same point.

read_view() runs before the widgets are created and copies a *new* URL (a shared link, an edited
address) into the widget state; write_view() runs after them and mirrors the widgets back into
st.query_params. A bad value in the URL gives a small warning and the defaults, never an error.

The app's own parameters (`?lang=`, `?lesson=`, `?present=`) are kept by app.py (seqgen.ui.i18n.setup,
seqgen.ui.lessons) on every page, so a page switch does not drop them; the explorer only touches its own
two keys.

A link is anyone's text: what the warning quotes from it is escaped and cut short (widgets.plain), so a
link cannot put markup, images or 100 kB of text on the visitor's page.
"""
from __future__ import annotations

import streamlit as st

from .i18n import _
from .widgets import format_z, parse_z, plain

MEMO = "_le_url"


def read_view(models: list[str], lim: float, step: float, model_key: str = "le_model",
              z_keys: tuple[str, str] = ("le_z0", "le_z1")) -> list[str]:
    """Apply ?model=...&z=x,y when it differs from what this session last wrote. Returns warnings to show."""
    qp = st.query_params
    url = (qp.get("model"), qp.get("z"))
    if url == (None, None) or url == st.session_state.get(MEMO):
        return []
    st.session_state[MEMO] = url
    msgs = []
    model, z = url
    if model is not None:
        if model in models:
            st.session_state[model_key] = model
        else:
            msgs.append(_("The link asks for a model called “{asked}”, which is not available here, so the "
                          "explorer shows {shown} instead.").format(
                asked=plain(model, 60), shown=plain(models[0]) if models else _("the default")))
    if z is not None:
        try:
            z0, z1 = parse_z(z, lim, step)
        except ValueError as e:
            msgs.append(_("The point in the link could not be used ({error}), so the explorer starts at "
                          "(0, 0).").format(error=plain(e, 160)))
            z0, z1 = 0.0, 0.0
        st.session_state[z_keys[0]], st.session_state[z_keys[1]] = z0, z1
    return msgs


def write_view(model: str, z) -> None:
    """Mirror the current view into the URL (only the keys that changed)."""
    zs = format_z(z)
    if st.query_params.get("model") != model:
        st.query_params["model"] = model
    if st.query_params.get("z") != zs:
        st.query_params["z"] = zs
    st.session_state[MEMO] = (model, zs)
