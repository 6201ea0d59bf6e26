"""The live run's diagnostics (class histogram, diversity, KL per dimension, gradient norms, the "I'm stuck"
reading) and GAN Lab's controls (a step of D or G alone, slow motion), on the library side."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from seqgen.domains import get_domain
from seqgen.metrics import mean_pairwise_difference as spread
from seqgen.models import ModelConfig, TrainConfig, build_model
from seqgen.training.live import RunManager, TrainingRun
from seqgen.training.live.diagnostics import EARLY_STEPS, Checkup, Diagnostics, read
from seqgen.training.trainer import Controls, Trainer

TINY_GAN = dict(hidden=8, embed=4, batch_size=8, lr=5e-3, steps=10**6)


@pytest.fixture(autouse=True)
def _toys(toy_domains):
    return toy_domains


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def reading(diag, recent=(), **kw):
    return read(diag, list(recent), **{**dict(conditional=True, n_labels=10, latent=2), **kw})


# ------------------------------------------------------------------------------------------------ figures
def test_spread_is_zero_for_copies_and_grows_with_difference():
    same = torch.zeros(5, 4, 3)
    assert spread(same, discrete=False) == 0.0
    varied = torch.stack([torch.full((4, 3), float(i) / 4) for i in range(5)])
    assert spread(varied, discrete=False) > 0.3
    tokens = torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6]])
    assert spread(tokens, discrete=True) == pytest.approx((0 + 1 + 1) / 3)


def test_an_untrained_gans_samples_are_read_by_the_classifier_and_look_alike():
    """A GAN straight from its seed draws the same grey smudge for every label: the checkup counts all 100
    samples into the histogram and finds them far less varied than real digits."""
    domain = get_domain("digits")
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_domain(domain, "gan", hidden=16, conditional=True))
    vx, _ = domain.dataset("val")
    diag = Checkup(model.cfg, domain, vx).check(model, step=0)
    assert sum(diag.class_counts) == 100 and len(diag.class_counts) == 10
    assert 0.0 <= diag.requested_share <= 1.0
    assert diag.diversity < 0.35
    assert model.training                                         # the check put the model back as it was


def test_a_vae_check_gives_the_kl_of_each_dimension():
    domain = get_domain("toy_rows")
    model = build_model(ModelConfig.for_domain(domain, "vae", hidden=8, latent=3))
    vx, _ = domain.dataset("val")
    diag = Checkup(model.cfg, domain, vx).check(model, step=5)
    assert len(diag.kl_per_dim) == 3 and all(v >= 0 for v in diag.kl_per_dim)
    assert diag.active_dims == sum(v > 0.05 for v in diag.kl_per_dim)


# ------------------------------------------------------------------------------------------------ reading
def test_one_class_for_every_label_is_named_mode_collapse_once_the_model_is_no_longer_young():
    counts = (0, 91, 3, 0, 0, 6, 0, 0, 0, 0)
    late = reading(Diagnostics(EARLY_STEPS + 100, class_counts=counts, diversity=0.2))
    assert codes(late) == ["mode_collapse"]
    assert late[0].values["label"] == 1 and late[0].values["share"] == pytest.approx(0.91)
    early = reading(Diagnostics(50, class_counts=counts, diversity=0.2))
    assert codes(early)[0] == "samples_alike_early" and early[0].level == "hint" and "ok" in codes(early)


def test_a_healthy_gan_reads_ok():
    diag = Diagnostics(1000, class_counts=(10,) * 10, diversity=0.9, requested_share=0.8)
    recent = [{"d_real": 0.6, "d_fake": 0.4, "d_grad": 12.0, "g_grad": 2.0}] * 20      # D at 2.4x its clip
    assert codes(reading(diag, recent)) == ["ok"]


def test_few_classes_among_many_labels_is_a_collapse_too():
    assert "mode_collapse" in codes(reading(Diagnostics(900, class_counts=(50, 50) + (0,) * 8, diversity=0.6)))


def test_samples_that_do_not_differ_are_named_without_a_classifier():
    found = reading(Diagnostics(900, diversity=0.1), conditional=False)
    assert codes(found)[0] == "low_diversity" and found[0].level == "problem"


def test_the_discriminator_winning_and_gradients_are_read_from_the_recent_steps():
    recent = [{"d_real": 0.97, "d_fake": 0.02, "d_grad": 40.0, "g_grad": 1e-6}] * 20
    found = codes(reading(Diagnostics(900, diversity=0.8), recent))
    assert {"d_wins", "vanishing"} <= set(found) and "ok" not in found
    assert "clipped" not in found                                     # far above the clip is how VAEs train
    assert codes(reading(Diagnostics(900, diversity=0.8), recent[:5])) == ["ok"]    # too few steps to judge


def test_a_vae_with_no_dimension_in_use_is_posterior_collapse():
    dead = reading(Diagnostics(500, kl_per_dim=(0.001, 0.002), active_dims=0), latent=2)
    assert codes(dead) == ["posterior_collapse"] and dead[0].values["kl"] == pytest.approx(0.003)
    half = reading(Diagnostics(500, kl_per_dim=(2.0, 0.001), active_dims=1), latent=2)
    assert codes(half) == ["idle_dims", "ok"]
    assert codes(reading(Diagnostics(50, kl_per_dim=(0.0, 0.0), active_dims=0), latent=2)) == ["ok"]


# ------------------------------------------------------------------------------------------------ one network
def _tiny_gan_trainer():
    domain = get_domain("toy_rows")
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_domain(domain, "gan", hidden=8))
    return Trainer(model, domain, TrainConfig(steps=100, batch_size=8, eval_every=1000), device="cpu")


def _weights(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("part, moves, stays, figures", [
    ("d", "discriminator", "generator", {"d_loss", "d_real", "d_fake", "d_grad"}),
    ("g", "generator", "discriminator", {"g_loss", "g_grad"}),
])
def test_a_step_of_one_network_changes_only_that_network(part, moves, stays, figures):
    trainer = _tiny_gan_trainer()
    before_moves, before_stays = _weights(getattr(trainer.model, moves)), _weights(getattr(trainer.model, stays))
    trainer.run_steps(1, part=part)
    assert _same(_weights(getattr(trainer.model, stays)), before_stays)
    assert not _same(_weights(getattr(trainer.model, moves)), before_moves)
    assert set(trainer.history[-1]) - {"step", "time"} == figures


def test_a_full_gan_step_reports_both_gradient_norms():
    trainer = _tiny_gan_trainer()
    trainer.run_steps(1)
    row = trainer.history[-1]
    assert row["d_grad"] > 0 and row["g_grad"] > 0
    assert list(row)[2:6] == ["d_loss", "g_loss", "d_real", "d_fake"]     # the CLI's progress line


def test_a_vae_has_no_network_to_step_alone():
    domain = get_domain("toy_rows")
    model = build_model(ModelConfig.for_domain(domain, "vae", hidden=8))
    trainer = Trainer(model, domain, TrainConfig(steps=10, batch_size=8, eval_every=1000), device="cpu")
    with pytest.raises(ValueError, match="one network"):
        trainer.run_steps(1, part="d")


# ------------------------------------------------------------------------------------------------ the live run
def _paused_run(family="gan", **knobs):
    run = TrainingRun("toy_rows", family, {**TINY_GAN, **knobs}, manager=RunManager(max_runs=1))
    run.start(paused=True)
    end = time.monotonic() + 30
    while run.snapshot().status != "paused" and time.monotonic() < end:
        time.sleep(0.02)
    return run


def _wait(until, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if until():
            return
        time.sleep(0.02)
    raise AssertionError("never happened")


def test_a_paused_gan_run_steps_d_alone_then_g_alone():
    run = _paused_run()
    try:
        assert run.snapshot().diagnostics is not None                  # checked before the first step
        run.step_once(part="d")
        _wait(lambda: run.snapshot().step == 1 and not run.pending_steps)
        snap = run.snapshot()
        assert set(snap.last_figures) == {"d_loss", "d_real", "d_fake", "d_grad"}
        assert snap.diagnostics.step == 1                              # a single step is checked at once
        run.step_once(part="g")
        _wait(lambda: run.snapshot().step == 2 and not run.pending_steps)
        assert set(run.snapshot().last_figures) == {"g_loss", "g_grad"}
        with pytest.raises(ValueError):
            run.step_once(part="x")
    finally:
        run.stop()
        run.join(10)


def test_a_vae_run_refuses_a_single_network_step():
    run = TrainingRun("toy_rows", "vae", {**TINY_GAN}, manager=RunManager(max_runs=1))
    with pytest.raises(ValueError, match="only a GAN"):
        run.step_once(part="d")


def test_slow_motion_makes_at_most_one_step_per_interval_and_stops_at_once():
    controls = Controls()
    controls.slow_motion(0.2)
    trainer = _tiny_gan_trainer()
    trainer.controls = controls
    trainer.train.steps = 4
    started = time.monotonic()
    trainer.loop()
    assert time.monotonic() - started >= 3 * 0.2                    # four steps: three waits at least

    controls = Controls()
    controls.slow_motion(60.0)
    trainer = _tiny_gan_trainer()
    trainer.controls = controls
    loop = threading.Thread(target=trainer.loop)
    loop.start()
    _wait(lambda: trainer.step >= 1)
    controls.stop()                                                 # no minute-long wait after a Stop
    loop.join(10)
    assert not loop.is_alive() and trainer.step == 1


def test_a_run_in_slow_motion_draws_every_step():
    run = _paused_run()
    try:
        run.slow_motion(True)
        assert run.snapshot().slow_motion
        run.resume()
        _wait(lambda: run.snapshot().step >= 2)
        snap = run.snapshot()
        assert snap.samples_step >= snap.step - 1 and snap.diagnostics.step >= snap.step - 1
        run.slow_motion(False)
        _wait(lambda: run.snapshot().step >= 30)                        # full speed again
    finally:
        run.stop()
        run.join(10)



def test_a_vae_that_rebuilds_its_training_items_far_better_than_held_out_ones_is_memorising():
    by_heart = reading(Diagnostics(600, kl_per_dim=(2.0, 2.0), active_dims=2, train_recon=0.1, val_recon=1.4),
                       latent=2)
    assert codes(by_heart) == ["memorising"] and by_heart[0].values == {"train": 0.1, "val": 1.4}
    healthy = reading(Diagnostics(600, kl_per_dim=(2.0, 2.0), active_dims=2, train_recon=1.0, val_recon=1.2),
                      latent=2)
    assert codes(healthy) == ["ok"]
    young = reading(Diagnostics(100, kl_per_dim=(2.0, 2.0), active_dims=2, train_recon=0.1, val_recon=1.4),
                    latent=2)
    assert codes(young) == ["ok"]                                          # too early to say


def test_the_live_check_measures_reconstruction_of_training_and_held_out_items():
    from seqgen.models import ModelConfig, build_model
    from seqgen.training.live.diagnostics import Checkup

    domain = get_domain("toy_tokens")
    model = build_model(ModelConfig.for_domain(domain, "vae", hidden=16, latent=2))
    x = domain.dataset("train")[0]
    diag = Checkup(model.cfg, domain, domain.dataset("val")[0], x).check(model, 0)
    assert diag.train_recon > 0 and diag.val_recon > 0
    assert Checkup(model.cfg, domain, x, x).check(model, 0).train_recon == pytest.approx(
        Checkup(model.cfg, domain, x, x).check(model, 0).val_recon)             # the same items: the same figure


def test_a_gan_whose_samples_are_mostly_items_of_its_data_is_copying():
    copying = reading(Diagnostics(600, diversity=0.9, known_share=0.95))
    assert codes(copying) == ["copying"] and copying[0].values["share"] == 0.95
    assert codes(reading(Diagnostics(600, diversity=0.9, known_share=0.3))) == ["ok"]      # the shipped GAN's 29 %
    assert codes(reading(Diagnostics(100, diversity=0.9, known_share=0.95))) == ["ok"]     # too early to say


def test_the_live_check_counts_the_samples_that_are_words_of_the_data():
    domain = get_domain("names")
    model = build_model(ModelConfig.for_domain(domain, "gan", hidden=16, latent=4, embed=8))
    diag = Checkup(model.cfg, domain, domain.dataset("val")[0]).check(model, 0)
    assert diag.known_share is not None and 0 <= diag.known_share <= 1
    image = get_domain("toy_rows")
    gan = build_model(ModelConfig.for_domain(image, "gan", hidden=16, latent=4))
    assert Checkup(gan.cfg, image, image.dataset("val")[0]).check(gan, 0).known_share is None   # images: no such question
