"""The spoken-digits domain and the sound kind: the bundled data, reading a recording, making sound again,
what the browser gets, and the shipped spoken-digit models' cheap quality bars."""
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import torch

from seqgen.domains import get_domain
from seqgen.domains import spoken as S

SPLITS = ("train", "val", "test")
SENTENCE = re.compile(r"^[A-Z].{15,}[.!?]$", re.S)


@pytest.fixture(scope="module")
def d():
    return get_domain("spoken")


def wav_bytes(wave: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wave, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def espeak(text: str, voice: str, speed: int, pitch: int, folder) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = folder / "said.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
                   check=True, capture_output=True)
    return path.read_bytes()


# ---------------------------------------------------------------- the bundled data
def test_splits_are_sized_stratified_and_in_range(d):
    assert (d.seq_len, d.n_features, d.n_labels, d.kind, d.discrete) == (48, 48, 20, "sound", False)
    for split in SPLITS:
        x, y = d.dataset(split)
        per_label = S.PER_LABEL[split]
        assert x.shape == (20 * per_label, 48, 48) and x.dtype == torch.float32
        assert 0 <= x.min() and x.max() <= 1
        assert (torch.bincount(y, minlength=20) == per_label).all()
        assert x.amax((1, 2)).min() > 0.5, "a clip without speech"
        assert (x[:, 0].mean() < x[:, 24].mean()) and (x[:, -1].mean() < x[:, 24].mean()), "speech is centred"


def test_splits_are_disjoint_and_fixed(d):
    data = S._bundled()
    keys = {s: S.clip_keys(data, S._split_indices()[s]) for s in SPLITS}
    for s in SPLITS:
        assert len(set(keys[s])) == len(keys[s])
    assert not (set(keys["train"]) & set(keys["val"]) or set(keys["train"]) & set(keys["test"])
                or set(keys["val"]) & set(keys["test"]))
    assert sum(len(k) for k in keys.values()) == len(data["labels"])
    clips = {s: {x.numpy().tobytes() for x in d.dataset(s)[0]} for s in SPLITS}
    assert not (clips["train"] & clips["test"])
    # the labels travel with their clips: every test clip's label is the label its key names
    x, y = d.dataset("test")
    assert [k[0] for k in keys["test"]] == y.tolist()
    assert torch.equal(x[:5], torch.from_numpy(data["mel"][S._split_indices()["test"][:5]].astype(np.float32) / 255))


def test_the_file_is_small_and_records_how_it_was_made(d):
    assert S.BUNDLED_FILE.stat().st_size <= 4_000_000
    data = S._bundled()
    assert data["mel"].dtype == np.uint8 and data["labels"].dtype == np.uint8
    for name in S.SETTINGS:
        assert float(data[name]) == float(getattr(d, name))
    assert {str(v) for v in data["voices"]} >= {"en-us", "cmn-latn-pinyin"}
    window = d.window_samples / d.sample_rate
    assert (data["spoken_seconds"] <= window).mean() >= 0.98, "speech cropped by the window"


def test_a_file_built_with_other_settings_is_refused(tmp_path):
    data = dict(S._bundled())
    data["n_mels"] = np.array(64)
    path = tmp_path / "spoken.npz"
    np.savez(path, **data)
    with pytest.raises(ValueError, match="n_mels.*rebuild it with `python scripts/build_data.py sound`"):
        S.read_data(path)


def test_full_data_missing_says_how_to_build_it(d, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_DATA_DIR", str(tmp_path))
    S._full_train.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"build_data\.py sound --full") as e:
            d.training_data("full")
        assert SENTENCE.match(str(e.value))
    finally:
        S._full_train.cache_clear()


def test_full_data_leaves_out_the_bundled_validation_and_test_clips(d, tmp_path, monkeypatch):
    """A full set holding every bundled clip trains on exactly the bundled training clips."""
    monkeypatch.setenv("SEQGEN_DATA_DIR", str(tmp_path))
    np.savez(tmp_path / S.FULL_FILE, **S._bundled())
    S._full_train.cache_clear()
    try:
        x, y = d.training_data("full")
    finally:
        S._full_train.cache_clear()
    train_x, train_y = d.dataset("train")
    assert x.shape == train_x.shape
    assert sorted(c.numpy().tobytes() for c in x) == sorted(c.numpy().tobytes() for c in train_x)
    assert torch.equal(torch.bincount(y), torch.bincount(train_y))


def test_labels_and_their_meaning(d):
    assert d.label_names[7] == "seven" and "七" in d.label_names[17]
    assert d.meaning(torch.tensor([0, 7, 10, 17, 19])).tolist() == [0, 7, 0, 7, 9]
    assert d.item_texts("test")[0].startswith("#0: ")


# ---------------------------------------------------------------- waveform <-> spectrogram
def tone(rate: int, before: float, seconds: float = 0.3, hz: float = 440.0, total: float = 1.5) -> np.ndarray:
    wave = np.zeros(int(total * rate), np.float32)
    t = np.arange(int(seconds * rate)) / rate
    start = int(before * rate)
    wave[start:start + len(t)] = 0.5 * np.sin(2 * np.pi * hz * t)
    return wave


def test_mel_from_wave_trims_centres_and_finds_the_pitch(d):
    early, late = d.mel_from_wave(tone(22050, 0.1), 22050), d.mel_from_wave(tone(44100, 0.9), 44100)
    assert early.shape == (48, 48) and early.dtype == np.float32 and 0 <= early.min() and early.max() <= 1
    assert np.abs(early - late).mean() < 0.02, "where the sound starts, and the sample rate, do not matter"
    loud = early.max(1) > 0.5
    frames = np.flatnonzero(loud)
    assert abs((frames[0] + frames[-1]) / 2 - 23.5) <= 1.5, "the sound sits in the middle of the window"
    assert 0.25 < len(frames) * d.hop_length / d.sample_rate < 0.4
    centres = __import__("librosa").mel_frequencies(n_mels=d.n_mels + 2, fmin=d.fmin, fmax=d.fmax)[1:-1]
    assert abs(centres[early[frames].mean(0).argmax()] - 440) < 60


def test_to_wav_bytes_reads_back_at_the_right_rate_and_length(d):
    x, _ = d.dataset("test")
    data = d.to_wav_bytes(d.to_artifact(x[0]))
    wave, rate = sf.read(io.BytesIO(data), dtype="float32")
    info = sf.info(io.BytesIO(data))
    assert rate == 16000 and info.subtype == "PCM_16" and wave.ndim == 1
    assert len(wave) == d.window_samples == 47 * 256
    assert 0.8 < np.abs(wave).max() <= 0.91
    silence = d.to_wave(np.zeros((48, 48), np.uint8))
    assert np.abs(silence).max() == 0, "a spectrogram at the floor is silence"


@pytest.mark.slow
def test_griffin_lim_round_trip_keeps_the_spectrogram(d):
    x, _ = d.dataset("test")
    back = np.stack([d.mel_from_wave(d.to_wave(d.to_artifact(s)), d.sample_rate) for s in x[:8]])
    assert np.abs(back - x[:8].numpy()).mean() < 0.05


def test_from_wav_bytes_reads_a_spoken_digit(d, tmp_path):
    # a speed and pitch between the grid's, so the clip itself is not in the data
    x = d.from_wav_bytes(espeak("seven", "en-gb+m3", 155, 50, tmp_path))
    assert x.shape == (48, 48) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.7
    assert torch.equal(d.from_artifact(d.to_artifact(x)), torch.round(x * 255) / 255)


@pytest.mark.parametrize("make,words", [
    (lambda: b"just some text, not a sound file at all " * 20, "could not be read as sound"),
    (lambda: b"", "empty"),
    (lambda: wav_bytes(0.3 * np.sin(np.arange(160_000) / 5.0).astype(np.float32), 16000), "10.0 seconds"),
    (lambda: wav_bytes(np.zeros(16000, np.float32), 16000), "silent"),
    (lambda: wav_bytes(np.full(16000, 1e-4, np.float32), 16000), "silent"),
    (lambda: bytes(2_000_001), "2.0 MB"),   # refused by its size: these zeros are not even read
    (lambda: wav_bytes(0.3 * np.sin(np.arange(800) / 2.0).astype(np.float32), 4000), "4000 Hz"),
    (lambda: "a string", "bytes"),
])
def test_from_wav_bytes_refuses_with_a_sentence(d, make, words):
    with pytest.raises(ValueError) as e:
        d.from_wav_bytes(make())
    message = str(e.value)
    assert words in message and SENTENCE.match(message), message
    assert "Traceback" not in message and "sndfile" not in message.lower()


# ---------------------------------------------------------------- the artifact, pictures, the browser
def test_artifact_round_trip_and_bad_shapes(d):
    x, _ = d.dataset("test")
    art = d.to_artifact(x[0])
    assert art.dtype == np.uint8 and art.shape == (48, 48)
    assert torch.equal(d.from_artifact(art), x[0])
    assert torch.equal(d.from_artifact(art.astype(np.float32) / 255), x[0])
    for bad in (np.zeros((28, 28)), np.zeros(48 * 48), np.full((48, 48), np.nan)):
        with pytest.raises(ValueError):
            d.from_artifact(bad)


def test_picture_has_time_across_and_low_bands_at_the_bottom(d):
    art = np.zeros((48, 48), np.uint8)
    art[:10, 0] = 255          # the first frames, in the lowest band
    pic = d.picture([art], cols=1, scale=1)
    pad = 2
    assert pic[pad + 47, pad:pad + 10].min() == 255 and pic[pad + 47, pad + 10:pad + 48].max() == 0
    assert pic[pad:pad + 47, pad:pad + 48].max() == 0


def test_prefix_keeps_the_first_frames(d):
    x, _ = d.dataset("test")
    assert d.default_prefix_length == 24
    assert torch.equal(d.prefix(x[0], 24), x[0][:24])
    assert torch.equal(d.prefix(d.to_artifact(x[0]), 10), x[0][:10])
    with pytest.raises(ValueError, match="between 1 and 47"):
        d.prefix(x[0], 48)


def test_pad_spec_gives_the_browser_what_griffin_lim_needs(d):
    spec = d.pad_spec()
    spec = json.loads(json.dumps(spec))
    assert spec["kind"] == "sound" and (spec["frames"], spec["bands"]) == (48, 48)
    assert (spec["sample_rate"], spec["n_fft"], spec["hop_length"]) == (16000, 512, 256)
    assert spec["db_floor"] < spec["db_top"] and spec["grid"] == d.explorer_grid[2]
    pinv = np.array(spec["mel_pinv"])
    assert pinv.shape == (512 // 2 + 1, 48)
    # mel power -> linear -> mel power again is the identity, even with 5 significant digits
    assert np.allclose(d.mel_filters() @ pinv, np.eye(48), atol=1e-3)


def test_colour_pictures_upscale_along_the_picture_axes_only():
    from seqgen.render import png_bytes, upscale
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    big = upscale(rgb, 4)
    assert big.shape == (8, 12, 3) and (big[:4, :4] == rgb[0, 0]).all()
    assert png_bytes(big)[:4] == b"\x89PNG"
