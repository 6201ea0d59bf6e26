"""Import, once the server starts, the modules the first page of each kind imports on first use.

Without it, the first visitor of a fresh app process waits for them inside a page, and so does every session
behind that visitor: a class whose teacher moves 30 students onto the latent explorer pays for `import onnx` on
the first step (benchmarks/README.md, "Class mode", has the figures). A daemon thread imports them in the
background instead; a page that needs one sooner waits only for the rest of it.
"""
from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

AHEAD = (
    "onnx",       # seqgen.export.export_status: every page with the latent pad reads its decoder's metadata
    "pandas",     # Streamlit's data-format check on the first chart or table (streamlit.dataframe_util)
    "pyarrow",
)

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_all() -> None:
    for name in AHEAD:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - the page that needs it says what is missing, in its words
            log.warning("could not import %s ahead of the first page: %s", name, e)


def start() -> threading.Thread:
    """Start the import (once per process; later calls return the same thread)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, name="seqgen-import-ahead", daemon=True)
            _thread.start()
        return _thread


def started() -> threading.Thread | None:
    """The thread start() began in this process, or None before it was called."""
    return _thread
