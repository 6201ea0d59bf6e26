import json
import os
from pathlib import Path

import pytest
import torch

from seqgen import checkpoints
from seqgen.checkpoints import CheckpointError
from seqgen.models import ModelConfig, build_model
from toy_domains import ToyRows, ToyTokens


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig.for_domain(ToyTokens(), "vae", hidden=16, embed=8, autoregressive=True)).eval()


@pytest.fixture
def saved(tmp_path, model):
    return checkpoints.save(model, tmp_path / "m", {"command": "test"}, card="# m\n")


def test_round_trip_is_bit_identical(saved, model):
    ckpt = checkpoints.load(saved)
    z = torch.randn(4, 2)
    assert torch.equal(ckpt.model.decode(z), model.decode(z))
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(ckpt.model.sample(5, temperature=1.0, generator=g1), model.sample(5, temperature=1.0, generator=g2))
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[k], v)
    assert ckpt.config == model.cfg
    assert ckpt.info["command"] == "test" and ckpt.info["parameters"] == model.num_parameters()
    assert (saved / "README.md").read_text() == "# m\n"


def test_gan_round_trip(tmp_path):
    torch.manual_seed(0)
    m = build_model(ModelConfig.for_domain(ToyRows(), "gan", hidden=16, conditional=True)).eval()
    path = checkpoints.save(m, tmp_path / "g")
    again = checkpoints.load(path).model
    label = torch.tensor([0, 1, 2])
    assert torch.equal(again.sample(3, label, generator=torch.Generator().manual_seed(1)),
                       m.sample(3, label, generator=torch.Generator().manual_seed(1)))


def test_missing_folder_and_name(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint"):
        checkpoints.load(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="No checkpoint named"):
        checkpoints.load("surely-not-a-model")


def test_missing_weights(saved):
    (saved / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing"):
        checkpoints.load(saved)


def test_missing_config(saved):
    (saved / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json is missing"):
        checkpoints.load(saved)


def test_truncated_weights(saved):
    w = saved / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        checkpoints.load(saved)


def test_pickle_file_is_rejected_not_unpickled(saved, model):
    torch.save(model.state_dict(), saved / "model.safetensors")  # a pickle in disguise
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        checkpoints.load(saved)


def test_garbage_config(saved):
    (saved / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoints.load(saved)


def test_config_does_not_match_weights(saved):
    doc = json.loads((saved / "config.json").read_text())
    doc["model"]["hidden"] = 32
    (saved / "config.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="shapes do not match"):
        checkpoints.load(saved)
    doc["model"]["hidden"] = 16
    doc["model"]["layers"] = 2
    (saved / "config.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="do not match config"):
        checkpoints.load(saved)
    doc["model"]["cell"] = "transformer"
    (saved / "config.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="bad model config"):
        checkpoints.load(saved)


def test_crash_during_save_keeps_previous_checkpoint(saved, model, monkeypatch):
    before = (saved / "model.safetensors").read_bytes()
    real_rename = os.rename

    def crash_on_swap_in(src, dst):
        if ".tmp-" in str(src):
            raise OSError("disk on fire")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", crash_on_swap_in)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    with pytest.raises(OSError):
        checkpoints.save(model, saved)
    monkeypatch.undo()
    assert (saved / "model.safetensors").read_bytes() == before
    assert checkpoints.load(saved).model is not None
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_interrupted_swap_is_recovered(saved):
    """A crash between 'set old aside' and 'move new in' leaves only .m.old-*; load puts it back."""
    os.rename(saved, saved.parent / ".m.old-deadbeef")
    assert checkpoints.load(saved).model is not None


def test_validate_name():
    assert checkpoints.validate_name("my-model_2.v1") == "my-model_2.v1"
    for bad in ["../evil", "a/b", ".hidden", "", "x" * 65, "a..b", "name with space"]:
        with pytest.raises(CheckpointError):
            checkpoints.validate_name(bad)


def test_list_checkpoints_marks_damaged(tmp_path, model):
    checkpoints.save(model, tmp_path / "good")
    (tmp_path / "bad").mkdir()
    rows = {r["name"]: r for r in checkpoints.list_checkpoints([tmp_path])}
    assert rows["good"]["family"] == "vae" and "error" not in rows["good"]
    assert "error" in rows["bad"]
