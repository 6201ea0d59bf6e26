"""The teacher's console on the Class page: the codes and links, who has joined, the class's answers and
drawings, the class run, the server's runs, and "End the class".

Every action here goes to the store with the teacher secret held in this session (seqgen.ui.classroom); the
store checks it, so a student's session (or a forged request) that reached these callbacks would be refused
all the same. The part that changes while students answer is one fragment: the stream listener inside it
(feed=teacher) reruns only the fragment when an answer, a join or a drawing arrives.
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from seqgen.classroom import ClassError, get_store

from . import classroom, lessons
from .class_views import DRAWINGS_DOMAIN, map_figure, map_ref, place_drawings, publishing
from .i18n import _, current, ngettext
from .live_view import STATUS_WORDS
from .pages import PAGES
from .widgets import base_url, guard, plain, qr_png

RIGHT, WRONG, POLL = "#009e73", "#d55e00", "#0072b2"


def join_link(code: str) -> str:
    return f"{base_url(PAGES[classroom.CLASS_PAGE].url_path)}/{PAGES[classroom.CLASS_PAGE].url_path}?class={code}"


# ------------------------------------------------------------------------------------------------ actions
def _act(action, *args) -> None:
    """A teacher action with this session's secret; a refusal becomes the page's note."""
    try:
        action(classroom.code(), classroom.secret(), *args)
    except ClassError as e:
        classroom.refused(e)


def _end() -> None:
    try:
        get_store().end_class(classroom.code(), classroom.secret())
    except ClassError as e:
        classroom.refused(e)
        return
    classroom.forget()
    classroom.note("success", _("The class has ended; its answers and drawings are deleted."))


def _show_map(points) -> None:
    try:
        stage = get_store().teacher_state(classroom.code(), classroom.secret()).stage
        get_store().set_state(classroom.code(), classroom.secret(), classroom.stage_with_map(stage, points))
    except ClassError as e:
        classroom.refused(e)


# ------------------------------------------------------------------------------------------------ the page
def console() -> None:
    code = classroom.code()
    st.subheader(_("Your class"))
    left, right = st.columns([3, 2])
    link = join_link(code)
    with left:
        st.markdown(_("Class code: **{code}**").format(code=code))
        with st.container(key="class_code_big"):
            st.markdown(f"# {code}")
        st.markdown(_("Students open this link (or scan the QR code, or type the code on the Class page):"))
        st.code(link, language=None)
        with st.expander(_("Teacher link: lead this class from another device")):
            st.caption(_("Whoever holds this link can lead and end the class: keep it off the projector. It leaves "
                         "the address bar as soon as it is opened."))
            st.code(f"{link}&teacher={classroom.secret()}", language=None)
    with right:
        st.image(qr_png(link), caption=_("Join class {code}").format(code=code), width=220,
                 alt=_("QR code of the join link {url}").format(url=link))
    classroom.show_note()
    live_part()
    run_part()
    server_part()
    st.divider()
    confirm = st.checkbox(_("Yes, end the class for everyone"), key="class_end_confirm")
    st.button(_("End the class"), key="class_end", on_click=_end, disabled=not confirm, icon=":material/logout:")


@st.fragment
def live_part() -> None:
    """Joined students, the current question's answers, the drawings: redrawn when the class has news."""
    with guard(_("the class console")):
        store, code, secret = get_store(), classroom.code(), classroom.secret()
        try:
            state = store.teacher_state(code, secret)
            presence = store.presence(code, secret)
            answers = store.answers(code, secret)
            drawings = store.drawings(code, secret)
            versions = store.versions(code)
        except ClassError as e:
            classroom.refused(e)
            return
        classroom.listen(feed="teacher", known={"version": versions.version, "activity": versions.activity},
                         key="class_listen_teacher")
        with st.container(key="class_presence"):
            st.markdown(ngettext("**{n} student** has joined: {f} following, {a} exploring on their own, "
                                 "{s} silent.", "**{n} students** have joined: {f} following, {a} exploring on their "
                                 "own, {s} silent.", presence.joined).format(
                n=presence.joined, f=presence.following, a=presence.away, s=presence.silent))
        where(state.stage)
        answers_part(state, answers)
        drawings_part(drawings)


def where(stage) -> None:
    step = classroom.lesson_step(stage)
    if step is not None:
        lesson = lessons.all_lessons()[stage.lesson]
        st.caption(_("The class is at {lesson}, step {i}: {title}.").format(
            lesson=lessons.words(lesson.title), i=stage.step + 1, title=lessons.words(step.title)))
    elif stage.page in PAGES:
        st.caption(_("The class is on the page {page}.").format(page=_(PAGES[stage.page].title)))
    else:
        st.caption(_("The class waits: open a lesson (the Lessons page) or a page, and every student's screen "
                     "follows yours."))


def answers_part(state, answers) -> None:
    question = answers.question
    st.subheader(_("Answers"))
    if question is None:
        st.caption(_("This step asks no question. Lesson steps with a question show it on every student's "
                     "screen, and the answers gather here."))
        return
    step = classroom.lesson_step(state.stage)
    asked = step.question if step is not None else None
    prompt = lessons.words(asked.prompt) if asked else plain(question.prompt, 500)
    st.markdown(_("**Question:** {prompt}").format(prompt=prompt))
    n = len(answers.items)
    with st.container(key="class_answer_count"):
        st.markdown(ngettext("{n} answer", "{n} answers", n).format(n=n))
    if question.is_choice:
        names = [plain(c.in_language(current()), 200) for c in asked.choices] if asked else list(question.options)
        colours = [RIGHT if answers.revealed and i == question.answer else POLL for i in range(len(names))]
        fig = go.Figure(go.Bar(x=list(answers.counts), y=names, orientation="h", marker_color=colours,
                               text=list(answers.counts), textposition="auto"))
        fig.update_layout(height=80 + 40 * len(names), margin=dict(l=10, r=10, t=10, b=10),
                          xaxis_title=_("students"), yaxis=dict(autorange="reversed"))
        st.plotly_chart(fig, key="class_answers_chart", theme=None, config={"displaylogo": False})
    else:
        traces = [{"type": "scatter", "mode": "markers", "name": _("the class's answers"),
                   "x": [a.value[0] for a in answers.items], "y": [a.value[1] for a in answers.items],
                   "text": [classroom.who(a.seat, a.nickname) for a in answers.items],
                   "hovertemplate": "%{text}: (%{x:.2f}, %{y:.2f})<extra></extra>",
                   "marker": {"size": 13, "symbol": "circle",
                              "color": [(RIGHT if a.correct else WRONG) if answers.revealed else POLL
                                        for a in answers.items], "line": {"width": 1.5, "color": "white"}}}]
        if answers.revealed and question.answer is not None:
            traces.append({"type": "scatter", "mode": "markers", "name": _("the model's answer"),
                           "x": [question.answer[0]], "y": [question.answer[1]],
                           "marker": {"size": 22, "symbol": "star", "color": RIGHT}})
        with guard(_("the class's answers")), st.container(key="class_answer_map"):
            st.plotly_chart(map_figure(map_ref(), traces), key="class_answers_points", theme=None,
                            config={"displaylogo": False})
    with st.expander(_("Every answer"), expanded=False):
        for a in answers.items:
            shown = (f"({a.value[0]:.2f}, {a.value[1]:.2f})" if not question.is_choice
                     else names[a.value] if a.value < len(names) else str(a.value))
            st.text(f"{classroom.who(a.seat, a.nickname)}: {shown}")
    if answers.revealed:
        st.success(_("The answer is shown on every screen."), icon=":material/visibility:")
    else:
        st.button(_("Reveal the answer to everyone"), key="class_reveal_btn", type="primary",
                  on_click=classroom_action, args=("reveal",), icon=":material/visibility:")


def classroom_action(name: str, *args) -> None:
    _act(getattr(get_store(), name), *args)


def drawings_part(drawings) -> None:
    st.subheader(_("The class's drawings"))
    if not drawings:
        st.caption(_("Students send drawings from the Class page; they appear here, placed on the map."))
        return
    shown = [d for d in drawings if not d.hidden]
    ref = map_ref()
    points = place_drawings(ref, shown)
    labels = [str(p[2]) if p[2] is not None else "?" for p in points]
    trace = {"type": "scatter", "mode": "markers+text", "name": _("drawings"), "x": [p[0] for p in points],
             "y": [p[1] for p in points], "text": labels, "textposition": "top center",
             "marker": {"size": 14, "symbol": "star", "color": "#e31a1c"}}
    with guard(_("the class's drawings")), st.container(key="class_drawings_map"):
        st.plotly_chart(map_figure(ref, [trace]), key="class_drawings_points", theme=None,
                        config={"displaylogo": False})
    c1, c2 = st.columns(2)
    c1.button(_("Show this map on every screen"), key="class_show_map", on_click=_show_map, args=(points,),
              icon=":material/cast:")
    c2.button(_("Train on these drawings"), key="class_train_drawings", on_click=_train_on_drawings,
              icon=":material/model_training:",
              help=_("The shown drawings become the data set of the next class run: the latent space of your "
                     "class's own digits."))
    cols = st.columns(6)
    for i, d in enumerate(drawings):
        with cols[i % 6]:
            st.image(d.png(), width=84, alt=_("drawing {n}").format(n=d.id))
            st.caption(classroom.who(d.seat, d.nickname) + (" · " + _("hidden") if d.hidden else ""))
            st.button(_("Show") if d.hidden else _("Hide"), key=f"class_hide_{d.id}",
                      on_click=classroom_action, args=("hide_drawing", d.id, not d.hidden))


def _train_on_drawings() -> None:
    """The class's shown drawings as the teacher's own data set (labelled by the reference classifier's
    guess), chosen on Live training for the next class run."""
    from seqgen.domains import get_domain
    from seqgen.domains.own import read_items

    from . import own_data
    try:
        drawings = get_store().drawings(classroom.code(), classroom.secret(), include_hidden=False)
    except ClassError as e:
        classroom.refused(e)
        return
    items = [(classroom.who(d.seat, d.nickname), d.array()) for d in drawings]
    reading = read_items(get_domain(DRAWINGS_DOMAIN), items)
    if own_data.adopt(reading, _("Our class's drawings")) is None:
        classroom.note("warning", plain(reading.problem(), 300))
        return
    classroom.note("success", ngettext(
        "{n} drawing is the data set of the next class run. Pick VAE or GAN on Live training, then start the "
        "run for the class below.",
        "{n} drawings are the data set of the next class run. Pick VAE or GAN on Live training, then start the "
        "run for the class below.", len(reading.kept)).format(n=len(reading.kept)))


# ------------------------------------------------------------------------------------------------ the class run
def _start_class_run() -> None:
    from . import live
    from .class_views import publish
    live._start()
    run = live.current_run()
    if run is not None and run.active:
        publish(run, classroom.code(), classroom.secret())


def _share_run() -> None:
    from . import live
    from .class_views import publish
    run = live.current_run()
    if run is not None and run.active:
        publish(run, classroom.code(), classroom.secret())


def run_part() -> None:
    from . import live
    st.subheader(_("One run for the whole class"))
    run = live.current_run()
    snap = run.snapshot() if run is not None else None
    if snap is None or not snap.active:
        st.caption(_("Set what to learn on the Live training page, then start it here: every student sees its "
                     "curves and samples, from any app process, at no extra training cost."))
        st.button(_("Start a run for the class"), key="class_run_start", on_click=_start_class_run, type="primary",
                  icon=":material/play_arrow:")
        return
    if not publishing(run):
        st.button(_("Show my run to the class"), key="class_run_share", on_click=_share_run,
                  icon=":material/cast:")
    else:
        st.caption(_("The class sees this run: step {step} of {total}.").format(step=snap.step,
                                                                                 total=snap.total_steps))
    live.controls(snap.status)
    live.running_knobs(run, snap.shown_status)
    st.page_link(PAGES["training"].file, label=_("Open the Live training page"), icon=":material/model_training:")


# ------------------------------------------------------------------------------------------------ the server
TEACHER_STOP = "Stopped by the teacher."


def _stop(run) -> None:
    run.stop(reason=TEACHER_STOP)


def _stop_all() -> None:
    from seqgen.training.live import get_manager
    runs = get_manager().runs()
    for run in [*runs["active"], *runs["queued"]]:
        run.stop(reason=TEACHER_STOP)


def estimated_waits(active: list, queued: int, now_rate: dict) -> list[float | None]:
    """Seconds until each queued run starts: the active runs' remaining times (steps left / steps per second),
    the queue taking the slots in order; None where a rate is not known yet."""
    left = sorted(now_rate.values())
    if not left or queued == 0:
        return [None] * queued
    slots = [t for t in left if t is not None]
    if len(slots) < len(left):
        return [None] * queued
    waits, full = [], (sum(slots) / len(slots)) * 2        # a queued run takes about as long as one from scratch
    for i in range(queued):
        rounds, slot = divmod(i, len(slots))
        waits.append(slots[slot] + rounds * full)
    return waits


def _stop_anywhere(shared_id: str | None) -> None:
    from seqgen.training.live import get_manager
    get_manager().stop_anywhere(TEACHER_STOP, shared_id)


def deployment_part(rows: list[dict], class_run_id: str | None) -> None:
    """Every run of the deployment (all app processes behind nginx), from the shared slot table."""
    training = {r["run"]: r for r in rows if r["state"] == "training"}
    remaining = {}
    for r in training.values():
        f = r["figures"]
        rate = f.get("steps_per_s") or 0
        remaining[r["run"]] = (f.get("total", 0) - f.get("step", 0)) / rate if rate > 0 else None
    waiting = [r for r in rows if r["state"] != "training"]
    waits = estimated_waits(list(training), len(waiting), remaining)
    if not rows:
        st.caption(_("No run is training or waiting on this server."))
        return
    for r in rows:
        f = r["figures"]
        whose = _("yours (the class run)") if r["run"] == class_run_id else _("someone's") if f.get("client") \
            else _("no one's")
        domain, family = str(f.get("domain", "?")), str(f.get("family", "?")).upper()
        label = _("run {n} of process {pid}").format(n=r["run"][:6], pid=r["pid"])
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        if r["state"] == "training":
            minutes, seconds = divmod(int(f.get("elapsed", 0)), 60)
            status = str(f.get("status", "starting"))
            c1.text(_("{run}: {domain} {family}, {whose}, {status}, {m}:{s:02d} trained, {rate:.1f} steps/s").format(
                run=label, domain=domain, family=family, whose=whose, status=_(STATUS_WORDS.get(status, status)),
                m=minutes, s=seconds, rate=float(f.get("steps_per_s", 0))))
        else:
            wait = waits[r["position"] - 1] if r["position"] and r["position"] <= len(waits) else None
            c1.text(_("{run}: {domain} {family}, {whose}, waiting; about {wait} until it starts").format(
                run=label, domain=domain, family=family, whose=whose,
                wait=_("unknown") if wait is None else f"{int(wait) // 60}:{int(wait) % 60:02d}"))
        c2.button(_("Stop"), key=f"class_stop_{r['run']}", on_click=_stop_anywhere, args=(r["run"],),
                  icon=":material/stop:")
    st.button(_("Stop all runs"), key="class_stop_all", on_click=_stop_anywhere, args=(None,),
              icon=":material/stop_circle:")
    st.caption(_("Every app process of this server, from their shared table of training slots; a Stop reaches a "
                 "run on another process within about a second."))


def server_part() -> None:
    from seqgen.training.live import get_manager

    from . import live
    st.subheader(_("This server's training runs"))
    manager = get_manager()
    rows = manager.deployment_runs()
    if rows is not None:
        mine = live.current_run()
        deployment_part(rows, manager.shared_id(mine) if mine is not None else None)
        return
    runs = manager.runs()
    mine = live.current_run()
    rows, remaining = [], {}
    for where_, items in (("active", runs["active"]), ("queued", runs["queued"])):
        for run in items:
            snap = run.snapshot()
            whose = _("yours (the class run)") if run is mine else _("someone's") if run.client else _("no one's")
            rows.append((run, snap, whose, where_))
            if where_ == "active":
                rate = snap.steps_per_s
                remaining[run.run_id] = (snap.total_steps - snap.step) / rate if rate > 0 else None
    waits = estimated_waits(runs["active"], len(runs["queued"]), remaining)
    if not rows:
        st.caption(_("No run is training or waiting on this app process."))
        return
    queued_i = 0
    for run, snap, whose, where_ in rows:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        minutes, seconds = divmod(int(snap.elapsed), 60)
        if where_ == "active":
            c1.text(_("{run}: {domain} {family}, {whose}, {status}, {m}:{s:02d} trained, {rate:.1f} steps/s").format(
                run=snap.run_id, domain=snap.domain, family=snap.family.upper(), whose=whose, status=snap.status,
                m=minutes, s=seconds, rate=snap.steps_per_s))
        else:
            wait = waits[queued_i] if queued_i < len(waits) else None
            queued_i += 1
            c1.text(_("{run}: {domain} {family}, {whose}, waiting; about {wait} until it starts").format(
                run=snap.run_id, domain=snap.domain, family=snap.family.upper(), whose=whose,
                wait=_("unknown") if wait is None else f"{int(wait) // 60}:{int(wait) % 60:02d}"))
        c2.button(_("Stop"), key=f"class_stop_{snap.run_id}", on_click=_stop, args=(run,), icon=":material/stop:")
    st.button(_("Stop all runs"), key="class_stop_all", on_click=_stop_all, icon=":material/stop_circle:")
    st.caption(_("Runs of this app process (one process serves this server)."))
