"""The command line's main paths, end to end on tiny models (seconds each)."""
import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf

from seqgen import checkpoints
from seqgen.cli import build_parser, main
from seqgen.configurator import flag_names, overrides
from seqgen.models import ModelConfig, TrainConfig
from seqgen.presets import configure

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_train_sample_eval_conditional_digits_gan(out, capsys):
    assert train(out, "--domain", "digits", "--family", "gan", "--name", "g") == 0
    assert main(["sample", str(out / "models" / "g"), "-n", "3", "--label", "7", "--out", str(out / "s")]) == 0
    assert main(["eval", str(out / "models" / "g"), "-n", "20", "--quick"]) == 0
    assert "spread_ratio" in capsys.readouterr().out


@pytest.mark.slow
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


# ------------------------------------------------------------------------------------------------ flags and presets
def test_train_help_lists_every_setting(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    settings = [f for cls in (ModelConfig, TrainConfig) for f in dataclasses.fields(cls) if "help" in f.metadata]
    assert len(settings) >= 31
    for f in settings:
        for flag in flag_names(f):
            assert flag in text, flag
        assert f.metadata["help"].split()[0] in text, f.name
    for f in (f for f in settings if f.metadata["live"]):       # every live knob is a flag too
        assert "--" + f.name.replace("_", "-") in text


# argv -> (model overrides, train overrides), as the hand-written parser gave them
PARSES = [
    (["--domain", "digits", "--family", "vae", "--free-bits", "0.5", "--no-autoregressive", "--minutes", "1"],
     {"autoregressive": False, "free_bits": 0.5}, {"max_minutes": 1.0}),
    (["--preset", "names-gan", "--kl-anneal", "100", "--batch-size", "8", "--minibatch-std", "--lr-d", "1e-4",
      "--bf16", "off", "--threads", "2", "--cell", "gru", "--eval-every", "5", "--mle-steps", "3", "--d-steps", "2",
      "--seed", "4", "--steps", "7"],
     {"cell": "gru", "minibatch_std": True},
     {"steps": 7, "batch_size": 8, "lr_d": 0.0001, "d_steps": 2, "mle_steps": 3, "kl_anneal_steps": 100, "seed": 4,
      "eval_every": 5, "bf16": "off", "threads": 2}),
    (["--domain", "names", "--family", "vae", "--hidden", "16", "--embed", "8", "--layers", "2", "--latent", "3",
      "--conditional", "--autoregressive", "--beta", "0.5", "--word-dropout", "0.1", "--step-noise", "2",
      "--feature-matching", "1", "--label-smoothing", "0.1", "--aux-classifier", "2", "--gumbel-tau", "0.3",
      "--instance-noise", "0.2", "--mode-seeking", "0.1", "--no-minibatch-std", "--mle-weight", "0.5",
      "--lr", "1e-3"],
     {"hidden": 16, "layers": 2, "embed": 8, "latent": 3, "conditional": True, "autoregressive": True, "beta": 0.5,
      "word_dropout": 0.1, "step_noise": 2, "feature_matching": 1.0, "label_smoothing": 0.1, "aux_classifier": 2.0,
      "gumbel_tau": 0.3, "instance_noise": 0.2, "mle_weight": 0.5, "mode_seeking": 0.1, "minibatch_std": False},
     {"lr": 0.001}),
    (["--max-minutes", "2", "--kl-anneal-steps", "3"], {}, {"max_minutes": 2.0, "kl_anneal_steps": 3}),
]


@pytest.mark.parametrize("argv,model,train", PARSES)
def test_flags_parse_as_before(argv, model, train):
    args = build_parser().parse_args(["train", *argv])
    assert overrides(args) == (model, train)
    for name, value in {**model, **train}.items():
        assert type(value) is type(getattr(args, name)), name


def test_flags_reach_the_config():
    args = build_parser().parse_args(["train", *PARSES[0][0]])
    mcfg, tcfg, _ = configure(args.preset, args.domain, args.family, *overrides(args))
    assert (mcfg.free_bits, mcfg.autoregressive, tcfg.max_minutes, mcfg.hidden) == (0.5, False, 1.0, 128)


def test_ranges_in_the_metadata_are_validated(out, capsys):
    assert main(["train", "--domain", "digits", "--family", "vae", "--hidden", "0", "--quiet"]) == 2
    assert "hidden must be >= 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="beta"):
        ModelConfig(family="vae", domain="x", discrete=False, seq_len=2, n_features=2, beta=-1.0).validate()
    with pytest.raises(ValueError, match="eval_every"):
        TrainConfig(eval_every=0).validate()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--cell", "rnn"])


# Every shipped preset's configs as they were before presets could be derived: their checkpoints' figures
# depend on them. Fields not listed have these defaults.
MODEL_DEFAULTS = {"n_labels": 0, "pad_id": None, "cell": "lstm", "hidden": 256, "layers": 1, "embed": 64, "latent": 2,
                  "conditional": False, "autoregressive": False, "beta": 1.0, "free_bits": 0.0, "word_dropout": 0.0,
                  "step_noise": 8, "feature_matching": 0.0, "label_smoothing": 0.0, "aux_classifier": 1.0,
                  "gumbel_tau": 0.5, "instance_noise": 0.0, "mle_weight": 0.0, "mode_seeking": 0.0,
                  "minibatch_std": False, "reconstruction_target": "binary"}
# "data" defaults to the bundled data every shipped model used
TRAIN_DEFAULTS = {"steps": 2000, "max_minutes": None, "batch_size": 64, "lr": 0.002, "lr_d": None, "d_steps": 1,
                  "mle_steps": 0, "kl_anneal_steps": 0, "lr_cooldown": 0, "grad_clip": 5.0, "seed": 0, "eval_every": 200, "bf16": "auto",
                  "threads": None, "processes": None, "gradient_exchange": "auto", "device": "auto", "data": "bundled",
                  "weight_precision": "float32", "extra": {},
                  "init_from": None, "patience": 0}        # added later, off: the shipped runs trained without them
DIGITS = {"discrete": False, "domain": "digits", "n_features": 28, "n_labels": 10, "seq_len": 28}
NAMES = {"discrete": True, "domain": "names", "n_features": 29, "n_labels": 2, "pad_id": 0, "seq_len": 12}
MELODIES = {"discrete": True, "domain": "melodies", "n_features": 32, "n_labels": 2, "seq_len": 64}
SHIPPED = {
    "digits-vae": ({**DIGITS, "family": "vae", "hidden": 128}, {"eval_every": 250, "steps": 8000}),
    "digits-gan": ({**DIGITS, "conditional": True, "family": "gan", "feature_matching": 1.0, "hidden": 128,
                    "instance_noise": 0.3, "label_smoothing": 0.1, "latent": 32, "minibatch_std": True,
                    "mode_seeking": 0.3},
                   {"eval_every": 500, "lr": 0.0005, "lr_d": 0.0002, "steps": 8000}),
    "names-vae": ({**NAMES, "autoregressive": True, "embed": 32, "family": "vae", "word_dropout": 0.2},
                  {"eval_every": 250, "kl_anneal_steps": 2000, "steps": 5000, "weight_precision": "float16"}),
    "names-gan": ({**NAMES, "embed": 32, "family": "gan", "feature_matching": 1.0, "latent": 16, "mle_weight": 1.0,
                   "mode_seeking": 0.1, "step_noise": 4},
                  {"eval_every": 100, "lr": 0.001, "lr_d": 0.001, "mle_steps": 2000, "steps": 2300}),
    "melodies-vae": ({**MELODIES, "autoregressive": True, "embed": 32, "family": "vae", "hidden": 128,
                      "word_dropout": 0.4},
                     {"eval_every": 250, "kl_anneal_steps": 1500, "steps": 4000}),
    "melodies-gan": ({**MELODIES, "embed": 32, "family": "gan", "feature_matching": 1.0, "hidden": 128, "latent": 16,
                      "mle_weight": 1.0, "step_noise": 4},
                     {"eval_every": 250, "lr": 0.001, "lr_d": 0.001, "mle_steps": 3000, "steps": 3500}),
    "digits-classifier": ({**DIGITS, "family": "classifier", "hidden": 128},
                          {"batch_size": 128, "eval_every": 250, "lr": 0.003, "steps": 4000}),
    "names-lm": ({**NAMES, "embed": 32, "family": "lm"}, {"eval_every": 250, "steps": 5000}),
    "melodies-lm": ({**MELODIES, "embed": 32, "family": "lm"}, {"eval_every": 250, "steps": 6000}),
}


@pytest.mark.parametrize("preset", sorted(SHIPPED))
def test_shipped_presets_are_byte_identical(preset):
    model, train = SHIPPED[preset]
    mcfg, tcfg, _ = configure(preset)
    dump = lambda d: json.dumps(d, sort_keys=True)  # noqa: E731  (types matter: 1 and 1.0 differ in JSON)
    assert dump(mcfg.to_dict()) == dump({**MODEL_DEFAULTS, **model})
    assert dump(tcfg.to_dict()) == dump({**TRAIN_DEFAULTS, **train})


# ------------------------------------------------------------------------------------------------ hostile input
def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_list_survives_a_deeply_nested_user_config(out, capsys):
    (out / "user" / "deep").mkdir(parents=True)
    (out / "user" / "deep" / "config.json").write_text("[" * 1000)
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "deep" in text and "damaged" in text and "nested too deeply" in text
    assert "digits-vae" in text
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert "nested too deeply" in rows["deep"]["error"]


@pytest.mark.parametrize("argv,message", [
    (["sample", "digits-classifier"], "is a reference classifier, not a generator"),
    (["sample", "names-lm"], "is a reference lm, not a generator"),
    (["sample", "digits-vae", "-n", "0"], "-n must be between 1 and"),
    (["sample", "digits-vae", "-n", "-3"], "-n must be between 1 and"),
    (["sample", "names-vae", "--temperature", "-1"], "--temperature must be between 0 and"),
    (["sample", "names-vae", "--temperature", "nan"], "--temperature must be between 0 and"),
    (["sample", "digits-vae", "--z", "nan,0"], "--z values must be numbers between"),
    (["sample", "digits-vae", "--z", "1,2,3"], "--z needs 2 comma-separated numbers"),
    (["sample", "digits-gan", "--z", "0,0"], "--z is only for VAEs"),
    (["sample", "docs"], "No checkpoint named 'docs'"),
    (["sample", "digits-vae", "-n", "1", "--out", "/etc/passwd/x"], "cannot write to /etc/passwd/x"),
])
def test_sample_refuses_in_one_line(out, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(checkpoints.REPO_ROOT)          # 'docs' is a folder here, but not a model
    assert main([*argv, "--out", str(out / "s")] if "--out" not in argv else argv) == 2
    assert message in _one_line_error(capsys)
    assert not (out / "s").exists()


def test_z_with_a_continuous_vae_writes_one_image_and_says_so(out, capsys):
    from PIL import Image

    assert main(["sample", "digits-vae", "--z", "0.5,-1", "--out", str(out / "s")]) == 0
    captured = capsys.readouterr()
    assert "so 1 was written, not 16" in captured.err
    assert "(1 digits)" in captured.out
    one = Image.open(out / "s" / "digits-vae.png").size
    assert main(["sample", "digits-vae", "-n", "16", "--out", str(out / "many")]) == 0
    assert one[0] * one[1] < Image.open(out / "many" / "digits-vae.png").size[0] * \
        Image.open(out / "many" / "digits-vae.png").size[1] / 8       # one tile, not a 4x4 mosaic


@pytest.mark.slow
def test_train_default_name_is_never_a_shipped_one(out, capsys):
    args = build_parser().parse_args(["train", "--preset", "digits-vae"])
    assert args.name is None
    code = main(["train", "--preset", "digits-vae", *TINY, "--layers", "1"])
    assert code == 0
    assert (out / "user" / "digits-vae-mine" / "model.safetensors").is_file()
    capsys.readouterr()
    for name in ("digits-vae", "Names-GAN", "digits-vae-live"):
        assert main(["train", "--preset", "digits-vae", *TINY, "--name", name]) == 2
        assert "is the name of a shipped model" in _one_line_error(capsys)
        assert not (out / "user" / name).exists()


def test_shipping_folder_is_the_one_place_for_shipped_names():
    from seqgen.training.publish import check_save_name
    target = check_save_name("digits-vae", replace=True, folder=checkpoints.SHIPPED_DIR)
    assert target == checkpoints.SHIPPED_DIR / "digits-vae"
    with pytest.raises(checkpoints.CheckpointError, match="--force"):
        check_save_name("digits-vae", folder=checkpoints.SHIPPED_DIR, how_to_replace="pass --force to replace it")


@pytest.mark.slow
def test_full_disk_while_saving_is_one_line(out, capsys, monkeypatch):
    import errno
    import os

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(checkpoints, "_fsync_write", full)
    assert train(out, "--domain", "names", "--family", "lm", "--name", "full") == 2
    err = capsys.readouterr().err                       # progress lines, then the error
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line == "error: Could not save the model 'full': No space left on device. Nothing was changed."
    assert not (out / "models" / "full").exists()
    assert not [p for p in (out / "models").iterdir()]


def test_unexpected_errors_are_one_line_too(out, capsys, monkeypatch):
    from seqgen.cli import report

    def boom(args):
        raise RuntimeError("something odd\nsecond line")

    monkeypatch.setattr(report, "cmd_list", boom)
    assert main(["list"]) == 1
    line = _one_line_error(capsys)
    assert "unexpected RuntimeError: something odd?second line" in line


def test_a_label_is_given_by_its_name_one_word_of_it_or_its_number():
    from seqgen.cli.common import label_index
    spoken, digits = seqgen_domain("spoken"), seqgen_domain("digits")
    assert label_index(spoken, "七") == label_index(spoken, "qī") == label_index(spoken, "17") == 17
    assert label_index(spoken, "Seven") == 7 and label_index(digits, "7") == 7
    with pytest.raises(ValueError, match="--label must be one of"):
        label_index(spoken, "eleven")


def seqgen_domain(name):
    from seqgen.domains import get_domain
    return get_domain(name)
