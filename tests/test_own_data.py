"""A learner's own data set (seqgen.domains.own): reading each kind's files, what is dropped and why, every
refusal of an unsafe upload (in both languages), the data set kept for a saved model, the CLI's
`train --data`, and the Live training page's "Your data" (the whole path, trained and explored, is
tests/e2e/test_browser_own_data.py)."""
from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from seqgen.domains import get_domain, own, register, unregister
from seqgen.domains.own import DataError, OwnData, keep_data, open_kept, own_domain, read_data, templates
from seqgen.locale import in_language, translations
from seqgen.presets import FINE_TUNE_LR, SMALL_DATA_PATIENCE
from seqgen.training.live.knobs import live_defaults

ROOT = Path(__file__).resolve().parents[1]
names = get_domain("names")
digits = get_domain("digits")
melodies = get_domain("melodies")
NAMES = [str(n) for n in np.load(ROOT / "seqgen/domains/data/names.npz")["names"]]


@pytest.fixture(autouse=True)
def user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "user"))
    return tmp_path / "user"


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def drawing_of(i: int, split: str = "test") -> tuple[bytes, int]:
    """A test digit as a drawing: black strokes on white, 10x, as a PNG file; and its label."""
    x, y = digits.dataset(split)
    big = np.asarray(Image.fromarray(digits.to_artifact(x[i])).resize((280, 280), Image.Resampling.BILINEAR))
    return png(np.where(big > 100, 0, 255).astype(np.uint8)), int(y[i])


def midi_file(pitches: list[int], beats_each: float = 1.0) -> bytes:
    f = mido.MidiFile(ticks_per_beat=480)
    t = mido.MidiTrack()
    f.tracks.append(t)
    step = int(480 * beats_each)
    for p in pitches:
        t.append(mido.Message("note_on", note=p, velocity=80, time=0))
        t.append(mido.Message("note_off", note=p, velocity=0, time=step))
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def both_languages(message) -> tuple[str, str]:
    """A refusal in English and in Chinese; the Chinese must really be Chinese."""
    en, zh = in_language(message, translations("en")), in_language(message, translations("zh"))
    assert en and re.search(r"[\u4e00-\u9fff]", zh), (en, zh)
    return en, zh


# ---------------------------------------------------------------- text
def test_a_pasted_list_keeps_words_and_says_why_each_other_line_was_dropped():
    pasted = "\n".join(NAMES[:40] + ["", "Mary Ann", "x" * 20, NAMES[0].upper(), "李雷"])
    reading = read_data(names, pasted=pasted)
    assert len(reading.kept) == 41 and reading.ready
    assert reading.kept[-1].artifact == "Lilei"                       # Chinese read through its pinyin
    why = {str(r): (n, ex) for r, n, ex in reading.reasons()}
    assert why["an empty line"][0] == 1
    assert why["a duplicate of an item kept before it"] == (1, [f"{NAMES[0].upper()} (pasted:44)"])
    assert any("Mary Ann" in ex[0] for n, ex in why.values())
    assert any("has 20" in r for r in why)
    assert reading.label_source == "none"


def test_a_csv_is_read_by_its_first_column_and_a_file_that_is_not_utf8_is_refused_in_both_languages():
    rows = "\n".join(f"{n},{i}" for i, n in enumerate(NAMES[:25])).encode()
    assert len(read_data(names, [("names.csv", rows)]).kept) == 25
    reading = read_data(names, [("latin1.txt", "Zoë\nAnn\n".encode("latin-1"))])
    assert not reading.kept
    en, zh = both_languages(reading.dropped[0].why)
    assert "UTF-8" in en and "latin1.txt" in zh


def test_too_few_items_are_not_a_data_set():
    reading = read_data(names, pasted="\n".join(NAMES[:5]))
    assert not reading.ready
    both_languages(reading.problem())
    with pytest.raises(ValueError):
        reading.data("five")


def test_ten_thousand_items_are_the_most_a_data_set_keeps(monkeypatch):
    monkeypatch.setattr(own, "MAX_ITEMS", 30)
    reading = read_data(names, pasted="\n".join(NAMES[:45]))
    assert len(reading.kept) == 30
    assert [n for r, n, _ in reading.reasons() if "over the limit" in str(r)] == [15]


# ---------------------------------------------------------------- the other kinds
def test_drawings_in_folders_are_labelled_by_their_folder_and_loose_ones_by_the_classifier():
    members = {}
    for i in range(24):
        data, label = drawing_of(i)
        members[f"ours/{'seven' if label == 7 else 'other'}/{i}.png"] = data
    members["ours/other/not-a-picture.png"] = b"hello"
    members["ours/readme.txt"] = b"notes"
    reading = read_data(digits, [("drawings.zip", zipped(members))])
    assert len(reading.kept) == 24 and reading.label_source == "folders"
    assert reading.label_names == ("other", "seven")
    why = [str(r) for r, _, _ in reading.reasons()]
    assert any("could not be read as a picture" in w for w in why) and any("not a file this data takes" in w for w in why)
    loose = read_data(digits, [(f"{i}.png", drawing_of(i)[0]) for i in range(20)])
    assert loose.label_source == "guessed" and loose.label_names == digits.label_names
    truth = [drawing_of(i)[1] for i in range(20)]
    assert np.mean([a == b for a, b in zip(loose.label_ids, truth)]) >= 0.8


def test_a_huge_picture_is_refused_before_it_is_decoded():
    buf = io.BytesIO()
    Image.new("L", (6000, 6000), 255).save(buf, format="PNG")
    reading = read_data(digits, [("poster.png", buf.getvalue())])
    en, zh = both_languages(reading.dropped[0].why)
    assert "2048×2048" in en


def test_midi_files_are_cut_into_four_bar_melodies_and_a_broken_one_is_dropped_with_why():
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    song = midi_file([scale[i] for i in np.random.default_rng(0).integers(0, 8, 48)])   # 48 quarter notes: 12 bars
    repeated = midi_file((scale + scale[::-1]) * 3)            # repeats every 4 bars: later windows are duplicates
    reading = read_data(melodies, [("song.mid", song), ("repeated.mid", repeated),
                                   ("broken.mid", b"MThd\x00\x00\x00\x06garbage")])
    assert len(reading.kept) == 9 + 4                          # a 4-bar window at each of the first 9 bar lines
    assert all(sum(n.length for n in e.artifact) == 64 for e in reading.kept)
    why = {str(r): n for r, n, _ in reading.reasons()}
    assert why == {"a duplicate of an item kept before it": 5, str(reading.dropped[-1].why): 1}
    en, zh = both_languages(reading.dropped[-1].why)
    assert "could not be read" in en


def test_recordings_are_read_as_the_sound_kind_reads_an_upload():
    spoken = get_domain("spoken")
    rate = 16_000
    t = np.arange(int(0.5 * rate)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * np.hanning(len(t))).astype(np.float32)
    files = []
    for name, wave in (("tone.wav", tone), ("silence.wav", np.zeros_like(tone))):
        buf = io.BytesIO()
        sf.write(buf, wave, rate, format="WAV")
        files.append((name, buf.getvalue()))
    reading = read_data(spoken, files)
    assert len(reading.kept) == 1 and reading.kept[0].artifact.shape == (spoken.seq_len, spoken.n_features)
    en, _zh = both_languages(reading.dropped[0].why)
    assert "silent" in en


# ---------------------------------------------------------------- refusals of the whole upload
def _refusal(files, **kw) -> tuple[str, str]:
    with pytest.raises(DataError) as e:
        read_data(kw.pop("template", names), files, **kw)
    return both_languages(e.value.args[0])


def test_an_archive_member_that_points_outside_it_is_refused():
    en, _ = _refusal([("up.zip", zipped({"../../etc/evil.txt": b"Ann\n"}))])
    assert "outside the archive" in en
    en, _ = _refusal([("up.zip", zipped({"/abs/names.txt": b"Ann\n"}))])
    assert "outside the archive" in en


def test_a_link_inside_an_archive_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("names.txt")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    en, _ = _refusal([("up.zip", buf.getvalue())])
    assert "link" in en


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    en, _ = _refusal([("bomb.zip", zipped({"names.txt": b"a" * 20_000_000}))])
    assert "zip bomb" in en


def test_too_large_or_too_many_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(own, "MAX_UPLOAD_BYTES", 1000)
    en, _ = _refusal([("names.txt", b"Ann\n" * 300)])
    assert "MB" in en
    monkeypatch.setattr(own, "MAX_UPLOAD_BYTES", 20_000_000)
    monkeypatch.setattr(own, "MAX_FILES", 5)
    en, _ = _refusal([("many.zip", zipped({f"{i}.txt": b"Ann\n" for i in range(6)}))])
    assert "6 files" in en
    monkeypatch.setattr(own, "MAX_FILES", 10_000)
    monkeypatch.setattr(own, "MAX_UNPACKED_BYTES", 10_000)
    en, _ = _refusal([("big.zip", zipped({"names.txt": os.urandom(20_000)}))])
    assert "unpacks to" in en


def test_a_damaged_archive_and_pasted_text_for_a_kind_that_takes_none_are_refused():
    en, _ = _refusal([("names.zip", b"PK\x03\x04 this is not really a zip")])
    assert "zip archive" in en
    _refusal([], pasted="Ann\nBob", template=digits)


# ---------------------------------------------------------------- the data set as a domain
def test_a_data_set_trains_with_its_kinds_presets_and_is_kept_for_its_models(user_folder):
    from seqgen.training.live.knobs import build_configs

    data = read_data(names, pasted="\n".join(NAMES[:200])).data("Our names")
    domain = register(own_domain(data))
    try:
        assert domain.kind == "text" and domain.name.startswith("own-our-names-")
        x, y = domain.dataset("train")
        assert y is None and len(x) == 160 and [len(domain.dataset(s)[0]) for s in ("val", "test")] == [20, 20]
        assert all(t.split(" (")[0] in NAMES for t in domain.item_texts("test"))
        model_cfg, train_cfg, _ = build_configs(domain.name, "gan")
        assert model_cfg.domain == domain.name and not model_cfg.conditional and model_cfg.seq_len == names.seq_len
        assert train_cfg.patience == SMALL_DATA_PATIENCE > 0                 # a small data set stops early
        assert build_configs("names", "gan")[1].patience == 0
        assert domain.reference() is not None                  # the names language model judges its words
        domain.keep()
        path = user_folder / "datasets" / f"{domain.name}.npz"
        assert path.is_file()
        unregister(domain.name)
        again = get_domain(domain.name)                        # opened from the user folder, as a new process does
        assert again is not domain and (again.dataset("test")[0] == domain.dataset("test")[0]).all()
    finally:
        unregister(domain.name)


def test_a_data_set_held_by_a_session_is_gone_with_it_unless_a_model_kept_it(user_folder):
    import gc

    data = read_data(names, pasted="\n".join(NAMES[:40])).data("Class of today")
    held = register(own_domain(data), while_held=True)
    assert get_domain(data.name) is held
    del held
    gc.collect()
    with pytest.raises(ValueError, match="not in this seqgen's user folder"):
        get_domain(data.name)                                  # the session ended: nothing of it is left
    keep_data(data)                                            # a saved model kept it
    assert get_domain(data.name).title == "Class of today"
    unregister(data.name)


def test_a_kept_data_set_that_was_tampered_with_is_refused(user_folder):
    data = read_data(names, pasted="\n".join(NAMES[:30])).data("Thirty")
    path = keep_data(data)
    arrays = dict(np.load(path, allow_pickle=False))
    arrays["x"] = arrays["x"][::-1].copy()
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="other data"):
        open_kept(data.name)
    with open(path, "wb") as f:                                 # an object array would need unpickling
        np.savez(f, **{**arrays, "texts": np.array([object()] * len(arrays["x"]), dtype=object)})
    with pytest.raises(ValueError, match="not a seqgen data set"):
        open_kept(data.name)
    with pytest.raises(ValueError):
        open_kept("own-../../etc/passwd")


def test_each_kind_has_a_template():
    assert templates() == {"image": "digits", "text": "names", "melody": "melodies", "sound": "spoken"}


# ---------------------------------------------------------------- the CLI
def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "seqgen", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.slow
def test_cli_trains_on_a_list_of_names_and_the_model_opens_in_a_new_process(tmp_path, user_folder):
    env = {**os.environ, "SEQGEN_USER_MODELS": str(user_folder), "PYTHONPATH": str(ROOT)}
    data = tmp_path / "our-names.txt"
    data.write_text("\n".join(NAMES[:200] + ["Mary Ann"]) + "\n", encoding="utf-8")
    r = _cli("train", "--data", str(data), "--kind", "text", "--family", "vae", "--steps", "40", "--quiet",
             "--threads", "1", env=env)
    assert r.returncode == 0, r.stderr
    assert "kept 200 items, dropped 1" in r.stderr and "Mary Ann" in r.stderr
    card = (user_folder / "our-names-vae" / "README.md").read_text()
    assert "--data" in card and "the learner's own data" in card
    r = _cli("complete", "our-names-vae", "--prefix", "Mar", "-n", "3", "--out", str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    assert all(line.startswith("Mar") for line in r.stdout.splitlines() if "\t" in line)


def test_cli_says_what_is_missing_without_a_traceback(tmp_path, user_folder):
    env = {**os.environ, "SEQGEN_USER_MODELS": str(user_folder), "PYTHONPATH": str(ROOT)}
    r = _cli("train", "--data", str(tmp_path / "nothing.txt"), "--kind", "text", "--family", "vae", env=env)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "not a file or a folder" in r.stderr
    r = _cli("train", "--data", str(tmp_path), "--family", "vae", env=env)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "--kind" in r.stderr


# ---------------------------------------------------------------- the Live training page
APP = str(ROOT / "frame" / "main.py")
LIVE = "../pages/5_live_training.py"


def live_page(lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(LIVE).run()
    at.session_state["lt_domain"] = "own"
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_live_page_reads_pasted_names_and_says_what_it_dropped(lang):
    at = live_page(lang)
    at.button(key="lt_start").click().run()                    # nothing read yet: a sentence, no run
    assert not at.exception and "lt_run" not in at.session_state
    assert at.warning and (("Read your data first" in at.warning[0].value) == (lang == "en"))
    at.session_state["lt_own_template"] = "names"
    at.run().text_area(key="lt_own_text_names").set_value("\n".join(NAMES[:30] + ["Mary Ann", "<b>x</b>", "李雷"])).run()
    at.button(key="lt_own_read").click().run()
    assert not at.exception
    assert at.success and ("31" in at.success[0].value)
    table = at.dataframe[0].value
    assert len(table) == 2 and "<b>x</b>" in " ".join(table.iloc[:, 2])     # shown as the characters typed
    assert bool(re.search(r"[\u4e00-\u9fff]", " ".join(table.iloc[:, 0]))) == (lang == "zh")   # why, in words
    assert at.session_state["lt_own_domain"].startswith("own-")


def test_a_run_on_your_drawings_can_start_from_the_shipped_digits_vae():
    import seqgen
    from seqgen.models import build_model
    from seqgen.presets import started_from
    from seqgen.training.live.knobs import build_configs
    from seqgen.training.trainer import take_start_weights

    members = {f"ours/{drawing_of(i)[1]}/{i}.png": drawing_of(i)[0] for i in range(30)}
    domain = register(own_domain(read_data(digits, [("ours.zip", zipped(members))]).data("Ours")))
    try:
        model_cfg, train_cfg, values = build_configs(domain.name, "vae", {"init_from": "digits-vae"})
        assert train_cfg.lr == FINE_TUNE_LR != build_configs(domain.name, "vae")[1].lr   # adapts, at a tenth
        assert build_configs(domain.name, "vae", {"init_from": "digits-vae", "lr": 1e-3})[1].lr == 1e-3  # unless set
        shipped = seqgen.load("digits-vae").model
        assert model_cfg.domain == domain.name and model_cfg.hidden == shipped.cfg.hidden != build_configs(
            domain.name, "vae")[0].hidden                           # the shipped model's size, not the live preset's
        model = build_model(model_cfg)
        take_start_weights(model, train_cfg)
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), shipped.state_dict().values()))
        with pytest.raises(ValueError, match="it is a GAN"):
            started_from("digits-gan", domain, "vae")
    finally:
        unregister(domain.name)
    pasted = "\n".join(f"{c}伟" for c in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    letters = own_domain(read_data(names, pasted=pasted, characters=True).data("字"))
    with pytest.raises(ValueError, match="cannot start from 'names-vae'"):
        started_from("names-vae", letters, "vae")                  # another alphabet: the weights cannot read it


def test_the_live_page_starts_a_run_on_pasted_names_from_the_shipped_names_vae_by_default():
    at = live_page()
    at.session_state["lt_own_template"] = "names"
    at.run().text_area(key="lt_own_text_names").set_value("\n".join(NAMES[:40])).run()
    at.button(key="lt_own_read").click().run()
    assert at.toggle(key="lt_own_start_names_vae").value is True                # on without being touched
    assert at.select_slider(key="lt_k_own_names_vae_lr").value == 2e-4          # a tenth of the usual rate
    at.button(key="lt_start").click().run()
    run = at.session_state["lt_run"]
    try:
        assert run.train_cfg.init_from == "names-vae" and run.model_cfg.hidden == 256 and run.train_cfg.lr == 2e-4
    finally:
        run.stop()
        run.join(10)
    assert not at.exception


def test_from_scratch_and_data_the_shipped_model_cannot_read_train_at_the_presets_rate():
    preset_lr = live_defaults("names", "vae")["lr"]
    at = live_page()
    at.session_state["lt_own_template"] = "names"
    at.run().text_area(key="lt_own_text_names").set_value("\n".join(NAMES[:40])).run()
    at.button(key="lt_own_read").click().run()
    at.toggle(key="lt_own_start_names_vae").set_value(False).run()               # the learner turns it off
    assert at.select_slider(key="lt_k_own_names_vae_lr").value == preset_lr
    at.toggle(key="lt_own_start_names_vae").set_value(True).run()
    assert at.select_slider(key="lt_k_own_names_vae_lr").value == 2e-4
    pasted = "\n".join(f"{c}伟" for c in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    at.toggle(key="lt_own_chars_names").set_value(True).run()                  # an alphabet of their own
    at.text_area(key="lt_own_text_names").set_value(pasted).run()
    at.button(key="lt_own_read").click().run()
    assert not [t for t in at.toggle if t.key == "lt_own_start_names_vae"]      # names-vae cannot read them
    assert at.select_slider(key="lt_k_own_names_vae_lr").value == preset_lr
    at.button(key="lt_start").click().run()
    run = at.session_state["lt_run"]
    try:
        assert run.train_cfg.init_from is None and run.train_cfg.lr == preset_lr
    finally:
        run.stop()
        run.join(10)
    assert not at.exception


def test_chinese_names_kept_as_characters_make_an_alphabet_of_their_own():
    pasted = ["王伟", "李娜", "张伟", "刘洋", "陈静", "杨勇", "黄艳", "赵磊", "吴杰", "周涛", "徐明", "孙超",
              "马秀", "朱霞", "胡平", "郭刚", "何英", "高华", "林玉", "罗兰", "王 伟", "李娜"]
    reading = read_data(names, pasted="\n".join(pasted), characters=True)
    assert [e.artifact for e in reading.kept][:3] == ["王伟", "李娜", "张伟"] and len(reading.kept) == 20
    why = {str(r) for r, _, _ in reading.reasons()}
    assert "a duplicate of an item kept before it" in why and any("spaces" in w for w in why)
    data = reading.data("中文名字")
    assert data.alphabet == "".join(sorted(set("".join(pasted).replace(" ", ""))))
    domain = own_domain(data)
    assert domain.n_features == 3 + len(data.alphabet)
    assert domain.to_artifact(domain.from_artifact("李娜")) == "李娜" and domain.reads_as("李娜") is None
    assert domain.reference() is None                          # the a–z language model cannot judge these
    with pytest.raises(ValueError) as e:
        domain.from_artifact("李雷")                            # 雷 is in no name of the data
    both_languages(e.value.args[0])
    assert OwnData.from_bytes(data.to_bytes()).alphabet == data.alphabet
    from seqgen.models import build_model
    from seqgen.training.live.knobs import build_configs
    register(domain)
    try:
        model = build_model(build_configs(domain.name, "vae")[0])
        assert all(set(w) <= set(data.alphabet) for w in domain.artifacts(model.sample(8, temperature=1.0)))
    finally:
        unregister(domain.name)
    with pytest.raises(DataError):
        read_data(digits, [("a.png", drawing_of(0)[0])], characters=True)


def test_switching_what_the_data_is_after_reading_it_trains_nothing_of_the_other_kind():
    at = live_page()
    at.session_state["lt_own_template"] = "names"
    at.run().text_area(key="lt_own_text_names").set_value("\n".join(NAMES[:30])).run()
    at.button(key="lt_own_read").click().run()
    at.session_state["lt_own_template"] = "melodies"
    at.run().button(key="lt_start").click().run()
    assert "lt_run" not in at.session_state and "Read your data first" in at.warning[0].value
    at.session_state["lt_own_template"] = "names"                # back: the names read before are there again
    at.run()
    assert at.success and "Kept 30 items" in at.success[0].value


@pytest.mark.slow
def test_recordings_made_on_the_live_page_are_read_with_the_files():
    rate = 16_000
    t = np.arange(int(0.5 * rate)) / rate
    clips = []
    for hz in range(300, 300 + 21 * 40, 40):                    # 21 different tones: no duplicates
        buf = io.BytesIO()
        sf.write(buf, (0.5 * np.sin(2 * np.pi * hz * t) * np.hanning(len(t))).astype(np.float32), rate, format="WAV")
        clips.append(buf.getvalue())
    at = live_page()
    at.session_state["lt_own_template"] = "spoken"
    at.run()
    at.session_state["lt_own_recordings_spoken"] = clips
    at.run()
    assert any("21 recordings added" in c.value for c in at.caption)
    at.button(key="lt_own_read").click().run()
    assert not at.exception and "Kept 21 items from 21 file(s)" in at.success[0].value
    at.button(key="lt_own_clear_spoken").click().run()
    assert not any("recordings added" in c.value for c in at.caption)
