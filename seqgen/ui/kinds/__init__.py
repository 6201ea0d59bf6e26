"""The UI side of each kind (seqgen.kinds): how its artifacts are shown and played, how a user puts one in,
and the latent pad's renderer for it (a small JS module beside each view, assembled by the pad).

    view(domain)      the KindView of the domain's kind: one, grid, strip, gallery, downloads, own_input, ...
    view_of(kind)     the same, by the kind's name
    views()           every kind's view
    kinds_on(page)    the kinds whose models a page lists

A new kind is one view module here (and its .mjs renderer) plus one line in VIEWS.
"""
from __future__ import annotations

import importlib

from .base import KindView

VIEWS = {"image": "image", "text": "text", "melody": "melody", "sound": "sound"}   # kind -> module in this package


def view(domain) -> KindView:
    """The view of `domain`'s kind."""
    return view_of(domain.kind)


def view_of(kind: str) -> KindView:
    if kind not in VIEWS:
        raise ValueError(f"the app has no view for artifacts of kind {kind!r}")
    return importlib.import_module(f".{VIEWS[kind]}", __name__).VIEW


def views() -> list[KindView]:
    return [view_of(k) for k in VIEWS]


def kinds_on(page: str) -> tuple[str, ...]:
    """The kinds whose generators a page lists ("noise", "text", "music"; see KindView.pages)."""
    return tuple(k for k in VIEWS if page in view_of(k).pages)


__all__ = ["KindView", "VIEWS", "kinds_on", "view", "view_of", "views"]
