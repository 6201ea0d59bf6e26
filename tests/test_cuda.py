"""The GPU subset: training, sampling and evaluation with --device cuda. Skipped where torch sees no GPU."""
import pytest
import torch

import seqgen
from seqgen.cli import main
from seqgen.devices import resolve_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TINY = ["--preset", "digits-vae", "--hidden", "32", "--eval-every", "20", "--quiet", "--steps", "40"]


def test_train_on_the_gpu_writes_a_checkpoint_that_loads_on_the_cpu(tmp_path):
    assert main(["train", *TINY, "--out", str(tmp_path), "--name", "gpu", "--device", "cuda"]) == 0
    ckpt = seqgen.load(tmp_path / "gpu")
    assert ckpt.info["train"]["device"] == "cuda"
    assert ckpt.model.decode(torch.zeros(1, 2)).shape == (1, 28, 28)
    assert (tmp_path / "gpu" / "decoder.onnx").is_file()        # the browser's decoder, traced on the CPU


def test_bf16_autocast_on_the_gpu_keeps_the_loss_finite(tmp_path):
    assert main(["train", *TINY, "--out", str(tmp_path), "--name", "bf16", "--device", "cuda", "--bf16", "on"]) == 0
    assert seqgen.load(tmp_path / "bf16").info["validation"]["neg_elbo"] < 600


def test_sample_and_eval_on_the_gpu(tmp_path):
    assert main(["sample", "digits-gan", "-n", "4", "--out", str(tmp_path), "--device", "cuda"]) == 0
    assert main(["sample", "names-vae", "-n", "4", "--out", str(tmp_path), "--device", "cuda"]) == 0
    assert main(["sample", "melodies-vae", "-n", "4", "--out", str(tmp_path), "--device", "cuda"]) == 0
    assert main(["eval", "digits-vae", "--quick", "-n", "100", "--device", "cuda"]) == 0
    assert main(["eval", "names-vae", "--quick", "-n", "100", "--device", "cuda"]) == 0


def test_each_process_takes_the_gpu_of_its_local_rank():
    assert resolve_device("auto", local_rank=0) == torch.device("cuda", 0)
