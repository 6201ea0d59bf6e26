"""Training under torchrun: disjoint shards of the same batches, weights kept in step, one checkpoint, resume."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import seqgen
from seqgen.cli import main
from seqgen.training import shared_memory
from seqgen.training.distributed import Processes

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TINY = ["--preset", "digits-vae", "--hidden", "32", "--eval-every", "30", "--quiet"]


def torchrun(*args, timeout=240) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc_per_node=2 ...` on this machine (its rendezvous on a free loopback port)."""
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def failure_report(stderr: str) -> str:
    """What the processes themselves printed (their errors come before torchrun's own report)."""
    own = [line for line in stderr.splitlines() if "torch/distributed/elastic" not in line]
    return "\n".join(own[:60] + ["..."] + own[-20:]) if len(own) > 80 else "\n".join(own)


def run_worker(tmp_path, family: str, mode: str = "", exchange: str = "auto") -> tuple[dict, dict]:
    done = torchrun(HERE / "distributed_worker.py", tmp_path, family, mode, exchange)
    assert done.returncode == 0, failure_report(done.stderr)
    return tuple(json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory):
    """run_worker, each (family, mode, exchange) launched once per module: several tests read the same run."""
    done: dict[tuple, tuple[dict, dict]] = {}

    def run(family: str, mode: str = "", exchange: str = "auto") -> tuple[dict, dict]:
        key = (family, mode, exchange)
        if key not in done:
            done[key] = run_worker(tmp_path_factory.mktemp("-".join(filter(None, key))), *key)
        return done[key]
    return run


@pytest.mark.slow
@pytest.mark.parametrize("family", ["vae", "gan"])
def test_processes_train_on_disjoint_halves_of_one_process_batches(worker_runs, family):
    a, b = worker_runs(family)
    assert a["status"] == b["status"] == "done" and a["steps"] == b["steps"] == 8
    g = torch.Generator().manual_seed(0)  # a lone run's batches: 6 of 16 per pass over the 96 examples
    lone = [p[i:i + 16] for p in (torch.randperm(96, generator=g).tolist() for _ in range(2)) for i in range(0, 96, 16)]
    for mine, theirs, batch in zip(a["seen"], b["seen"], lone):
        assert len(mine) == len(theirs) == 8
        assert not set(mine) & set(theirs)
        assert sorted(mine + theirs) == sorted(batch)
    # different initial weights per process (the worker seeds by rank), the same weights after training
    assert a["weights"] == b["weights"] and a["weight_sum"] == b["weight_sum"]
    assert a["evaluated"] and not b["evaluated"]  # only process 0 evaluates


@pytest.mark.slow
@pytest.mark.skipif(not shared_memory.supported(), reason="the shared-memory exchange needs x86-64")
@pytest.mark.parametrize("family", ["vae", "gan"])
def test_shared_memory_and_gloo_average_to_the_same_bits(worker_runs, family):
    shm, _ = worker_runs(family)              # auto: the shared memory on this machine
    gloo, _ = worker_runs(family, exchange="backend")
    assert shm["weights"] == gloo["weights"] and shm["weight_sum"] == gloo["weight_sum"]
    # the guard on the win: by default no training step goes through gloo, every average through the map
    assert shm["all_reduce_calls"] == 0 and gloo["all_reduce_calls"] >= 8
    assert shm["channel_calls"]["figures"] == 8 and gloo["channel_calls"] == {}
    gradient_calls = sum(n for name, n in shm["channel_calls"].items() if name != "figures")
    assert gradient_calls >= 8 * (2 if family == "gan" else 1)  # a GAN step averages G and D


@pytest.mark.slow
@pytest.mark.parametrize("mode, status", [("stop", "stopped"), ("diverge", "diverged")])
def test_one_process_stopping_or_diverging_ends_both_at_the_same_step(tmp_path, mode, status):
    a, b = run_worker(tmp_path, "vae", mode)
    assert a["status"] == b["status"] == status
    assert len(a["seen"]) == len(b["seen"])
    if mode == "diverge":
        assert "learning rate" in a["message"]


def test_a_stopped_and_resumed_run_ends_where_an_unbroken_one_does(tmp_path):
    out = str(tmp_path)
    args = [*TINY, "--threads", "1", "--out", out]
    assert main(["train", *args, "--steps", "50", "--name", "unbroken"]) == 0
    assert main(["train", *args, "--steps", "20", "--name", "broken"]) == 0
    assert main(["train", *args, "--steps", "50", "--name", "broken", "--resume"]) == 0
    for file in ("model.safetensors", "training_state.safetensors"):  # best and last weights, optimizer state
        a, b = load_file(tmp_path / "unbroken" / file), load_file(tmp_path / "broken" / file)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), file


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_resume_without_a_run_or_with_other_model_settings_says_why(tmp_path, capsys):
    args = [*TINY, "--threads", "1", "--out", str(tmp_path)]
    assert main(["train", *args, "--steps", "10", "--name", "nothing-yet", "--resume"]) == 2
    assert "there is no model 'nothing-yet'" in _error(capsys)
    assert main(["train", *args, "--steps", "10", "--name", "small"]) == 0
    assert main(["train", *args, "--hidden", "48", "--steps", "20", "--name", "small", "--resume"]) == 2
    assert "model settings differ" in _error(capsys)
    (tmp_path / "small" / "training_state.safetensors").write_bytes(b"\0" * 100)
    assert main(["train", *args, "--steps", "20", "--name", "small", "--resume"]) == 2
    assert "damaged" in _error(capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_gpu_that_is_not_there_is_one_clear_line(tmp_path, capsys):
    assert main(["train", *TINY, "--steps", "5", "--out", str(tmp_path), "--device", "cuda"]) == 2
    assert "sees no CUDA GPU" in _error(capsys)
    assert not list(tmp_path.iterdir())


def test_a_batch_that_does_not_split_over_the_processes_is_refused():
    with pytest.raises(ValueError, match="multiple of 2"):
        Processes(rank=0, world=2).check_batch_size(15)
    assert Processes(rank=1, world=2).shard(torch.arange(8)).tolist() == [4, 5, 6, 7]


def test_device_choice_is_one_rule_with_clear_errors(monkeypatch):
    from seqgen.devices import app_device, resolve_device
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        resolve_device("tpu")
    monkeypatch.setenv("SEQGEN_DEVICE", "cpu")
    assert app_device() == torch.device("cpu")
    monkeypatch.delenv("SEQGEN_DEVICE")
    assert app_device() == torch.device("cpu")  # the app stays on the CPU unless told


def test_python_m_seqgen_train_uses_one_process_per_core_unless_told():
    from seqgen.cli.train import processes_for
    from seqgen.models import TrainConfig
    assert processes_for(TrainConfig(batch_size=64), cores=2) == 2
    assert processes_for(TrainConfig(batch_size=64), cores=16) == 2      # 32 or more examples each
    assert processes_for(TrainConfig(batch_size=256), cores=16) == 8
    assert processes_for(TrainConfig(batch_size=64), cores=1) == 1
    assert processes_for(TrainConfig(batch_size=64, threads=1), cores=2) == 1  # the model cards' commands
    assert processes_for(TrainConfig(batch_size=64, processes=3, threads=1), cores=2) == 3


def test_on_gpus_train_starts_one_process_per_gpu_not_per_core():
    """A 16-core machine with one GPU: a second process would find no GPU of its own (cuda:1)."""
    from seqgen.cli.train import processes_for
    from seqgen.models import TrainConfig
    assert processes_for(TrainConfig(batch_size=64, device="cuda"), cores=16, gpus=1) == 1
    assert processes_for(TrainConfig(batch_size=256, device="cuda"), cores=16, gpus=4) == 4
    assert processes_for(TrainConfig(batch_size=64, device="cpu"), cores=16, gpus=0) == 2


def test_train_and_live_runs_count_only_the_cores_this_process_may_run_on(monkeypatch):
    """Under `taskset -c 0` or a container's cpuset the machine has more cores than the process may use:
    `train` must not start a process per machine core, nor the app train a live run per machine core."""
    from seqgen.cli.train import processes_for
    from seqgen.devices import usable_cores
    from seqgen.models import TrainConfig
    from seqgen.training.live.manager import RunManager
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.delenv("SEQGEN_MAX_RUNS", raising=False)
    assert usable_cores() == 1
    assert processes_for(TrainConfig(batch_size=256)) == 1
    assert RunManager().max_runs == 1


@pytest.mark.slow
def test_two_processes_started_by_the_command_line_and_resumed_under_torchrun_match_one_process(tmp_path):
    """`--processes 2` starts torchrun itself for 30 steps; `torchrun ... --resume` carries the run on to 60; the
    checkpoint matches a one-process run of 60 steps. Each launch saves once, from one process."""
    out = tmp_path / "models"
    cmd = [sys.executable, "-m", "seqgen", "train", *TINY, "--steps", "30", "--out", str(out), "--processes", "2",
           "--name", "two"]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("saved ") == 1                      # one process saves, the other is silent
    started = seqgen.load(out / "two").info
    assert started["steps"] == 30 and started["command"].startswith("torchrun")
    assert ", 2 processes" in started["machine"] and started["machine"].endswith(", float32")  # precision too
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert again.returncode == 2 and "Traceback" not in again.stderr     # checked before any process starts
    assert again.stderr.strip().splitlines() == ["error: A model named 'two' already exists; pass --force to "
                                                 "replace it, or pick another name."]

    resumed = torchrun("-m", "seqgen", "train", *TINY, "--steps", "60", "--out", out, "--name", "two", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming at step 30" in resumed.stderr and resumed.stdout.count("saved ") == 1
    assert main(["train", *TINY, "--steps", "60", "--out", str(out), "--name", "one", "--threads", "1"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["one", "two"]  # no half-written folders beside them
    two, one = seqgen.load(out / "two"), seqgen.load(out / "one")
    assert sorted(p.name for p in (out / "two").iterdir()) == sorted(p.name for p in (out / "one").iterdir())
    assert two.info["command"].startswith("torchrun --nproc_per_node=2 --standalone -m seqgen train")
    assert two.info["command"].endswith("# resumed at step 30")
    assert two.info["steps"] == one.info["steps"] == 60
    # the same global batches of 64; only the VAE's sampling noise differs between the runs
    assert two.info["validation"]["neg_elbo"] == pytest.approx(one.info["validation"]["neg_elbo"], rel=0.02)
    assert two.model.decode(torch.zeros(1, 2)).shape == (1, 28, 28)


@pytest.fixture(scope="module")
def four_steps(tmp_path_factory):
    """A checkpoint and its training state after 4 steps (its folder: copy it before changing it)."""
    out = tmp_path_factory.mktemp("four-steps")
    assert main(["train", *TINY, "--threads", "1", "--out", str(out), "--steps", "4", "--name", "run"]) == 0
    return out / "run"


def _tampered(meta=None, tensors=None):
    def change(state):
        state.meta.update(meta or {})
        for key, value in (tensors or {}).items():
            if value is None:
                state.tensors.pop(key)
            else:
                state.tensors[key] = value
    return change


@pytest.mark.parametrize("change, words", [
    (_tampered({"step": -1}), "step -1"),
    (_tampered({"step": 10**12}), "step 1000000000000"),
    (_tampered({"step": 3.5}), "step 3.5"),
    (_tampered({"elapsed": float("nan")}), "training time nan"),
    (_tampered({"cursor": 10**6}), "position 1000000"),
    (_tampered({"optimizers": {"g": {"param_groups": [], "scalars": {}}}}), "optimisers ['g']"),
    (_tampered({"optimizers": None}), "optimiser states are missing"),
    (_tampered({"validation": "many"}), "validation rows"),
    (_tampered({"best": [1]}), "best validation row"),
    (_tampered({"rng_numpy": [1]}), "random generator states"),
    (_tampered(tensors={"rng.torch": None}), "rng.torch is missing"),
    (lambda state: state.tensors["order"].fill_(10**6), "examples the training data does not have"),
    (_tampered(tensors={"weights.encoder.rnn.weight_ih_l0": torch.zeros(3)}), "RuntimeError"),
    (_tampered(tensors={"order": torch.zeros(3, 3, dtype=torch.int64)}), "batch order is missing"),
])
def test_a_tampered_training_state_is_refused_with_a_sentence(four_steps, tmp_path, capsys, change, words):
    import shutil

    from seqgen.training import resume
    args = [*TINY, "--threads", "1", "--out", str(tmp_path)]
    shutil.copytree(four_steps, tmp_path / "run")
    state = resume.read(tmp_path / "run")
    change(state)
    resume.write(state, tmp_path / "run")
    assert main(["train", *args, "--steps", "8", "--name", "run", "--resume"]) == 2
    err = _error(capsys)
    assert "damaged" in err and words in err, err
    assert seqgen.load(tmp_path / "run").info["steps"] == 4      # the checkpoint is left as it was


def test_a_full_disk_while_saving_leaves_the_last_good_run_whole(four_steps, tmp_path, capsys, monkeypatch):
    """The training state goes into the folder in the same step as the weights: a disk that fills up while
    either is written leaves the previous checkpoint and its state as they were, and --resume still works."""
    import errno
    import shutil

    from seqgen import checkpoints, storage
    shutil.copytree(four_steps, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    real = storage._fsync_write

    def full_disk(path, data):
        if path.name == "training_state.safetensors":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)
    monkeypatch.setattr(checkpoints, "_fsync_write", full_disk)
    args = [*TINY, "--threads", "1", "--out", str(tmp_path)]
    assert main(["train", *args, "--steps", "8", "--name", "run", "--resume"]) != 0
    assert "No space left on device" in _error(capsys)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]    # no half-written folder left
    monkeypatch.setattr(checkpoints, "_fsync_write", real)
    assert main(["train", *args, "--steps", "8", "--name", "run", "--resume"]) == 0
    assert seqgen.load(tmp_path / "run").info["steps"] == 8
