"""The explorer's view (model, z) in the URL, so a shared link opens the same point.

read_view() runs before the widgets are created and copies a *new* URL (a shared link, an edited
address) into the widget state; write_view() runs after them and mirrors the widgets back into
st.query_params. A bad value in the URL gives a small warning and the defaults, never an error.

A link is anyone's text: what the warning quotes from it is escaped and cut short (widgets.plain), so a
link cannot put markup, images or 100 kB of text on the visitor's page.
"""
from __future__ import annotations

import streamlit as st

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
            msgs.append(f"The link asks for a model called “{plain(model, 60)}”, which is not available here, "
                        f"so the explorer shows {plain(models[0]) if models else 'the default'} instead.")
    if z is not None:
        try:
            z0, z1 = parse_z(z, lim, step)
        except ValueError as e:
            msgs.append(f"The point in the link could not be used ({plain(e, 160)}), so the explorer starts at "
                        "(0, 0).")
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
