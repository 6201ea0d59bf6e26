"""The Fashion-MNIST domain end to end: its data, its shipped models' quality, and the pages that show them
(added as a domain only: no page or UI code knows it exists)."""
from __future__ import annotations

import pytest
from st_helpers import errors, image_urls, open_page

import seqgen
from seqgen import evaluation, metrics
from seqgen.domains import fashion


@pytest.fixture(scope="module")
def zoo():
    return {n: seqgen.load(n) for n in ("fashion-vae", "fashion-gan", "fashion-classifier")}


def test_bundled_split_is_stratified_and_the_test_images_are_the_official_test_set():
    d = seqgen.get_domain("fashion")
    sizes = {s: len(d.dataset(s)[0]) for s in ("train", "val", "test")}
    assert sizes == {"train": 12000, "val": 2000, "test": 2000}
    for s in sizes:
        assert d.dataset(s)[1].bincount().tolist() == [sizes[s] // 10] * 10
    raw = fashion._bundled()
    assert raw["test_source_index"].max() < 10000           # indices into the official 10k test images
    assert len(set(raw["train_source_index"]) & set(raw["val_source_index"])) == 0


def test_idx_reader_refuses_what_is_not_an_idx_file(tmp_path):
    bad = tmp_path / "x-idx3-ubyte"
    bad.write_bytes(b"\x89PNG not idx")
    with pytest.raises(ValueError, match="not an unsigned-byte idx file"):
        fashion.read_idx(bad)
    short = tmp_path / "y-idx1-ubyte"
    short.write_bytes(b"\0\0\x08\x01" + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="truncated"):
        fashion.read_idx(short)


def test_full_data_says_how_to_install_it_when_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(fashion, "FULL_DATA", tmp_path)
    fashion._full_train.cache_clear()
    try:
        with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist"):
            seqgen.get_domain("fashion").training_data("full")
    finally:
        fashion._full_train.cache_clear()


@pytest.mark.skipif(not (fashion.FULL_DATA / fashion.FULL_FILES[0]).is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_full_data_is_every_official_training_image_but_the_validation_ones():
    x, y = seqgen.get_domain("fashion").training_data("full")
    assert x.shape == (58000, 28, 28) and y.bincount().tolist() == [5800] * 10


def test_reference_classifier_is_a_fair_judge(zoo):
    x, y = seqgen.get_domain("fashion").dataset("test")
    assert zoo["fashion-classifier"].model.evaluate(x, y)["accuracy"] >= 0.85


def test_vae_plane_shows_every_class(zoo):
    """The Latent explorer's promise for clothes: on a 15 x 15 grid over [-2, 2]^2, at least 9 of the 10 classes
    are drawn well enough that the project's classifier is at least 80 % sure of them (the shipped model: 10)."""
    quality = metrics.latent_grid_quality(zoo["fashion-vae"].model, zoo["fashion-classifier"].model, grid=15,
                                          span=2.0, confident=0.8)
    assert quality["grid_classes_present"] >= 9


def test_gan_draws_the_requested_class(zoo):
    assert evaluation.quick(zoo["fashion-gan"].model, n=200)["requested_class_accuracy"] >= 0.8


# ---------------------------------------------------------------- the pages, with no fashion code in them
@pytest.fixture(autouse=False)
def app_isolated(user_models):
    from seqgen.ui import resources
    resources.list_models.clear()
    yield
    resources.list_models.clear()


def test_latent_explorer_shows_clothes(app_isolated):
    at = open_page("latent")
    at.selectbox(key="le_model").set_value("fashion-vae").run()
    at.toggle(key="le_classic").set_value(True).run()        # server-side sliders; the pad has its own tests
    assert not at.exception and not errors(at)
    first = image_urls(at)[0]
    at.slider(key="le_z0").set_value(2.5).run()
    assert image_urls(at)[0] != first                         # the decoded item follows the slider
    assert at.slider(key="le_grid_fashion").value == seqgen.get_domain("fashion").explorer_grid[2]
    hover = {t for trace in __import__("json").loads(at.get("plotly_chart")[0].proto.spec)["data"]
             for t in trace.get("text", [])}
    assert any("Ankle boot" in t for t in hover)              # the map's hover names the class


def test_noise_page_draws_the_requested_class(app_isolated):
    at = open_page("noise")
    at.selectbox(key="ni_model").set_value("fashion-gan").run()
    assert not at.exception and not errors(at)
    at.selectbox(key="ni_label").set_value(1).run()
    assert "Trouser" in at.image[0].captions[0]
    assert not at.exception and not errors(at)


def test_live_training_offers_and_trains_clothes(app_isolated):
    import time

    from st_helpers import app
    at = app().run()
    at.switch_page("../pages/5_live_training.py").run()
    picker = at.radio(key="lt_domain")
    assert "fashion" in picker.options or seqgen.get_domain("fashion").picker_title in picker.options
    picker.set_value("fashion").run()
    at.select_slider(key="lt_k_fashion_vae_hidden").set_value(16)
    at.select_slider(key="lt_k_fashion_vae_batch_size").set_value(8)
    at.button(key="lt_start").click().run()
    run = at.session_state["lt_run"]
    try:
        end = time.monotonic() + 60
        while run.snapshot().step < 5 and time.monotonic() < end:
            time.sleep(0.2)
        at.run()
        assert not at.exception and run.snapshot().step >= 5 and run.snapshot().domain == "fashion"
        assert at.image, "the sample mosaic is drawn"
    finally:
        run.stop()
        run.join(5)
