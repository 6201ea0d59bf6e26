"""Lessons: guided tours across the pages for a class, each with its link and a QR code for students."""
import io
from urllib.parse import urlsplit

import segno
import streamlit as st

from seqgen.ui import lessons
from seqgen.ui.i18n import _, current, ngettext
from seqgen.ui.widgets import plain


def base_url() -> str:
    """The app's address as this browser reached it (a class needs the server's network address, not
    localhost, in the links it hands out)."""
    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # noqa: BLE001 - no browser context
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    path = parts.path.rsplit("/", 1)[0] if parts.path.rstrip("/").endswith("lessons") else parts.path
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str) -> bytes:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


st.title(_("Lessons"))
st.markdown(_("Each lesson is a guided tour across the pages: every step opens the right page with the right "
              "settings, says what to do and what to notice, and has **Back** and **Next** in the sidebar. "
              "Students can open a lesson on their own devices with its link or QR code."))
base = base_url()
lang = current()
if urlsplit(base).hostname in ("localhost", "127.0.0.1", "::1"):
    st.info(_("This page was opened as localhost, so the links and QR codes below only work on this computer. "
              "For students, open the app through the server's network address (see “Running it for a class” "
              "in the README)."), icon=":material/wifi:")

for lesson in lessons.LESSONS.values():
    with st.container(border=True, key=f"lesson_card_{lesson.id}"):
        left, right = st.columns([3, 1], vertical_alignment="center")
        url = lessons.link(lesson.id, lang, base)
        with left:
            st.subheader(_(lesson.title))
            n = len(lesson.steps)
            st.caption(ngettext("{n} step", "{n} steps", n).format(n=n) + " · "
                       + ngettext("about {m} minute", "about {m} minutes", lesson.minutes).format(m=lesson.minutes))
            st.markdown(_(lesson.summary))
            st.markdown("\n".join(f"{i}. {_(step.title)}" for i, step in enumerate(lesson.steps, 1)))
            st.button(_("Start this lesson"), key=f"lesson_start_{lesson.id}", type="primary",
                      icon=":material/play_arrow:", on_click=lessons.enter, args=(lesson.id, 0))
            st.code(url, language=None)
        with right:
            st.image(qr_png(url), caption=_("Link for students: {url}").format(url=plain(url, 200)), width=180,
                     alt=_("QR code of the link {url}").format(url=url))
