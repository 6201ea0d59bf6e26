"""Guards for the server's cost per interaction with a class on one server (no timings: counts and settings).

- Streamlit's full garbage collection after every script run is off in the config the app runs with.
- The latent explorer's map goes through plotly's validation once per model, not once per slider move,
  and what st.plotly_chart sends is the same figure as the plain-dict path would send; so is a piano roll
  (once per roll; its ▶ button's frames once per length).
- A domain's judge (reference model) is read from disk once per version, without touching the random stream.
- Every script thread gets one torch thread, even after something set the process default back to 2.
- A live training thread names itself in the OS and keeps the server's priority.
- OpenMP's wait policy is set before the app's imports load torch.
The load itself is measured by benchmarks/load.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tomllib

import plotly.graph_objs as go
import pytest
import torch
from st_helpers import REPO, page_app
from streamlit.testing.v1 import AppTest

from seqgen.training.live import RunManager, TrainingRun


def test_post_script_gc_is_off_in_the_app_config():
    import streamlit.config as stconfig
    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert "runner.postScriptGC" in stconfig.get_config_options()       # the option Streamlit reads
    assert cfg["runner"]["postScriptGC"] is False


@pytest.fixture
def figure_inits(monkeypatch):
    """Counts plotly Figure constructions (the validation a plain dict goes through in st.plotly_chart)."""
    calls = []
    orig = go.Figure.__init__

    def init(self, *args, **kw):
        calls.append(1)
        return orig(self, *args, **kw)
    monkeypatch.setattr(go.Figure, "__init__", init)
    return calls


def _map_script():
    import streamlit as st

    from seqgen.ui import compute, figures, resources
    ref = resources.ref("digits-vae")
    i = st.session_state.setdefault("i", 0)
    st.session_state.i = i + 1
    z = (round(-2 + 0.25 * i, 2), 0.5)
    marks = {"A": (-1.5, 0.0, "diamond", "#ff7f0e")}
    box = (-2.0, 2.0, -1.5, 1.5)
    st.plotly_chart(compute.latent_map_chart(ref, 4.0, z, marks=marks, box=box), key="fast", theme=None)
    if st.session_state.get("compare"):
        st.plotly_chart(figures.latent_map_figure(compute.latent_map_base(ref, 4.0), z, marks=marks, box=box),
                        key="plain", theme=None)


def _clear_map_caches():
    from seqgen.ui import compute
    compute.latent_map_base.clear()
    compute._validated_map_base.clear()


def test_map_figure_is_validated_once_per_model_across_reruns(figure_inits):
    _clear_map_caches()
    at = AppTest.from_function(_map_script, default_timeout=120).run()
    assert not at.exception, at.exception
    assert len(figure_inits) == 1                       # the model's static traces, once
    specs = {at.get("plotly_chart")[0].proto.spec}
    for _ in range(4):
        at.run()
        assert not at.exception, at.exception
        specs.add(at.get("plotly_chart")[0].proto.spec)
    assert len(figure_inits) == 1, "a rerun validated the map again"
    assert len(specs) == 5                              # each rerun still sent its own z


def test_validated_map_is_the_figure_the_plain_dict_would_give():
    at = AppTest.from_function(_map_script, default_timeout=120)
    at.session_state["compare"] = True
    at.run()
    assert not at.exception, at.exception
    fast, plain = at.get("plotly_chart")
    assert json.loads(fast.proto.spec) == json.loads(plain.proto.spec)


def test_explorer_page_validates_the_map_once_per_model(figure_inits):
    at = page_app("latent", timeout=120)
    at.query_params["model"] = "digits-vae"
    at.run()
    at.toggle(key="le_classic").set_value(True).run()
    assert not at.exception, at.exception
    before = len(figure_inits)
    for v in (0.5, 1.0, 1.5):
        at.slider(key="le_z0").set_value(v).run()
        assert not at.exception, at.exception
    assert len(figure_inits) == before


def _threads_script():
    import threading

    import streamlit as st
    import torch

    from seqgen.ui import resources
    resources.configure_torch()
    seen = {"script": torch.get_num_threads()}
    t = threading.Thread(target=lambda: seen.__setitem__("later", torch.get_num_threads()))
    t.start()
    t.join()
    st.session_state.seen = seen


def test_every_script_thread_gets_one_torch_thread():
    old = torch.get_num_threads()
    try:
        for _ in range(2):
            torch.set_num_threads(2)        # something put the process default back (a test, a library)
            at = AppTest.from_function(_threads_script).run()
            assert not at.exception, at.exception
            assert at.session_state["seen"] == {"script": 1, "later": 1}
    finally:
        torch.set_num_threads(old)


def test_training_thread_names_itself_at_the_servers_priority(toy_domains):
    """benchmarks/load.py tells the training threads' CPU from the server's by this name; a lower priority
    was measured to stall the pages (the thread holds the GIL while descheduled), so it keeps the caller's."""
    manager = RunManager(max_runs=1, idle_timeout=60)
    run = TrainingRun("toy_rows", "vae", dict(hidden=16, embed=8, batch_size=16, steps=10**6), manager=manager)
    try:
        run.start()
        end = time.monotonic() + 20
        while run.snapshot().step < 2 and time.monotonic() < end:
            time.sleep(0.02)
        tid = run.native_id
        assert tid is not None and tid != threading.get_native_id()
        with open(f"/proc/self/task/{tid}/comm") as f:
            assert f.read().strip() == f"seqgen-{run.run_id}"[:15]
        assert os.getpriority(os.PRIO_PROCESS, tid) == os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    finally:
        manager.shutdown()


def test_openmps_wait_policy_is_set_before_the_app_loads_torch():
    """libgomp reads OMP_WAIT_POLICY once, when torch loads; app.py's imports load torch, so it must come first."""
    script = ("import builtins, os\n"
              "orig, seen = builtins.__import__, {}\n"
              "def imp(name, *a, **k):\n"
              "    if name == 'torch' and 'policy' not in seen:\n"
              "        seen['policy'] = os.environ.get('OMP_WAIT_POLICY')\n"
              "    return orig(name, *a, **k)\n"
              "builtins.__import__ = imp\n"
              "import app\n"
              "print(seen.get('policy', 'torch not loaded'))\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "PASSIVE", done.stdout + done.stderr


def _roll_script():
    import streamlit as st

    from seqgen.kinds.melody import Note
    from seqgen.ui.kinds.melody import piano_roll_chart, piano_roll_figure
    notes = (Note(60, 0, 4), Note(64, 4, 4), Note(67, 8, 8), Note(72, 16, 16))
    if st.session_state.get("next_melody"):     # New melody: other notes, another title
        notes = (Note(57, 0, 8), Note(59, 8, 4), Note(81, 12, 20))
    st.plotly_chart(piano_roll_chart(notes, title="seed 3", tempo=120), key="fast", theme=None)
    st.plotly_chart(piano_roll_chart(notes, height=220, yours_until=16), key="fast_start", theme=None)
    if st.session_state.get("compare"):
        st.plotly_chart(piano_roll_figure(notes, title="seed 3", tempo=120), key="plain", theme=None)
        start = piano_roll_figure(notes, height=220)
        start["layout"]["shapes"].append({"type": "rect", "x0": 0, "x1": 16, "yref": "paper", "y0": 0, "y1": 1,
                                          "fillcolor": "rgba(255,127,14,0.12)", "line": {"width": 0}})
        st.plotly_chart(start, key="plain_start", theme=None)


def test_a_piano_roll_is_validated_once_and_is_the_figure_the_plain_dict_would_give(figure_inits):
    """The Music page redraws four piano rolls on every rerun; the ▶ button's 65 frames made each one cost
    tens of milliseconds of plotly validation. A new melody's roll differs from an empty one only in its notes,
    its pitch axis and its title, so plotly validates the empty roll once and no new roll at all."""
    from seqgen.ui.kinds import melody
    melody._validated_roll.clear()
    melody._validated_empty_roll.clear()
    melody._validated_follow_frames.clear()
    at = AppTest.from_function(_roll_script, default_timeout=120).run()
    assert not at.exception, at.exception
    made = len(figure_inits)
    assert made <= 3                                    # two rolls and the frames, once
    at.run()
    assert len(figure_inits) == made, "a rerun validated a piano roll again"
    at.session_state["next_melody"] = True
    at.run()
    assert len(figure_inits) == made, "a new melody's roll was validated whole: only its notes are new"
    at.session_state["compare"] = True
    at.run()
    fast, fast_start, plain, plain_start = at.get("plotly_chart")
    assert json.loads(fast.proto.spec) == json.loads(plain.proto.spec)
    assert json.loads(fast_start.proto.spec) == json.loads(plain_start.proto.spec)
    assert len(json.loads(fast.proto.spec)["frames"]) == 65


def test_a_judge_is_read_from_disk_once_per_version_and_never_moves_the_random_stream(monkeypatch, tmp_path):
    """The Text page judges every batch with the names LM, the Noise page every picture with a classifier,
    and a live GAN run every check: reading the checkpoint each time was a fifth of the Noise page's rerun.
    Reading it must not draw from torch's random stream, or a live run's course would depend on whether the
    judge was already cached."""
    import copy
    import os
    import shutil

    from seqgen import get_domain
    from seqgen.kinds import base
    reads = []
    real_load = base.load
    monkeypatch.setattr(base, "load", lambda *a, **k: reads.append(a) or real_load(*a, **k))
    folder = tmp_path / "names-lm"
    shutil.copytree(REPO / "checkpoints" / "names-lm", folder)
    names = copy.copy(get_domain("names"))
    names.reference_model = str(folder)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = names.reference()
    assert torch.equal(torch.rand(3), expected)              # the random stream is where it was
    assert first is not None and names.reference() is first and len(reads) == 1
    weights = folder / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))   # saved again
    assert names.reference() is not first and len(reads) == 2
