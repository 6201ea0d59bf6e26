"""The command line's main paths, end to end on tiny models (seconds each)."""
import json

import numpy as np
import pytest
import soundfile as sf

from seqgen import checkpoints
from seqgen.cli import main

TINY = ["--hidden", "16", "--embed", "8", "--steps", "12", "--eval-every", "6", "--quiet"]


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "user"))
    return tmp_path


def train(out, *args):
    return main(["train", *args, *TINY, "--out", str(out / "models")])


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for cmd in ("list", "train", "sample", "eval"):
        assert cmd in text


def test_train_sample_eval_digits_vae(out, capsys):
    assert train(out, "--domain", "digits", "--family", "vae", "--latent", "2", "--name", "d") == 0
    ckpt = checkpoints.load(out / "models" / "d")
    assert ckpt.config.latent == 2 and ckpt.info["steps"] == 12
    assert "python -m seqgen train --domain digits" in ckpt.info["command"]
    assert "## Training" in (out / "models" / "d" / "README.md").read_text()
    assert main(["sample", str(out / "models" / "d"), "-n", "4", "--out", str(out / "s")]) == 0
    png = (out / "s" / "d.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert main(["sample", str(out / "models" / "d"), "-n", "1", "--z", "0.5,-1", "--out", str(out / "s")]) == 0
    capsys.readouterr()
    assert main(["eval", str(out / "models" / "d"), "--quick", "--write"]) == 0
    text = capsys.readouterr().out
    assert "test_neg_elbo" in text and "knn5_latent_accuracy" in text
    doc = json.loads((out / "models" / "d" / "config.json").read_text())
    assert doc["metrics"]["test_neg_elbo"] > 0
    assert "test_neg_elbo" in (out / "models" / "d" / "README.md").read_text()


def test_train_sample_eval_conditional_digits_gan(out, capsys):
    assert train(out, "--domain", "digits", "--family", "gan", "--name", "g") == 0
    assert main(["sample", str(out / "models" / "g"), "-n", "3", "--label", "7", "--out", str(out / "s")]) == 0
    assert main(["eval", str(out / "models" / "g"), "-n", "20", "--quick"]) == 0
    assert "spread_ratio" in capsys.readouterr().out


def test_names_and_melodies(out, capsys):
    assert train(out, "--domain", "names", "--family", "vae", "--name", "n") == 0
    assert train(out, "--domain", "names", "--family", "gan", "--mle-steps", "6", "--name", "ng") == 0
    assert main(["sample", str(out / "models" / "n"), "-n", "5", "--temperature", "1", "--out", str(out / "s")]) == 0
    lines = (out / "s" / "n.txt").read_text().splitlines()
    assert len(lines) == 5 and all(line.split("\t")[1] in ("new", "known") for line in lines)
    assert main(["eval", str(out / "models" / "ng"), "-n", "30", "--quick"]) == 0
    assert "novel_fraction" in capsys.readouterr().out

    assert train(out, "--domain", "melodies", "--family", "vae", "--name", "m") == 0
    assert train(out, "--domain", "melodies", "--family", "gan", "--mle-steps", "6", "--name", "mg") == 0
    assert main(["sample", str(out / "models" / "mg"), "-n", "2", "--out", str(out / "s")]) == 0
    wave, sr = sf.read(out / "s" / "mg-00.wav")
    assert sr == 22050 and len(wave) > sr and np.abs(wave).max() <= 1.0
    assert (out / "s" / "mg-01.mid").read_bytes().startswith(b"MThd")
    assert main(["eval", str(out / "models" / "m"), "-n", "20", "--quick"]) == 0
    assert "teacher_forced_accuracy" in capsys.readouterr().out


def test_absurd_learning_rate_stops_and_writes_nothing(out, capsys):
    code = main(["train", "--domain", "digits", "--family", "vae", "--hidden", "16", "--steps", "300", "--quiet",
                 "--lr", "1e9", "--out", str(out / "models"), "--name", "boom"])
    assert code == 3
    assert "diverged" in capsys.readouterr().err
    assert not (out / "models" / "boom").exists()
    assert not list((out / "models").glob(".*")) if (out / "models").exists() else True


def test_refuses_to_overwrite_without_force_and_bad_names(out, capsys):
    assert train(out, "--domain", "names", "--family", "lm", "--name", "x") == 0
    assert train(out, "--domain", "names", "--family", "lm", "--name", "x") == 2
    assert "--force" in capsys.readouterr().err
    assert train(out, "--domain", "names", "--family", "lm", "--name", "../escape") == 2
    assert not (out / "escape").exists()


def test_list_and_errors(out, capsys):
    assert main(["list"]) == 0
    assert main(["sample", "no-such-model"]) == 2
    assert "No checkpoint named" in capsys.readouterr().err
