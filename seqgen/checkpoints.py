"""Checkpoints: one folder per model.

    <name>/config.json        architecture, training config, command, data split, metrics
    <name>/model.safetensors  weights (safetensors only: loading never unpickles anything)
    <name>/README.md          model card

Loading validates before it allocates: the config is size- and depth-limited, its sizes are checked against
their bounds and against the domain, and the tensors the config implies (built on the meta device, which
allocates nothing) are compared with the weights file's header before the real model is built.

Saving is safe under concurrency (the app saves and reads from many sessions at once, the CLI beside it):

- A save holds a per-name lock for its whole length: `.NAME.lock` in the parent folder, taken with
  `fcntl.flock` and removed again before it is released (`_NameLock`).
- It writes the new version into a fresh `.NAME.tmp-<id>` folder, fsyncs it, and swaps it in with one atomic
  exchange of the two folders (Linux `renameat2(RENAME_EXCHANGE)`), or, for a new name, one rename that
  refuses to overwrite (`RENAME_NOREPLACE`). The live folder NAME is therefore never missing and always holds
  one complete version. The old version, now under the temporary name, is then deleted.
- `replace=False` is checked under the lock, so of two saves of one new name exactly one wins; the other
  gets a CheckpointError.
- Readers take no lock and never repair anything. They open the folder once and read config.json and the
  weights through that directory handle, so both come from the same version. A read whose version is
  swapped out and deleted underneath it finds its files gone, sees that the folder at NAME is no longer the
  one it opened, and reads again.
- A save cleans up after saves that died (kill -9, power loss): temporary folders of its own name at once
  (their writer held the lock this save now holds), other names' once they are older than STALE_SECONDS and
  their lock is free.
- Where the exchange is not available (another OS, or a file system without it), the old folder is renamed
  aside first. Readers then wait out that short gap (a lock file says a save is under way), and a crash
  inside it is put right by the next save of that name.

Error messages name the model, never a server path: they are shown in the browser.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from .locale import Sentence
from .models import ModelConfig, build_model
from .storage import (
    CheckpointError,
    _clean_up,
    _Exists,
    _fsync_dir,
    _fsync_write,
    _header,
    _NameLock,
    _parse_json,
    _read_member,
    _shorten,
    _swap_in,
    _Swapped,
    atomic_write_bytes,
    user_dir,
)

FORMAT = "seqgen-checkpoint"
VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIR = REPO_ROOT / "checkpoints"
MAX_WEIGHTS_BYTES = 64 * 1024 * 1024   # refuse absurd files before reading them
MAX_PARAMETERS = MAX_WEIGHTS_BYTES // 4
MAX_CONFIG_BYTES = 1024 * 1024         # a config with every metric is a few kB
READ_ATTEMPTS = 5
DOMAIN_FIELDS = ("discrete", "seq_len", "n_features", "n_labels", "pad_id")


@dataclass
class Checkpoint:
    name: str
    path: Path
    config: ModelConfig
    info: dict = field(default_factory=dict)   # train config, command, split, metrics, timings
    model: torch.nn.Module | None = None

    @property
    def metrics(self) -> dict:
        return self.info.get("metrics", {})

    @property
    def shipped(self) -> bool:
        return self.path.parent.resolve() == SHIPPED_DIR.resolve()


def save(model, path: str | Path, info: dict | None = None, card: str | None = None,
         replace: bool = True, extra_files: dict[str, bytes] | None = None, owner: str | None = None) -> Path:
    """Write model + config (+ card, + extra_files such as the training state) to folder `path` atomically
    (see the module docstring): all of them or none.

    owner: who saves it (the app's browser identity; None from the command line, the machine's operator).
    It is recorded in config.json, and a save with an owner replaces only a model recorded with the same one:
    a student cannot overwrite a classmate's model, nor one trained on the command line.

    replace=False: CheckpointError if a checkpoint of that name exists, even one saved a moment ago by
    another process. Any failure to write (a full disk, no permission) is a CheckpointError that names the
    model; the previous version, if any, stays as it was."""
    from safetensors.torch import save as st_save

    path = Path(path)
    name = path.name
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    weights = st_save(state, metadata={"format": FORMAT})
    doc = {"format": FORMAT, "version": VERSION, "model": model.cfg.to_dict(),
           **{k: v for k, v in (info or {}).items() if k not in ("format", "version", "model", "owner")}}
    if owner is not None:
        doc["owner"] = owner
    doc["file_bytes"] = len(weights)
    doc["parameters"] = sum(v.numel() for v in state.values())
    config = (json.dumps(doc, indent=2) + "\n").encode()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _NameLock(path.parent, name):
            _clean_up(path.parent, name)
            if not replace and (path.exists() or path.is_symlink()):
                raise _Exists()
            if owner is not None and path.is_dir() and _owner_of(path) != owner:
                raise CheckpointError(Sentence("A model named {name} was saved by someone else, so it cannot be "
                                               "replaced from here; pick another name.", name=repr(name)))
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=path.parent))
            _fsync_write(tmp / "model.safetensors", weights)
            _fsync_write(tmp / "config.json", config)
            if card is not None:
                _fsync_write(tmp / "README.md", card.encode())
            for member, data in (extra_files or {}).items():
                _fsync_write(tmp / member, data)
            _fsync_dir(tmp)
            previous = _swap_in(tmp, path, replace)
            tmp = None
            _fsync_dir(path.parent)
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
    except _Exists:
        raise CheckpointError(f"A model named {name!r} already exists (it may have been saved a moment ago); "
                              "pick another name, or replace it.") from None
    except OSError as e:
        raise CheckpointError(f"Could not save the model {name!r}: {e.strerror or type(e).__name__}. "
                              "Nothing was changed.") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _owner_of(path: Path) -> str | None:
    """Who saved the model at `path` (see save), or None when nobody is recorded or it cannot be read."""
    try:
        doc, _ = _read_version(path, weights=False)
    except (CheckpointError, OSError):
        return None
    owner = doc.get("owner")
    return owner if isinstance(owner, str) else None


def update_info(path: str | Path, info_updates: dict, card: str | None = None) -> None:
    """Merge fields into config.json (e.g. fresh eval metrics) and optionally rewrite the card."""
    path = Path(path)
    try:
        with _NameLock(path.parent, path.name):
            doc, _ = _read_version(path, weights=False)
            doc.update(info_updates)
            atomic_write_bytes(path / "config.json", (json.dumps(doc, indent=2) + "\n").encode())
            if card is not None:
                atomic_write_bytes(path / "README.md", card.encode())
    except OSError as e:
        raise CheckpointError(f"Could not update the model {path.name!r}: {e.strerror or type(e).__name__}.") \
            from None


# --------------------------------------------------------------------------------------------- finding
def search_dirs() -> list[Path]:
    return [SHIPPED_DIR, user_dir()]


def _is_path(name_or_path: str | Path) -> bool:
    """A path is given as a Path, or contains a separator; anything else is a model name."""
    if isinstance(name_or_path, Path):
        return True
    s = str(name_or_path)
    return "/" in s or (os.sep != "/" and os.sep in s)


def _resolve_in(d: Path, name: str) -> Path | None:
    """d/name when it is a model folder saved in place (not a link out of the folder); waits out a swap."""
    cand = d / name
    for attempt in range(READ_ATTEMPTS * 4):
        try:
            st = os.lstat(cand)
        except FileNotFoundError:
            if (d / f".{name}.lock").exists() and attempt < READ_ATTEMPTS * 4 - 1:
                time.sleep(0.01)      # a save may be between the two renames of the fallback swap
                continue
            return None
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise CheckpointError(f"{name!r} is a link, not a model folder; seqgen only opens model folders "
                                  "saved in place")
        return cand if stat.S_ISDIR(st.st_mode) else None
    return None


def resolve(name_or_path: str | Path) -> Path:
    """A checkpoint folder from a path (a Path, or text with a '/'), or a model name looked up in
    checkpoints/ then the user folder (never in the current directory)."""
    if _is_path(name_or_path):
        p = Path(name_or_path)
        if not p.is_dir():
            raise CheckpointError(f"No checkpoint folder at {p}")
        return p
    name = str(name_or_path)
    if re.fullmatch(NAME_PATTERN, name) and ".." not in name:
        for d in search_dirs():
            found = _resolve_in(Path(d), name)
            if found is not None:
                return found
    known = ", ".join(c["name"] for c in list_checkpoints() if "error" not in c) or "none"
    raise CheckpointError(f"No checkpoint named {_shorten(name)!r}. Known: {known}.")


# --------------------------------------------------------------------------------------------- reading
def _read_version(path: Path, weights: bool) -> tuple[dict, bytes | None]:
    """config.json (parsed and checked) and optionally the weights' bytes, both from one version."""
    for attempt in range(READ_ATTEMPTS):
        try:
            try:
                dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise _Swapped() from None
            except OSError as e:
                raise CheckpointError(f"{path.name}: the folder cannot be read ({e.strerror})") from None
            try:
                raw = _read_member(dfd, path, "config.json", MAX_CONFIG_BYTES)
                if raw is None:
                    raise CheckpointError(f"{path.name}: config.json is missing, so this is not a seqgen "
                                          "checkpoint")
                data = None
                if weights:
                    data = _read_member(dfd, path, "model.safetensors", MAX_WEIGHTS_BYTES)
                    if data is None:
                        raise CheckpointError(f"{path.name}: model.safetensors is missing")
            finally:
                os.close(dfd)
        except _Swapped:
            if attempt == READ_ATTEMPTS - 1:
                break
            time.sleep(0.005 * (attempt + 1))
            continue
        return _check_doc(_parse_json(raw, f"{path.name}: config.json"), path), data
    raise CheckpointError(f"{path.name}: the model changed while it was read (it is being saved); try again")


def _check_doc(doc, path: Path) -> dict:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path.name}: config.json is not a seqgen checkpoint config (format field missing)")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path.name}: checkpoint format version {_shorten(repr(doc.get('version')))} is "
                              "not supported")
    return doc


def _read_config(path: Path) -> dict:
    return _read_version(Path(path), weights=False)[0]


_TYPES = {"int": (int,), "bool": (bool,), "str": (str,), "float": (int, float), "int | None": (int, type(None)),
          "float | None": (int, float, type(None))}


def _model_config(doc: dict, path: Path, check=None) -> ModelConfig:
    """The model config of a checkpoint, checked field by field against its bounds, then by `check(cfg)`
    (seqgen.zoo passes the domain's own check; a CheckpointError it raises is prefixed with the model)."""
    data = doc.get("model")
    where = f"{path.name}: bad model config"
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: the 'model' entry is missing")
    for f in fields(ModelConfig):
        if f.name not in data:
            continue
        v, allowed = data[f.name], _TYPES.get(str(f.type))
        if allowed is None:
            continue
        if isinstance(v, bool) and bool not in allowed or not isinstance(v, allowed):
            raise CheckpointError(f"{where}: {f.name} must be {str(f.type).replace(' | None', ' or null')}, "
                                  f"got {_shorten(json.dumps(v))}")
        if isinstance(v, float) and not math.isfinite(v):
            raise CheckpointError(f"{where}: {f.name} must be a finite number, got {v}")
    try:
        cfg = ModelConfig.from_dict(data)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{where}: {_shorten(str(e), 200)}") from None
    if check is not None:
        try:
            check(cfg)
        except CheckpointError as e:
            raise CheckpointError(f"{path.name}: {e}") from None
    return cfg


def read_info(name_or_path, check=None) -> tuple[Path, ModelConfig, dict]:
    """(folder, model config, everything else in config.json), reading config.json only."""
    path = resolve(name_or_path)
    doc, _ = _read_version(path, weights=False)
    cfg = _model_config(doc, path, check)
    info = {k: v for k, v in doc.items() if k not in ("format", "version", "model")}
    return path, cfg, info


def load(name_or_path: str | Path, device: str | torch.device = "cpu", check=None) -> Checkpoint:
    """Load a checkpoint by name (checkpoints/, then the user folder) or folder path. `check(cfg)` may refuse
    the config with a CheckpointError before any weight is read (seqgen.zoo checks it fits its domain)."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    path = resolve(name_or_path)
    doc, data = _read_version(path, weights=True)
    cfg = _model_config(doc, path, check)
    info = {k: v for k, v in doc.items() if k not in ("format", "version", "model")}
    where = f"{path.name}: model.safetensors"
    with torch.device("meta"):            # the tensors the config implies, without allocating any
        expected = {k: tuple(v.shape) for k, v in build_model(cfg).state_dict().items()}
    n_params = sum(math.prod(s) for s in expected.values())
    if n_params > MAX_PARAMETERS:
        raise CheckpointError(f"{path.name}: config.json describes {n_params:,} parameters, more than any seqgen "
                              "model has; refusing to build it")
    header = _header(data, path)
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{where}: weights do not match config.json "
                              f"(missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                              f"unexpected {[_shorten(k, 40) for k in unexpected[:3]]}"
                              f"{'...' if len(unexpected) > 3 else ''})")
    wrong = [f"{k}: file {header[k][1]} vs config {s}" for k, s in expected.items() if header[k][1] != s]
    if wrong:
        raise CheckpointError(f"{where}: tensor shapes do not match config.json: {'; '.join(wrong[:3])}")
    try:
        state = st_load(data)
    except (SafetensorError, ValueError, RuntimeError, OSError) as e:
        raise CheckpointError(f"{where}: not a readable safetensors file (truncated or another format?): "
                              f"{_shorten(str(e))}") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{where}: weights contain NaN/inf ({', '.join(bad[:3])})")
    model = build_model(cfg)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{where}: weights do not fit the model ({_shorten(str(e), 200)})") from None
    model.to(device).eval()
    return Checkpoint(path.name, path, cfg, info, model)


def _number(v, kind=(int, float)):
    return v if isinstance(v, kind) and not isinstance(v, bool) else None


def list_checkpoints(dirs: list[Path] | None = None, check=None) -> list[dict]:
    """Every checkpoint's summary (reads config.json only). A damaged one is listed with an error, never
    fatal: an unreadable, oversized or deeply nested config, an odd folder name, a link out of the folder,
    a config `check(cfg)` refuses."""
    rows = []
    for d in dirs or search_dirs():
        d = Path(d)
        try:
            entries = sorted(d.iterdir()) if d.is_dir() else []
        except OSError:
            continue
        shipped = d.resolve() == SHIPPED_DIR.resolve()
        for sub in entries:
            if sub.name.startswith("."):
                continue
            row = {"name": sub.name, "path": str(sub), "shipped": shipped}
            try:
                if not sub.is_symlink() and not sub.is_dir():
                    continue
                if not re.fullmatch(NAME_PATTERN, sub.name) or ".." in sub.name:
                    raise CheckpointError(f"{_shorten(sub.name)!r} is not a valid model name; rename the folder "
                                          "(letters, digits, '-', '_' or '.')")
                if sub.is_symlink():
                    raise CheckpointError(f"{sub.name!r} is a link, not a model folder; seqgen only opens model "
                                          "folders saved in place")
                _, cfg, info = read_info(sub, check)
                metrics = info.get("metrics", {})
                row.update(domain=cfg.domain, family=cfg.family, latent=cfg.latent, cell=cfg.cell,
                           conditional=cfg.conditional, parameters=_number(info.get("parameters"), int),
                           file_bytes=_number(info.get("file_bytes"), int),
                           description=_shorten(str(info.get("description", "")), 300),
                           metrics=metrics if isinstance(metrics, dict) else {},
                           train_seconds=_number(info.get("train_seconds")))
            except CheckpointError as e:
                row["error"] = str(e)
            except (OSError, RecursionError, MemoryError) as e:
                row["error"] = f"{_shorten(sub.name)}: cannot be read ({type(e).__name__})"
            rows.append(row)
    return rows


NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


def validate_name(name: str) -> str:
    """A checkpoint name is one plain folder name: no paths, no hidden files, nothing odd."""
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name) or ".." in name:
        shown = _shorten(name, 40) if isinstance(name, str) else name
        raise CheckpointError(Sentence("{name} is not a valid model name: use 1-64 letters, digits, '-', '_' or '.', "
                                       "starting with a letter or digit", name=repr(shown)))
    return name
