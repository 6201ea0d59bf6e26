"""Draw decoded artifacts the way their kind is meant to be seen or heard: the pages' short way to the view
of a domain's kind (seqgen.ui.kinds)."""
from __future__ import annotations

import streamlit as st

from .i18n import _
from .kinds import view


def describe(domain, art) -> str:
    """One line about an artifact in the session's language."""
    return view(domain).describe(domain, art)


def artifact(domain, art, key: str, caption: str | None = None, **options) -> None:
    view(domain).one(domain, art, key=key, caption=caption, **options)


def grid(domain, grid_result: dict, caption: str, key: str) -> None:
    view(domain).grid(domain, grid_result, caption, key)


def strip(domain, arts, key: str) -> None:
    view(domain).strip(domain, arts, key)


def gallery(domain, artifacts, cols: int, labels: list[str] | None = None, key: str | None = None) -> None:
    """A batch of samples (the live page's preview): a mosaic, or a line of words."""
    if not len(artifacts):
        st.caption(_("Samples appear after the model is built."))
        return
    view(domain).gallery(domain, artifacts, cols, labels, key)


def download_buttons(domain, artifacts, stem: str, key: str, **options) -> None:
    """One download button per file the kind offers for these artifacts, side by side."""
    files = view(domain).downloads(domain, list(artifacts), stem, **options)
    for col, (i, (label, data, name, mime)) in zip(st.columns(max(len(files), 1) + 1), enumerate(files)):
        col.download_button(label, data, file_name=name, mime=mime, key=key if i == 0 else f"{key}{i}",
                            icon=":material/download:")
