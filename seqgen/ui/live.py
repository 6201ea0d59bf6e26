"""Streamlit side of the Live training page (the run itself lives in seqgen.training.live, no Streamlit there).

The run's handle is kept in st.session_state["lt_run"], so it survives page switches; a fragment polls its
snapshot about twice a second while it trains (and heartbeats it, so an abandoned tab frees its slot);
buttons are on_click callbacks that only flip the run's flags. Nothing here blocks on training.

The domains offered are those with Live training presets ("<domain>-<family>-live", seqgen.presets); the
knobs are the config settings with live metadata (seqgen.training.live.knobs_for), worded by live_copy.
"""
from __future__ import annotations

import binascii
import hashlib
import math
import uuid

# plotly looks pandas up in sys.modules and uses it even while another thread is still importing it
# ("partially initialized module 'pandas'" when several sessions start at once); importing it here, before
# any fragment draws a chart, makes every later lookup find it complete.
import pandas  # noqa: F401
import streamlit as st

from seqgen.checkpoints import CheckpointError
from seqgen.domains import get_domain
from seqgen.presets import live_choices
from seqgen.training.live import ACTIVE, TrainingRun, describe_knobs, get_manager, knobs_for, live_defaults
from seqgen.training.live.manager import TooManyRuns

from . import show
from .live_copy import family_title, knob_text
from .live_figures import latent_figure, loss_figure
from .widgets import guard, plain, without_paths

RUN_KEY = "lt_run"
SEEN_KEY = "lt_seen_mode"          # polling mode the last full run was drawn for
SHADOW_KEY = "lt_widget_values"    # our own copy of the settings, restored after a page switch
MSG_KEY = "lt_save_msg"
START_MSG_KEY = "lt_start_msg"
CLIENT_KEY = "lt_client"           # who this session counts as for the per-client cap (see client_key)
SESSION_ID_KEY = "lt_session_id"
# seconds between polls (paused: heartbeat only)
POLL = {"running": 0.5, "starting": 0.5, "queued": 1.0, "paused": 5.0}


# ------------------------------------------------------------------------------------------------ state
def current_run() -> TrainingRun | None:
    return st.session_state.get(RUN_KEY)


def poll_interval(status: str | None) -> float | None:
    return POLL.get(status) if status else None


def _mode(status: str | None) -> str:
    return {"starting": "running"}.get(status, status or "none")


def client_key() -> str:
    """Who this browser session is, for RunManager's per-client cap. Streamlit has no user identity, so:
    the browser (its XSRF cookie, which every tab of one browser shares), else the remote address (None
    on localhost), else this session's own id. The cookie comes first so that a class behind one NAT
    address is not counted as one person."""
    session_id = st.session_state.setdefault(SESSION_ID_KEY, uuid.uuid4().hex)
    try:
        cookie = st.context.cookies.get("_streamlit_xsrf")
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no context (a bare script run): fall back to the session
        cookie = address = None
    if isinstance(cookie, str) and cookie:
        return "browser:" + hashlib.sha256(_xsrf_token(cookie)).hexdigest()[:16]
    if isinstance(address, str) and address:
        return "address:" + address
    return "session:" + session_id


def _xsrf_token(cookie: str) -> bytes:
    """The raw token of tornado's XSRF cookie ("2|mask|masked token|time"); the value itself otherwise."""
    parts = cookie.split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
    except (binascii.Error, ValueError, ZeroDivisionError):
        pass
    return cookie.encode()


def session() -> tuple[TrainingRun | None, str | None]:
    """The session's run and its status at the start of this script run (heartbeats it)."""
    st.session_state[CLIENT_KEY] = client_key()       # callbacks read it: they run before the script
    run = current_run()
    status = run.snapshot().status if run is not None else None
    st.session_state[SEEN_KEY] = _mode(status)
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


def _remember(keys) -> None:
    shadow = st.session_state.setdefault(SHADOW_KEY, {})
    for k in keys:
        if k in st.session_state:
            shadow[k] = st.session_state[k]


# ------------------------------------------------------------------------------------------------ settings
def _fmt_option(v):
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).upper() if isinstance(v, str) else str(v)


def _choose(key: str, options) -> str:
    """A valid current choice for the radio `key` (the first option when the stored one is gone)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return st.session_state[key]


def _knob_widget(col, knob, key: str, disabled: bool):
    """The widget a knob's metadata asks for -> its value."""
    label, help_text = knob_text(knob)
    kw = dict(key=key, help=help_text, disabled=disabled)
    if knob.options and knob.type is str:
        return col.radio(label, knob.options, horizontal=True, format_func=_fmt_option, **kw)
    if knob.options:
        return col.select_slider(label, knob.options, format_func=_fmt_option, **kw)
    if knob.type is bool:
        return bool(col.toggle(label, **kw))
    cast = int if knob.type is int else float
    widget = col.number_input if knob.input == "number" else col.slider
    return cast(widget(label, cast(knob.min), cast(knob.max), step=cast(knob.step), **kw))


def settings(disabled: bool = False) -> tuple[str, str, dict]:
    """Domain, family and knob widgets (one-line help each) -> (domain, family, knob values)."""
    restore_widgets()
    choices = live_choices()
    domains = list(choices)
    _choose("lt_domain", domains)
    c1, c2 = st.columns(2)
    domain = c1.radio("What to learn", domains, key="lt_domain", disabled=disabled, horizontal=True,
                      format_func=lambda d: get_domain(d).picker_title or get_domain(d).title)
    _choose("lt_family", choices[domain])
    family = c2.radio("Model family", choices[domain], key="lt_family", format_func=family_title,
                      disabled=disabled, horizontal=True)
    defaults = live_defaults(domain, family)
    values, keys = {}, ["lt_domain", "lt_family"]
    cols = st.columns(3)
    for i, knob in enumerate(knobs_for(domain, family)):
        key = knob_key(domain, family, knob.name)
        keys.append(key)
        st.session_state.setdefault(key, defaults[knob.name])
        values[knob.name] = _knob_widget(cols[i % 3], knob, key, disabled)
    _remember(keys)
    return domain, family, values


# ------------------------------------------------------------------------------------------------ controls
def knobs_from_state() -> tuple[str, str, dict]:
    """The settings as they are at click time (callbacks run before the script, so args would be stale)."""
    choices = live_choices()
    domain = st.session_state.get("lt_domain")
    domain = domain if domain in choices else next(iter(choices))
    family = st.session_state.get("lt_family")
    family = family if family in choices[domain] else choices[domain][0]
    values = live_defaults(domain, family)
    for k in knobs_for(domain, family):
        key = knob_key(domain, family, k.name)
        if key in st.session_state:
            values[k.name] = st.session_state[key]
    return domain, family, values


def _start(paused: bool = False, step: bool = False) -> None:
    run = current_run()
    if run is not None and run.active:      # one run per session: a second Start does nothing
        return
    domain, family, knobs = knobs_from_state()
    st.session_state.pop(MSG_KEY, None)
    st.session_state.pop(START_MSG_KEY, None)
    run = TrainingRun(domain, family, knobs, manager=get_manager())
    run.client = st.session_state.get(CLIENT_KEY) or client_key()
    try:
        run.start(paused=paused or step)
    except TooManyRuns as e:
        st.session_state[START_MSG_KEY] = str(e)
        return
    st.session_state[RUN_KEY] = run
    if step:
        run.step_once()


def _do(action: str) -> None:
    run = current_run()
    if run is not None:
        getattr(run, action)()


def controls(status: str | None) -> None:
    active = status in ACTIVE
    c = st.columns(4)
    c[0].button("Start", key="lt_start", type="primary", icon=":material/play_arrow:", disabled=active,
                on_click=_start, use_container_width=True)
    if status == "paused":
        c[1].button("Resume", key="lt_resume", icon=":material/resume:", on_click=_do, args=("resume",),
                    use_container_width=True)
    else:
        c[1].button("Pause", key="lt_pause", icon=":material/pause:", disabled=status not in ("running", "starting",
                    "queued"), on_click=_do, args=("pause",), use_container_width=True)
    if status == "paused":
        c[2].button("Step once", key="lt_step", icon=":material/skip_next:", on_click=_do, args=("step_once",),
                    use_container_width=True, help="Make one training step and redraw everything.")
    else:
        c[2].button("Step once", key="lt_step", icon=":material/skip_next:", disabled=active,
                    on_click=_start, kwargs=dict(step=True),
                    use_container_width=True, help="Start paused and make one training step: slow motion.")
    c[3].button("Stop", key="lt_stop", icon=":material/stop:", disabled=not active, on_click=_do, args=("stop",),
                use_container_width=True)
    if st.session_state.get(START_MSG_KEY) and not active:
        st.warning(plain(st.session_state[START_MSG_KEY], 400), icon=":material/block:")


# ------------------------------------------------------------------------------------------------ pictures
def samples_view(snap) -> None:
    arts = snap.samples
    if not arts:
        st.caption("Samples appear after the model is built.")
        return
    labels = snap.sample_labels
    if snap.family == "vae" and snap.latent is not None:  # 2-D VAE: the trainer previews a grid
        source = ("a fixed 4×4 grid of latent points from (−1.5, 1.5) at the top left to (1.5, −1.5) at the "
                  "bottom right: the same points every time")
    else:
        source = "the same random inputs every time"
    st.markdown(f"**Samples** (step {snap.samples_step}) from {source}, so you watch the *same* samples "
                "improve." + (" Requested labels: " + " ".join(labels[:10]) if labels else ""))
    cols = 10 if len(arts) == 20 else 4          # conditional previews hold two rows of ten labels
    show.gallery(get_domain(snap.domain), list(arts), cols=cols, labels=list(labels) if labels else None,
                 key="lt_samples")


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


STATUS_ICON = {"queued": "⏳", "starting": "⚙️", "running": "🏃", "paused": "⏸️", "done": "✅", "stopped": "⏹️",
               "diverged": "💥", "error": "❌"}


def draw(snap) -> None:
    """Everything the fragment shows for one snapshot."""
    with st.container(key="lt_status"):
        text = f"{STATUS_ICON.get(snap.status, '')} **{snap.status}**: {plain(without_paths(snap.message), 400)}"
        if snap.status in ("diverged", "error"):
            st.error(text)
        else:
            st.markdown(text)
    st.progress(snap.progress, text=f"step {snap.step}/{snap.total_steps} · {_clock(snap.elapsed)} elapsed")
    m = st.columns(4)
    m[0].metric("Steps", f"{snap.step:,}")
    m[1].metric("Elapsed", _clock(snap.elapsed))
    m[2].metric("Steps per second", f"{snap.steps_per_s:.1f}" if snap.status == "running" else "–")
    main = "loss" if snap.family == "vae" else "g_loss"
    last = next((x for x in reversed(snap.history.get(main, ())) if math.isfinite(x)), None)
    m[3].metric("Loss" if snap.family == "vae" else "G loss", "–" if last is None else f"{last:.3g}")
    if snap.history.get("step"):
        st.plotly_chart(loss_figure(snap), key="lt_loss_chart", config={"displayModeBar": False})
    left, right = st.columns([3, 2]) if snap.latent is not None else (st.container(), None)
    with left:
        samples_view(snap)
    if right is not None:
        with right:
            names = get_domain(snap.domain).label_names
            st.plotly_chart(latent_figure(snap, names), key="lt_latent_chart", config={"displayModeBar": False})
            st.caption("Means of 500 fixed validation examples, coloured by their label: watch the classes "
                       "spread out and separate as the encoder learns.")


def live_panel(status_at_full_run: str | None) -> None:
    """The polling fragment: heartbeat + redraw; a full rerun when the run changes mode (buttons update)."""

    @st.fragment(run_every=poll_interval(status_at_full_run))
    def _panel():
        with guard("the live training panel"):   # a fragment rerun runs outside the page-level guard
            run = current_run()
            if run is None:
                st.info("Pick what to learn and press **Start**, or **Step once** to go in slow motion.")
                return
            run.heartbeat()
            snap = run.snapshot()
            if _mode(snap.status) != st.session_state.get(SEEN_KEY):
                st.rerun()                # the run started/paused/finished: redraw buttons, change polling
            draw(snap)

    _panel()


# ------------------------------------------------------------------------------------------------ save
def _save() -> None:
    run = current_run()
    name = st.session_state.get("lt_save_name", "")
    try:
        path = run.save(name, replace=bool(st.session_state.get("lt_replace")))
        st.cache_data.clear()                 # other pages' cached model lists pick it up at once
        st.session_state[MSG_KEY] = ("ok", f"Saved as **{plain(path.name, 64)}** in your models folder. Open the "
                                           "Latent explorer (VAE) or the other pages and pick it from the model "
                                           "list.")
    except CheckpointError as e:
        st.session_state[MSG_KEY] = ("error", plain(without_paths(e), 400))
    except Exception as e:  # noqa: BLE001 - a callback's error would reach the browser as a traceback
        st.session_state[MSG_KEY] = ("error", "The model could not be saved: "
                                              f"{plain(without_paths(str(e) or type(e).__name__), 300)}")


def save_panel(run: TrainingRun | None, status: str | None) -> None:
    if run is None or status in ("queued", "starting", "diverged", "error", None):
        return
    st.subheader("Save this model")
    st.session_state.setdefault("lt_save_name", f"my-{run.domain_name}-{run.family}")
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    c1.text_input("Name", key="lt_save_name", max_chars=64,
                  help="Letters, digits, '-', '_' or '.'; shipped model names are taken.")
    c2.checkbox("replace", key="lt_replace", help="Overwrite a model of yours with the same name.")
    c3.button("Save", key="lt_save", icon=":material/save:", on_click=_save, use_container_width=True)
    msg = st.session_state.get(MSG_KEY)
    if msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])
    st.caption(f"Settings: {describe_knobs(run.knobs)}. You can save while it trains (the weights as they are "
               "at that moment) or after it stops.")


# ------------------------------------------------------------------------------------------------ page
def now_training(run: TrainingRun | None, status: str | None) -> None:
    """While a run is active: what it trains, since the widgets may already show the next run's settings."""
    if run is not None and status in ACTIVE:
        st.caption(f"Training now: {run.domain_name} {run.family.upper()} with {describe_knobs(run.knobs)}. "
                   "Changed settings apply to the next run.")


def sidebar_status() -> None:
    """For app.py: a small line in the sidebar on every page while a run is active; it also heartbeats the run,
    so the run is not treated as abandoned while the user explores other pages."""
    run = current_run()
    if run is None or not run.active:
        return

    @st.fragment(run_every=5.0)
    def _line():
        with guard("the live training status"):
            r = current_run()
            if r is None or not r.active:
                return
            r.heartbeat()
            s = r.snapshot()
            st.caption(f"Live training: {s.domain} {s.family.upper()}, step {s.step}/{s.total_steps} "
                       f"({s.status})")

    with st.sidebar:
        _line()
