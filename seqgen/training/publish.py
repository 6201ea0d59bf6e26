"""Saving a trained model with its card: one function for the CLI's `train` and the Live training page."""
from __future__ import annotations

from pathlib import Path


def save_trained(model, target: str | Path, info: dict) -> Path:
    """Write `model` and its card (seqgen.cards) to folder `target`; -> the checkpoint's path.

    The card is rendered twice: the first version goes in with the weights, the second also shows the
    size of the weights file, which exists only once they are written."""
    from .. import checkpoints
    from ..cards import render_card

    name = Path(target).name
    card = render_card(name, model.cfg, {**info, "parameters": model.num_parameters()})
    path = checkpoints.save(model, target, info, card=card)
    _, _, saved = checkpoints.read_info(path)
    checkpoints.update_info(path, {}, card=render_card(name, model.cfg, saved))
    return path


def reserved_names() -> set[str]:
    """Names a user model may not take: every entry in checkpoints/ and every preset (lower-cased)."""
    from ..checkpoints import SHIPPED_DIR
    from ..presets import PRESETS
    names = {n.lower() for n in PRESETS}
    if SHIPPED_DIR.is_dir():
        names |= {p.name.lower() for p in SHIPPED_DIR.iterdir()}
    return names


def check_save_name(name: str, replace: bool = False):
    """-> the target folder in the user models folder, or CheckpointError saying what is wrong with `name`."""
    from ..checkpoints import CheckpointError, user_dir, validate_name
    name = validate_name((name or "").strip()) if isinstance(name, str) else validate_name(name)
    if name.lower() in reserved_names():
        raise CheckpointError(f"{name!r} is the name of a shipped model; pick another name.")
    target = user_dir() / name
    if target.exists() and not replace:
        raise CheckpointError(f"A model named {name!r} already exists in your models folder; tick 'replace' "
                              "to overwrite it, or pick another name.")
    return target
