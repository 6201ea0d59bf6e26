"""ast.parse from several threads at once: CPython 3.11 fails one of them with "SystemError: AST constructor
recursion depth mismatch" (a counter shared by the threads; three threads parsing ast.py while a fourth makes
garbage with finalizers hit it within 4 s here). The app routes every parse through one lock
(seqgen/ui/threadsafe_ast.py), installed by app.py before it starts a thread of its own."""
from __future__ import annotations

import ast
import threading
from pathlib import Path

from seqgen.ui import threadsafe_ast

ROOT = Path(__file__).resolve().parents[1]


def test_a_parse_waits_while_another_thread_parses():
    threadsafe_ast.install()                      # (conftest installs it too; idempotent)
    assert threadsafe_ast.installed()
    finished = threading.Event()

    def other_thread_parses():
        ast.parse("x = 1")
        finished.set()

    with threadsafe_ast._lock:                     # as if this thread were in the middle of a parse
        t = threading.Thread(target=other_thread_parses)
        t.start()
        assert not finished.wait(0.3)              # the other parse waits for this one
    t.join(5)
    assert finished.is_set()
    assert isinstance(ast.parse("y = 2"), ast.Module)


def test_the_app_installs_the_lock_before_its_threads_start():
    text = (ROOT / "app.py").read_text()
    assert text.index("threadsafe_ast.install()") < text.index("uploads.start()") < text.index("import_ahead.start()")
