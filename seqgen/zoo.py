"""The model zoo: checkpoints opened together with the domain they were made for.

seqgen.checkpoints reads and writes model folders and knows nothing of the data; this module adds the one
check that needs the domains: a model is only opened when this seqgen has its domain and the model's
sequences fit it (length, features, labels, padding). It is what `seqgen.load`, the app and the CLI use.
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import checkpoints
from .checkpoints import Checkpoint, CheckpointError
from .domains import get_domain
from .models import ModelConfig
from .storage import _shorten


def fits_its_domain(cfg: ModelConfig) -> None:
    """CheckpointError when this seqgen lacks the model's domain, or the model does not fit it."""
    try:
        domain = get_domain(cfg.domain)
    except ValueError:
        raise CheckpointError(f"made for the data {_shorten(cfg.domain)!r}, which this seqgen does "
                              "not have") from None
    try:
        domain.check_model(cfg)
    except CheckpointError as e:
        raise CheckpointError(f"bad model config: {e}") from None


def load(name_or_path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """A checkpoint by name (checkpoints/, then the user folder) or folder path, checked against its domain."""
    return checkpoints.load(name_or_path, device, check=fits_its_domain)


def read_info(name_or_path) -> tuple[Path, ModelConfig, dict]:
    """(folder, config, the rest of config.json) of a checkpoint, checked against its domain."""
    return checkpoints.read_info(name_or_path, check=fits_its_domain)


def list_checkpoints(dirs: list[Path] | None = None) -> list[dict]:
    """Every checkpoint's summary with its kind of artifact; one that does not fit its domain is listed
    with the reason (see checkpoints.list_checkpoints)."""
    rows = checkpoints.list_checkpoints(dirs, check=fits_its_domain)
    for row in rows:
        if "error" not in row:
            row["kind"] = get_domain(row["domain"]).kind
    return rows
