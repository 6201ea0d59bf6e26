"""TrainingRun / RunManager: the live page's background training, tested without Streamlit."""
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import seqgen
from seqgen.checkpoints import CheckpointError
from seqgen.presets import PRESETS, configure, live_choices, live_preset
from seqgen.training.live import (
    KNOBS,
    RunManager,
    Snapshot,
    TrainingRun,
    build_configs,
    check_save_name,
    knobs_for,
    live_defaults,
)
from seqgen.training.live.run import _use_torch_threads
from seqgen.training.live.slots import STALE_AFTER_S, SharedSlots
from seqgen.training.live.snapshot import _Series

TINY = dict(hidden=16, embed=8, batch_size=16, lr=5e-3)
LIVE = [(d, f) for d, families in live_choices().items() for f in families]


@pytest.fixture(autouse=True)
def _toys(toy_domains):
    """Runs here train the tiny registered domains "toy_rows" / "toy_tokens" (no live presets)."""
    return toy_domains


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


def toy_run(manager, steps=10**6, domain="toy_rows", family="vae", **kw):
    knobs = dict(TINY, steps=steps, **kw.pop("knobs", {}))
    return TrainingRun(domain, family, knobs, manager=manager, preview_every=5, **kw)


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


def test_a_stopped_run_says_stopping_until_its_step_is_done(manager):
    """The page shows a Stop at once ("stopping"), before the step the run is making has finished."""
    run = toy_run(manager).start()
    wait_for(lambda: run.snapshot().status == "running")
    with run._model_lock:                      # the run cannot finish a step while this is held
        run.stop()
        s = run.snapshot()
        assert (s.status, s.stopping, s.shown_status) == ("running", True, "stopping")
    assert run.join(2)
    s = run.snapshot()
    assert (s.status, s.shown_status) == ("stopped", "stopped") and not s.stopping


def test_a_running_run_takes_a_new_learning_rate_and_clip_from_its_next_step(manager):
    run = toy_run(manager)
    run.change("lr", 1e-2)                          # before it has a trainer: the run starts with it
    run.start()
    wait_for(lambda: run.snapshot().step >= 2)
    assert [g["lr"] for o in run.trainer.optimizers.values() for g in o.param_groups] == [1e-2]
    with run._model_lock:                           # a step in progress: the change waits for its end
        changer = threading.Thread(target=run.change, args=("grad_clip", 0.5))
        changer.start()
        changer.join(0.3)
        assert changer.is_alive() and run.trainer.train.grad_clip != 0.5
    changer.join(5)
    assert run.trainer.train.grad_clip == 0.5 and run.knobs["grad_clip"] == 0.5
    run.change("lr", 1e-3)
    assert [g["lr"] for o in run.trainer.optimizers.values() for g in o.param_groups] == [pytest.approx(1e-3)]
    snap = run.snapshot()
    assert [c[1:] for c in snap.changes] == [("lr", 5e-3, 1e-2), ("grad_clip", 5.0, 0.5), ("lr", 1e-2, 1e-3)]
    assert snap.changes[0][0] == 0 and snap.changes[-1][0] >= 2        # the step each change took effect at
    for name, value in [("hidden", 32), ("batch_size", 8), ("lr", 0.7), ("lr", "fast"), ("lr", float("nan")),
                        ("grad_clip", None), ("d_steps", 2)]:      # a model setting, off-list, a GAN's knob
        with pytest.raises(ValueError):
            run.change(name, value)
    assert run.knobs["lr"] == 1e-3 and len(run.snapshot().changes) == 3
    run.stop()


def test_runs_to_completion_and_second_start_is_ignored(manager):
    run = toy_run(manager, steps=30)
    run.start()
    run.start()                                                                  # no second thread / slot
    assert len(manager.runs()["active"]) == 1
    assert run.join(20)
    s = run.snapshot()
    assert s.status == "done" and s.step == 30 and s.progress == 1.0
    assert s.validation["step"] and "val_neg_elbo" in s.validation


def test_two_processes_share_the_deployments_slots_and_one_queue(tmp_path):
    """Two managers on one slot table, as two app processes behind nginx (scripts/serve.py): the second process is
    empty, yet its student waits while the deployment's one slot is taken, and starts first when it frees up."""
    table = tmp_path / "live-slots.sqlite3"
    first = RunManager(max_runs=1, idle_timeout=60, shared=SharedSlots(table, 1))
    second = RunManager(max_runs=1, idle_timeout=60, shared=SharedSlots(table, 1))
    try:
        a = toy_run(first).start()
        b = toy_run(second).start()
        c = toy_run(first).start()
        assert a.status in ("starting", "running")
        assert (b.snapshot().status, b.snapshot().queue_position) == ("queued", 1)
        assert (c.snapshot().status, c.snapshot().queue_position) == ("queued", 2)    # the deployment's queue
        a.stop()
        assert a.join(10)
        wait_for(lambda: b.snapshot().status == "running", timeout=10)     # first come, first served, across
        assert (c.snapshot().status, c.snapshot().queue_position) == ("queued", 1)
        b.stop()
        assert b.join(10)
        wait_for(lambda: c.snapshot().status == "running", timeout=10)
        assert SharedSlots(table, 1).counts() == {"training": 1, "waiting": 0}
    finally:
        first.shutdown()
        second.shutdown()


def test_the_teacher_sees_and_stops_runs_of_every_process(tmp_path):
    """The slot table carries each run's figures for the teacher's panel, and a Stop given on one process reaches a
    run on another (at that process's next refresh)."""
    table = tmp_path / "live-slots.sqlite3"
    teachers = RunManager(max_runs=3, idle_timeout=60, shared=SharedSlots(table, 3))
    other = RunManager(max_runs=3, idle_timeout=60, shared=SharedSlots(table, 3))
    try:
        a = toy_run(other, client="kid").start()
        b = toy_run(other).start()
        c = toy_run(teachers).start()
        wait_for(lambda: all(r.snapshot().status == "running" for r in (a, b, c)))
        wait_for(lambda: all(r["figures"].get("step", 0) > 0 for r in teachers.deployment_runs()), timeout=10)
        rows = teachers.deployment_runs()
        assert len(rows) == 3 and {r["state"] for r in rows} == {"training"}
        by_id = {r["run"]: r for r in rows}
        fig = by_id[other.shared_id(a)]["figures"]
        assert (fig["domain"], fig["family"], fig["client"]) == ("toy_rows", "vae", True)
        assert fig["total"] == a.snapshot().total_steps and fig["steps_per_s"] >= 0
        teachers.stop_anywhere("Stopped by the teacher.", other.shared_id(a))      # a run of the other process
        wait_for(lambda: a.snapshot().status == "stopped", timeout=10)
        assert a.snapshot().message == "Stopped by the teacher."
        assert b.snapshot().status == "running" and c.snapshot().status == "running"
        teachers.stop_anywhere("Stopped by the teacher.")                             # stop all, everywhere
        wait_for(lambda: b.snapshot().status == "stopped" and c.snapshot().status == "stopped", timeout=10)
        wait_for(lambda: teachers.deployment_runs() == [], timeout=10)
    finally:
        teachers.shutdown()
        other.shutdown()


def test_a_dead_processs_training_slot_is_free_again(tmp_path):
    table = tmp_path / "live-slots.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from seqgen.training.live.slots import SharedSlots; "
         "assert SharedSlots(sys.argv[1], 1).claim('theirs'); print('holding', flush=True); sys.stdin.read()",
         str(table)], cwd=Path(__file__).resolve().parents[1], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"holding"
        mine = SharedSlots(table, 1)
        assert not mine.claim("mine") and mine.position("mine") == 1
        holder.kill()                                  # no goodbye: its row stays behind
        holder.wait(10)
        assert mine.claim("mine") and mine.position("mine") is None
    finally:
        holder.kill()
        holder.wait(10)


def test_a_process_not_heard_from_loses_its_slots(tmp_path):
    now = [1000.0]
    other = SharedSlots(tmp_path / "t.sqlite3", 1, clock=lambda: now[0])
    other.pid = 1                                      # alive, but not this process: only its silence counts
    assert other.claim("theirs")
    mine = SharedSlots(tmp_path / "t.sqlite3", 1, clock=lambda: now[0])
    assert not mine.claim("mine")
    now[0] += STALE_AFTER_S - 1
    other.beat()
    assert not mine.claim("mine")
    now[0] += STALE_AFTER_S + 1
    assert mine.claim("mine")
    with pytest.raises(ValueError):
        SharedSlots(tmp_path / "t.sqlite3", 0)


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
    run = toy_run(manager, knobs=dict(lr=1e9))
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
    run = toy_run(manager, steps=6, domain="toy_tokens", knobs=dict(autoregressive=True, word_dropout=0.3))
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
    assert LIVE == [(d, f) for d in ("digits", "fashion", "names", "melodies", "spoken") for f in ("vae", "gan")]
    for domain, family in LIVE:
        mcfg, tcfg, values = build_configs(domain, family)
        assert mcfg.hidden <= 128 and tcfg.batch_size == 64                     # smaller than the shipped models
        assert list(values) == [k.name for k in knobs_for(domain, family)]
    mcfg, _, _ = build_configs("digits", "vae")
    assert not mcfg.autoregressive and mcfg.latent == 2                          # the fast-to-learn decoder
    assert mcfg.hidden == 96
    mcfg, tcfg, _ = build_configs("digits", "gan")
    assert mcfg.feature_matching > 0 and mcfg.label_smoothing > 0 and mcfg.conditional   # stabilisers on
    assert "word_dropout" not in {k.name for k in knobs_for("digits", "vae")}
    mcfg, tcfg, _ = build_configs("names", "vae", {"hidden": 32, "lr": 1e-3})
    assert mcfg.hidden == 32 and tcfg.lr == 1e-3
    with pytest.raises(ValueError, match="unknown knob"):
        build_configs("digits", "vae", {"bogus": 1})
    assert all(k.help and k.label for k in KNOBS)


# Today's effective live configurations, a few values each (the full configs are the "-live" presets).
LIVE_PINS = {
    ("digits", "vae"): dict(hidden=96, lr=3e-3, steps=3000, eval_every=100, autoregressive=False, latent=2,
                            kl_anneal_steps=0, free_bits=0.0, batch_size=64, cell="lstm"),
    ("digits", "gan"): dict(hidden=64, lr=2e-3, lr_d=2e-4, latent=32, conditional=True, feature_matching=1.0,
                            label_smoothing=0.1, instance_noise=0.3, mode_seeking=0.0, minibatch_std=False,
                            d_steps=1, eval_every=100),
    ("names", "vae"): dict(hidden=128, lr=2e-3, autoregressive=True, word_dropout=0.3, embed=32,
                           kl_anneal_steps=500, eval_every=100),
    ("names", "gan"): dict(hidden=128, lr=2e-3, lr_d=1e-3, mle_steps=300, mle_weight=1.0, mode_seeking=0.0,
                           step_noise=4, label_smoothing=0.1, eval_every=100),
    ("melodies", "vae"): dict(hidden=128, word_dropout=0.4, kl_anneal_steps=500, steps=3000),
    ("melodies", "gan"): dict(hidden=128, lr=2e-3, mle_steps=300, mle_weight=1.0, latent=16),
}


@pytest.mark.parametrize("domain,family", sorted(LIVE_PINS))
def test_live_presets_are_todays_live_configs(domain, family):
    mcfg, tcfg, _ = build_configs(domain, family)
    assert live_preset(domain, family) == f"{domain}-{family}-live"
    pm, pt, _ = configure(f"{domain}-{family}-live")
    assert (mcfg.to_dict(), tcfg.to_dict()) == (pm.to_dict(), pt.to_dict())   # the page trains the preset
    got = {**mcfg.to_dict(), **tcfg.to_dict()}
    assert {k: got[k] for k in LIVE_PINS[domain, family]} == LIVE_PINS[domain, family]


def test_every_live_default_is_offered_by_its_knob():
    """A default missing from a select slider's options would silently show (and train with) the first option."""
    for domain, family in LIVE:
        defaults = live_defaults(domain, family)
        for knob in knobs_for(domain, family):
            if knob.options:
                assert defaults[knob.name] in knob.options, (domain, family, knob.name, defaults[knob.name])
            elif knob.min is not None:
                assert knob.min <= defaults[knob.name] <= knob.max, (domain, family, knob.name)


def test_every_field_with_knob_metadata_is_a_knob_where_it_applies(toy_domains):
    """The catalogue is the config fields' metadata: nothing else decides which knobs a model gets."""
    from dataclasses import fields

    from seqgen.domains import get_domain
    from seqgen.models import ModelConfig, TrainConfig
    live_fields = [f for cls in (ModelConfig, TrainConfig) for f in fields(cls) if f.metadata.get("live")]
    assert {f.name for f in live_fields} == {k.name for k in KNOBS}
    for domain, family in [*LIVE, ("toy_rows", "vae"), ("toy_tokens", "gan")]:
        discrete = get_domain(domain).discrete
        names = [k.name for k in knobs_for(domain, family)]
        for f in live_fields:
            meta = f.metadata
            means_something = (family in meta["live"].get("families", meta["families"])
                               and not (meta["discrete_only"] and not discrete)
                               and not (meta["continuous_only"] and discrete))
            assert (f.name in names) == means_something, (domain, family, f.name)


def test_domain_without_live_preset_trains_family_defaults_plus_knobs(toy_domains):
    from seqgen.models import ModelConfig, TrainConfig
    assert live_preset("toy_rows", "vae") is None and "toy_rows" not in live_choices()
    mcfg, tcfg, values = build_configs("toy_rows", "vae", {"hidden": 16, "embed": 8, "steps": 60})
    assert (mcfg.hidden, mcfg.embed, mcfg.domain, mcfg.seq_len) == (16, 8, "toy_rows", 8)
    assert mcfg.latent == ModelConfig.latent and tcfg.lr == TrainConfig.lr      # the family's defaults
    assert tcfg.eval_every == 25                                                # >= 3 validations, >= 25 steps apart
    assert values["hidden"] == 16 and values["embed"] == 8 and values["lr"] == TrainConfig.lr
    _, tcfg, _ = build_configs("toy_rows", "vae", {"steps": 30_000})
    assert tcfg.eval_every == TrainConfig.eval_every
    _, tcfg, _ = build_configs("digits", "vae", {"steps": 90})
    assert tcfg.eval_every == 30
    with pytest.raises(ValueError, match="families"):
        build_configs("toy_rows", "lm")


def test_a_live_run_cannot_take_a_preset_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path))
    assert "digits-vae-live" in PRESETS
    with pytest.raises(CheckpointError, match="shipped"):
        check_save_name("digits-vae-live")


def test_history_is_downsampled():
    s = _Series(max_points=100)
    for i in range(1, 10_001):
        s.add(i, {"loss": float(i)})
    f = s.frozen()
    assert 50 <= len(f["step"]) <= 100 and len(f["loss"]) == len(f["step"])
    assert f["step"][-1] > 9000 and f["loss"][0] < f["loss"][-1]
    assert isinstance(f["loss"], tuple)


def test_training_thread_uses_one_torch_thread_without_changing_others():
    def fresh_thread_threads() -> int:   # what a thread created now starts with (the process default)
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        t.start()
        t.join()
        return seen[0]

    before_main, before_default = torch.get_num_threads(), fresh_thread_threads()
    seen = {}

    def worker():
        _use_torch_threads(1)
        torch.mm(torch.randn(64, 64), torch.randn(64, 64))                      # first parallel op
        seen["worker"] = torch.get_num_threads()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["worker"] == 1
    assert torch.get_num_threads() == before_main and fresh_thread_threads() == before_default


def test_snapshot_is_a_frozen_copy(manager):
    run = toy_run(manager, steps=15)
    run.start()
    assert run.join(20)
    s = run.snapshot()
    assert isinstance(s, Snapshot)
    with pytest.raises(AttributeError):          # frozen dataclass
        s.step = 3
    with pytest.raises(TypeError):
        s.history["loss"] = ()
    assert isinstance(s.samples, tuple) and isinstance(s.samples[0], np.ndarray)


# ------------------------------------------------------------------------------------------------ per-client cap
def test_one_client_cannot_take_every_slot(toy_domains):
    from seqgen.training.live.manager import TooManyRuns
    m = RunManager(max_runs=4, idle_timeout=60, max_per_client=1)
    try:
        first = toy_run(m)
        first.client = "browser:abc"
        first.start()
        second = toy_run(m)
        second.client = "browser:abc"                              # the same student in another tab
        with pytest.raises(TooManyRuns, match="already have 1 training run going"):
            second.start()
        assert m.runs()["active"] == [first] and second.status == "created"
        other = toy_run(m)
        other.client = "browser:xyz"
        other.start()
        anonymous = toy_run(m)                                     # a notebook: no client, not capped
        anonymous.start()
        assert len(m.runs()["active"]) == 3
        first.stop()
        assert first.join(5)
        again = toy_run(m)
        again.client = "browser:abc"
        again.start()                                              # after stopping, a new run may start
        assert again in m.runs()["active"]
    finally:
        m.shutdown()


def test_per_client_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEQGEN_MAX_RUNS_PER_CLIENT", "3")
    assert RunManager().max_per_client == 3
    monkeypatch.setenv("SEQGEN_MAX_RUNS_PER_CLIENT", "nonsense")
    assert RunManager().max_per_client == 1


def test_live_runs_train_in_float32_even_where_bf16_auto_would_not(monkeypatch):
    """The live presets and their lessons were tuned in float32 (bf16 stops the collapse lesson collapsing),
    so a live run stays float32 on an app served from a GPU, where `--bf16 auto` takes bf16 for `train`."""
    from seqgen.training import trainer

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    gpu = torch.device("cuda")
    assert trainer.use_bf16(configure("digits-vae")[1], gpu)        # the CLI's preset: bf16
    runs = [(domain, family) for domain, families in live_choices().items() for family in families]
    assert len(runs) >= 6
    for domain, family in runs:
        train_cfg = build_configs(domain, family)[1]
        assert not trainer.use_bf16(train_cfg, gpu), (domain, family)
    assert not trainer.use_bf16(configure("digits-gan-collapse")[1], gpu)
