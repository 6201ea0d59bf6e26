"""The class store: every class's state, shared by all app processes; the API the class-mode pages call.

    store = get_store()                    # this process's store, chosen by SEQGEN_CLASS_STORE
    new = store.create_class()             # teacher: NewClass(code, secret)
    me = store.join(new.code, "Lin")       # student: Joined(student_id, seat, nickname)
    store.set_state(new.code, new.secret, Stage("latent-space", 2, "latent", {"le_z0": 0.75}))
    store.state(new.code).stage            # every follower: the teacher's stage

`ClassStore` (base.py) is the contract, and `BaseStore` (base.py) writes it once over a backend's primitives;
`SQLiteStore` (sqlite_store.py, the default: one file in the shared user folder) and `RedisStore`
(redis_store.py, SEQGEN_CLASS_STORE=redis://host:port/db) are its two implementations. This module picks one.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..locale import Sentence
from ..storage import user_dir
from .base import BaseStore, ClassStore
from .errors import ClassError
from .settings import Settings
from .sqlite_store import SQLiteStore

STORE_ENV = "SEQGEN_CLASS_STORE"
SQLITE_NAME = ".classroom.sqlite3"     # a dot file: the model list skips it (checkpoints.list_checkpoints)

__all__ = ["STORE_ENV", "BaseStore", "ClassStore", "SQLiteStore", "get_store", "open_store"]


def open_store(url: str | None = None, settings: Settings | None = None,
               clock: Callable[[], float] = time.time) -> BaseStore:
    """A new store for `url`, by default $SEQGEN_CLASS_STORE:

        unset or empty           SQLite: .classroom.sqlite3 in the shared user folder (storage.user_dir())
        sqlite:///abs/path.db    SQLite at that path
        redis://host:port/db     Redis (also rediss:// and unix://)
    """
    url = (os.environ.get(STORE_ENV, "") if url is None else url).strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_store import RedisStore
        return RedisStore(url, settings, clock)
    if not url:
        return SQLiteStore(user_dir() / SQLITE_NAME, settings, clock)
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path("/" + url[len("sqlite:///"):].lstrip("/")), settings, clock)   # sqlite:////x too
    raise ClassError(Sentence("{env} must be empty, sqlite:///path or redis://host:port/db, not {url!r}.",
                              env=STORE_ENV, url=url[:60]), reason="settings")


_shared: dict[str, BaseStore] = {}
_shared_lock = threading.Lock()


def get_store() -> BaseStore:
    """This process's store for the current $SEQGEN_CLASS_STORE, opened on first use (what the app calls)."""
    key = os.environ.get(STORE_ENV, "").strip() + "\0" + str(user_dir())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = open_store()
        return _shared[key]
