"""Lessons: guided tours across the pages for a class, each with its link and a QR code for students."""
from urllib.parse import urlsplit

import streamlit as st

from seqgen.ui import lessons
from seqgen.ui.i18n import _, current, ngettext
from seqgen.ui.widgets import base_url, plain, qr_png
from seqgen.ui.worksheet import worksheet_html

st.title(_("Lessons"))
st.markdown(_("Each lesson is a guided tour across the pages: every step opens the right page with the right "
              "settings, says what to do and what to notice, and has **Back** and **Next** in the sidebar. "
              "Students can open a lesson on their own devices with its link or QR code."))
base = base_url("lessons")
lang = current()
if urlsplit(base).hostname in ("localhost", "127.0.0.1", "::1"):
    st.info(_("This page was opened as localhost, so the links and QR codes below only work on this computer. "
              "For students, open the app through the server's network address (see “Running it for a class” "
              "in the README)."), icon=":material/wifi:")

for problem in lessons.problems():       # a teacher's lesson file with a mistake: what and where
    st.warning(_("A lesson file could not be used: {problem}").format(problem=plain(problem, 400)),
               icon=":material/edit_note:")

for lesson in lessons.all_lessons().values():
    with st.container(border=True, key=f"lesson_card_{lesson.id}"):
        left, right = st.columns([3, 1], vertical_alignment="center")
        url = lessons.link(lesson.id, lang, base)
        with left:
            st.subheader(lessons.words(lesson.title))
            n = len(lesson.steps)
            st.caption(ngettext("{n} step", "{n} steps", n).format(n=n) + " · "
                       + ngettext("about {m} minute", "about {m} minutes", lesson.minutes).format(m=lesson.minutes))
            st.markdown(lessons.words(lesson.summary))
            st.markdown("\n".join(f"{i}. {lessons.words(step.title)}" for i, step in enumerate(lesson.steps, 1)))
            c1, c2 = st.columns(2)
            c1.button(_("Start this lesson"), key=f"lesson_start_{lesson.id}", type="primary",
                      icon=":material/play_arrow:", on_click=lessons.enter, args=(lesson.id, 0))
            c2.download_button(_("Worksheet to print"), worksheet_html(lesson, lang, url), file_name=f"{lesson.id}-{lang}.html",
                               mime="text/html", key=f"lesson_sheet_{lesson.id}", icon=":material/print:",
                               help=_("An HTML page to print: the steps, the questions, the QR code and room for "
                                      "answers."))
            st.code(url, language=None)
        with right:
            st.image(qr_png(url), caption=_("Link for students: {url}").format(url=plain(url, 200)), width=180,
                     alt=_("QR code of the link {url}").format(url=url))

st.caption(_("Lessons are files in the `lessons/` folder, both languages side by side: change the words or add a "
             "step there (`docs/LESSONS.md` shows how). A file with a mistake is named above with its line."))
