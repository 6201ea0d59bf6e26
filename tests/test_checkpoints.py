import json
import os
from pathlib import Path

import pytest
import torch
from toy_domains import ToyRows, ToyTokens

from seqgen import checkpoints, storage, zoo
from seqgen.checkpoints import CheckpointError
from seqgen.models import ModelConfig, build_model


@pytest.fixture(autouse=True)
def _toys(toy_domains):
    """The loader checks a model against its domain by name, so the toy domains are registered."""
    return toy_domains


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

    def crash_on_swap_in(tmp, path, replace):
        raise OSError(5, "disk on fire")

    monkeypatch.setattr(checkpoints, "_swap_in", crash_on_swap_in)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    with pytest.raises(CheckpointError, match="Could not save the model 'm': disk on fire"):
        checkpoints.save(model, saved)
    monkeypatch.undo()
    assert (saved / "model.safetensors").read_bytes() == before
    assert checkpoints.load(saved).model is not None
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_interrupted_swap_is_recovered_by_the_next_save_not_by_a_read(saved, model):
    """A crash between the two renames of the fallback swap leaves only .m.old-*. Reading never moves
    folders (a reader could race a writer); the next save of that name, holding its lock, puts it back."""
    os.rename(saved, saved.parent / ".m.old-deadbeef")
    with pytest.raises(CheckpointError, match="No checkpoint folder"):
        checkpoints.load(saved)
    assert (saved.parent / ".m.old-deadbeef").is_dir()
    with pytest.raises(CheckpointError, match="already exists"):
        checkpoints.save(model, saved, replace=False)          # recovered first, so the name is taken
    assert checkpoints.load(saved).model is not None
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]


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


# ------------------------------------------------------------------------------------------------ hostile folders
def _doc(saved):
    return json.loads((saved / "config.json").read_text())


def _write_doc(saved, doc):
    (saved / "config.json").write_text(json.dumps(doc))


def _only_meta_builds(monkeypatch):
    """Record the device of every build_model call the loader makes: meta builds allocate nothing."""
    devices = []
    real = checkpoints.build_model

    def spy(cfg):
        devices.append(torch.get_default_device().type)
        return real(cfg)

    monkeypatch.setattr(checkpoints, "build_model", spy)
    return devices


def test_deeply_nested_config_is_listed_as_damaged_never_fatal(tmp_path, model):
    checkpoints.save(model, tmp_path / "good")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "config.json").write_text("[" * 1000)                 # 1 kB, RecursionError in json
    (tmp_path / "deeper").mkdir()
    (tmp_path / "deeper" / "config.json").write_text("[" * 100_000)
    (tmp_path / "nested-ok-json").mkdir()
    (tmp_path / "nested-ok-json" / "config.json").write_text("[" * 500 + "]" * 500)  # parses, but too deep
    rows = {r["name"]: r for r in checkpoints.list_checkpoints([tmp_path])}
    assert "error" not in rows["good"]
    for name in ("deep", "deeper", "nested-ok-json"):
        assert "nested too deeply" in rows[name]["error"] or "not valid JSON" in rows[name]["error"], rows[name]
        with pytest.raises(CheckpointError):
            checkpoints.load(tmp_path / name)


def test_huge_config_is_refused_before_reading(saved):
    (saved / "config.json").write_bytes(b" " * (checkpoints.MAX_CONFIG_BYTES + 1))
    with pytest.raises(CheckpointError, match="larger than any seqgen model"):
        checkpoints.load(saved)


@pytest.mark.parametrize("field,value,message", [
    ("hidden", 10_000, "hidden must be <= 4096"),
    ("layers", 3000, "layers must be <= 8"),
    ("hidden", 10**6, "hidden must be <= 4096"),
    ("embed", 10**5, "embed must be <= 1024"),
    ("latent", 10**4, "latent must be <= 512"),
    ("seq_len", 10**7, "seq_len is 10000000, but the toy_tokens data has 7"),
    ("n_features", 5000, "n_features is 5000"),
    ("n_labels", 99, "n_labels is 99"),
    ("discrete", False, "discrete is False"),
    ("pad_id", 3, "pad_id is 3"),
    ("domain", "nowhere", "made for the data 'nowhere'"),
    ("hidden", "16", "hidden must be int"),
    ("hidden", 16.5, "hidden must be int"),
    ("hidden", True, "hidden must be int"),
    ("beta", float("nan"), "beta must be a finite number"),
    ("cell", ["lstm"], "cell must be str"),
])
def test_absurd_configs_are_refused_before_anything_is_allocated(saved, monkeypatch, field, value, message):
    doc = _doc(saved)
    doc["model"][field] = value
    _write_doc(saved, doc)
    devices = _only_meta_builds(monkeypatch)
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace("[", r"\[")):
        zoo.load(saved)
    assert devices == []
    assert "error" in zoo.list_checkpoints([saved.parent])[0]


def test_weights_that_do_not_fit_the_config_are_found_from_the_header(saved, monkeypatch):
    """A config within bounds whose weights are for another size: refused from the safetensors header,
    with only a meta-device build (no real model of the config's size is made)."""
    doc = _doc(saved)
    doc["model"]["hidden"] = 256
    _write_doc(saved, doc)
    devices = _only_meta_builds(monkeypatch)
    with pytest.raises(CheckpointError, match="shapes do not match"):
        checkpoints.load(saved)
    assert devices == ["meta"]


def test_config_describing_too_many_parameters_is_refused(saved, monkeypatch):
    doc = _doc(saved)
    doc["model"].update(hidden=4096, layers=8)
    _write_doc(saved, doc)
    devices = _only_meta_builds(monkeypatch)
    with pytest.raises(CheckpointError, match="more than any seqgen model has"):
        checkpoints.load(saved)
    assert devices == ["meta"]


def test_pickle_bytes_are_never_unpickled(saved, model, monkeypatch):
    import pickle
    ran = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: ran.append(1))
    (saved / "model.safetensors").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        checkpoints.load(saved)
    assert not ran


def test_links_out_of_the_user_folder_are_refused(tmp_path, model, user_models):
    outside = checkpoints.save(model, tmp_path / "outside" / "real")
    user_models.mkdir()
    (user_models / "linked").symlink_to(outside, target_is_directory=True)
    inner = checkpoints.save(model, user_models / "inner")
    secret = tmp_path / "secret.json"
    secret.write_text((inner / "config.json").read_text())
    (inner / "config.json").unlink()
    (inner / "config.json").symlink_to(secret)
    rows = {r["name"]: r for r in checkpoints.list_checkpoints([user_models])}
    assert "is a link" in rows["linked"]["error"]
    assert "config.json is a link" in rows["inner"]["error"]
    for name in ("linked", "inner"):
        with pytest.raises(CheckpointError, match="link"):
            checkpoints.load(name)


def test_odd_folder_names_are_listed_as_damaged_and_cannot_be_opened_by_name(tmp_path, model, user_models):
    for odd in ("name with spaces", "ünïcødé", "emoji-🎉", "-starts-with-dash", "a..b", "**bold**"):
        checkpoints.save(model, user_models / odd)
    rows = {r["name"]: r for r in checkpoints.list_checkpoints([user_models])}
    assert len(rows) == 6
    for name, row in rows.items():
        assert "not a valid model name" in row["error"], name
        with pytest.raises(CheckpointError, match="No checkpoint named"):
            checkpoints.load(name)
    for bad in ("..", ".", "", "../" + "x", "/etc"):
        with pytest.raises(CheckpointError):
            checkpoints.load(bad)


def test_bare_names_are_looked_up_only_in_the_model_folders(model, user_models, monkeypatch):
    """A model saved as 'docs' is the model, not the repository's docs/ folder in the current directory."""
    monkeypatch.chdir(checkpoints.REPO_ROOT)
    with pytest.raises(CheckpointError, match="No checkpoint named 'docs'"):
        checkpoints.resolve("docs")
    checkpoints.save(model, user_models / "docs")
    assert checkpoints.resolve("docs") == user_models / "docs"
    assert checkpoints.load("docs").name == "docs"
    assert checkpoints.resolve("./docs") == Path("./docs")       # a path is given as a path


def test_full_disk_is_a_plain_error_and_changes_nothing(saved, model, monkeypatch):
    import errno
    before = sorted(p.name for p in saved.parent.iterdir())
    real = checkpoints._fsync_write

    def full(path, data):
        if path.name == "model.safetensors":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(checkpoints, "_fsync_write", full)
    with pytest.raises(CheckpointError) as e:
        checkpoints.save(model, saved)
    assert str(e.value) == "Could not save the model 'm': No space left on device. Nothing was changed."
    assert str(saved.parent) not in str(e.value)
    assert sorted(p.name for p in saved.parent.iterdir()) == before
    assert checkpoints.load(saved).model is not None


def test_messages_name_the_model_not_the_server_path(saved):
    (saved / "model.safetensors").unlink()
    with pytest.raises(CheckpointError) as e:
        checkpoints.load(saved)
    assert str(e.value) == "m: model.safetensors is missing"


def test_replace_false_refuses_an_existing_name(saved, model):
    with pytest.raises(CheckpointError, match="already exists"):
        checkpoints.save(model, saved, replace=False)


def test_stale_temporary_folders_are_cleaned_by_the_next_save(tmp_path, model):
    own = tmp_path / ".m.tmp-dead1"                    # this name's: its writer is gone (we hold its lock)
    own.mkdir()
    old_other = tmp_path / ".other.tmp-dead2"          # another name's, old and unlocked
    old_other.mkdir()
    young_other = tmp_path / ".busy.tmp-live3"         # another name's, fresh: maybe still being written
    young_other.mkdir()
    long_ago = time.time() - storage.STALE_SECONDS - 60
    os.utime(old_other, (long_ago, long_ago))
    checkpoints.save(model, tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".busy.tmp-live3", "m"]


# ------------------------------------------------------------------------------------------------ concurrency
# Real processes (forked from this one, so they start in milliseconds without importing torch again).
import multiprocessing as mp  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

FORK = mp.get_context("fork")


def _save_at_barriers(barrier, model, folder, trials, results):
    torch.set_num_threads(1)
    for trial in range(trials):
        barrier.wait()                                # both processes start each save together
        try:
            checkpoints.save(model, folder / f"new-{trial}", {"writer": os.getpid()}, replace=False)
            results.put((trial, "saved"))
        except CheckpointError as e:
            results.put((trial, "refused: " + str(e)))
        except BaseException as e:  # noqa: BLE001 - anything else is what this test is about
            results.put((trial, f"crashed: {type(e).__name__}: {e}"))


def test_two_processes_saving_one_new_name_exactly_one_wins(tmp_path, model):
    trials = 30
    barrier, results = FORK.Barrier(2), FORK.Queue()
    procs = [FORK.Process(target=_save_at_barriers, args=(barrier, model, tmp_path, trials, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    outcomes: dict[int, list[str]] = {}
    for _ in range(2 * trials):
        trial, outcome = results.get(timeout=30)
        outcomes.setdefault(trial, []).append(outcome)
    for p in procs:
        p.join(10)
    for trial in range(trials):
        got = sorted(outcomes[trial])
        assert got[0].startswith("refused: A model named") and got[1] == "saved", (trial, got)
        assert checkpoints.load(tmp_path / f"new-{trial}").model is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _read_in_a_loop(path, stop, errors, counts):
    torch.set_num_threads(1)
    n = 0
    while not stop.is_set():
        try:
            ckpt = checkpoints.load(path.name)
            assert ckpt.model is not None
            checkpoints.list_checkpoints()
        except BaseException as e:  # noqa: BLE001
            errors.put(f"{type(e).__name__}: {e}")
        n += 1
    counts.put(n)


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "rename-fallback"])
def test_readers_never_fail_while_a_writer_resaves(model, user_models, monkeypatch, exchange):
    if not exchange:                        # another OS or file system: the old folder is renamed aside first
        monkeypatch.setattr(storage, "_renameat2", None)
    path = checkpoints.save(model, user_models / "busy")
    stop, errors, counts = FORK.Event(), FORK.Queue(), FORK.Queue()
    readers = [FORK.Process(target=_read_in_a_loop, args=(path, stop, errors, counts)) for _ in range(2)]
    for r in readers:
        r.start()
    try:
        for i in range(20):
            with torch.no_grad():
                next(model.parameters()).add_(0.01)
            checkpoints.save(model, path, {"rev": i})
            time.sleep(0.01)
    finally:
        stop.set()
        for r in readers:
            r.join(20)
    loads = sum(counts.get(timeout=5) for _ in readers)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert not found, found[:3]
    assert loads >= 20
    assert checkpoints.load(path).info["rev"] == 19


def _save_forever(model, path):
    torch.set_num_threads(1)
    i = 0
    while True:
        with torch.no_grad():
            next(model.parameters()).add_(0.01)
        checkpoints.save(model, path, {"rev": i})
        i += 1


def test_kill_9_mid_save_keeps_a_loadable_version_and_the_next_save_cleans_up(tmp_path, model):
    path = checkpoints.save(model, tmp_path / "m", {"rev": -1})
    rng = random.Random(0)
    for _ in range(20):
        p = FORK.Process(target=_save_forever, args=(model, path))
        p.start()
        time.sleep(rng.uniform(0.02, 0.12))
        os.kill(p.pid, signal.SIGKILL)
        p.join(10)
        ckpt = checkpoints.load(path)                                 # never a half-written version
        assert ckpt.model is not None and isinstance(ckpt.info["rev"], int)
    checkpoints.save(model, path, {"rev": "after"})
    assert checkpoints.load(path).info["rev"] == "after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_fifo_in_place_of_the_weights_is_refused_at_once(saved):
    """A FIFO named model.safetensors would block a plain open() until someone writes to it: the session
    that lists or opens the model must get an error instead of hanging."""
    import os
    import threading
    (saved / "model.safetensors").unlink()
    os.mkfifo(saved / "model.safetensors")
    outcome = []

    def open_it():
        try:
            checkpoints.load(saved)
        except CheckpointError as e:
            outcome.append(str(e))
    worker = threading.Thread(target=open_it, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():     # unblock the reader so the test run can end, then fail
        with open(saved / "model.safetensors", "wb"):
            pass
        pytest.fail("opening a FIFO as the weights blocked")
    assert outcome and "not a regular file" in outcome[0]


def test_only_the_owner_replaces_a_model_saved_from_the_app(tmp_path, model):
    target = tmp_path / "mine"
    checkpoints.save(model, target, {"command": "live"}, owner="browser:aaa")
    assert checkpoints.read_info(target)[2]["owner"] == "browser:aaa"
    with pytest.raises(CheckpointError, match="saved by someone else"):
        checkpoints.save(model, target, {"command": "live, again"}, owner="browser:bbb")
    assert checkpoints.read_info(target)[2]["command"] == "live"            # left as it was
    checkpoints.save(model, target, {"command": "live, again"}, owner="browser:aaa")
    assert checkpoints.read_info(target)[2]["command"] == "live, again"
    checkpoints.save(model, target, {"command": "cli", "owner": "browser:bbb"})   # the operator's command line
    assert "owner" not in checkpoints.read_info(target)[2]                   # info cannot name an owner
    with pytest.raises(CheckpointError, match="saved by someone else"):     # nor can the app replace its model
        checkpoints.save(model, target, {"command": "live"}, owner="browser:aaa")
