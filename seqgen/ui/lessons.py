"""Guided lessons in the app: the Lessons page, the banner on every page, lesson links (?lesson=ID&step=N).

The lessons themselves are data files (seqgen.lessons: lessons/*.toml, both languages side by side). Each
step names a page, what to do and what to notice, and the page state it starts from: it writes the pages'
own session-state keys (the widget keys such as `le_z0`, `ni_rows`, `lt_domain`) and switches page, so the
pages themselves need no lesson code. `preset` fills the Live training knobs from a preset
(seqgen/presets.py); `hide` names widget keys whose controls would distract at that step (hidden with CSS
while the step's page is shown).

frame/main.py calls `frame(pg)` on every run, after st.navigation and before the page: it reads `?lesson=`
and `?step=` (a shared link starts there), switches to the step's page when a step was just entered, draws
the banner with Back / Next, and keeps `?lesson=&step=` in the address bar.

A lesson's words come from its file and are shown as plain text, never as markdown.
"""
from __future__ import annotations

import streamlit as st

from seqgen.lessons import Lesson, Step, Text, folders, load_lessons

from .i18n import _, current
from .pages import PAGES
from .widgets import plain

LESSON_KEY, STEP_KEY, GOTO_KEY, MEMO_KEY = "lesson_id", "lesson_step", "lesson_goto", "_lesson_url"
WRITTEN_KEY = "_lesson_urls_written"      # every (lesson, step) address this session has put in the address bar


def _files_stamp() -> tuple:
    """Every lesson file's name, size and modification time: a teacher's edit shows on the next run."""
    stamp = []
    for folder in folders():
        if folder.is_dir():
            stamp += [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.toml"))]
    return tuple(stamp)


@st.cache_resource(show_spinner=False, max_entries=4)
def _loaded(stamp: tuple) -> tuple[dict[str, Lesson], list[str]]:
    return load_lessons(PAGES)


def all_lessons() -> dict[str, Lesson]:
    """The lessons that loaded, by id, in file-name order."""
    return _loaded(_files_stamp())[0]


def problems() -> list[str]:
    """A sentence for each lesson file that could not be used (the Lessons page shows them)."""
    return _loaded(_files_stamp())[1]


def words(text: Text) -> str:
    """A lesson's text in the session's language, as plain text (markdown and HTML characters escaped)."""
    return plain(text.in_language(current()), 2000)


# ------------------------------------------------------------------------------------------------ state
def active() -> tuple[Lesson, int] | None:
    lesson = all_lessons().get(st.session_state.get(LESSON_KEY))
    if lesson is None:
        return None
    return lesson, min(max(0, int(st.session_state.get(STEP_KEY, 0))), len(lesson.steps) - 1)


def step_state(step: Step) -> dict:
    """The session values a step writes: its own, plus the Live training knobs of its preset."""
    values = dict(step.state)
    if step.preset:
        from seqgen.presets import configure
        from seqgen.training.live.knobs import knobs_for

        domain, family, preset = step.preset
        model_cfg, train_cfg, _p = configure(preset)
        for knob in knobs_for(domain, family):
            cfg = model_cfg if knob.target == "model" else train_cfg
            values[f"lt_k_{domain}_{family}_{knob.name}"] = getattr(cfg, knob.name)
    return values


def enter(lesson_id: str, index: int) -> None:
    """Go to step `index` of a lesson: write its state, and switch to its page on this run (frame)."""
    lesson = all_lessons().get(lesson_id)
    if lesson is None:          # its file was removed or broken meanwhile
        leave()
        return
    index = min(max(0, int(index)), len(lesson.steps) - 1)
    step = lesson.steps[index]
    for key, value in step_state(step).items():
        st.session_state[key] = value
    st.session_state[LESSON_KEY], st.session_state[STEP_KEY] = lesson_id, index
    st.session_state[GOTO_KEY] = step.page


def leave() -> None:
    for key in (LESSON_KEY, STEP_KEY, GOTO_KEY):
        st.session_state.pop(key, None)
    st.session_state[MEMO_KEY] = (None, None)
    for key in ("lesson", "step"):
        if key in st.query_params:
            del st.query_params[key]


def _from_url() -> None:
    """A lesson link (?lesson=ID&step=N) the session has not written itself starts that lesson there. An
    address it wrote before can come back late: the browser sends the address it shows with each rerun, and a
    rerun sent before the last step change reached the address bar carries the step before. That is an echo,
    not a link (a link opened anew is a new session), so it is ignored rather than undoing the change."""
    url = (st.query_params.get("lesson"), st.query_params.get("step"))
    if url[0] is None or url == st.session_state.get(MEMO_KEY) or url in st.session_state.get(WRITTEN_KEY, ()):
        return
    st.session_state[MEMO_KEY] = url
    if url[0] not in all_lessons():
        return
    try:
        index = int(url[1] or 1) - 1
    except ValueError:
        index = 0
    enter(url[0], index)


def link(lesson_id: str, lang: str, base: str = "") -> str:
    """The lesson's address (relative to the app when `base` is empty)."""
    return f"{base.rstrip('/')}/?lesson={lesson_id}&lang={lang}"


# ------------------------------------------------------------------------------------------------ frame
def frame(pg) -> None:
    """app.py, every run: lesson links, the step's page and state, the banner, the hidden controls."""
    _from_url()
    now = active()
    if now is None:
        return
    lesson, index = now
    step = lesson.steps[index]
    goto = st.session_state.pop(GOTO_KEY, None)
    here = pg.url_path or "home"
    url = {"lesson": lesson.id, "step": str(index + 1)}
    st.session_state[MEMO_KEY] = (url["lesson"], url["step"])
    st.session_state.setdefault(WRITTEN_KEY, set()).add(st.session_state[MEMO_KEY])
    if goto and goto != here and goto in PAGES:
        from .i18n import current
        st.switch_page(PAGES[goto].file, query_params={**url, "lang": current()})
    for key, value in url.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    banner(lesson, index, on_page=(here == step.page))
    if here == step.page and step.hide:
        st.html("<style>" + "".join(f".st-key-{k}{{display:none !important}}" for k in step.hide) + "</style>")


# A phone shows the sidebar only when it is opened, and nothing says to open it: there the step (its text,
# Back and Next) also sits on top of the page. On a wider screen only the sidebar's copy shows.
NARROW = 768        # px: Streamlit's own breakpoint, below which the sidebar is collapsed
PHONE_CSS = (f"<style>@media (min-width: {NARROW}px) {{ .st-key-lesson_banner_top {{ display: none; }} }}"
             f"@media (max-width: {NARROW - 1}px) {{ .st-key-lesson_banner_top {{ margin-bottom: 0.5rem; }} }}</style>")


def banner(lesson: Lesson, index: int, on_page: bool) -> None:
    """The step's text with Back / Next: in the sidebar, and on top of the page where the sidebar is hidden
    (a phone, an embedded app with ?embed=true)."""
    try:
        embedded = bool(st.context.is_embedded)
    except Exception:  # noqa: BLE001 - no browser context
        embedded = False
    if not embedded:
        with st.sidebar.container(border=True, key="lesson_banner"):
            _banner_body(lesson, index, on_page, suffix="")
        st.html(PHONE_CSS)
    with st.container(border=True, key="lesson_banner" if embedded else "lesson_banner_top"):
        _banner_body(lesson, index, on_page, suffix="" if embedded else "_top")


def _banner_body(lesson: Lesson, index: int, on_page: bool, suffix: str) -> None:
    """One copy of the banner; `suffix` keeps the keys of its buttons apart from the other copy's."""
    step, n = lesson.steps[index], len(lesson.steps)
    st.markdown(f"**{words(lesson.title)}** · " + _("step {i} of {n}").format(i=index + 1, n=n))
    st.markdown(f"#### {words(step.title)}")
    st.markdown(_("**Do:** {text}").format(text=words(step.do)))
    st.markdown(_("**Notice:** {text}").format(text=words(step.notice)))
    if not on_page:
        st.button(_("Back to this step's page"), key=f"lesson_here{suffix}", on_click=enter, args=(lesson.id, index),
                  icon=":material/my_location:")
    c1, c2 = st.columns(2)
    c1.button(_("Back"), key=f"lesson_back{suffix}", on_click=enter, args=(lesson.id, index - 1),
              disabled=index == 0, icon=":material/arrow_back:", use_container_width=True)
    if index + 1 < n:
        c2.button(_("Next"), key=f"lesson_next{suffix}", on_click=enter, args=(lesson.id, index + 1), type="primary",
                  icon=":material/arrow_forward:", use_container_width=True)
    else:
        c2.button(_("Finish"), key=f"lesson_finish{suffix}", on_click=leave, type="primary", icon=":material/check:",
                  use_container_width=True)
    st.button(_("Leave the lesson"), key=f"lesson_leave{suffix}", on_click=leave, type="tertiary")
