"""Checkpoints: one folder per model.

    <name>/config.json        architecture, training config, command, data split, metrics
    <name>/model.safetensors  weights (safetensors only: loading never unpickles anything)
    <name>/README.md          model card

Saving is atomic: the folder is written beside the target under a temporary name and swapped in
with renames, so a crash mid-save leaves the previous checkpoint intact. Loading validates the
config and every tensor's name and shape and says plainly what is wrong.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .models import ModelConfig, build_model

FORMAT = "seqgen-checkpoint"
VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIR = REPO_ROOT / "checkpoints"
MAX_WEIGHTS_BYTES = 64 * 1024 * 1024   # refuse absurd files before reading them


def user_dir() -> Path:
    """Where models trained in the app are saved (SEQGEN_USER_MODELS overrides)."""
    return Path(os.environ.get("SEQGEN_USER_MODELS", REPO_ROOT / "user_models"))


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged or does not fit its config. The message says which."""


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


# ---------------------------------------------------------------------------------------------
def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a single file atomically (temp file in the same folder + rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        _fsync_write(Path(tmp), data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _recover(path: Path) -> None:
    """Finish an interrupted save: if the target is missing but its previous version was set aside, put it back."""
    if path.exists():
        return
    for old in sorted(path.parent.glob(f".{path.name}.old-*")):
        if (old / "config.json").exists():
            os.rename(old, path)
            return


def save(model, path: str | Path, info: dict | None = None, card: str | None = None) -> Path:
    """Write model + config (+ card) to folder `path`, replacing any previous checkpoint atomically."""
    from safetensors.torch import save as st_save

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    weights = st_save(state, metadata={"format": FORMAT})
    doc = {"format": FORMAT, "version": VERSION, "model": model.cfg.to_dict(), **(info or {})}
    doc["file_bytes"] = len(weights)
    doc["parameters"] = sum(v.numel() for v in state.values())
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    try:
        _fsync_write(tmp / "model.safetensors", weights)
        _fsync_write(tmp / "config.json", (json.dumps(doc, indent=2) + "\n").encode())
        if card is not None:
            _fsync_write(tmp / "README.md", card.encode())
        if path.exists():
            os.rename(path, old)
        os.rename(tmp, path)
    except BaseException:
        if not path.exists() and old.exists():
            os.rename(old, path)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return path


def update_info(path: str | Path, info_updates: dict, card: str | None = None) -> None:
    """Merge fields into config.json (e.g. fresh eval metrics) and optionally rewrite the card."""
    path = Path(path)
    doc = _read_config(path)
    doc.update(info_updates)
    atomic_write_bytes(path / "config.json", (json.dumps(doc, indent=2) + "\n").encode())
    if card is not None:
        atomic_write_bytes(path / "README.md", card.encode())


# ---------------------------------------------------------------------------------------------
def search_dirs() -> list[Path]:
    return [SHIPPED_DIR, user_dir()]


def resolve(name_or_path: str | Path) -> Path:
    """A checkpoint folder from a path, or a name looked up in checkpoints/ then the user folder."""
    p = Path(name_or_path)
    if p.is_dir() or p.parent != Path("."):
        _recover(p)
        if not p.is_dir():
            raise CheckpointError(f"No checkpoint folder at {p}")
        return p
    for d in search_dirs():
        cand = d / str(name_or_path)
        _recover(cand)
        if cand.is_dir():
            return cand
    known = ", ".join(c["name"] for c in list_checkpoints()) or "none"
    raise CheckpointError(f"No checkpoint named {str(name_or_path)!r}. Known: {known}.")


def _read_config(path: Path) -> dict:
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise CheckpointError(f"{path}: config.json is missing, so this is not a seqgen checkpoint")
    try:
        doc = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path}: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{cfg_path}: not a seqgen checkpoint config (format field missing)")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{cfg_path}: checkpoint format version {doc.get('version')} is not supported")
    return doc


def read_info(name_or_path) -> tuple[Path, ModelConfig, dict]:
    path = resolve(name_or_path)
    doc = _read_config(path)
    try:
        cfg = ModelConfig.from_dict(doc.get("model"))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path / 'config.json'}: bad model config: {e}") from None
    info = {k: v for k, v in doc.items() if k not in ("format", "version", "model")}
    return path, cfg, info


def load(name_or_path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint by name (checkpoints/, then the user folder) or folder path."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    path, cfg, info = read_info(name_or_path)
    wpath = path / "model.safetensors"
    if not wpath.is_file():
        raise CheckpointError(f"{path}: model.safetensors is missing")
    size = wpath.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{wpath}: {size / 1e6:.0f} MB is larger than any seqgen model; refusing to load")
    try:
        state = st_load(wpath.read_bytes())
    except (SafetensorError, ValueError, RuntimeError, OSError) as e:
        raise CheckpointError(f"{wpath}: not a readable safetensors file (truncated or another format?): {e}") \
            from None
    model = build_model(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{wpath}: weights do not match config.json "
                              f"(missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                              f"unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''})")
    wrong = [f"{k}: file {tuple(state[k].shape)} vs config {tuple(v.shape)}"
             for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        raise CheckpointError(f"{wpath}: tensor shapes do not match config.json: {'; '.join(wrong[:3])}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{wpath}: weights contain NaN/inf ({', '.join(bad[:3])})")
    model.load_state_dict(state)
    model.to(device).eval()
    return Checkpoint(path.name, path, cfg, info, model)


def list_checkpoints(dirs: list[Path] | None = None) -> list[dict]:
    """Every readable checkpoint's summary (reads config.json only); damaged ones are listed with an error."""
    rows = []
    for d in dirs or search_dirs():
        if not Path(d).is_dir():
            continue
        for sub in sorted(Path(d).iterdir()):
            if not sub.is_dir() or sub.name.startswith("."):
                continue
            row = {"name": sub.name, "path": str(sub), "shipped": Path(d).resolve() == SHIPPED_DIR.resolve()}
            try:
                _, cfg, info = read_info(sub)
                row.update(domain=cfg.domain, family=cfg.family, latent=cfg.latent, cell=cfg.cell,
                           conditional=cfg.conditional, parameters=info.get("parameters"),
                           file_bytes=info.get("file_bytes"), description=info.get("description", ""),
                           metrics=info.get("metrics", {}), train_seconds=info.get("train_seconds"))
            except CheckpointError as e:
                row["error"] = str(e)
            rows.append(row)
    return rows


def validate_name(name: str) -> str:
    """A checkpoint name is one plain folder name: no paths, no hidden files, nothing odd."""
    import re
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name) or ".." in name:
        raise CheckpointError(f"{name!r} is not a valid model name: use 1-64 letters, digits, '-', '_' or '.', "
                              "starting with a letter or digit")
    return name
