"""Class mode in the app, for every page: who this session is in a class, the teacher leading, the students
following, the question bar. The store behind it is seqgen.classroom (no Streamlit there); the teacher's
console is seqgen.ui.class_console, the Class page pages/7_class.py.

A session is in at most one class, as its teacher (st.session_state holds the class code and the teacher
secret) or as a student (the code and the student id join returned). Neither ever sits in the address bar for
longer than one run: a teacher link's `?teacher=` is taken into the session and deleted from the URL before
anything is drawn, so a projected screen shows only `?class=CODE`, which is what students get anyway.

frame/main.py calls `frame(pg)` on every run, before the lesson banner:
- the teacher's lesson step, page and the step's settings are the class's stage: when they change, the stage is
  written to the store (set_state), and with it the step's question;
- a student who follows and whose page has not yet shown the class's stage gets it: the lesson step is entered
  (its state written, its page opened), else the page is opened. A student who moves on their own (another page,
  another step) has broken away: a banner says so, with "Back to the class".
- a small component in the page (LISTEN_JS) holds the class's Server-Sent Events stream (/class/events) and
  reruns the page when the class's version moves, so an idle follower costs the server no script run at all;
  the open stream is also the student's presence (seqgen.classroom.sse).

Nothing a student typed is rendered as markdown: nicknames are filtered by the store and still shown
through `plain()` or st.text.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import streamlit as st

from seqgen.classroom import ClassError, Stage, get_store
from seqgen.classroom import Question as ClassQuestion

from . import lessons
from .i18n import _
from .pages import PAGES
from .widgets import parse_z, plain, snap

CODE_KEY, SECRET_KEY, STUDENT_KEY = "class_code", "class_secret", "class_student"
SEAT_KEY, NICK_KEY, FOLLOW_KEY = "class_seat", "class_nick", "class_following"
APPLIED_KEY, PUSHED_KEY, NOTE_KEY = "class_applied", "class_pushed", "class_note"
PENDING_KEY = "class_pending_page"
STREAM_RUN_KEY = "class_stream_run"
JOIN_CODE_KEY, JOIN_NICK_KEY, POINT_TEXT_KEY = "class_join_code", "class_join_nick", "class_point_text"
CLASS_PAGE = "class"
LIM = 4.0                     # the latent explorer's plane: a point answer lies within it
POINT_RADIUS = 0.6            # a point answer this close to the lesson's point counts as right
MAP_KEY = "class_map"         # Stage.settings entry: the class's drawings, shown to every screen
STAGE_SETTING = r"[a-z][a-z0-9_]{0,63}"

LISTEN_JS = """
// One stream per listener per browser tab, kept across page switches: a page switch mounts a new component,
// and a stream per mount would pile up against the browser's six connections per server.
const STREAMS = (window.__seqgenClassStreams ??= new Map());
const RETRY_MS = 2500;
const CLOSE_UNUSED_MS = 5000;
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const host = parentElement instanceof ShadowRoot ? parentElement.host : parentElement;
  let s = STREAMS.get(data.key);
  if (s && s.url !== data.url) { s.source.close(); STREAMS.delete(data.key); s = undefined; }
  if (!s) {
    s = { url: data.url, source: new EventSource(data.url), seen: {}, known: {}, mounts: 0 };
    STREAMS.set(data.key, s);
    for (const name of data.events) {
      s.source.addEventListener(name, (e) => {
        const value = Number(e.data);
        if (name === "ended" || value > (s.seen[name] ?? -1)) { s.seen[name] = value; s.fire(name, value); }
      });
    }
  }
  s.mounts += 1;
  clearTimeout(s.closing);
  // A rerun asked for while the page is switching can be lost: until a rerun has drawn the page with the
  // version the stream announced (data.known), ask again every RETRY_MS.
  s.known = data.known;
  s.fire = (name, value) => {
    // Only while the newest mount is on the page: after the teacher goes from the console to a lesson, its
    // rerun would be for a fragment that page does not have, and one that lands while a click's run is
    // starting takes the click's place (the click is lost). The retry below still runs, for a page switch.
    if (!host || host.isConnected) setTriggerValue(name, value);
    clearTimeout(s.timer);
    if (name in s.known) {
      s.timer = setTimeout(() => { if (STREAMS.get(data.key) === s && value > (s.known[name] ?? -1)) s.fire(name, value); },
                           RETRY_MS);
    }
  };
  for (const [name, value] of Object.entries(data.known)) s.seen[name] = Math.max(s.seen[name] ?? -1, value);
  return () => {
    s.mounts -= 1;
    if (s.mounts > 0) return;
    s.closing = setTimeout(() => {
      if (s.mounts > 0) return;
      clearTimeout(s.timer); s.source.close();
      if (STREAMS.get(data.key) === s) STREAMS.delete(data.key);
    }, CLOSE_UNUSED_MS);
  };
}
"""


# ------------------------------------------------------------------------------------------------ session
def role() -> str | None:
    """"teacher", "student" or None (not in a class)."""
    if not st.session_state.get(CODE_KEY):
        return None
    if st.session_state.get(SECRET_KEY):
        return "teacher"
    return "student" if st.session_state.get(STUDENT_KEY) else None


def code() -> str | None:
    return st.session_state.get(CODE_KEY)


def secret() -> str | None:
    return st.session_state.get(SECRET_KEY)


def note(kind: str, text: str) -> None:
    """A message for the next run of this session: kind "error", "warning", "success" or "info"."""
    st.session_state[NOTE_KEY] = (kind, text)


def refused(error: ClassError) -> None:
    note("warning" if error.reason in ("too_fast", "closed", "question_changed") else "error", plain(error, 300))


def show_note() -> None:
    found = st.session_state.pop(NOTE_KEY, None)
    if found:
        kind, text = found
        getattr(st, kind)(text, icon={"error": ":material/error:", "warning": ":material/info:",
                                      "success": ":material/check_circle:"}.get(kind, ":material/info:"))


def forget() -> None:
    """Leave whatever class this session was in (the store is not told: a seat frees itself when silent)."""
    for key in (CODE_KEY, SECRET_KEY, STUDENT_KEY, SEAT_KEY, NICK_KEY, FOLLOW_KEY, APPLIED_KEY, PUSHED_KEY,
                PENDING_KEY, STREAM_RUN_KEY):
        st.session_state.pop(key, None)
    if "class" in st.query_params:
        del st.query_params["class"]


def become_teacher(class_code: str, class_secret: str) -> None:
    forget()
    st.session_state[CODE_KEY], st.session_state[SECRET_KEY] = class_code, class_secret


def start_class() -> None:
    """The Class page's "Start a class": this session becomes the new class's teacher."""
    try:
        new = get_store().create_class()
    except ClassError as e:
        refused(e)
        return
    become_teacher(new.code, new.secret)
    note("success", _("Class {code} has started. Students join with the code or the QR code.").format(code=new.code))


def join() -> None:
    """The Class page's "Join": a seat in the class whose code was typed, with the optional nickname."""
    typed = st.session_state.get(JOIN_CODE_KEY, "")
    nickname = st.session_state.get(JOIN_NICK_KEY, "") or None
    try:
        joined = get_store().join(typed, nickname)
        class_code = get_store().state(typed).code
    except ClassError as e:
        refused(e)
        return
    forget()
    st.session_state.update({CODE_KEY: class_code, STUDENT_KEY: joined.student_id, SEAT_KEY: joined.seat,
                             NICK_KEY: joined.nickname, FOLLOW_KEY: True})
    st.query_params["class"] = class_code
    note("success", _("You are in class {code} as {name}. Your screen follows the teacher.").format(
        code=class_code, name=plain(joined.nickname, 40) if joined.nickname else seat_name(joined.seat)))


def leave() -> None:
    forget()
    note("info", _("You left the class. Join again with its code whenever you like."))


def seat_name(seat: int) -> str:
    return _("Student {n}").format(n=seat)


def who(seat: int, nickname: str | None) -> str:
    """A student as shown to the class: their nickname (plain text) or "Student N"."""
    return plain(nickname, 40) if nickname else seat_name(seat)


def _from_url() -> None:
    """A teacher link (?class=CODE&teacher=SECRET) makes this session the class's teacher; the secret leaves the
    address bar on this very run. A join link (?class=CODE) fills in the Class page's code."""
    link_secret = st.query_params.get("teacher")
    link_code = st.query_params.get("class")
    if link_secret is not None:
        del st.query_params["teacher"]
        try:
            state = get_store().teacher_state(link_code or "", link_secret)
        except ClassError as e:
            refused(e)
            return
        become_teacher(state.code, link_secret)
        st.query_params["class"] = state.code
        return
    if link_code and role() is None and not st.session_state.get(JOIN_CODE_KEY):
        st.session_state[JOIN_CODE_KEY] = link_code[:24]


# ------------------------------------------------------------------------------------------------ the stage
def page_id(pg) -> str | None:
    path = getattr(pg, "url_path", "") or ""
    return path if path in PAGES else None


def class_question(question) -> ClassQuestion | None:
    """A lesson's question (seqgen.lessons.Question) as the store checks answers to it (its English words)."""
    if question is None:
        return None
    if question.is_choice:
        return ClassQuestion("choice", question.prompt.en[:500], tuple(c.en[:200] for c in question.choices),
                             question.answer)
    return ClassQuestion("point", question.prompt.en[:500], (), question.point, POINT_RADIUS)


def teacher_stage(here: str | None) -> Stage:
    """What the teacher shows now: the lesson step (its settings and question) and the page."""
    now = lessons.active()
    if now is None:
        return Stage(page=here)
    lesson, index = now
    step = lesson.steps[index]
    return Stage(lesson.id, index, here or step.page, lessons.step_state(step), class_question(step.question))


def lesson_step(stage: Stage):
    """The lesson step a stage names, from this server's lesson files (its words in both languages), or None."""
    lesson = lessons.all_lessons().get(stage.lesson) if stage.lesson else None
    if lesson is None or not 0 <= stage.step < len(lesson.steps):
        return None
    return lesson.steps[stage.step]


def push(stage: Stage) -> None:
    """Write the teacher's stage when it changed (two processes writing the same stage write the same bytes)."""
    text = stage.to_json()
    if text == st.session_state.get(PUSHED_KEY):
        return
    try:
        get_store().set_state(code(), secret(), stage)
    except ClassError as e:
        _lost(e)
        return
    st.session_state[PUSHED_KEY] = text


def _lost(error: ClassError) -> None:
    """A refusal that means this session's class is gone (ended, deleted, secret no longer valid)."""
    if error.reason in ("unknown_class", "ended", "not_teacher", "not_member"):
        forget()
    refused(error)


def apply(stage: Stage, here: str | None) -> None:
    """Bring this student's session to the class's stage: the lesson step (its state, its page) or the page."""
    st.session_state[APPLIED_KEY] = stage.to_json()
    if stage.page in PAGES and stage.page != here:
        st.session_state[PENDING_KEY] = stage.page        # until this session has drawn that page
    if stage.lesson and stage.lesson in lessons.all_lessons():
        lessons.enter(stage.lesson, stage.step)
        if stage.page in PAGES:
            st.session_state[lessons.GOTO_KEY] = stage.page     # lessons.frame opens it on this run
    else:
        if st.session_state.get(lessons.LESSON_KEY):
            lessons.leave()
    for key, value in stage.settings.items():      # a step's settings, also when this server lacks its lesson
        if key != MAP_KEY and isinstance(key, str) and key[:1].isalpha() and key.islower() and \
                not key.startswith("class_"):
            st.session_state[key] = value
    if not stage.lesson and stage.page in PAGES and stage.page != here:
        st.switch_page(PAGES[stage.page].file)


def moved_away(stage: Stage, here: str | None) -> bool:
    """Whether a following student is somewhere the teacher is not (the Class page is theirs: not away)."""
    if here == CLASS_PAGE:
        return False
    if stage.lesson and (st.session_state.get(lessons.LESSON_KEY) != stage.lesson
                         or int(st.session_state.get(lessons.STEP_KEY, -1)) != stage.step):
        return True
    return bool(stage.page) and here != stage.page


def set_following(following: bool) -> None:
    st.session_state[FOLLOW_KEY] = following
    st.session_state.pop(PENDING_KEY, None)
    if following:
        st.session_state[APPLIED_KEY] = None          # the next run brings the class's stage back
    try:
        get_store().heartbeat(code(), st.session_state.get(STUDENT_KEY), following)
    except ClassError:
        pass                                          # the next run's state() says what is wrong


# ------------------------------------------------------------------------------------------------ frame
def frame(pg) -> None:
    """frame/main.py, every run, before the lesson banner: links, the teacher's push, a student's follow."""
    _from_url()
    who_am_i = role()
    if who_am_i == "teacher":
        here = page_id(pg)
        if here != CLASS_PAGE:          # the console is the teacher's own page: the class stays where it was
            # a step just entered opens its page on this run (lessons.frame): push that page, not this one
            push(teacher_stage(st.session_state.get(lessons.GOTO_KEY) or here))
        teacher_sidebar()
    elif who_am_i == "student":
        student_frame(pg)


def teacher_sidebar() -> None:
    if role() != "teacher":
        return
    with st.sidebar.container(border=True, key="class_teacher_box"):
        st.markdown(_("**Class {code}**: you lead it; the students' screens follow yours.").format(code=code()))
        st.page_link(PAGES[CLASS_PAGE].file, label=_("Class console: answers, drawings, runs"),
                     icon=":material/co_present:")


def student_frame(pg) -> None:
    store = get_store()
    try:
        state = store.state(code())
    except ClassError as e:
        _lost(e)
        return
    if state.ended:
        forget()
        note("info", _("The teacher has ended the class. Thank you for taking part!"))
        return
    here = page_id(pg)
    following = bool(st.session_state.get(FOLLOW_KEY, True))
    from_stream = st.session_state.pop(STREAM_RUN_KEY, False)
    if following:
        # The class, not the address bar, says where a follower is: a rerun the stream asked for can carry the
        # browser's previous ?step= (sent before the last run's new one arrived), which the lesson frame would
        # otherwise take for a lesson link and go back to.
        st.session_state[lessons.MEMO_KEY] = (st.query_params.get("lesson"), st.query_params.get("step"))
        pending = st.session_state.get(PENDING_KEY)
        if pending == here:
            st.session_state.pop(PENDING_KEY, None)
        if st.session_state.get(APPLIED_KEY) != state.stage.to_json() or \
                (from_stream and moved_away(state.stage, here)):
            # A run the stream asked for is never the student leaving: it can come from the page the browser
            # showed before the stage's page switch reached it. Bring the follower back to the stage instead.
            apply(state.stage, here)
        elif pending in PAGES and pending != here:
            # a rerun the stream asked for overtook the page switch the stage asked for: switch again
            if state.stage.lesson:
                st.session_state[lessons.GOTO_KEY] = pending
            else:
                st.switch_page(PAGES[pending].file)
        elif moved_away(state.stage, here):
            set_following(False)
            following = False
    bar(state, following, here)
    listen(feed="student", known={"version": state.version}, following=following, on_change=_stream_run)


def _stream_run() -> None:
    """The class's stream asked this student's page to rerun (the student did nothing)."""
    st.session_state[STREAM_RUN_KEY] = True


# ------------------------------------------------------------------------------------------------ listening
@lru_cache(maxsize=1)
def _listener():
    return st.components.v2.component("seqgen_class_listen", html="<span></span>", js=LISTEN_JS)


def _base_url() -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def _rerun_app() -> None:
    """A listener inside a fragment (the teacher's console) reruns only the fragment by itself."""


def listen(feed: str, known: dict, following: bool = True, key: str = "class_listen", on_change=None) -> None:
    """Mount the stream listener: the page (or the fragment around it) reruns when the class moves on."""
    url = f"{_base_url()}class/events?code={code()}"
    if feed == "teacher":
        url += "&feed=teacher"
        events = ["version", "activity", "ended"]
    else:
        url += f"&student={st.session_state.get(STUDENT_KEY)}&following={int(following)}"
        events = ["version", "ended"]
    st.html(f"<style>.st-key-{key} {{ display: none; }}</style>")
    callbacks = {f"on_{name}_change": on_change or _rerun_app for name in events}
    with st.container(key=key):
        _listener()(key=f"{key}_component", data={"url": url, "events": events, "known": known,
                                                            "key": key}, **callbacks)


# ------------------------------------------------------------------------------------------------ the bar
def bar(state, following: bool, here: str | None) -> None:
    """What a student sees on top of every page: following or not, the question, the teacher's reveal."""
    with st.container(border=True, key="class_bar"):
        if following:
            st.caption(_("Class {code}: your screen follows the teacher.").format(code=state.code))
            st.button(_("Explore on my own"), key="class_break_away", on_click=set_following, args=(False,),
                      type="tertiary", icon=":material/explore:")
        else:
            st.warning(_("You are exploring on your own; the class has moved on without you."),
                       icon=":material/explore:")
            st.button(_("Back to the class"), key="class_back", on_click=set_following, args=(True,),
                      type="primary", icon=":material/groups:")
        show_note()
        if state.stage.question is not None:
            question_panel(state)
        class_map = state.stage.settings.get(MAP_KEY)
        if class_map:
            from .class_views import drawings_map
            drawings_map(class_map, key="class_map_student")
    if here in ("training", CLASS_PAGE):
        from .class_views import class_run_view
        class_run_view(state.code)


def _as_student(action: str, value, done: str) -> None:
    """A student's action on the store (answer, submit_drawing) with this session's id; its note."""
    try:
        getattr(get_store(), action)(code(), st.session_state.get(STUDENT_KEY), value)
    except ClassError as e:
        refused(e)
        return
    note("success", done)


def _answer(value) -> None:
    _as_student("answer", value, _("Your answer is in. You can change it until the teacher shows the answer."))


def _answer_here() -> None:
    _answer((snap(st.session_state.get("le_z0", 0.0), LIM), snap(st.session_state.get("le_z1", 0.0), LIM)))


def _answer_typed() -> None:
    try:
        point = parse_z(st.session_state.get(POINT_TEXT_KEY, ""), LIM)
    except ValueError as e:
        note("warning", plain(e, 300))
        return
    _answer(point)


def question_panel(state) -> None:
    """The step's question for a student: choice buttons, or a point (the map's current point, or typed)."""
    question, step = state.stage.question, lesson_step(state.stage)
    asked = step.question if step is not None and step.question is not None else None
    try:
        mine = get_store().my_answer(state.code, st.session_state.get(STUDENT_KEY))
    except ClassError:
        mine = None
    with st.container(border=True, key="class_question"):
        prompt = lessons.words(asked.prompt) if asked else plain(question.prompt, 500)
        st.markdown(_("**Question:** {prompt}").format(prompt=prompt))
        if question.is_choice:
            names = [lessons.words(c) for c in asked.choices] if asked else [plain(o) for o in question.options]
            for i, name in enumerate(names):
                st.button(name, key=f"class_choice_{i}", on_click=_answer, args=(i,), disabled=state.revealed,
                          type="primary" if mine == i else "secondary", use_container_width=True,
                          icon=":material/check:" if mine == i else None)
        elif not state.revealed:
            z = (snap(st.session_state.get("le_z0", 0.0), LIM), snap(st.session_state.get("le_z1", 0.0), LIM))
            st.caption(_("Move the point on the latent explorer's map (click or drag), then send it; or type it."))
            c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
            c1.button(_("Send my point z = ({x}, {y})").format(x=f"{z[0]:.2f}", y=f"{z[1]:.2f}"),
                      key="class_point_here", on_click=_answer_here, icon=":material/pin_drop:")
            c2.text_input(_("A point z₁, z₂"), key=POINT_TEXT_KEY, placeholder="1.40, 0.25", max_chars=40)
            c2.button(_("Send this point"), key="class_point_send", on_click=_answer_typed)
        if mine is not None:
            shown = mine if not question.is_choice else None
            st.caption(_("Your answer: z = ({x}, {y}).").format(x=f"{shown[0]:.2f}", y=f"{shown[1]:.2f}") if shown
                       else _("Your answer is in."))
        if state.revealed:
            reveal_box(question, asked, mine)


def reveal_box(question, asked, mine) -> None:
    """The teacher's reveal as a student sees it: the lesson's explanation and whether their answer was right."""
    with st.container(key="class_reveal"):
        if asked is not None:
            st.success(_("**The answer:** {text}").format(text=lessons.words(asked.reveal)),
                       icon=":material/lightbulb:")
        if question.is_choice and question.answer is not None and asked is not None:
            st.caption(_("The right choice: {choice}").format(choice=lessons.words(asked.choices[question.answer])))
        if not question.is_choice and question.answer is not None:
            st.caption(_("The model's answer: z = ({x}, {y}).").format(x=f"{question.answer[0]:.2f}",
                                                                       y=f"{question.answer[1]:.2f}"))
        right = question.is_correct(mine) if mine is not None else None
        if right is True:
            st.markdown(_("Your answer was right."))
        elif right is False:
            st.markdown(_("Your answer was not quite it: compare it with the model's."))


def stage_with_map(stage: Stage, points: list | None) -> Stage:
    """The stage with the class's drawings map for every screen (None: without)."""
    settings = {k: v for k, v in stage.settings.items() if k != MAP_KEY}
    if points:
        settings[MAP_KEY] = points
    return replace(stage, settings=settings)


# ------------------------------------------------------------------------------------------------ a student's page
DRAWING_KEY = "class_drawing"          # the 28x28 drawing as the model sees it, ready to send (784 bytes)


def send_drawing(image=None) -> None:
    """Send a drawing to the class: `image` (a 28x28 uint8 array or PNG bytes), by default the canvas's."""
    if image is None:
        import numpy as np
        pixels = st.session_state.get(DRAWING_KEY)
        if not pixels:
            note("warning", _("Draw a digit first, then send it."))
            return
        image = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
    _as_student("submit_drawing", image, _("Your drawing is on the teacher's map."))


def student_home() -> None:
    """The Class page for a student: who they are in the class, a drawing to send, Leave."""
    seat, nickname = st.session_state.get(SEAT_KEY, 0), st.session_state.get(NICK_KEY)
    st.markdown(_("You are in class **{code}** as {name}.").format(code=code(), name=who(seat, nickname)))
    with st.container(border=True, key="class_draw"):
        st.subheader(_("Send a drawing to the class"))
        drawing_sender()
    st.button(_("Leave the class"), key="class_leave", on_click=leave, icon=":material/logout:")


def drawing_sender() -> None:
    import numpy as np

    from seqgen.render import upscale

    from .kinds.image import _canvas, canvas_png, drawing_seen
    c1, c2 = st.columns(2)
    with c1:
        result = _canvas(f"class_canvas_{st.session_state.get('class_canvas_n', 0)}")
    png = canvas_png(result)
    st.session_state.pop(DRAWING_KEY, None)
    if png is not None:
        image = drawing_seen("digits", png)      # refused from its header, decoded once per picture
        if isinstance(image, ValueError):
            c2.caption(plain(image, 300))
        else:
            st.session_state[DRAWING_KEY] = np.asarray(image, dtype=np.uint8).tobytes()
            c2.image(upscale(np.asarray(image, dtype=np.uint8), 4), output_format="PNG",
                     caption=_("what the model sees"), alt=_("your drawing at 28×28"))
    c2.button(_("Send my drawing"), key="class_send_drawing", on_click=send_drawing, type="primary",
              icon=":material/send:")
    c2.button(_("Clear the drawing"), key="class_clear_drawing", on_click=_clear_canvas, icon=":material/delete:")


def _clear_canvas() -> None:
    st.session_state["class_canvas_n"] = st.session_state.get("class_canvas_n", 0) + 1
