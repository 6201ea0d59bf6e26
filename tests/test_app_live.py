"""AppTest tests of the Live training page (pages/5_live_training.py through app.py's navigation).

Each at.run() stands in for one run_every tick of the polling fragment (AppTest does not tick fragments)."""
import dataclasses
import json
import logging
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import seqgen
from seqgen.presets import live_choices
from seqgen.training.live import RunManager, TrainingRun, knobs_for, live_defaults
from seqgen.ui.live import knob_key
from seqgen.ui.live_copy import KNOB_COPY, knob_text

logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

APP = str(Path(__file__).resolve().parents[1] / "frame" / "main.py")
LIVE = "../pages/5_live_training.py"          # as the frame (frame/main.py) names it
EXPLORER = "../pages/1_latent_explorer.py"
K = "lt_k_digits_vae_"


def _run_of(at):
    try:
        return at.session_state["lt_run"]
    except KeyError:
        return None


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path))
    st.cache_data.clear()
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(LIVE).run()
    assert not app.exception, app.exception
    yield app
    run = _run_of(app)
    if run is not None:
        run.stop()
        run.join(5)


def tiny(at, steps=20_000):
    at.select_slider(key=K + "hidden").set_value(16)
    at.select_slider(key=K + "batch_size").set_value(8)
    at.number_input(key=K + "steps").set_value(steps)
    return at


def poll(at, until, timeout=30.0, every=0.3):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        assert not at.exception, at.exception
        if until(at):
            return at
        time.sleep(every)
    raise AssertionError("page never reached the expected state")


def loss_points(at) -> int:
    charts = [c for c in at.get("plotly_chart") if c.proto.id and "lt_loss_chart" in c.proto.id]
    if not charts:
        return 0
    spec = json.loads(charts[0].proto.spec)
    x = spec["data"][0]["x"]
    if isinstance(x, dict):  # plotly typed array
        import base64

        import numpy as np
        return len(np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"])))
    return len(x)


def status_text(at) -> str:
    return " ".join(m.value for m in at.markdown if "**" in m.value)


def test_page_renders_with_knobs_and_help(at):
    assert at.title[0].value == "Live training"
    keys = {w.key for w in at.select_slider} | {w.key for w in at.slider} | {w.key for w in at.radio}
    assert {K + "hidden", K + "lr", K + "batch_size", K + "latent", K + "kl_anneal_steps", K + "free_bits",
            K + "cell", "lt_domain", "lt_family"} <= keys
    defaults = live_defaults("digits", "vae")                              # the page shows the library's defaults
    assert at.select_slider(key=K + "hidden").value == defaults["hidden"] == 96
    assert at.select_slider(key=K + "lr").value == defaults["lr"] == 3e-3
    assert all(w.help for w in at.select_slider)
    assert not at.button(key="lt_start").disabled and at.button(key="lt_stop").disabled
    domains = at.radio(key="lt_domain")
    assert domains.options == [seqgen.get_domain(d).picker_title for d in live_choices()] + ["Your data"]
    assert domains.value == next(iter(live_choices()))                    # the first domain with live presets
    at.radio(key="lt_family").set_value("gan").run()                      # GAN knobs, stabilisers on
    assert at.slider(key="lt_k_digits_gan_feature_matching").value > 0
    assert at.slider(key="lt_k_digits_gan_label_smoothing").value > 0
    assert any("Start" in i.value for i in at.info)


def test_start_poll_stop_save_and_explore(at, tmp_path):
    tiny(at).button(key="lt_start").click().run()
    run = _run_of(at)
    assert run is not None and at.button(key="lt_start").disabled         # one run per session
    poll(at, lambda a: loss_points(a) >= 3)
    n1 = loss_points(at)
    poll(at, lambda a: loss_points(a) > n1)                                # the curve grows poll by poll
    assert at.get("imgs") or at.get("image")                               # fixed-noise sample mosaic
    assert _run_of(at) is run
    assert "running" in status_text(at)

    at.button(key="lt_stop").click().run()
    assert run.join(1.0)
    poll(at, lambda a: "stopped" in status_text(a))
    assert not at.button(key="lt_start").disabled

    at.text_input(key="lt_save_name").set_value("live-test").run()
    at.button(key="lt_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "live-test" in at.success[0].value
    assert (tmp_path / "live-test" / "model.safetensors").is_file()
    assert "live-test" in [r["name"] for r in seqgen.list_checkpoints()]

    at.switch_page(EXPLORER).run()                                         # the explorer lists it
    assert not at.exception, at.exception
    options = at.selectbox(key="le_model").options
    assert any("live-test" in o for o in options), options

    at.switch_page(LIVE).run()                                             # same name again: needs "replace"
    at.text_input(key="lt_save_name").set_value("live-test").run()
    at.button(key="lt_save").click().run()
    assert "replace" in at.error[0].value
    at.checkbox(key="lt_replace").check().run()
    at.button(key="lt_save").click().run()
    assert at.success and not at.error


def test_shipped_and_bad_names_are_refused(at):
    tiny(at).button(key="lt_step").click().run()                           # start paused, one step
    run = _run_of(at)
    poll(at, lambda a: run.snapshot().step >= 1 and "paused" in status_text(a))
    for bad in ("digits-vae", "../escape"):
        at.text_input(key="lt_save_name").set_value(bad).run()
        at.button(key="lt_save").click().run()
        assert at.error, bad
    assert "shipped" in at.error[0].value or "valid" in at.error[0].value


def test_pause_step_once_resume(at):
    tiny(at).button(key="lt_step").click().run()
    run = _run_of(at)
    poll(at, lambda a: run.snapshot().samples_step == 1)
    assert run.snapshot().status == "paused"
    poll(at, lambda a: "paused" in status_text(a))
    at.button(key="lt_step").click().run()                                 # slow motion: one more step
    poll(at, lambda a: run.snapshot().samples_step == 2)
    assert run.snapshot().step == 2
    at.button(key="lt_resume").click().run()
    poll(at, lambda a: run.snapshot().step > 5)
    at.button(key="lt_pause").click().run()
    poll(at, lambda a: "paused" in status_text(a))
    s1 = run.snapshot().step
    time.sleep(0.5)
    assert run.snapshot().step <= s1 + 1


def test_run_survives_page_switch(at):
    tiny(at).button(key="lt_start").click().run()
    run = _run_of(at)
    poll(at, lambda a: run.snapshot().step > 0)
    at.switch_page(EXPLORER).run()
    step = run.snapshot().step
    time.sleep(1.0)
    at.switch_page(LIVE).run()
    assert _run_of(at) is run and run.snapshot().step > step
    assert at.select_slider(key=K + "hidden").value == 16                  # settings kept across the switch
    assert loss_points(at) > 0


def test_divergence_is_explained(at, toy_domains):
    run = TrainingRun("toy_tokens", "vae", dict(hidden=16, embed=8, batch_size=8, lr=1e9, steps=100),
                      manager=RunManager(max_runs=1))
    at.session_state["lt_run"] = run
    run.start()
    assert run.join(20)
    at.run()
    assert not at.exception, at.exception
    assert any("learning rate" in e.value for e in at.error)


def _knob_widgets(at) -> dict:
    return {w.key: w for kind in ("select_slider", "slider", "radio", "number_input", "toggle")
            for w in at.get(kind)}


def test_every_knob_of_a_model_is_on_the_page_with_its_default_and_help(at, toy_domains):
    """The page draws whatever knobs the config metadata declares: one widget each, showing the live default."""
    for domain, family in (("digits", "vae"), ("digits", "gan"), ("names", "vae"), ("melodies", "gan")):
        at.radio(key="lt_domain").set_value(domain).run()
        at.radio(key="lt_family").set_value(family).run()
        assert not at.exception, at.exception
        widgets, defaults = _knob_widgets(at), live_defaults(domain, family)
        for knob in knobs_for(domain, family):
            w = widgets[knob_key(domain, family, knob.name)]
            assert w.label == knob_text(knob)[0] and w.help, knob.name
            assert w.value == defaults[knob.name], knob.name
    assert "toy_rows" not in at.radio(key="lt_domain").options             # no live presets: not offered


def test_knob_words_fall_back_to_the_field_metadata():
    knob = next(k for k in knobs_for("digits", "vae") if k.name == "hidden")
    assert knob_text(knob) == KNOB_COPY["hidden"]
    bare = dataclasses.replace(knob, name="brand_new_knob", label="Brand new knob", help="does something new")
    assert knob_text(bare) == ("Brand new knob", "Does something new.")


def test_the_learning_rate_and_d_steps_change_while_a_gan_trains_and_the_curves_mark_it(at):
    at.radio(key="lt_family").set_value("gan").run()
    gan = "lt_k_digits_gan_"
    at.select_slider(key=gan + "hidden").set_value(16)
    at.select_slider(key=gan + "batch_size").set_value(8)
    at.button(key="lt_start").click().run()
    run = _run_of(at)
    poll(at, lambda a: run.snapshot().step >= 3)
    lr, d_steps = f"lt_now_{run.run_id}_lr", f"lt_now_{run.run_id}_d_steps"
    assert at.select_slider(key=lr).value == run.train_cfg.lr                 # the run's own value
    old_lr = run.train_cfg.lr
    before = [[g["lr"] for g in o.param_groups] for o in run.trainer.optimizers.values()]
    at.select_slider(key=lr).set_value(0.03).run()
    at.slider(key=d_steps).set_value(3).run()
    assert run.train_cfg.lr == 0.03 and run.train_cfg.d_steps == 3
    after = [[g["lr"] for g in o.param_groups] for o in run.trainer.optimizers.values()]
    # every optimizer's rate scaled alike: G and D keep their ratio
    assert after == [[pytest.approx(x * 0.03 / old_lr) for x in b] for b in before]
    changes = run.snapshot().changes
    assert [(c[1], c[3]) for c in changes] == [("lr", 0.03), ("d_steps", 3)]

    def marked(a) -> bool:
        charts = [c for c in a.get("plotly_chart") if c.proto.id and "lt_loss_chart" in c.proto.id]
        if not charts:
            return False
        layout = json.loads(charts[0].proto.spec)["layout"]
        texts = [n.get("text") for n in layout.get("annotations", [])]
        return "Learning rate 0.03" in texts and "D steps 3" in texts
    poll(at, marked)
    assert at.select_slider(key=lr).value == 0.03


def test_a_paused_gan_steps_d_alone_and_the_page_shows_only_ds_figures(at):
    at.radio(key="lt_family").set_value("gan").run()
    gan = "lt_k_digits_gan_"
    at.select_slider(key=gan + "hidden").set_value(16)
    at.select_slider(key=gan + "batch_size").set_value(8)
    at.button(key="lt_step").click().run()                                  # start paused, one step
    run = _run_of(at)
    poll(at, lambda a: run.snapshot().samples_step == 1 and "paused" in status_text(a))
    g_before = [p.detach().clone() for p in run.model.generator.parameters()]
    at.button(key="lt_step_d").click().run()
    poll(at, lambda a: run.snapshot().step == 2 and not run.pending_steps and run.snapshot().samples_step == 2)
    at.run()
    line = next(c.value for c in at.caption if "own figures" in c.value)
    assert "D loss" in line and "D(real)" in line and "G loss" not in line, line
    assert all(map(lambda a, b: bool((a == b).all()), run.model.generator.parameters(), g_before))
    # the diagnostics beside the curves: the reading, the class histogram, the gradient norms
    assert any("I'm stuck" in m.value for m in at.markdown)
    charts = " ".join(c.proto.id for c in at.get("plotly_chart"))
    assert "lt_class_chart" in charts and "lt_grad_chart" in charts, charts
    at.toggle(key=f"lt_slow_{run.run_id}").set_value(True).run()
    assert run.slow
    at.button(key="lt_resume").click().run()
    poll(at, lambda a: run.snapshot().step >= 4 and "own figures" in " ".join(c.value for c in a.caption))


def test_a_vae_shows_its_kl_per_dimension_and_a_second_run_is_drawn_over_the_first(at):
    tiny(at).button(key="lt_step").click().run()
    first = _run_of(at)
    poll(at, lambda a: first.snapshot().samples_step == 1 and "paused" in status_text(a))
    charts = " ".join(c.proto.id for c in at.get("plotly_chart"))
    assert "lt_kl_chart" in charts and "lt_class_chart" not in charts, charts     # a VAE's diagnostics
    assert any("Latent dimensions in use" in m.label for m in at.metric)
    assert not [b for b in at.button if b.key in ("lt_step_d", "lt_step_g")]      # no single-network steps
    assert "lt_compare_chart" not in charts                                         # one run: nothing to compare
    at.button(key="lt_stop").click().run()
    poll(at, lambda a: "stopped" in status_text(a))
    at.select_slider(key=K + "lr").set_value(0.01).run()
    at.button(key="lt_step").click().run()
    second = _run_of(at)
    assert second is not first
    def compared(a):
        """The names of the comparison chart's curves, as the page drew them last ([] before it is drawn)."""
        chart = next((c for c in a.get("plotly_chart") if "lt_compare_chart" in c.proto.id), None)
        return [t["name"] for t in json.loads(chart.proto.spec)["data"]] if chart is not None else []

    # the chart is drawn from the snapshot of its own script run: wait until one that has run 2's first step
    poll(at, lambda a: second.snapshot().samples_step == 1 and len(compared(a)) == 2)
    names = compared(at)
    assert names == ["run 1 · total loss", "run 2: Learning rate 0.01 · total loss"], names
