"""Model access for the app: one read-only model object per checkpoint per process.

Models are cached with ``st.cache_resource`` under (name, stamp), where the stamp changes when the
checkpoint files change, so a model re-saved by the live-training page is picked up on the next rerun.
The model list is re-read every few seconds (short TTL), so a freshly saved model appears without a restart.

`configure_torch()`, which every model page calls first, also settles the heap once per process: the
app's config turns Streamlit's full garbage collection after every script run off (`[runner]
postScriptGC`), because with torch, plotly and the models loaded one collection walks every object for a
long time while holding the GIL, once per rerun of every session. Python's own collector still runs; the
objects alive at the first model page (modules, the loaded libraries) are frozen out of its scans.
"""
from __future__ import annotations

import gc
import threading
from pathlib import Path

import streamlit as st
import torch

import seqgen
from seqgen.checkpoints import CheckpointError, resolve

from .i18n import _

GENERATOR_FAMILIES = ("vae", "gan")
_heap_settled = threading.Event()


def configure_torch() -> None:
    """One torch thread for the calling script thread and for threads started later.

    Batch-1 decoding gains nothing from 2 threads and a training thread may run beside the app. Streamlit
    runs every script run in a new thread, and torch's setting is per thread (a new thread copies the
    process default on its first parallel op), so this checks the calling thread each time instead of
    once per process: anything that put the default back to 2 is corrected on the next page run."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    if not _heap_settled.is_set():
        settle_heap()


def settle_heap() -> None:
    """Collect once, then freeze what is alive (modules, torch, plotly): later collections skip it."""
    if _heap_settled.is_set():
        return
    _heap_settled.set()
    gc.collect()
    gc.freeze()


@st.cache_data(ttl=3, show_spinner=False)
def list_models() -> list[dict]:
    """seqgen.list_checkpoints(), shipped first, re-read at most every 3 s."""
    rows = seqgen.list_checkpoints()
    return sorted(rows, key=lambda r: (not r.get("shipped"), r["name"]))


def model_names(family: str | tuple[str, ...] | None = None, kinds: tuple[str, ...] | None = None,
                domain: str | None = None) -> list[str]:
    """Readable generator checkpoints (never the reference classifiers / language models), optionally
    only those of one family, of some kinds of artifact (seqgen.ui.kinds.kinds_on(page): the kinds a page
    shows) or of one domain."""
    fams = (family,) if isinstance(family, str) else (family or GENERATOR_FAMILIES)
    return [r["name"] for r in list_models()
            if "error" not in r and r.get("family") in fams and r.get("family") in GENERATOR_FAMILIES
            and (kinds is None or r["kind"] in kinds) and (domain is None or r.get("domain") == domain)]


def damaged_models() -> list[dict]:
    return [r for r in list_models() if "error" in r]


def model_info(name: str) -> dict:
    return next((r for r in list_models() if r["name"] == name), {})


def model_label(name: str) -> str:
    """Selectbox label: 'digits-vae' or 'my-model (yours)' with its latent size when it is not 2."""
    r = model_info(name)
    extra = [] if r.get("shipped", True) else [_("yours")]
    if r.get("family") == "vae" and r.get("latent", 2) != 2:
        extra.append(_("{n}-D latent").format(n=r["latent"]))
    return f"{name} ({', '.join(extra)})" if extra else name


def stamp(name: str) -> str:
    """Changes whenever the checkpoint changes: a save swaps in a new folder (its inode), eval --write
    rewrites config.json in place (its modification time)."""
    path = resolve(name)
    parts = [str(path)]
    for p in (Path(path), Path(path) / "config.json", Path(path) / "model.safetensors"):
        try:
            st_ = p.stat()
            parts.append(f"{st_.st_ino}.{st_.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return ":".join(parts)


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _load(name: str, stamp_: str) -> seqgen.Checkpoint:
    from seqgen.devices import app_device
    ckpt = seqgen.load(name, device=app_device())
    ckpt.model.eval()
    for p in ckpt.model.parameters():  # shared by every session: make accidental training impossible
        p.requires_grad_(False)
    return ckpt


def load(name: str) -> seqgen.Checkpoint:
    """The cached checkpoint (CheckpointError with a plain message when it cannot be read)."""
    if not isinstance(name, str) or not name:
        raise CheckpointError("No model selected.")
    return _load(name, stamp(name))


def ref(name: str) -> tuple[str, str]:
    """Hashable cache key for everything derived from a model: (name, stamp)."""
    return name, stamp(name)
