"""TrainingRun / RunManager: the live page's background training, tested without Streamlit."""
import threading
import time

import numpy as np
import pytest
import torch

import seqgen
from seqgen.checkpoints import CheckpointError
from seqgen.training.live import (KNOBS, LIVE_DEFAULTS, RunManager, Snapshot, TrainingRun, _Series,
                                  _use_torch_threads, build_configs, check_save_name, knobs_for)
from toy_domains import ToyRows, ToyTokens

TINY = dict(hidden=16, embed=8, batch_size=16, lr=5e-3)


def wait_for(pred, timeout=20.0, every=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    raise AssertionError("condition not met in time")


@pytest.fixture
def manager():
    m = RunManager(max_runs=2, idle_timeout=60)
    yield m
    m.shutdown()


def toy_run(manager, steps=10**6, domain=None, family="vae", **kw):
    knobs = dict(TINY, steps=steps, **kw.pop("knobs", {}))
    return TrainingRun("toy", family, knobs, manager=manager, domain_obj=domain or ToyRows(), preview_every=5, **kw)


def test_start_pause_resume_stop_within_one_second(manager):
    run = toy_run(manager).start()
    wait_for(lambda: run.snapshot().step >= 10)
    s = run.snapshot()
    assert s.status == "running" and s.steps_per_s > 0 and s.elapsed > 0
    assert len(s.samples) == 16 and s.samples_step >= 5                        # fixed-noise preview
    assert set(s.history) >= {"step", "loss", "recon", "kl"}
    assert len(s.history["step"]) == len(s.history["loss"]) > 0
    assert s.latent.shape == (96, 2) and s.latent_labels.shape == (96,)        # 2-D VAE latent map
    with pytest.raises(ValueError):
        s.latent[0, 0] = 1.0                                                     # snapshot arrays are read-only

    run.pause()
    wait_for(lambda: run.snapshot().status == "paused")
    time.sleep(0.3)                       # a step in flight may still land
    frozen_step = run.snapshot().step
    time.sleep(0.5)
    assert run.snapshot().step == frozen_step                                    # paused: no progress

    run.step_once()
    wait_for(lambda: run.snapshot().samples_step == frozen_step + 1)            # samples refreshed per step
    s = run.snapshot()
    assert s.status == "paused" and s.step == frozen_step + 1           # samples refreshed per step

    run.resume()
    wait_for(lambda: run.snapshot().step > frozen_step + 5)
    assert run.snapshot().status == "running"

    t0 = time.monotonic()
    run.stop()
    assert run.join(1.0), "thread did not end within 1 s"
    assert time.monotonic() - t0 < 1.0
    s = run.snapshot()
    assert s.status == "stopped" and s.finished and not s.active
    assert manager.runs() == {"active": [], "queued": []}                       # slot freed


def test_runs_to_completion_and_second_start_is_ignored(manager):
    run = toy_run(manager, steps=30)
    run.start()
    run.start()                                                                  # no second thread / slot
    assert len(manager.runs()["active"]) == 1
    assert run.join(20)
    s = run.snapshot()
    assert s.status == "done" and s.step == 30 and s.progress == 1.0
    assert s.validation["step"] and "val_neg_elbo" in s.validation


def test_queue_beyond_the_cap_and_promotion():
    m = RunManager(max_runs=1, idle_timeout=60)
    try:
        a = toy_run(m).start()
        b = toy_run(m).start()
        c = toy_run(m).start()
        assert a.status in ("starting", "running")
        sb, sc = b.snapshot(), c.snapshot()
        assert (sb.status, sb.queue_position) == ("queued", 1)
        assert (sc.status, sc.queue_position) == ("queued", 2)
        assert "position 2" in sc.message
        b.stop()                                                                 # leaving the queue
        assert b.snapshot().status == "stopped"
        assert c.snapshot().queue_position == 1
        a.stop()
        assert a.join(2)
        wait_for(lambda: c.snapshot().status == "running")                       # next in line starts
        assert m.runs()["active"] == [c] and b.join(0.1)
    finally:
        m.shutdown()


def test_abandoned_run_is_stopped_and_its_slot_freed():
    m = RunManager(max_runs=1, idle_timeout=0.4, reap_interval=0.05)
    try:
        watched = toy_run(m).start()
        waiting = toy_run(m).start()
        assert waiting.snapshot().status == "queued"
        end = time.monotonic() + 1.5
        while time.monotonic() < end:                                            # only `waiting` is polled
            waiting.heartbeat()
            time.sleep(0.05)
        assert watched.join(2)
        s = watched.snapshot()
        assert s.status == "stopped" and "nobody watched" in s.message
        wait_for(lambda: waiting.snapshot().status == "running")                # the freed slot is reused
        assert m.runs()["active"] == [waiting]
    finally:
        m.shutdown()


def test_explicit_reap_uses_heartbeat_age(manager):
    run = toy_run(manager).start()
    assert manager.reap() == []
    assert manager.reap(now=time.monotonic() + 61) == [run]
    assert run.join(2) and run.snapshot().status == "stopped"


def test_nan_stops_with_plain_message(manager):
    run = toy_run(manager, knobs=dict(lr=1e9, grad_clip=1e12))
    run.start()
    assert run.join(20)
    s = run.snapshot()
    assert s.status == "diverged", s.message
    assert "learning rate" in s.message and "lower" in s.message
    assert manager.runs()["active"] == []
    with pytest.raises(CheckpointError, match="diverged"):
        run.save("broken")


def test_gan_run_and_conditional_preview(manager):
    run = toy_run(manager, steps=12, family="gan", knobs=dict(conditional=True, feature_matching=1.0,
                                                              label_smoothing=0.1))
    run.start()
    assert run.join(30)
    s = run.snapshot()
    assert s.status == "done", s.message
    assert set(s.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert s.sample_labels[:4] == ("a", "b", "c", "a")                          # labels 0,1,2,... for the preview
    assert s.latent is None


def test_token_domain_samples_are_strings(manager):
    run = toy_run(manager, steps=6, domain=ToyTokens(), knobs=dict(autoregressive=True, word_dropout=0.3))
    run.start()
    assert run.join(20)
    assert all(isinstance(x, str) for x in run.snapshot().samples)


def test_save_and_reload(manager, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path))
    run = toy_run(manager, steps=20)
    run.start()
    assert run.join(20)
    path = run.save("my-toy")
    assert path == tmp_path / "my-toy"
    ck = seqgen.load(path)
    x = torch.randn(3, 2)
    assert torch.allclose(ck.model.decode(x), run.model_copy().decode(x))
    card = (path / "README.md").read_text()
    assert "trained in the Live training page with" in card and "hidden=16" in card
    assert ck.info["steps"] == 20
    with pytest.raises(CheckpointError, match="replace"):
        run.save("my-toy")                                                       # exists: needs replace=True
    run.save("my-toy", replace=True)


def test_save_mid_run_is_consistent(manager, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path))
    run = toy_run(manager).start()
    wait_for(lambda: run.snapshot().step >= 5)
    path = run.save("mid")
    assert run.snapshot().status == "running"
    assert "saved mid-run" in seqgen.load(path).info["status"]


def test_save_name_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path))
    for bad in ("../evil", "a/b", "", ".hidden", "x" * 80, "/abs", "a..b"):
        with pytest.raises(CheckpointError):
            check_save_name(bad)
    for shipped in ("digits-vae", "Digits-VAE", "names-gan", "digits-classifier"):
        with pytest.raises(CheckpointError, match="shipped"):
            check_save_name(shipped)
    assert check_save_name("my-digits_1.v2") == tmp_path / "my-digits_1.v2"
    (tmp_path / "taken").mkdir()
    with pytest.raises(CheckpointError, match="replace"):
        check_save_name("taken")
    assert check_save_name("taken", replace=True) == tmp_path / "taken"


def test_live_configs_for_every_domain_and_family():
    for (domain, family), defaults in LIVE_DEFAULTS.items():
        mcfg, tcfg, values = build_configs(domain, family)
        assert mcfg.hidden <= 128 and tcfg.batch_size == 64                     # smaller than the shipped models
        names = {k.name for k in knobs_for(domain, family)}
        assert set(values) <= names
    mcfg, _, _ = build_configs("digits", "vae")
    assert not mcfg.autoregressive and mcfg.latent == 2                          # the fast-to-learn decoder
    assert mcfg.hidden == 96  # recognisable digits within a minute (benchmarks/time_to_quality.py)
    mcfg, tcfg, _ = build_configs("digits", "gan")
    assert mcfg.feature_matching > 0 and mcfg.label_smoothing > 0 and mcfg.conditional   # stabilisers on
    assert "word_dropout" not in {k.name for k in knobs_for("digits", "vae")}
    mcfg, tcfg, _ = build_configs("names", "vae", {"hidden": 32, "lr": 1e-3})
    assert mcfg.hidden == 32 and tcfg.lr == 1e-3
    with pytest.raises(ValueError, match="unknown knob"):
        build_configs("digits", "vae", {"bogus": 1})
    assert all(k.help and k.label for k in KNOBS)


def test_every_live_default_is_offered_by_its_knob():
    """A default missing from a select slider's options would silently show (and train with) the first option."""
    for (domain, family), defaults in LIVE_DEFAULTS.items():
        for knob in knobs_for(domain, family):
            if knob.name in defaults and getattr(knob, "options", None):
                assert defaults[knob.name] in knob.options, (domain, family, knob.name, defaults[knob.name])


def test_history_is_downsampled():
    s = _Series(max_points=100)
    for i in range(1, 10_001):
        s.add(i, {"loss": float(i)})
    f = s.frozen()
    assert 50 <= len(f["step"]) <= 100 and len(f["loss"]) == len(f["step"])
    assert f["step"][-1] > 9000 and f["loss"][0] < f["loss"][-1]
    assert isinstance(f["loss"], tuple)


def test_training_thread_uses_one_torch_thread_without_changing_others():
    before = torch.get_num_threads()
    seen = {}

    def worker():
        _use_torch_threads(1)
        torch.mm(torch.randn(64, 64), torch.randn(64, 64))                      # first parallel op
        seen["worker"] = torch.get_num_threads()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    later = []
    t2 = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    t2.start()
    t2.join()
    assert seen["worker"] == 1
    assert torch.get_num_threads() == before and later == [before]


def test_snapshot_is_a_frozen_copy(manager):
    run = toy_run(manager, steps=15)
    run.start()
    assert run.join(20)
    s = run.snapshot()
    assert isinstance(s, Snapshot)
    with pytest.raises(Exception):
        s.step = 3
    with pytest.raises(TypeError):
        s.history["loss"] = ()
    assert isinstance(s.samples, tuple) and isinstance(s.samples[0], np.ndarray)
