"""What `train --resume` needs to continue a run where it stopped, saved beside the checkpoint.

A checkpoint holds the *best* weights. To continue training we also need the *last* weights, each
optimizer's state (Adam's moments and step counts), the step, the training time so far, where the batch
order was, the random generators and the validation rows. They go in one file, `training_state.safetensors`
(tensors in safetensors, the rest as JSON in its metadata), so nothing is unpickled when a run resumes.

A single-process run that is stopped and resumed ends bit-identical to one that was never stopped (same
thread count). Under torchrun process 0's generators are saved; the others are re-seeded from the seed, their
rank and the step, so a resumed multi-process run continues on the same batches but with other dropout and
sampling noise than an unbroken one would have had.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FILE = "training_state.safetensors"
FORMAT = "seqgen-training-state"
MAX_STATE_BYTES = 4 * 64 * 1024 * 1024   # last weights + two Adam moments of the largest model a checkpoint allows


@dataclass
class TrainingState:
    tensors: dict[str, torch.Tensor]
    meta: dict


def capture(trainer) -> TrainingState:
    """A copy of everything the loop needs to go on from trainer.step (taken before the final evaluation,
    which draws random numbers an unbroken run would not have drawn there)."""
    tensors = {f"weights.{k}": v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
    optimizers = {}
    for name, opt in trainer.optimizers.items():
        sd = opt.state_dict()
        scalars = {}
        for index, slots in sd["state"].items():
            for key, value in slots.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{name}.{index}.{key}"] = value.detach().cpu().clone()
                else:
                    scalars.setdefault(str(index), {})[key] = value
        optimizers[name] = {"param_groups": sd["param_groups"], "scalars": scalars}
    tensors["rng.batches"] = trainer._batch_gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["order"] = trainer._order.detach().cpu().clone()
    np_state = np.random.get_state()
    meta = {"step": trainer.step, "elapsed": trainer.elapsed, "cursor": trainer._cursor,
            "optimizers": optimizers, "best": trainer.best, "validation": trainer.validation,
            "world": trainer.processes.world, "model": trainer.model.cfg.to_dict(),
            "rng_python": _jsonable(random.getstate()),
            "rng_numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]]}
    return TrainingState(tensors, meta)


def _jsonable(value):
    return [_jsonable(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def to_bytes(state: TrainingState) -> bytes:
    from safetensors.torch import save
    return save({k: v.contiguous() for k, v in state.tensors.items()},
                metadata={"format": FORMAT, "meta": json.dumps(state.meta)})


def write(state: TrainingState, checkpoint: Path) -> None:
    from ..storage import atomic_write_bytes
    atomic_write_bytes(Path(checkpoint) / FILE, to_bytes(state))


def read(checkpoint: Path) -> TrainingState:
    """The saved state of the run that wrote `checkpoint`, or a ValueError saying why it cannot go on."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load

    path = Path(checkpoint) / FILE
    if not path.is_file():
        raise ValueError(f"{Path(checkpoint).name} has no {FILE}, so it cannot be resumed: only runs trained "
                         "with this version of `python -m seqgen train` save one")
    if path.stat().st_size > MAX_STATE_BYTES:
        raise ValueError(f"{path} is larger than any seqgen training state; refusing to read it")
    try:
        with safe_open(path, "pt") as f:
            header = f.metadata() or {}
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a seqgen training state")
        state = TrainingState(load(path.read_bytes()), json.loads(header["meta"]))
    except (SafetensorError, KeyError, json.JSONDecodeError):
        raise ValueError(f"{path} is damaged (truncated or from another program); it cannot be resumed") from None
    why = _what_is_wrong(state)
    if why:
        raise ValueError(f"{path} is damaged ({why}); it cannot be resumed")
    return state


MAX_STEP = 10**9


def _what_is_wrong(state: TrainingState) -> str | None:
    """Why the state cannot be a run's (every field a resume uses, its type and range), or None."""
    meta, tensors = state.meta, state.tensors
    if not isinstance(meta, dict):
        return "its description is not a table"
    step, elapsed, cursor = meta.get("step"), meta.get("elapsed"), meta.get("cursor")
    if not (isinstance(step, int) and not isinstance(step, bool) and 0 <= step <= MAX_STEP):
        return f"step {step!r} is not a whole number from 0 to {MAX_STEP:,}"
    if not (isinstance(elapsed, (int, float)) and np.isfinite(elapsed) and elapsed >= 0):
        return f"training time {elapsed!r} is not a number of seconds"
    order = tensors.get("order")
    if order is None or order.ndim != 1 or order.dtype != torch.int64:
        return "the batch order is missing or not a list of example numbers"
    if not (isinstance(cursor, int) and not isinstance(cursor, bool) and 0 <= cursor <= len(order)):
        return f"the position {cursor!r} in the batch order is outside it"
    for key in ("rng.batches", "rng.torch"):
        if key not in tensors or tensors[key].dtype != torch.uint8 or tensors[key].ndim != 1:
            return f"the random generator state {key} is missing"
    optimizers = meta.get("optimizers")
    if not isinstance(optimizers, dict) or not all(
            isinstance(o, dict) and isinstance(o.get("param_groups"), list) and isinstance(o.get("scalars"), dict)
            for o in optimizers.values()):
        return "the optimiser states are missing"
    if not isinstance(meta.get("validation"), list) or not all(isinstance(r, dict) for r in meta["validation"]):
        return "the validation rows are missing"
    if not (meta.get("best") is None or isinstance(meta["best"], dict)):
        return "the best validation row is not a row"
    if not isinstance(meta.get("model"), dict):
        return "the model settings are missing"
    if not (isinstance(meta.get("rng_python"), list) and isinstance(meta.get("rng_numpy"), list)
            and len(meta["rng_numpy"]) == 5):
        return "the random generator states are missing"
    return None


def restore(trainer, state: TrainingState, best_weights: dict[str, torch.Tensor]) -> None:
    """Put trainer back where `state` was taken; `best_weights` are the checkpoint's own (the best so far)."""
    meta = state.meta
    if meta["model"] != trainer.model.cfg.to_dict():
        raise ValueError("the checkpoint's model settings differ from this command's; resume with the same "
                         "model settings (training settings such as --steps may change)")
    if set(meta["optimizers"]) != set(trainer.optimizers):
        raise ValueError(f"the saved training state is damaged (optimisers {sorted(meta['optimizers'])}, this "
                         f"model has {sorted(trainer.optimizers)}); it cannot be resumed")
    order = state.tensors["order"]
    if len(order) and (int(order.min()) < 0 or int(order.max()) >= len(trainer.x)):
        raise ValueError("the saved training state is damaged (its batch order names examples the training data "
                         "does not have); it cannot be resumed")
    try:
        _apply(trainer, state, best_weights)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as e:
        raise ValueError(f"the saved training state is damaged ({type(e).__name__}); it cannot be "
                         "resumed") from None


def _apply(trainer, state: TrainingState, best_weights: dict[str, torch.Tensor]) -> None:
    meta = state.meta
    weights = {k[len("weights."):]: v for k, v in state.tensors.items() if k.startswith("weights.")}
    trainer.model.load_state_dict(weights)
    for name, opt in trainer.optimizers.items():
        saved = meta["optimizers"][name]
        slots: dict[int, dict] = {int(i): dict(s) for i, s in saved["scalars"].items()}
        prefix = f"optim.{name}."
        for key, tensor in state.tensors.items():
            if key.startswith(prefix):
                index, slot = key[len(prefix):].split(".", 1)
                slots.setdefault(int(index), {})[slot] = tensor  # load_state_dict moves it to the weights' device
        # this command's settings (a lower --lr to finish a run, say) win over the saved ones
        fresh = opt.state_dict()["param_groups"]
        groups = [{**old, **{k: v for k, v in new.items() if k != "params"}}
                  for old, new in zip(saved["param_groups"], fresh)]
        opt.load_state_dict({"state": slots, "param_groups": groups})
    trainer.step, trainer.elapsed, trainer._cursor = meta["step"], meta["elapsed"], meta["cursor"]
    trainer._order = state.tensors["order"].to(trainer.device)
    trainer.best, trainer.validation = meta["best"], list(meta["validation"])
    trainer._best_state = {k: v.to(trainer.device) for k, v in best_weights.items()}
    trainer._batch_gen.set_state(state.tensors["rng.batches"])
    if trainer.processes.is_main:
        torch.set_rng_state(state.tensors["rng.torch"])
        random.setstate(_tuples(meta["rng_python"]))
        kind, keys, *rest = meta["rng_numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    else:
        torch.manual_seed(hash((trainer.train.seed, trainer.processes.rank, trainer.step)) % 2**63)
