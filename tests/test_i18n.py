"""The two catalogues (seqgen/locale) are complete: every message the code marks is translated in both,
with the same placeholders; the languages switch per session and follow the address bar and the browser."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from st_helpers import PAGES, REPO, app

from seqgen.locale import FOLDERS, LANGUAGES, normalise, po_path, translations

PLACEHOLDER = re.compile(r"\{(\w*)\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What `pybabel extract` finds in the code now (the catalogues must cover exactly this)."""
    pot = tmp_path_factory.mktemp("i18n") / "seqgen.pot"
    subprocess.run([sys.executable, "-c", "from babel.messages.frontend import main; main()", "-q", "extract",
                    "-F", "babel.cfg",
                    "-k", "ngettext:1,2", "-k", "N_", "-k", "Sentence", "-k", "Plural:1,2", "--no-location", "-o", str(pot), "."],
                   cwd=REPO, check=True)
    return read_po(pot.open("rb"))


def _ids(catalog):
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(extracted, lang):
    catalog = read_po(po_path(lang).open("rb"))
    problems = []
    for m in extracted:
        if not m.id:
            continue
        t = catalog.get(m.id)
        strings = (t.string,) if t is not None and isinstance(t.string, str) else tuple(t.string) if t else ()
        if t is None:
            problems.append(f"missing: {m.id!r}")
        elif t.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
        elif not strings or not all(strings):
            problems.append(f"untranslated: {m.id!r}")
    assert not problems, f"{FOLDERS[lang]}: run scripts/update_translations.sh and translate:\n" + "\n".join(problems)


def test_no_stale_entries(extracted):
    for lang in LANGUAGES:
        stale = _ids(read_po(po_path(lang).open("rb"))) - _ids(extracted)
        assert not stale, f"{lang}: entries no code uses any more: {sorted(map(str, stale))[:10]}"


def test_translations_keep_their_placeholders():
    catalog = read_po(po_path("zh").open("rb"))
    for m in catalog:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        want = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == want, (m.id, s)


def test_chinese_uses_the_course_terms():
    zh = translations("zh").gettext
    assert "潜在空间" in zh("Latent explorer")
    assert "生成对抗网络" in zh("A **generative adversarial network (GAN)** is two networks playing a game. The "
                               "**generator** starts from a handful of random numbers (the *noise*, fixed here by "
                               "the *seed*) plus the class you ask for (a digit, a piece of clothing, a spoken word), "
                               "and makes a sample. The **discriminator** sees real examples and the generator's "
                               "samples and tries to tell them apart; the generator is trained to fool it, so its "
                               "samples get more and more realistic.")
    assert zh("Learning rate") == "学习率" and "判别器" in zh("GAN (generator vs. discriminator)")


def test_plural_forms():
    en, zh = translations("en"), translations("zh")
    assert en.ngettext("{n} sample, seed {seed}", "{n} samples, seed {seed}", 1) == "{n} sample, seed {seed}"
    assert en.ngettext("{n} sample, seed {seed}", "{n} samples, seed {seed}", 2) == "{n} samples, seed {seed}"
    assert en.ngettext("{n} note; released, it plays", "{n} notes; released, it plays", 1).startswith("{n} note;")
    assert zh.ngettext("{n} sample, seed {seed}", "{n} samples, seed {seed}", 1) == "{n} 个样本，随机种子 {seed}"


@pytest.mark.parametrize("tag, lang", [("zh-CN", "zh"), ("zh_Hans", "zh"), ("zh-TW", "zh"), ("en-GB", "en"),
                                       ("en_US.UTF-8", "en"), ("fr-FR", None), ("", None), (None, None)])
def test_language_tags(tag, lang):
    assert normalise(tag) == lang


def test_every_live_knob_and_domain_word_is_translated():
    from seqgen.domains import get_domain
    from seqgen.presets import live_choices
    from seqgen.training.live import knobs_for
    from seqgen.ui.live_copy import KNOB_COPY

    zh = translations("zh").gettext
    for d, families in live_choices().items():
        dom = get_domain(d)
        for word in (dom.title, dom.picker_title, dom.item_noun, *dom.label_names):
            assert word.isdigit() or zh(word) != word, f"domain word {word!r} has no Chinese"
        for f in families:
            missing = [k.name for k in knobs_for(d, f) if k.name not in KNOB_COPY]
            assert not missing, f"live knobs without classroom copy (seqgen/ui/live_copy.py): {missing}"


def test_language_follows_url_browser_and_switch():
    at = app()
    at.context["locale"] = "zh-CN"             # the browser's navigator.language
    at.run()
    assert not at.exception and at.title[0].value.startswith("seqgen：")
    assert at.query_params["lang"] == "zh"
    at = app()
    at.query_params["lang"] = "en"             # the address bar wins over the browser
    at.context["locale"] = "zh-CN"
    at.run()
    assert at.title[0].value.startswith("seqgen: ")
    at.sidebar.segmented_control(key="i18n_switch").set_value("zh").run()
    assert at.title[0].value.startswith("seqgen：") and at.query_params["lang"] == "zh"


def test_cli_errors_follow_the_terminal_language(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SEQGEN_LANG": "zh", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-m", "seqgen", "sample", "digits-gan", "-n", "0"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "错误：-n 必须在 1 到" in r.stderr, r.stderr


def test_a_chinese_name_is_read_through_its_pinyin_and_errors_speak_chinese():
    """A class in China types its own names: 李雷 reaches the model as Lilei and the page says so; a name the
    model cannot read is refused in Chinese, not with the library's English."""
    at = app()
    at.query_params["lang"] = "zh"
    at.run()
    at = at.switch_page(PAGES["text"]).run()
    at.text_input(key="tx_name").input("李雷").run()
    assert not at.exception
    assert not [e.value for e in at.error]
    assert any("李雷" in c.value and "Lilei" in c.value for c in at.caption), [c.value for c in at.caption]
    near = at.dataframe[1].value                # the names nearest to Lilei in the latent space, in letters
    assert len(near) == 10 and all(str(n).isascii() and str(n).isalpha() for n in near.iloc[:, 0])
    at.text_input(key="tx_name").input("R2D2").run()
    assert not at.exception
    assert any("名字只能包含字母" in e.value for e in at.error), [e.value for e in at.error]
