"""The latent pad: a Streamlit component (components v2, inline HTML/CSS/JS from latent_pad/) that shows the
latent map and decodes the point under the pointer in the browser, with the model's ONNX export
(seqgen.export) run by the vendored onnxruntime-web (static/vendor/onnxruntime-web, served by Streamlit's
static file serving).

Python sends the pad its data once per rerun; the pad sends back `z` (on release, after arrow keys, and at
most every SEND_EVERY_MS while dragging) and `failed` (the browser could not run the decoder). What the pad
needs to draw a domain's artifacts comes from the domain (`Domain.pad_spec()`); how they are drawn comes from
the renderer of its kind (seqgen/ui/kinds/<kind>.mjs), which `component()` assembles into the pad's module.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import streamlit as st

from seqgen import export
from seqgen.checkpoints import resolve

from . import assets, compute, figures
from .i18n import _, domain_word
from .kinds import VIEWS, view, view_of
from .widgets import presenting

ASSETS = Path(__file__).with_suffix("")                      # seqgen/ui/latent_pad/
STATIC = Path(__file__).resolve().parents[2] / "static"      # served at /app/static/ (enableStaticServing)
RUNTIME = STATIC / "vendor" / "onnxruntime-web"
PUBLISHED = STATIC / "decoders"
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
SEND_EVERY_MS = 3000       # while dragging: the URL keeps up now and then, and a sweep costs the server ~1 rerun
RENDERER_END = "export default renderer;"
PRELOAD_KEY = "pad_preload"


def module_source() -> str:
    """The pad's JS module: its pacing on slow devices (pacing.mjs, whose exports become plain declarations), its
    core (pad.js) and every kind's renderer, each in a scope of its own that registers it under its kind (a
    component's code is one inline module, so neither the pacing nor the renderers can be imported as files).
    A renderer file is an ES module that ends with `export default renderer;`; its other exports (what its unit
    tests import) become plain declarations here."""
    pacing = (ASSETS / "pacing.mjs").read_text(encoding="utf-8")
    parts = [re.sub(r"^export (?=function |const )", "", pacing, flags=re.MULTILINE),
             (ASSETS / "pad.js").read_text(encoding="utf-8")]
    for kind in VIEWS:
        src = view_of(kind).renderer_source()
        if not src.rstrip().endswith(RENDERER_END):
            raise ValueError(f"the {kind} renderer must end with {RENDERER_END!r}")
        body = re.sub(r"^export (?=(async )?function |const |let |class )", "", src.rstrip()[:-len(RENDERER_END)],
                      flags=re.MULTILINE)
        if re.search(r"^\s*(import|export)\b", body, flags=re.MULTILINE):
            raise ValueError(f"the {kind} renderer may not import or export anything else")
        parts.append(f"RENDERERS[{json.dumps(kind)}] = (() => {{\n{body}\nreturn renderer;\n}})();")
    return "\n".join(parts)


@lru_cache(maxsize=1)
def _component():
    read = lambda name: (ASSETS / name).read_text(encoding="utf-8")  # noqa: E731
    return st.components.v2.component("seqgen_latent_pad", html=read("pad.html"), css=read("pad.css"),
                                      js=module_source())


@lru_cache(maxsize=1)
def _preloader():
    return st.components.v2.component("seqgen_latent_pad_preload", html="<span></span>", js=module_source())


def preload(ref) -> None:
    """Have the browser load the runtime and this model's decoder now, while the rest of the page is made:
    the pad, mounted further down, then finds its decoder ready (a page keeps one per model)."""
    url, why = availability(ref)
    if why:
        return
    st.html(f"<style>.st-key-{PRELOAD_KEY} {{ display: none; }}</style>")
    with st.container(key=PRELOAD_KEY):
        _preloader()(key=f"{PRELOAD_KEY}_component",
                     data={"preload": True, "model_url": url, "runtime": runtime_urls(_base_url())})


def _base_url() -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


@lru_cache(maxsize=4)
def runtime_urls(base: str) -> dict:
    """The runtime's files, each with the vendored version's checksum in its query string, so browsers may
    cache them for good (seqgen.ui.assets) and a new runtime is a new URL."""
    version = hashlib.sha256((RUNTIME / "SHA256SUMS").read_bytes()).hexdigest()[:12]
    url = f"{base}app/static/vendor/onnxruntime-web/{{}}?v={version}"
    return {"module": url.format(RUNTIME_FILES[0]), "mjs": url.format(RUNTIME_FILES[1]),
            "wasm": url.format(RUNTIME_FILES[2])}


def runtime_problem() -> str:
    """"" when the in-browser runtime can be served, else why not."""
    if not st.get_option("server.enableStaticServing"):
        return _("static file serving is off ({option} in {file})").format(
            option="server.enableStaticServing", file=".streamlit/config.toml")
    missing = [f for f in RUNTIME_FILES if not (RUNTIME / f).is_file()]
    if missing:
        return _("the in-browser runtime is missing ({files}; run {script})").format(
            files=", ".join(missing), script="scripts/vendor_web_assets.sh")
    return ""


def published_name(decoder: bytes) -> str:
    """The file name a decoder is served under: its content hash, so a changed decoder is a new URL."""
    return hashlib.sha256(decoder).hexdigest()[:20] + ".onnx"


@st.cache_resource(show_spinner=False, max_entries=64)
def _published(ref) -> tuple[str, str]:
    """(URL path of the model's current decoder.onnx under /app/static/decoders/, "") or ("", why not).

    The file is copied under its content hash, so a re-saved model gets a new URL and browsers keep the old
    one cached for good (seqgen.ui.assets serves it, gzipped once)."""
    folder = resolve(ref[0])
    path, why = export.export_status(folder)
    if path is None:
        return "", why
    data = path.read_bytes()
    name = published_name(data)
    target = PUBLISHED / name
    try:
        if not target.is_file() or not target.with_name(name + ".gz").is_file():
            PUBLISHED.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")   # several processes
            shutil.copyfile(path, tmp)
            tmp.replace(target)
            assets.precompress(target)       # served compressed from now on, never compressed per request
    except OSError as e:
        return "", f"its decoder could not be published for the browser ({e})"
    return f"{_base_url()}app/static/decoders/{name}", ""


def availability(ref) -> tuple[str, str]:
    """(model URL, "") when the pad can run this model in the browser, else ("", the reason)."""
    why = runtime_problem()
    return ("", why) if why else _published(ref)


@cache
def _spec_for(domain) -> dict:
    return domain.pad_spec()


def pad_text(domain) -> dict:
    """The pad's words in the session's language ({x}, {y}, {n} and {error} are filled in by the pad), with
    those of the domain's kind."""
    return {
        "decoded_at": _("Decoded at z = ({x}, {y})"),
        "loading": _("Loading the in-browser decoder…"),
        "failed": _("The in-browser decoder could not start ({error})."),
        "backdrop": _("decoded grid behind the map"),
        "aria": _("latent point: drag, click or use the arrow keys"),
        "quick": _("This device takes about {ms} ms to decode a point, too long for every frame: while you drag, "
                   "the picture is a preview made from the {n}×{n} decodes behind the map, and the exact decode "
                   "follows when you pause or let go."),
        **view(domain).pad_text(domain),
    }


@st.cache_resource(show_spinner=False, max_entries=16)
def _points(ref) -> tuple[list, list | None, str]:
    """The encoded held-out set as the pad draws it, made once per model version (a rerun only sends it)."""
    data = compute.latent_map(ref)
    pts = np.round(np.asarray(data["points"], dtype=np.float64)[:, :2], 3)
    labels = data.get("labels")
    labels = None if labels is None else [int(v) for v in np.asarray(labels).tolist()]
    return pts.ravel().tolist(), labels, f"{len(pts)}-{float(pts.sum()):.3f}"


def pad(key: str, *, ref, model_url: str, domain, latent: int, label_names, z, lim: float, step: float,
        marks: dict, label: int | None, on_z_change, on_failed_change):
    """Mount the pad for model `ref`; -> the component's state (`.z` as last sent by the browser, `.failed`)."""
    points, labels, points_key = _points(ref)
    base = _base_url()
    payload = {
        "model_url": model_url, "latent": int(latent), "label": label, "spec": _spec_for(domain),
        "runtime": runtime_urls(base),
        "points": points, "labels": labels, "points_key": points_key,
        "label_names": [domain_word(n) for n in label_names or ()], "palette": list(figures.PALETTE),
        "symbols": list(figures.SYMBOLS), "current_colour": figures.CURRENT, "text": pad_text(domain),
        "lim": lim, "step": step, "z": [round(float(z[0]), 2), round(float(z[1]), 2)],
        "marks": [[str(n), float(x), float(y), c] for n, (x, y, _symbol, c) in marks.items()],
        "send_every_ms": SEND_EVERY_MS, "large": presenting(),
    }
    return _component()(key=key, data=payload, on_z_change=on_z_change, on_failed_change=on_failed_change,
                        height="content")
