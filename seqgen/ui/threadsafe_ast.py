"""One `ast.parse` at a time in the app's process.

CPython's conversion of parsed source into `ast` objects keeps its recursion depth in one counter per
interpreter, not per thread. When two threads convert at once (the GIL can pass between them while the objects
are built: a garbage collection runs finalizers), one of them fails with "SystemError: AST constructor
recursion depth mismatch" (CPython gh-106905; `tests/test_threadsafe_ast.py` reproduces it within seconds on
Python 3.11 without this module). In the app, three kinds of thread parse: Streamlit compiles each page with
ast.parse in the session's thread on its first visit, a live run's thread imports torch._dynamo on its first
optimiser step (67 calls, through inspect.signature), and the import-ahead thread imports pandas (numpy.ma
parses). A page compiled while one of the others parses showed "Script compilation error" instead of the page.
`install()` makes every ast.parse of the process take one lock.
"""
from __future__ import annotations

import ast
import threading

_lock = threading.RLock()        # re-entrant: a finalizer run during a parse may parse on the same thread
_original = ast.parse


def _parse_one_at_a_time(*args, **kwargs):
    with _lock:
        return _original(*args, **kwargs)


def install() -> None:
    """Route ast.parse through the lock (idempotent). Call it before the app starts any thread of its own."""
    ast.parse = _parse_one_at_a_time


def installed() -> bool:
    return ast.parse is _parse_one_at_a_time
