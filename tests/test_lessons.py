"""Every step of every lesson opens its page without an exception and sets the state it says it sets;
the banner's Next / Back walk the steps; the collapse preset differs from its base only in live knobs."""
from __future__ import annotations

import pytest
from st_helpers import app

from seqgen.presets import PRESETS
from seqgen.ui import lessons

TITLES = {"latent": "Latent explorer", "noise": "Noise → image & sound", "training": "Live training", "lessons": "Lessons",
          "text": "Text: inventing names", "music": "Music: new chorale melodies"}
STEPS = [(lesson.id, i) for lesson in lessons.LESSONS.values() for i in range(len(lesson.steps))]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    from seqgen.ui import resources
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "user_models"))
    resources.list_models.clear()
    yield
    resources.list_models.clear()


def test_at_least_four_lessons_in_both_languages():
    from seqgen.locale import translations
    zh = translations("zh").gettext
    assert len(lessons.LESSONS) >= 4
    for lesson in lessons.LESSONS.values():
        assert len(lesson.steps) >= 3
        for text in (lesson.title, lesson.summary, *(t for s in lesson.steps for t in (s.title, s.do, s.notice))):
            assert zh(text) != text, f"no Chinese for {text!r}"
        for step in lesson.steps:
            assert step.page in lessons.PAGES


@pytest.mark.parametrize("lesson_id, index", STEPS)
def test_each_step_opens_its_page_with_its_state(lesson_id, index):
    step = lessons.LESSONS[lesson_id].steps[index]
    at = app()
    at.query_params["lesson"], at.query_params["step"] = lesson_id, str(index + 1)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title][:1] == [TITLES[step.page]]
    for key, value in lessons.step_state(step).items():
        got = at.session_state[key]
        assert (tuple(got) if isinstance(value, tuple) else got) == value, (key, got, value)
    banner = " ".join(m.value for m in at.sidebar.markdown)
    assert step.title in banner and step.do in banner
    assert at.query_params["lesson"] == lesson_id and at.query_params["step"] == str(index + 1)


def test_next_and_back_walk_the_steps_across_pages():
    at = app()
    at.query_params["lesson"] = "gan-training"
    at.query_params["step"] = "3"
    at.run()
    assert at.title[0].value == "Live training"
    assert at.session_state["lt_k_digits_gan_lr"] == PRESETS["digits-gan-collapse"].train["lr"]
    at.sidebar.button(key="lesson_next").click().run()           # step 4 is on another page
    assert not at.exception and at.title[0].value == "Noise → image & sound" and at.query_params["step"] == "4"
    at.sidebar.button(key="lesson_back").click().run()
    assert at.title[0].value == "Live training" and at.query_params["step"] == "3"
    at.sidebar.button(key="lesson_leave").click().run()
    assert "lesson" not in at.query_params and not at.sidebar.button


def test_lesson_in_chinese():
    at = app()
    at.query_params.update({"lesson": "rnn-steps", "step": "1", "lang": "zh"})
    at.run()
    assert not at.exception and at.title[0].value == "噪声 → 图像与声音"
    assert "第一行" in " ".join(m.value for m in at.sidebar.markdown)


def test_hidden_controls_are_hidden_on_the_step_page():
    at = app()
    at.query_params.update({"lesson": "rnn-steps", "step": "1"})
    at.run()
    css = " ".join(h.proto.body for h in at.get("html"))
    assert ".st-key-ni_png{display:none" in css


def test_lessons_page_has_a_qr_code_per_lesson():
    at = app()
    at.query_params["lesson"] = "nope"          # an unknown lesson is ignored
    at.run()
    assert not at.exception
    at = at.switch_page(lessons.PAGES["lessons"].file).run()
    assert not at.exception
    assert len(at.get("imgs")) >= len(lessons.LESSONS) or len(at.image) >= len(lessons.LESSONS)
    assert all(f"?lesson={i}" in " ".join(c.value for c in at.code) for i in lessons.LESSONS)


def test_collapse_preset_differs_only_in_live_knobs():
    from seqgen.training.live import knobs_for
    base, collapse = PRESETS["digits-gan-live"], PRESETS["digits-gan-collapse"]
    knobs = {k.name for k in knobs_for("digits", "gan")}
    changed = {k for k in {**base.model, **collapse.model} if base.model.get(k) != collapse.model.get(k)} | \
              {k for k in {**base.train, **collapse.train} if base.train.get(k) != collapse.train.get(k)}
    assert changed and changed <= knobs, changed


@pytest.mark.slow
def test_collapse_preset_collapses_across_classes():
    """A short run of digits-gan-collapse: several digit labels come out as one picture (the base preset's
    samples keep one picture per label)."""
    import torch

    from seqgen.domains import get_domain
    from seqgen.models import build_model
    from seqgen.presets import configure
    from seqgen.training.trainer import Trainer

    def distinct_classes(preset, steps=400):
        model_cfg, train_cfg, _ = configure(preset)
        train_cfg.steps, train_cfg.eval_every = steps, steps
        torch.manual_seed(0)
        model = build_model(model_cfg)
        Trainer(model, get_domain("digits"), train_cfg, device="cpu").run_steps(steps)
        model.eval()
        s = (model.sample(10, label=torch.arange(10), generator=torch.Generator().manual_seed(1)) > 0.5).flatten(1)
        d = torch.cdist(s.float(), s.float(), p=1) / s.shape[1]
        return int((d + torch.eye(10) > 0.05).all(1).sum())   # labels whose picture no other label shares
    threads = torch.get_num_threads()
    torch.set_num_threads(1)     # one thread: the same run on every machine
    try:
        collapsed, healthy = distinct_classes("digits-gan-collapse"), distinct_classes("digits-gan-live")
    finally:
        torch.set_num_threads(threads)
    assert collapsed <= 3 and collapsed < healthy, (collapsed, healthy)
