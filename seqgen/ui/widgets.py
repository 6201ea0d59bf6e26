"""Page furniture shared by every page: the classroom intro, the error guard, state helpers."""
from __future__ import annotations

import logging
import math
import re
import unicodedata
from contextlib import contextmanager
from functools import lru_cache

import streamlit as st

from seqgen.checkpoints import CheckpointError

from .i18n import _, domain_word, say

log = logging.getLogger("seqgen.ui")

_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+.!|~$:&^@])")   # '-' and '=' only matter at a line start
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))
_ABS_PATH = re.compile(r"(?<![\w.~:/])(?:/[^\s/'\"]+)+/([^\s/'\"]+)")


def plain(text, limit: int = 200) -> str:
    """`text` as literal text inside Streamlit markdown (st.markdown, st.error, st.caption, ...).

    Whatever a user typed, linked or named (a model name, a URL parameter, an error quoting them) is shown
    as the characters it is: every markdown/HTML character is backslash-escaped, so `![x](http://host/p.png)`
    cannot make the visitor's browser fetch anything and `:red[...]` or `$...$` are not interpreted. Control
    characters and bidirectional overrides are dropped, line breaks become spaces, and the text is cut to
    `limit` characters (before escaping, so no escape is cut in half). A Sentence the library raised (or
    an exception raised with one) is shown in the session's language."""
    text = _MARKUP.sub(r"\\\1", cell(text, limit))
    return "\\" + text if text[:1] in ("-", "=") else text


def cell(text, limit: int = 200) -> str:
    """`text` for a table cell (st.dataframe shows text as it is, never as markdown): in the session's
    language, without control characters or bidirectional overrides, cut to `limit` characters."""
    text = say(text).translate(_BIDI)
    text = "".join(" " if c in "\r\n\t" else c for c in text
                   if c in "\r\n\t" or unicodedata.category(c) != "Cc")
    return text[:limit].rstrip() + "…" if len(text) > limit else text


def without_paths(text) -> str:
    """Absolute server paths in a message (an OSError's filename, say) cut to their last part; the message in
    the session's language."""
    return _ABS_PATH.sub(r"…/\1", say(text))


def defaults(**values) -> None:
    """Initial widget values live in session_state (widgets are then created without value=).

    Keyed widgets also pass persist_state="session" (Streamlit 1.67), so their values survive a visit to
    another page; this replaces the older re-assign-every-key trick in the entry point."""
    for k, v in values.items():
        if k not in st.session_state:
            st.session_state[k] = v


def intro(first: str, second: str) -> None:
    """The two-paragraph 'What is happening here' box every page starts with. Closed by default: open, it
    pushes the controls and the output below the fold of a projector-sized window."""
    with st.expander(_("What is happening here"), expanded=False, icon=":material/school:"):
        st.markdown(first)
        st.markdown(second)


def reset_button(prefixes: str | tuple[str, ...], key: str, keep: tuple[str, ...] = ()) -> None:
    """"Start this page over": forget every session value whose key starts with one of `prefixes` (the
    page's widgets and their shadows), except `keep`, so the next run draws the page with its defaults."""
    prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)

    def _reset():
        for k in [k for k in st.session_state if str(k).startswith(prefixes) and k not in keep]:
            del st.session_state[k]
    st.button(_("Start this page over"), key=key, icon=":material/restart_alt:", on_click=_reset,
              help=_("Puts every setting on this page back to its default."))


@contextmanager
def guard(what: str | None = None):
    """Run a page body; any error becomes a plain message instead of a traceback in the browser.

    Streamlit's own control flow (st.stop, st.rerun, st.switch_page) derives from BaseException and passes.
    """
    what = what or _("this page")
    try:
        yield
    except CheckpointError as e:
        log.warning("checkpoint error on %s: %s", what, e)
        st.error(_("This model could not be loaded, so {what} cannot show it. {error}").format(
            what=what, error=plain(without_paths(e), 400)), icon=":material/error:")
        st.caption(_("Pick another model above. If you saved this model yourself, train and save it again."))
    except Exception as e:  # noqa: BLE001 - the point is that nothing reaches the browser as a traceback
        log.exception("error on %s", what)
        st.error(_("Sorry, something went wrong on {what}: {error}. Try another setting; the rest of the app "
                   "keeps working.").format(what=what, error=plain(without_paths(e) or type(e).__name__, 300)),
                 icon=":material/error:")


def choose_model(label: str, key: str, names: list[str], format_func=None, help: str | None = None,
                 preferred: str | None = None) -> str | None:
    """Selectbox over model names that survives models disappearing (a deleted user model)."""
    if not names:
        return None
    if st.session_state.get(key) not in names:
        st.session_state[key] = preferred if preferred in names else names[0]
    return st.selectbox(label, names, key=key, format_func=format_func or str, help=help, persist_state="session")


ONE_OF_EACH = -1      # the "What to make" choice that asks for every label in turn


def what_to_make(column, key: str, domain, n: int, disabled: bool = False, help: str | None = None):
    """The "What to make" picker for `n` samples of a labelled domain -> (one label per sample, the choice:
    a label or ONE_OF_EACH). Its value lives in session_state[key] (see `defaults`)."""
    choices = [ONE_OF_EACH] + list(range(domain.n_labels))
    if st.session_state.get(key) not in choices:
        st.session_state[key] = ONE_OF_EACH
    names = {ONE_OF_EACH: _("one of each"), **{i: domain_word(w) for i, w in enumerate(domain.label_names)}}
    choice = column.selectbox(_("What to make"), choices, key=key, persist_state="session", format_func=names.get,
                              disabled=disabled, help=help)
    if choice == ONE_OF_EACH:
        return tuple(i % domain.n_labels for i in range(n)), choice
    return (int(choice),) * n, choice


def parse_z(text: str, lim: float, step: float = 0.05) -> tuple[float, float]:
    """'0.50,-1.20' -> (0.5, -1.2) snapped to the slider grid. ValueError when it is not two numbers in range."""
    shown = repr(text if len(str(text)) <= 40 else str(text)[:40] + "…")   # URLs can be 100 kB long
    parts = str(text).replace(" ", "").split(",")
    if len(parts) != 2:
        raise ValueError(_("z must be two numbers separated by a comma, like 0.50,-1.20 (got {text})").format(
            text=shown))
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise ValueError(_("z must be two numbers separated by a comma, like 0.50,-1.20 (got {text})").format(
            text=shown)) from None
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(_("z must be finite numbers (got {text})").format(text=shown))
    if any(abs(v) > lim + 1e-9 for v in vals):
        raise ValueError(_("z must lie between -{lim} and {lim} (got {text})").format(lim=f"{lim:g}", text=shown))
    return snap(vals[0], lim, step), snap(vals[1], lim, step)


def snap(v: float, lim: float, step: float = 0.05) -> float:
    """Clip into [-lim, lim] (first, so that 1e308 does not overflow the rounding) and round to the slider step."""
    v = min(lim, max(-lim, float(v)))
    return float(min(lim, max(-lim, round(round(v / step) * step, 2))))


def format_z(z) -> str:
    return f"{z[0]:.2f},{z[1]:.2f}"


PRESENT_KEY = "present"      # the frame's Presenter mode toggle (frame/main.py)


def presenting() -> bool:
    """Whether this session is in Presenter mode (a projector): pages lay out larger pictures."""
    try:
        return bool(st.session_state.get(PRESENT_KEY))
    except Exception:  # noqa: BLE001 - no session (a bare call)
        return False


# ------------------------------------------------------------------------------------------------ classroom
def classroom() -> bool:
    """SEQGEN_CLASSROOM=1: the server is a class's; students cannot save, generated words are filtered."""
    import os
    return os.environ.get("SEQGEN_CLASSROOM", "").strip().lower() in ("1", "true", "yes", "on")


@lru_cache(maxsize=1)
def _word_filter():
    """better_profanity's bundled word list (offline; MIT), loaded once per process."""
    from better_profanity import Profanity
    return Profanity()


def is_unsuitable(word: str) -> bool:
    """Whether a generated word is on the bundled list of offensive words (a letter-by-letter model at high
    temperature can spell one in front of a class)."""
    return bool(word) and _word_filter().contains_profanity(str(word))


def classroom_safe(words, on: bool | None = None) -> list[str]:
    """`words` with the offensive ones replaced by a visible mark (on by default in classroom mode)."""
    on = classroom() if on is None else on
    return [_("(hidden by the classroom filter)") if on and is_unsuitable(w) else w for w in words]


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str) -> bytes:
    """A QR code of `text` (a link for students) as PNG bytes; segno is pure Python, nothing is fetched."""
    import io

    import segno
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


def base_url(page_path: str = "") -> str:
    """The app's address as this browser reached it, without the page's own `page_path` (a class needs the
    server's network address, not localhost, in the links it hands out); "" outside a browser."""
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # noqa: BLE001 - no browser context
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    path = parts.path.rstrip("/")
    if page_path and path.endswith(page_path):
        path = path.rsplit("/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"
