"""Saving a trained model with its card: one function for the CLI's `train` and the Live training page."""
from __future__ import annotations

from pathlib import Path

from ..locale import N_, Sentence


def save_trained(model, target: str | Path, info: dict, replace: bool = True,
                 extra_files: dict[str, bytes] | None = None, owner: str | None = None) -> Path:
    """Write `model` and its card (seqgen.cards) to folder `target`; -> the checkpoint's path.

    When info["train"] asks for weight_precision "float16", the model's weights are rounded to float16 values
    first (in place) and info["validation"] is replaced by figures measured on the rounded weights, so the card
    describes the weights it ships. The card is rendered twice: the first version goes in with the weights, the
    second also shows the size of the weights file, which exists only once they are written. replace=False:
    CheckpointError when a model of that name exists, even one saved a moment ago by someone else (see
    checkpoints.save). extra_files (name -> bytes) go into the folder in the same step as the weights; owner:
    who saves it, who alone may replace it (checkpoints.save)."""
    from .. import checkpoints
    from ..cards import render_card

    if info.get("train", {}).get("weight_precision") == "float16":
        round_weights_to_float16(model)
        if info.get("validation"):
            info["validation"] = remeasured_validation(model, info["validation"])
    name = Path(target).name
    card = render_card(name, model.cfg, {**info, "parameters": model.num_parameters()})
    path = checkpoints.save(model, target, info, card=card, replace=replace, extra_files=extra_files, owner=owner)
    _, _, saved = checkpoints.read_info(path)
    checkpoints.update_info(path, {}, card=render_card(name, model.cfg, saved))
    if model.cfg.family == "vae":  # the latent explorer's in-browser decoder; a failure is logged, never raised
        from ..export import try_export
        try_export(path, model)
    return path


def round_weights_to_float16(model) -> None:
    """Round every floating-point weight of `model` to the nearest float16 value, keeping its dtype: torch and
    the in-browser decoder (whose export stores such weights as float16, see seqgen.export) then compute
    with exactly the same numbers."""
    import torch

    largest = torch.finfo(torch.float16).max
    state = {k: t for k, t in model.state_dict().items() if t.is_floating_point()}
    for key, tensor in state.items():
        peak = float(tensor.detach().abs().max()) if tensor.numel() else 0.0
        if not peak <= largest:
            raise ValueError(f"weight {key} reaches {peak:g}, outside float16's range (±{largest:g}); "
                             "save it with weight_precision float32")
    with torch.no_grad():
        for tensor in state.values():
            tensor.copy_(tensor.to(torch.float16).to(tensor.dtype))


def remeasured_validation(model, validation: dict) -> dict:
    """The validation row `validation` (step, time, figures) with its figures measured again on the model's
    current weights, on the domain's val split as the trainer measures them."""
    from ..domains import get_domain

    x, y = get_domain(model.cfg.domain).dataset("val")
    was_training = model.training
    figures = model.evaluate(x, y)
    model.train(was_training)
    return {**validation, **figures}


def reserved_names() -> set[str]:
    """Names a user model may not take: every entry in checkpoints/ and every preset (lower-cased).

    Shipped models are found before user models, so a user model under one of these names could never be
    opened; presets are included so that a model shipped later cannot be shadowed either."""
    from ..checkpoints import SHIPPED_DIR
    from ..presets import PRESETS
    names = {n.lower() for n in PRESETS}
    if SHIPPED_DIR.is_dir():
        names |= {p.name.lower() for p in SHIPPED_DIR.iterdir() if not p.name.startswith(".")}
    return names


def check_save_name(name: str, replace: bool = False, folder: str | Path | None = None,
                    how_to_replace: str = N_("tick 'replace' to overwrite it")) -> Path:
    """-> the target folder for a model called `name` in `folder` (default: the user models folder), or a
    CheckpointError saying what is wrong with the name.

    One policy for the Live training page and `python -m seqgen train`: a valid folder name, not a shipped
    model's or a preset's name, and not an existing model unless `replace` (`how_to_replace` says how). The one place that takes shipped
    names is checkpoints/ itself, where shipped models are made (`train --preset X --out checkpoints`)."""
    from ..checkpoints import SHIPPED_DIR, CheckpointError, user_dir, validate_name
    name = validate_name(name.strip() if isinstance(name, str) else name)
    folder = Path(folder) if folder is not None else user_dir()
    shipping = folder.resolve() == SHIPPED_DIR.resolve()
    if not shipping and name.lower() in reserved_names():
        raise CheckpointError(Sentence("{name} is the name of a shipped model; pick another name.", name=repr(name)))
    target = folder / name
    if (target.exists() or target.is_symlink()) and not replace:
        raise CheckpointError(Sentence("A model named {name} already exists; {how}, or pick another name.",
                                       name=repr(name), how=Sentence(how_to_replace)))
    return target
