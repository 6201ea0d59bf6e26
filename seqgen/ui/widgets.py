"""Page furniture shared by every page: the classroom intro, the error guard, state helpers."""
from __future__ import annotations

import logging
import math
from contextlib import contextmanager

import streamlit as st

from seqgen.checkpoints import CheckpointError

log = logging.getLogger("seqgen.ui")



def defaults(**values) -> None:
    """Initial widget values live in session_state (widgets are then created without value=).

    Keyed widgets also pass persist_state="session" (Streamlit 1.67), so their values survive a visit to
    another page; this replaces the older re-assign-every-key trick in the entry point."""
    for k, v in values.items():
        if k not in st.session_state:
            st.session_state[k] = v


def intro(first: str, second: str) -> None:
    """The two-paragraph 'What is happening here' box every page starts with."""
    with st.expander("What is happening here", expanded=True, icon=":material/school:"):
        st.markdown(first)
        st.markdown(second)


@contextmanager
def guard(what: str = "this page"):
    """Run a page body; any error becomes a plain message instead of a traceback in the browser.

    Streamlit's own control flow (st.stop, st.rerun, st.switch_page) derives from BaseException and passes.
    """
    try:
        yield
    except CheckpointError as e:
        log.warning("checkpoint error on %s: %s", what, e)
        st.error(f"This model could not be loaded, so {what} cannot show it. {e}", icon=":material/error:")
        st.caption("Pick another model above. If you saved this model yourself, train and save it again.")
    except Exception as e:  # noqa: BLE001 - the point is that nothing reaches the browser as a traceback
        log.exception("error on %s", what)
        st.error(f"Sorry, something went wrong on {what}: {e or type(e).__name__}. "
                 "Try another setting; the rest of the app keeps working.", icon=":material/error:")


def choose_model(label: str, key: str, names: list[str], format_func=None, help: str | None = None,
                 preferred: str | None = None) -> str | None:
    """Selectbox over model names that survives models disappearing (a deleted user model)."""
    if not names:
        return None
    if st.session_state.get(key) not in names:
        st.session_state[key] = preferred if preferred in names else names[0]
    return st.selectbox(label, names, key=key, format_func=format_func or str, help=help, persist_state="session")


def parse_z(text: str, lim: float, step: float = 0.05) -> tuple[float, float]:
    """'0.50,-1.20' -> (0.5, -1.2) snapped to the slider grid. ValueError when it is not two numbers in range."""
    parts = str(text).replace(" ", "").split(",")
    if len(parts) != 2:
        raise ValueError(f"z must be two numbers separated by a comma, like 0.50,-1.20 (got {text!r})")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"z must be two numbers separated by a comma, like 0.50,-1.20 (got {text!r})") from None
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"z must be finite numbers (got {text!r})")
    if any(abs(v) > lim + 1e-9 for v in vals):
        raise ValueError(f"z must lie between -{lim:g} and {lim:g} (got {text!r})")
    return snap(vals[0], lim, step), snap(vals[1], lim, step)


def snap(v: float, lim: float, step: float = 0.05) -> float:
    """Round to the slider step and clip into [-lim, lim]."""
    v = round(round(float(v) / step) * step, 2)
    return float(min(lim, max(-lim, v)))


def format_z(z) -> str:
    return f"{z[0]:.2f},{z[1]:.2f}"
