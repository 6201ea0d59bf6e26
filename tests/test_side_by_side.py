"""Side by side: two models of one domain on one seed (seqgen.explore.side_by_side), a live run's kept weights
(TrainingRun.kept_steps / model_at) and the page that shows them (pages/8_side_by_side.py)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import streamlit as st
import torch
from st_helpers import errors, image_urls, open_page

import seqgen
from seqgen import explore
from seqgen.training.live import RunManager, TrainingRun
from seqgen.training.live import run as run_module
from seqgen.ui.pages import PAGES


def _same(a, b) -> bool:
    return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b, strict=True))


# ------------------------------------------------------------------------------------------------ the library
def test_a_vae_and_a_gan_share_the_seed_but_not_their_inputs():
    vae, gan = seqgen.load("digits-vae"), seqgen.load("digits-gan")
    out = explore.side_by_side(vae, gan, 6, seed=3, labels=[7] * 6)
    assert not out["same_inputs"] and len(out["a"]) == len(out["b"]) == 6
    assert _same(out["a"], explore.sample(vae, 6, 3))                     # the VAE is not told the label
    assert _same(out["b"], explore.sample(gan, 6, 3, labels=[7] * 6))     # the GAN is


def test_two_models_with_one_latent_read_the_same_z_and_differ_only_by_their_weights():
    vae = seqgen.load("digits-vae")
    other = seqgen.load("digits-vae")
    with torch.no_grad():
        for p in other.model.decoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    out = explore.side_by_side(vae, other, 4, seed=1)
    assert out["same_inputs"]
    assert _same(out["a"], explore.sample(vae, 4, 1))
    assert not _same(out["a"], out["b"])                                  # same z, other weights: other digits
    twice = explore.side_by_side(vae, vae, 4, seed=1)
    assert _same(twice["a"], twice["b"])                                  # same z, same weights: same digits


def test_models_of_two_domains_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="two models of one domain"):
        explore.side_by_side(seqgen.load("digits-vae"), seqgen.load("names-vae"), 2)


# ------------------------------------------------------------------------------------------------ a live run's kept weights
TINY = dict(hidden=16, embed=8, batch_size=16, lr=5e-3, steps=10**6)


def _paused_run_at(step: int, manager) -> TrainingRun:
    run = TrainingRun("digits", "vae", TINY, manager=manager).start(paused=True)
    for _ in range(step):
        before = run.snapshot().step
        run.step_once()
        end = time.monotonic() + 30
        while run.snapshot().step == before:
            assert time.monotonic() < end, "the run made no step"
            time.sleep(0.01)
    return run


def _first_weights(model) -> torch.Tensor:
    return next(iter(model.parameters())).detach().clone()


def test_a_live_run_keeps_its_weights_at_the_kept_steps(monkeypatch):
    monkeypatch.setattr(run_module, "KEPT_AT", (2, 4))
    manager = RunManager(max_runs=1, idle_timeout=60)
    try:
        run = _paused_run_at(5, manager)
        assert run.kept_steps() == (2, 4)
        at2, at4, now = run.model_at(2), run.model_at(4), run.model_copy()
        w = [_first_weights(m) for m in (at2, at4, now)]
        assert not torch.equal(w[0], w[1]) and not torch.equal(w[1], w[2])   # three different moments
        with pytest.raises(KeyError, match="no weights at step 3"):
            run.model_at(3)
        run.step_once()                                  # training on does not change what was kept
        end = time.monotonic() + 30
        while run.snapshot().step < 6:
            assert time.monotonic() < end, "the run made no step"
            time.sleep(0.01)
        assert not torch.equal(_first_weights(run.model_copy()), w[2])
        assert torch.equal(_first_weights(run.model_at(2)), w[0])
    finally:
        manager.shutdown()


# ------------------------------------------------------------------------------------------------ the page
def test_the_page_puts_a_vae_beside_a_gan_on_every_kind():
    st.cache_data.clear()
    at = open_page("compare")
    assert not at.exception and not errors(at)
    for domain in ("digits", "fashion", "names", "melodies", "spoken"):
        at.selectbox(key="sb_domain").set_value(domain).run()
        assert not at.exception and not errors(at), (domain, at.exception, errors(at))
        left, right = (s.value for s in at.subheader[:2])
        assert left.startswith(f"{domain}-vae") and right.startswith(f"{domain}-gan"), (left, right)
        assert "do not read the same kind of random numbers" in " ".join(c.value for c in at.caption)
    at.selectbox(key="sb_b").set_value("model:spoken-vae:0").run()        # the same model twice: same inputs
    assert "the very same random numbers" in " ".join(c.value for c in at.caption)


def test_the_page_shows_a_live_run_at_a_kept_step_beside_the_same_run_now(monkeypatch, user_models):
    monkeypatch.setattr(run_module, "KEPT_AT", (2,))
    st.cache_data.clear()
    at = open_page("training")
    for name, value in (("hidden", 16), ("batch_size", 8)):
        at.select_slider(key=f"lt_k_digits_vae_{name}").set_value(value)
    at.button(key="lt_step").click().run()       # Start paused, one step
    run = at.session_state["lt_run"]
    try:
        for step in range(2, 5):                   # three more, as "Step once" makes them
            run.step_once()
            end = time.monotonic() + 30
            while run.snapshot().step < step:
                assert time.monotonic() < end, "the run made no step"
                time.sleep(0.02)
        at.switch_page(PAGES["compare"].file).run()
        assert not at.exception and not errors(at)
        assert at.selectbox(key="sb_domain").value == "digits"             # the live run's data comes first
        at.selectbox(key="sb_a").set_value(f"live:{run.run_id}:2")
        at.selectbox(key="sb_b").set_value(f"live:{run.run_id}:-1").run()
        assert not at.exception and not errors(at)
        left, right = (s.value for s in at.subheader[:2])
        assert left.startswith("your live run at step 2") and right.startswith("your live run, now")
        assert "At step 4." in [c.value for c in at.caption]
        assert "the very same random numbers" in " ".join(c.value for c in at.caption)
        assert len(image_urls(at)) >= 2
    finally:
        run.stop()
        run.join(5)
