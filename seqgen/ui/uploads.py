"""The uploaded files of sessions that have ended are freed.

Streamlit keeps every uploaded file in memory under its session's id (widget or not: any PUT to
/_stcore/upload_file/<session>/<id> with a live session id is kept) and frees them when the session shuts down.
A session whose browser went away is first kept for reconnecting, for server.disconnectedSessionTTL seconds;
when that time has passed it is dropped from Streamlit's reconnect store *without* being shut down, so its files
stay in memory for the life of the process. A student's script that floods uploads (nginx's rate limit lets a
burst through) and then leaves would hold that memory for good.

`start()` runs one daemon thread per process that, every SEQGEN_UPLOAD_SWEEP_S seconds (30 by default), frees
the files of every session Streamlit knows no more: neither connected nor kept for reconnecting. It reads two
parts of Streamlit that are not public API (the runtime's session manager and the in-memory file store); where
a Streamlit version lacks them, it does nothing.
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
import time

SWEEP_ENV = "SEQGEN_UPLOAD_SWEEP_S"
DEFAULT_SWEEP_S = 30.0
log = logging.getLogger(__name__)
_lock = threading.Lock()
_thread: threading.Thread | None = None


def sweep_interval() -> float:
    """Seconds between two sweeps ($SEQGEN_UPLOAD_SWEEP_S; a value that is not a positive number: the default)."""
    try:
        value = float(os.environ.get(SWEEP_ENV, DEFAULT_SWEEP_S))
    except ValueError:
        return DEFAULT_SWEEP_S
    return value if 0 < value < 86_400 else DEFAULT_SWEEP_S


def sweep() -> int:
    """Free the uploaded files of every session that has ended. -> how many sessions' files were freed."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return 0
    runtime = Runtime.instance()
    files = runtime.uploaded_file_mgr
    sessions = getattr(runtime, "_session_mgr", None)
    stored = getattr(files, "file_storage", None)
    if sessions is None or not hasattr(sessions, "get_session_info") or not isinstance(stored, dict):
        return 0
    freed = 0
    for session_id in list(stored):
        if sessions.get_session_info(session_id) is None:
            files.remove_session_files(session_id)
            freed += 1
    if freed:
        _give_back_to_the_system()
    return freed


def _give_back_to_the_system() -> None:
    """glibc keeps freed blocks of this size in its heap for reuse (its mmap threshold rises after the first
    free), so the process would stay as large as at its peak: malloc_trim hands the free pages back."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)      # the C library already in this process
    if trim is not None:                                        # None: not glibc (musl, macOS), nothing to trim
        trim(0)


def _loop(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            freed = sweep()
        except Exception:  # noqa: BLE001 - a failed sweep must not end the thread: the next one tries again
            log.exception("freeing the uploads of ended sessions failed")
            continue
        if freed:
            log.info("freed the uploaded files of %d ended session(s)", freed)


def start() -> None:
    """Start this process's sweeper (once; later calls do nothing)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_loop, args=(sweep_interval(),), name="seqgen-upload-sweeper",
                                       daemon=True)
            _thread.start()
