"""What class mode draws on more than one screen: the class's drawings on the latent map, and the class run
(published by the teacher's app process, read from the store by every student's, on any process).

The class run costs no training per viewer: one thread in the teacher's process (`publish`) copies the run's
snapshot into the store about once a second (ClassRun: status, curves, the samples as one PNG); a student's
page reads that row every RUN_POLL_S in a fragment, and draws it.
"""
from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import streamlit as st

from seqgen.classroom import ClassError, ClassRun, get_store

from .i18n import _, current
from .live_copy import change_sentence
from .widgets import guard, plain

MAP_MODEL = "digits-vae"       # the class's drawings are placed by the shipped digits VAE
DRAWINGS_DOMAIN = "digits"     # what the class draws: its drawings are items of this data
LIM = 4.0
RUN_POLL_S = 2.0               # a student's view of the class run reads the store this often
PUBLISH_EVERY_S = 1.0
_publishers: dict[str, threading.Thread] = {}
_publishers_lock = threading.Lock()


# ------------------------------------------------------------------------------------------------ the map
def map_ref():
    """The reference of the model that places drawings, or None when this server does not have it."""
    from . import resources
    if MAP_MODEL not in resources.model_names():
        return None
    return resources.ref(MAP_MODEL)


def map_figure(ref, traces: list[dict]) -> dict:
    """The model's map of held-out examples (faded) under the class's own points."""
    from . import compute
    base = compute.latent_map_base(ref, LIM) if ref is not None else {"data": [], "layout": {}}
    data = [{**t, "opacity": 0.25, "hoverinfo": "skip", "showlegend": False} for t in base["data"]]
    layout = dict(base.get("layout", {}))
    # a square map in a wide column: the plot narrows (constrain) rather than the x range widening
    layout.update(height=460, showlegend=True, xaxis={**layout.get("xaxis", {}), "constrain": "domain"})
    return {"data": data + traces, "layout": layout}


def drawings_map(points, key: str) -> None:
    """The class's drawings as the teacher showed them: [x, y, guess] each, on the map."""
    with st.container(key=f"{key}_box"):
        st.markdown(_("**The class's drawings on the map**: where the model puts each one, labelled with what the "
                      "classifier reads in it."))
        xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
        text = [str(int(p[2])) if p[2] is not None else "?" for p in points]
        trace = {"type": "scatter", "x": xs, "y": ys, "text": text, "mode": "markers+text", "name": _("drawings"),
                 "textposition": "top center", "marker": {"size": 14, "symbol": "star", "color": "#e31a1c"}}
        with guard(_("the class map")):
            st.plotly_chart(map_figure(map_ref(), [trace]), key=key, theme=None, config={"displaylogo": False})


def place_drawings(ref, drawings) -> list[list]:
    """[x, y, guess] for each drawing: the encoder's mean and the reference classifier's reading."""
    from . import compute
    out = []
    for d in drawings:
        image = np.array(d.array())
        enc = compute.encode_artifact(ref, image) if ref is not None else None
        mu = enc["mu"] if enc is not None else (0.0, 0.0)
        guess = compute.recognise(DRAWINGS_DOMAIN, image)
        out.append([round(float(mu[0]), 3), round(float(mu[1]) if len(mu) > 1 else 0.0, 3),
                    None if guess is None else int(guess[0])])
    return out


# ------------------------------------------------------------------------------------------------ the class run
def _run_id(snap) -> str:
    """A class run's id: its domain and family (the view draws by them) and this process's run id."""
    return f"{snap.domain}.{snap.family}.p{os.getpid()}-{snap.run_id}"


def _samples(snap) -> tuple[bytes | None, str]:
    """The run's samples as one PNG (pictures, piano rolls), or as a line of text (names)."""
    if not snap.samples:
        return None, ""
    from seqgen.domains import get_domain
    from seqgen.render import png_bytes

    from .widgets import classroom_safe
    domain = get_domain(snap.domain)
    cols = 10 if len(snap.samples) == 20 else 4
    picture = domain.picture(list(snap.samples), cols=cols, scale=3)
    if picture is not None:
        return png_bytes(picture), ""
    return None, " · ".join(classroom_safe([domain.describe(a) for a in snap.samples], on=True))


def publish(run, class_code: str, class_secret: str) -> None:
    """Copy `run`'s snapshots into the class (a thread per run, in this process) until it finishes or the
    class ends. The thread also heartbeats the run: the class is watching it."""
    with _publishers_lock:
        found = _publishers.get(run.run_id)
        if found is not None and found.is_alive():
            return
        thread = threading.Thread(target=_publish_loop, args=(run, class_code, class_secret), daemon=True,
                                  name=f"class-run-{run.run_id}")
        _publishers[run.run_id] = thread
    thread.start()


def publishing(run) -> bool:
    found = _publishers.get(getattr(run, "run_id", None))
    return found is not None and found.is_alive()


def _publish_loop(run, class_code: str, class_secret: str) -> None:
    store, last = get_store(), None
    while True:
        run.heartbeat()
        snap = run.snapshot()
        if snap.version != last:
            last = snap.version
            try:
                png, words = _samples(snap)
                shown = ClassRun.from_snapshot(snap, png)
                store.publish_run(class_code, class_secret, ClassRun(
                    _run_id(snap), shown.status, (words or shown.message)[:500], shown.step, shown.total_steps,
                    shown.queue_position, shown.curves, shown.samples_png, changes=shown.changes))
            except ClassError:
                return                     # the class ended: nobody to show it to
        if snap.finished:
            return
        time.sleep(PUBLISH_EVERY_S)


def _as_snapshot(run: ClassRun) -> SimpleNamespace:
    """What live_figures.loss_figure reads of a snapshot, from a class run's stored curves."""
    domain, family = run.run_id.split(".")[:2]
    history = {k: v for k, v in run.curves.items() if not k.startswith("val ")}
    validation = {k[4:]: v for k, v in run.curves.items() if k.startswith("val ")}
    return SimpleNamespace(history=history, validation=validation, family=family, domain=domain,
                           changes=run.changes)


def class_run_view(class_code: str) -> None:
    """A student's view of the class run: status, curves and samples, refreshed from the store."""
    try:
        runs = get_store().class_runs(class_code)
    except ClassError:
        return
    if not runs:
        return
    active = runs[-1].status in ("queued", "starting", "running", "paused")

    @st.fragment(run_every=RUN_POLL_S if active else None)
    def _view():
        with guard(_("the class run")):
            try:
                found = get_store().class_runs(class_code)
            except ClassError:
                return
            if found:
                draw_class_run(found[-1])

    with st.container(border=True, key="class_run"):
        _view()


@st.cache_resource(max_entries=8, show_spinner=False)
def _class_run_figure(run_id: str, updated: float, language: str, _run: ClassRun):
    """The class run's curves, made once per published snapshot and language in this process: every watcher's
    view reruns every 2 s and shares it (plotly_chart only reads the figure)."""
    from .live_figures import loss_figure
    return loss_figure(_as_snapshot(_run))


def draw_class_run(run: ClassRun) -> None:
    from .live_view import STATUS_WORDS
    st.markdown(_("**The class run** (the teacher's): step {step} of {total}, {status}.").format(
        step=run.step, total=run.total_steps, status=_(STATUS_WORDS.get(run.status, run.status))))
    if run.message:
        st.caption(plain(run.message, 300))
    st.progress(min(1.0, run.step / max(1, run.total_steps)))
    if run.changes:
        st.caption(change_sentence(run.changes[-1]))
    shape = _as_snapshot(run)
    if shape.history.get("step") and shape.family in ("vae", "gan"):
        st.plotly_chart(_class_run_figure(run.run_id, run.updated, current(), run), key="class_run_curves",
                        theme=None, config={"displaylogo": False})
    if run.samples_png:
        st.image(run.samples_png, caption=_("The class run's samples at step {step}").format(step=run.step),
                 output_format="PNG", width="content", alt=_("samples of the class run at step {step}").format(
                     step=run.step))
