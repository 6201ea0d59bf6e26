"""The app's Streamlit side: the only part of seqgen that imports streamlit.

    pages      the app's pages, listed once (files, titles, icons, addresses)
    resources  cached model loading and the model lists (shipped + the user's saved models)
    compute    cached wrappers over seqgen.explore: maps, grids, interpolations, encodings, samples
    figures    plotly figures (latent map, hidden-state heat map)
    show       draw decoded artifacts by their kind (the pages' short way to seqgen.ui.kinds)
    kinds      each kind's view: how artifacts are shown, played, put in, and drawn by the latent pad
    widgets    intro box, error guard, widget-state helpers
    urlstate   the latent explorer's view (model, z) <-> st.query_params
    i18n       the session's language (Chinese / English) and its gettext messages
    lessons    guided lessons across the pages
    live       the Live training page

Importing this package loads none of them: app.py and the home page use i18n and pages without waiting for
torch, and each page imports what it draws with.
"""
from __future__ import annotations

import importlib

# public name -> the module that defines it
_EXPORTS = {"configure_torch": "resources", "load": "resources", "model_label": "resources",
            "model_names": "resources", "guard": "widgets", "intro": "widgets"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
