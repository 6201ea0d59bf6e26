"""Who a browser is, for training slots and saved models, such that a private window, cleared cookies, an edited
cookie or a script without cookies does not cheaply make a second person.

A browser brings a token the server gave it (the app uses the XSRF token Streamlit sets in every browser's
first response, which all tabs of that browser share; a session without one is its own token). A token
counts as a browser only once it is on this deployment's record, and a token goes on the record only when
its browser first asks to train or to save, at most `new_per_address` per network address in `window_s` seconds
(SEQGEN_NEW_BROWSERS_PER_ADDRESS, default 1; SEQGEN_NEW_BROWSERS_WINDOW, default 3600). So a second browser
on the same machine, an edited or cleared cookie and a cookie-less script all come as a new token from an
address that has had its turn, and are refused.

The record is an SQLite file in the user-models folder (`.browsers.sqlite3`), shared by every app process of
one deployment; tokens and addresses are kept only as HMAC-SHA256 digests under a key made once beside it
(`.browser-key`, 32 random bytes, mode 0600), so the file names neither.

One address can hold many people (a class behind one router): there the joined class seat is the identity
instead (seqgen.ui.live), and the teacher's class size bounds how many seats there are.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from pathlib import Path

from .locale import Sentence

KEY_FILE, RECORD_FILE = ".browser-key", ".browsers.sqlite3"    # dot files: the model list skips them
KEY_BYTES = 32
MAX_TOKEN_CHARS = 256
FORGET_AFTER_S = 30 * 24 * 3600      # a browser not seen for this long leaves the record


def address_of(remote: str | None, forwarded: str | None, behind_proxy: bool) -> str:
    """A browser's network address for the count of new browsers: behind our own nginx (`behind_proxy`) the last
    X-Forwarded-For entry, the one nginx itself saw (the entries before it are whatever the browser sent); else
    the connection's address (`remote`); "loopback" when there is none (Streamlit gives none for this machine)."""
    if behind_proxy and isinstance(forwarded, str):
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:MAX_TOKEN_CHARS]
    return remote[:MAX_TOKEN_CHARS] if isinstance(remote, str) and remote else "loopback"


class BrowserRefused(Exception):
    """This browser gets no identity now; str() is the sentence to show (a Sentence, so the app translates it)."""


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class Browsers:
    """The record of known browsers for one deployment (the folder holding its key and record)."""

    def __init__(self, folder: Path, new_per_address: int = 1, window_s: float = 3600.0, clock=time.time):
        self.folder = Path(folder)
        self.new_per_address, self.window_s, self.clock = int(new_per_address), float(window_s), clock
        self._key: bytes | None = None

    @classmethod
    def from_env(cls, folder: Path) -> Browsers:
        return cls(folder, max(1, int(_env_number("SEQGEN_NEW_BROWSERS_PER_ADDRESS", 1))),
                   _env_number("SEQGEN_NEW_BROWSERS_WINDOW", 3600.0))

    def known(self, token: str) -> str | None:
        """The browser id of `token` if it is on the record, else None. Nothing is written."""
        digest = self._digest("token", token)
        with self._record() as db:
            found = db.execute("SELECT 1 FROM browsers WHERE token = ?", (digest,)).fetchone()
        return digest[:16] if found else None

    def identify(self, token: str, address: str) -> str:
        """The browser id of `token`, putting it on the record if it is new; BrowserRefused when it is new and
        `address` has had `new_per_address` new browsers in the last `window_s` seconds, or when the record
        cannot be read or written (a full disk, a folder it may not write to)."""
        try:
            return self._identify(token, address)
        except (OSError, sqlite3.Error) as e:
            raise BrowserRefused(Sentence(
                "This server could not look up who is training ({error}). Try again in a moment; if it stays, "
                "tell whoever runs the server.", error=getattr(e, "strerror", None) or str(e) or type(e).__name__)
            ) from e

    def _identify(self, token: str, address: str) -> str:
        now = self.clock()
        digest, where = self._digest("token", token), self._digest("address", address)
        with self._record() as db:
            db.execute("BEGIN IMMEDIATE")       # look, count and add as one step, whichever process asks
            if db.execute("UPDATE browsers SET seen = ? WHERE token = ?", (now, digest)).rowcount:
                db.execute("COMMIT")
                return digest[:16]
            db.execute("DELETE FROM browsers WHERE seen < ?", (now - FORGET_AFTER_S,))
            (count,) = db.execute("SELECT COUNT(*) FROM browsers WHERE address = ? AND added >= ?",
                                  (where, now - self.window_s)).fetchone()
            if count >= self.new_per_address:
                db.execute("ROLLBACK")
                raise BrowserRefused(Sentence(
                    "Another browser on your network address already trains on this server, and a new browser "
                    "from the same address has to wait its turn, so that nobody can take several turns with "
                    "private windows. Use the browser you trained in before; in a class, join the class first: "
                    "every seat gets its own turn."))
            db.execute("INSERT INTO browsers (token, address, added, seen) VALUES (?, ?, ?, ?)",
                       (digest, where, now, now))
            db.execute("COMMIT")
        return digest[:16]

    # -- storage -------------------------------------------------------------------------------------
    def key(self) -> bytes:
        """The deployment's key, made on first use: written whole to a temporary file, then linked into place,
        so two processes starting at once end up with one key."""
        if self._key is None:
            path = self.folder / KEY_FILE
            if not path.exists():
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = self.folder / f"{KEY_FILE}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, secrets.token_bytes(KEY_BYTES))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    pass                         # another process made it first: use theirs
                finally:
                    tmp.unlink()
            if not path.is_file():
                raise OSError(f"{path.name} in the user-models folder is not a file; remove it")
            key = path.read_bytes()
            if len(key) != KEY_BYTES:
                raise OSError(f"{path.name} in the user-models folder is not a {KEY_BYTES}-byte key; remove it")
            self._key = key
        return self._key

    def _digest(self, what: str, value: str) -> str:
        if not isinstance(value, str) or not 0 < len(value) <= MAX_TOKEN_CHARS:
            raise ValueError(f"a browser {what} is 1 to {MAX_TOKEN_CHARS} characters")
        return hmac.new(self.key(), f"{what}:{value}".encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def _record(self) -> contextlib.closing[sqlite3.Connection]:
        """A connection for one `with`; closing it drops a transaction that was not committed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.folder / RECORD_FILE, timeout=10, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS browsers (token TEXT PRIMARY KEY, address TEXT NOT NULL, "
                   "added REAL NOT NULL, seen REAL NOT NULL)")
        return contextlib.closing(db)
