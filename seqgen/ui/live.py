"""Streamlit side of the Live training page (the run itself lives in seqgen.training.live, no Streamlit there).

The run's handle is kept in st.session_state["lt_run"], so it survives page switches; a fragment polls its
snapshot about twice a second while it trains (and heartbeats it, so an abandoned tab frees its slot);
buttons are on_click callbacks that only flip the run's flags. Nothing here blocks on training.

The domains offered are those with Live training presets ("<domain>-<family>-live", seqgen.presets); the
knobs are the config settings with live metadata (seqgen.training.live.knobs_for), worded by live_copy.
"""
from __future__ import annotations

import binascii
import functools
import os
import uuid
from pathlib import Path

# plotly looks pandas up in sys.modules and uses it even while another thread is still importing it
# ("partially initialized module 'pandas'" when several sessions start at once); importing it here, before
# any fragment draws a chart, makes every later lookup find it complete.
import pandas  # noqa: F401
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from seqgen.browsers import MAX_TOKEN_CHARS, BrowserRefused, Browsers, address_of
from seqgen.checkpoints import CheckpointError
from seqgen.classroom.security import digest
from seqgen.domains import get_domain
from seqgen.presets import live_choices
from seqgen.storage import user_dir
from seqgen.training.live import ACTIVE, TrainingRun, get_manager, knobs_for, live_defaults
from seqgen.training.live.manager import TooManyRuns

from . import browser_values, own_data
from .i18n import _, domain_word, ngettext
from .live_copy import family_title, knob_text, settings_line
from .live_view import STATUS_WORDS, compare_view, draw
from .pages import PAGES
from .widgets import classroom, guard, plain, reset_button, without_paths

RUN_KEY = "lt_run"
PAST_KEY = "lt_past_runs"          # the final snapshots of this tab's earlier runs, for the comparison chart
COMPARED_RUNS = 4                  # runs on the comparison chart, the current one included
SEEN_KEY = "lt_seen_mode"          # polling mode the last full run was drawn for
SHADOW_KEY = own_data.SHADOW_KEY   # our own copy of the settings, restored after a page switch
MSG_KEY = "lt_save_msg"
START_MSG_KEY = "lt_start_msg"
SESSION_ID_KEY = "lt_session_id"
# seconds between polls (paused: heartbeat only; "stepping" is paused with a Step once still to show)
POLL = {"running": 0.5, "starting": 0.5, "queued": 1.0, "stepping": 0.3, "stopping": 0.3, "paused": 5.0}


# ------------------------------------------------------------------------------------------------ state
def owner_key() -> str:
    """This tab, for the manager's record of whose run is whose: the Streamlit session (a reconnecting
    websocket keeps it) and an id kept in its state (AppTest gives every session one name)."""
    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else ""
    return f"tab:{session}:{st.session_state.setdefault(SESSION_ID_KEY, uuid.uuid4().hex)}"


def current_run() -> TrainingRun | None:
    """This tab's run: the manager's record first (a Start whose script run was cut short by the next
    message still reaches its tab), else the one the session keeps (a finished run the manager let go)."""
    run = get_manager().run_of(owner_key())
    if run is None:
        return st.session_state.get(RUN_KEY)
    if st.session_state.get(RUN_KEY) is not run:
        st.session_state[RUN_KEY] = run     # the session's strong reference keeps a finished run for saving
    return run


def poll_interval(status: str | None) -> float | None:
    return POLL.get(status) if status else None


def _mode(status: str | None, stepping: bool = False) -> str:
    if status == "paused" and stepping:
        return "stepping"
    return {"starting": "running"}.get(status, status or "none")


def _stepping(run: TrainingRun | None, snap) -> bool:
    """Paused with a Step once not yet drawn: poll fast until the new step's samples are on the page."""
    return run is not None and snap.status == "paused" and (run.pending_steps > 0 or snap.samples_step < snap.step)


def client_key() -> str:
    """Who this browser is, for the manager's cap per browser and a saved model's owner: in a class, the joined
    seat (or the teacher); else the browser on this deployment's record (seqgen.browsers), by the XSRF token
    Streamlit gave it, which all its tabs share (a session without one is its own token), put on the record
    if it is new. BrowserRefused: a new browser from an address that has had its turn (a private window, an
    edited or cleared cookie, a cookie-less script)."""
    from . import classroom as klass

    role = klass.role()
    if role == "student":
        return f"seat:{klass.code()}:{digest(st.session_state[klass.STUDENT_KEY])[:16]}"
    if role == "teacher":
        return f"teacher:{klass.code()}"
    session_id = st.session_state.setdefault(SESSION_ID_KEY, uuid.uuid4().hex)
    try:
        cookie = st.context.cookies.get("_streamlit_xsrf")
    except Exception:  # noqa: BLE001 - no browser context (a bare script run)
        cookie = None
    token = _xsrf_token(cookie) if isinstance(cookie, str) and cookie else "session:" + session_id
    return "browser:" + _browsers(str(user_dir())).identify(token, _address())


@functools.lru_cache(maxsize=4)
def _browsers(folder: str) -> Browsers:
    return Browsers.from_env(Path(folder))


def _address() -> str:
    """This browser's network address (seqgen.browsers.address_of); behind scripts/serve.py's nginx
    (SEQGEN_BEHIND_PROXY=1) from the X-Forwarded-For header nginx adds to."""
    try:
        remote, forwarded = st.context.ip_address, st.context.headers.get("X-Forwarded-For")
    except Exception:  # noqa: BLE001 - no browser context (a bare script run)
        remote = forwarded = None
    return address_of(remote, forwarded, os.environ.get("SEQGEN_BEHIND_PROXY") == "1")


def _xsrf_token(cookie: str) -> str:
    """The raw token of tornado's XSRF cookie ("2|mask|masked token|time"), as hex: the same for every tab of
    one browser however each is masked; the value itself otherwise."""
    parts = cookie.split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    except (binascii.Error, ValueError, ZeroDivisionError):
        pass
    return cookie[:MAX_TOKEN_CHARS]


def session() -> tuple[TrainingRun | None, str | None]:
    """The session's run and its status at the start of this script run (heartbeats it)."""
    run = current_run()
    snap = run.snapshot() if run is not None else None
    status = snap.shown_status if snap is not None else None
    st.session_state[SEEN_KEY] = _mode(status, snap is not None and _stepping(run, snap))
    if run is not None:
        run.heartbeat()
    return run, status


def knob_key(domain: str, family: str, name: str) -> str:
    return f"lt_k_{domain}_{family}_{name}"


def restore_widgets() -> None:
    """Widgets of a page that is not shown lose their values; put the user's last choices back."""
    for k, v in st.session_state.get(SHADOW_KEY, {}).items():
        if k not in st.session_state:
            st.session_state[k] = v


# ------------------------------------------------------------------------------------------------ settings
def _fmt_option(v):
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).upper() if isinstance(v, str) else str(v)


def _choose(key: str, options) -> str:
    """A valid current choice for the radio `key` (the first option when the stored one is gone or forged)."""
    browser_values.choice(key, options, options_change=True)
    if key not in st.session_state:
        st.session_state[key] = options[0]
    return st.session_state[key]


def _knob_widget(col, knob, key: str, disabled: bool, **callback):
    """The widget a knob's metadata asks for -> its value. `callback`: on_change and its args."""
    label, help_text = knob_text(knob)
    kw = dict(key=key, help=help_text, disabled=disabled, **callback)
    if knob.options and knob.type is str:
        browser_values.choice(key, knob.options)
        return col.radio(label, knob.options, horizontal=True, format_func=_fmt_option, **kw)
    if knob.options:
        return col.select_slider(label, knob.options, format_func=_fmt_option, **kw)
    if knob.type is bool:
        return bool(col.toggle(label, **kw))
    cast = int if knob.type is int else float
    widget = col.number_input if knob.input == "number" else col.slider
    return cast(widget(label, cast(knob.min), cast(knob.max), step=cast(knob.step), **kw))


def _choices() -> dict[str, tuple[str, ...]]:
    """What to learn -> its families: the bundled domains with live presets, then "your data" (own_data.CHOICE)
    with the families of the kind it is read as."""
    choices = live_choices()
    return {**choices, own_data.CHOICE: choices[own_data.template_name()]}


def _knob_prefix(choice: str) -> str:
    """Knob widgets are kept per choice; for "your data" per the kind it is read as (their knobs differ)."""
    return f"{choice}_{own_data.template_name()}" if choice == own_data.CHOICE else choice


def _domain_of(choice: str) -> str | None:
    """The domain a "What to learn" choice trains: itself, or for "your data" the data set this session read
    (None before it has read one)."""
    return own_data.current() if choice == own_data.CHOICE else choice


def settings(disabled: bool = False) -> tuple[str, str, dict]:
    """Domain, family and knob widgets (one-line help each) -> (domain, family, knob values)."""
    restore_widgets()
    choices = _choices()
    domains = list(choices)
    _choose("lt_domain", domains)
    c1, c2 = st.columns(2)
    # options are worded now, in this run's language (a format function called later would not know it)
    words = {d: domain_word(get_domain(d).picker_title or get_domain(d).title) for d in domains
             if d != own_data.CHOICE}
    words[own_data.CHOICE] = _("Your data")
    choice = c1.radio(_("What to learn"), domains, key="lt_domain", disabled=disabled, horizontal=True,
                      format_func=words.get)
    _choose("lt_family", choices[choice])
    families = {f: family_title(f) for f in choices[choice]}
    family = c2.radio(_("Model family"), choices[choice], key="lt_family", format_func=families.get,
                      disabled=disabled, horizontal=True)
    domain = _domain_of(choice)
    if choice == own_data.CHOICE:
        with st.container(border=True):
            domain = own_data.panel(disabled, family, knob_key(_knob_prefix(choice), family, "lr"))
    # before a data set is read, its kind's knobs are those of the domain it is read as
    knobs_domain = domain or own_data.template_name()
    defaults = live_defaults(knobs_domain, family)
    values, keys = {}, ["lt_domain", "lt_family"]
    cols = st.columns(3)
    for i, knob in enumerate(knobs_for(knobs_domain, family)):
        key = knob_key(_knob_prefix(choice), family, knob.name)
        keys.append(key)
        st.session_state.setdefault(key, defaults[knob.name])
        values[knob.name] = _knob_widget(cols[i % 3], knob, key, disabled)
    own_data.remember(keys)
    return knobs_domain, family, values


# ------------------------------------------------------------------------------------------------ controls
def knobs_from_state() -> tuple[str | None, str, dict]:
    """The settings as they are at click time (callbacks run before the script, so args would be stale). The
    domain is None when "your data" is chosen and none has been read."""
    choices = _choices()
    choice = st.session_state.get("lt_domain")
    choice = choice if choice in choices else next(iter(choices))
    family = st.session_state.get("lt_family")
    family = family if family in choices[choice] else choices[choice][0]
    domain = _domain_of(choice)
    if domain is None:
        return None, family, {}
    values = live_defaults(domain, family)
    for k in knobs_for(domain, family):
        key = knob_key(_knob_prefix(choice), family, k.name)
        if key in st.session_state:
            values[k.name] = st.session_state[key]
    if choice == own_data.CHOICE:
        start = own_data.start_from(own_data.template_name(), family)
        if start:
            values["init_from"] = start
    return domain, family, values


def _start(step: bool = False) -> None:
    """Start, or with `step` start paused and make one step. One run per tab: the manager hands back the
    tab's run when one is training or queued, however fast the messages follow one another."""
    run = current_run()
    if run is not None and run.active:
        return
    domain, family, knobs = knobs_from_state()
    if domain is None:
        st.session_state[START_MSG_KEY] = _("Read your data first: upload files or paste items, then press **Read**.")
        return
    last = run.snapshot() if run is not None else None
    if last is not None and last.step > 0:                      # the run this one follows: kept for comparison
        past = [s for s in st.session_state.get(PAST_KEY, []) if s.run_id != last.run_id]
        st.session_state[PAST_KEY] = (past + [last])[-(COMPARED_RUNS - 1):]
    st.session_state.pop(MSG_KEY, None)
    st.session_state.pop(START_MSG_KEY, None)
    try:
        client = client_key()
        run = get_manager().press(owner_key(), "step" if step else "start",
                                  lambda: TrainingRun(domain, family, knobs, client=client))
    except BrowserRefused as e:
        st.session_state[START_MSG_KEY] = plain(e, 400)
        return
    except TooManyRuns:
        st.session_state[START_MSG_KEY] = _too_many_text()
        return
    st.session_state[RUN_KEY] = run


def _do(button: str) -> None:
    """Pause, Resume, Step once (on a paused run) or Stop this tab's run."""
    get_manager().press(owner_key(), button)


def controls(status: str | None) -> None:
    # while a stopped run finishes its step ("stopping"), every button waits for it
    active, stopping = status in ACTIVE, status == "stopping"
    c = st.columns(4)
    c[0].button(_("Start"), key="lt_start", type="primary", icon=":material/play_arrow:", disabled=active or stopping,
                on_click=_start, use_container_width=True)
    if status == "paused":
        c[1].button(_("Resume"), key="lt_resume", icon=":material/resume:", on_click=_do, args=("resume",),
                    use_container_width=True)
    else:
        c[1].button(_("Pause"), key="lt_pause", icon=":material/pause:", disabled=status not in ("running",
                    "starting", "queued"), on_click=_do, args=("pause",), use_container_width=True)
    if status == "paused":
        c[2].button(_("Step once"), key="lt_step", icon=":material/skip_next:", on_click=_do, args=("step",),
                    use_container_width=True, help=_("Make one training step and redraw everything."))
    else:
        c[2].button(_("Step once"), key="lt_step", icon=":material/skip_next:", disabled=active or stopping,
                    on_click=_start, kwargs=dict(step=True),
                    use_container_width=True, help=_("Start paused and make one training step: slow motion."))
    c[3].button(_("Stop"), key="lt_stop", icon=":material/stop:", disabled=not active, on_click=_do, args=("stop",),
                use_container_width=True)
    if st.session_state.get(START_MSG_KEY) and not active:
        st.warning(st.session_state[START_MSG_KEY], icon=":material/block:")


def step_controls(run: TrainingRun | None, status: str | None) -> None:
    """GAN Lab's slow controls for an active run: slow motion (one step a second, each drawn) and, paused, a
    step of a GAN's discriminator or generator alone."""
    if run is None or status not in ("running", "paused", "starting"):
        return
    c = st.columns(3, vertical_alignment="center")
    key = f"lt_slow_{run.run_id}"
    st.session_state[key] = run.slow            # the run's own state, whoever changed it last
    c[0].toggle(_("Slow motion"), key=key, on_change=_slow, args=(run.run_id, key),
                help=_("One step a second, each step's samples and figures drawn. Switch it off for full speed."))
    if run.family != "gan":
        return
    paused = status == "paused"
    hint = "" if paused else " " + _("Pause first.")
    c[1].button(_("Step D only"), key="lt_step_d", icon=":material/gavel:", disabled=not paused, on_click=_do,
                args=("step_d",), use_container_width=True,
                help=_("One update of the discriminator alone: the generator does not change, so only D's "
                       "figures move.") + hint)
    c[2].button(_("Step G only"), key="lt_step_g", icon=":material/brush:", disabled=not paused, on_click=_do,
                args=("step_g",), use_container_width=True,
                help=_("One update of the generator alone, against a discriminator that does not change.") + hint)


def _slow(run_id: str, key: str) -> None:
    run = current_run()
    if run is not None and run.run_id == run_id:
        run.slow_motion(bool(st.session_state.get(key)))


def _too_many_text() -> str:
    n = get_manager().max_per_client
    return ngettext("You already have a training run going (perhaps in another tab). This server trains only one "
                    "run per browser at a time, so that everyone gets a turn: stop that run first.",
                    "You already have {n} training runs going (perhaps in other tabs). This server trains at "
                    "most {n} runs per browser at a time, so that everyone gets a turn: stop one first.", n
                    ).format(n=n)


def live_panel(status_at_full_run: str | None) -> None:
    """The polling fragment: heartbeat + redraw; a full rerun when the run changes mode (buttons update)."""

    @st.fragment(run_every=poll_interval(st.session_state.get(SEEN_KEY) if status_at_full_run else None))
    def _panel():
        with guard(_("the live training panel")):   # a fragment rerun runs outside the page-level guard
            run = current_run()
            if run is None:
                st.info(_("Pick what to learn and press **Start**, or **Step once** to go in slow motion."))
                return
            run.heartbeat()
            snap = run.snapshot()
            if _mode(snap.shown_status, _stepping(run, snap)) != st.session_state.get(SEEN_KEY):
                st.rerun()                # the run started/paused/finished: redraw buttons, change polling
            draw(run, snap)
            compare_view(snap, st.session_state.get(PAST_KEY, []))

    _panel()


# ------------------------------------------------------------------------------------------------ save
def may_save() -> bool:
    """Anyone saves, except on a class server (SEQGEN_CLASSROOM=1), where only the teacher of a class that is
    still on does (the store checks the teacher's secret): a student's run, and its data set, stay in the
    student's session."""
    if not classroom():
        return True
    from seqgen.classroom import ClassError, get_store

    from . import classroom as klass
    if klass.role() != "teacher":
        return False
    try:
        get_store().teacher_state(klass.code(), klass.secret())
    except ClassError:
        return False
    return True


def _save() -> None:
    run = current_run()
    name = st.session_state.get("lt_save_name", "")
    if not may_save():                      # a callback a forged message reached
        return
    try:
        path = run.save(name, replace=bool(st.session_state.get("lt_replace")), owner=client_key())
        st.cache_data.clear()                 # other pages' cached model lists pick it up at once
        st.session_state[MSG_KEY] = ("ok", _("Saved as **{name}** in your models folder. Open the Latent explorer "
                                             "(VAE) or the other pages and pick it from the model list.").format(
            name=plain(path.name, 64)))
    except CheckpointError as e:
        st.session_state[MSG_KEY] = ("error", plain(without_paths(e), 400))
    except Exception as e:  # noqa: BLE001 - a callback's error would reach the browser as a traceback
        st.session_state[MSG_KEY] = ("error", _("The model could not be saved: {error}").format(
            error=plain(without_paths(e) or type(e).__name__, 300)))


def save_panel(run: TrainingRun | None, status: str | None) -> None:
    if run is None or status in ("queued", "starting", "diverged", "error", None):
        return
    st.page_link(PAGES["compare"].file, icon=PAGES["compare"].icon,
                 label=_("Side by side: this run at an earlier step beside the same run now, or beside a shipped "
                         "model"))
    if not may_save():
        st.caption(_("Saving is switched off on this class server: what you train here is for watching."))
        return
    st.subheader(_("Save this model"))
    if classroom():
        st.caption(_("You are the teacher: a model you save here (with its data set) opens on every student's "
                     "pages."))
    st.session_state.setdefault("lt_save_name", f"my-{get_domain(run.domain_name).stem}-{run.family}")
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    c1.text_input(_("Name"), key="lt_save_name", max_chars=64,
                  help=_("Letters, digits, '-', '_' or '.'; shipped model names are taken."))
    c2.checkbox(_("replace"), key="lt_replace", help=_("Overwrite a model of yours with the same name."))
    c3.button(_("Save"), key="lt_save", icon=":material/save:", on_click=_save, use_container_width=True)
    msg = st.session_state.get(MSG_KEY)
    if msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])
    st.caption(_("Settings: {settings}. You can save while it trains (the weights as they are at that moment) "
                 "or after it stops.").format(settings=plain(settings_line(run.knobs), 400)))


# ------------------------------------------------------------------------------------------------ page
def now_training(run: TrainingRun | None, status: str | None) -> None:
    """While a run is active: what it trains, since the widgets may already show the next run's settings."""
    if run is not None and status in ACTIVE:
        st.caption(_("Training now: {what} with {settings}. The settings above apply to the next run.").format(
            what=f"{domain_word(get_domain(run.domain_name).picker_title)} {run.family.upper()}",
            settings=plain(settings_line(run.knobs), 400)))
        running_knobs(run, status)


def running_knobs(run: TrainingRun | None, status: str | None) -> None:
    """The knobs a training run takes while it trains (learning rate, gradient clipping, D steps: field
    metadata live.while_running), set on the run itself from its next step. The curves mark each change, on
    the owner's screen and, for a class run, on every student's."""
    if run is None or status not in ("running", "paused", "starting"):
        return
    knobs = [k for k in knobs_for(run.domain_name, run.family) if k.while_running]
    if not knobs:
        return
    st.caption(_("Change while it trains (from its next step; the curves mark the step):"))
    cols = st.columns(len(knobs))
    for col, knob in zip(cols, knobs):
        key = f"lt_now_{run.run_id}_{knob.name}"
        st.session_state[key] = run.knobs[knob.name]     # the run's value, whoever changed it last
        _knob_widget(col, knob, key, False, on_change=_change_running, args=(run.run_id, knob.name, key))


def _change_running(run_id: str, name: str, key: str) -> None:
    run = current_run()
    if run is None or run.run_id != run_id:
        return
    try:
        run.change(name, st.session_state.get(key))
    except ValueError:              # a forged value: the widget shows the run's own value again
        pass


def reset() -> None:
    """The page's "Start this page over": its settings back to the defaults (a run keeps going)."""
    reset_button(("lt_k_", "lt_domain", "lt_family", SHADOW_KEY, MSG_KEY, START_MSG_KEY, "lt_save_name",
                  "lt_replace", PAST_KEY, "lt_own"), key="lt_reset")


def sidebar_status() -> None:
    """For app.py: a small line in the sidebar on every page while a run is active; it also heartbeats the run,
    so the run is not treated as abandoned while the user explores other pages."""
    run = current_run()
    if run is None or not run.active:
        return

    @st.fragment(run_every=5.0)
    def _line():
        with guard(_("the live training status")):
            r = current_run()
            if r is None or not r.active:
                return
            r.heartbeat()
            s = r.snapshot()
            st.caption(_("Live training: {what}, step {step}/{total} ({status})").format(
                what=f"{domain_word(get_domain(s.domain).picker_title)} {s.family.upper()}", step=s.step,
                total=s.total_steps, status=_(STATUS_WORDS.get(s.status, s.status))))

    with st.sidebar:
        _line()
