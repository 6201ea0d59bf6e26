"""SQLiteStore: class mode in one SQLite file that every app process of the machine opens (the default).

- WAL journal: readers (the SSE pollers, 5 reads a second per class per process) never wait for a writer,
  and a writer waits for no reader. synchronous=NORMAL: a commit survives the app process dying; a power cut
  may lose the last moments of a class, which is all a class is.
- busy_timeout: a writer waits up to BUSY_TIMEOUT_S for another process's write instead of failing.
- One connection per thread (and per process: a forked child opens its own), never shared, so no connection
  is used by two threads at once; every connection turns foreign keys on (deleting a class deletes its rows).
- Every write is one `BEGIN IMMEDIATE` transaction: it takes the write lock first, then reads what it checks
  (the class is live, the cap, the rate limit) and writes, so no other process can act in between.
- The schema is versioned with `PRAGMA user_version` (SCHEMA_VERSION). A file from a newer seqgen is refused
  rather than misread; MIGRATIONS upgrades an older one, in the same transaction that checks the version.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from ..locale import Sentence
from .base import BaseStore, ClassRow, StudentRow
from .errors import ClassError, refused
from .records import Drawing, Versions
from .security import take_token
from .settings import Settings

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 5.0
SCHEMA = (
    """CREATE TABLE classes (
        code TEXT PRIMARY KEY,
        secret_digest TEXT NOT NULL,            -- SHA-256 of the teacher secret
        created REAL NOT NULL,
        expires_at REAL NOT NULL,               -- last activity + idle timeout; ended + grace once ended
        ended INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        activity INTEGER NOT NULL DEFAULT 1,
        capacity INTEGER NOT NULL,
        seats INTEGER NOT NULL DEFAULT 0,       -- seat numbers handed out so far
        stage TEXT NOT NULL,                    -- canonical JSON (records.Stage)
        question TEXT NOT NULL DEFAULT '',      -- canonical JSON of the stage's question, '' for none
        question_id INTEGER NOT NULL DEFAULT 0,
        revealed INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX classes_expiry ON classes (expires_at)",
    """CREATE TABLE students (
        code TEXT NOT NULL REFERENCES classes (code) ON DELETE CASCADE,
        student TEXT NOT NULL,                  -- SHA-256 of the student id
        seat INTEGER NOT NULL,
        nickname TEXT,
        last_seen REAL NOT NULL,
        following INTEGER NOT NULL DEFAULT 1,
        tokens REAL,                            -- the rate limit's bucket: tokens left at tokens_at
        tokens_at REAL,
        drawings INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (code, student)
    )""",
    "CREATE INDEX students_seen ON students (code, last_seen)",
    """CREATE TABLE answers (
        code TEXT NOT NULL,
        student TEXT NOT NULL,
        question_id INTEGER NOT NULL,
        value TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (code, student),
        FOREIGN KEY (code, student) REFERENCES students (code, student) ON DELETE CASCADE
    )""",
    """CREATE TABLE drawings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL,
        student TEXT NOT NULL,
        pixels BLOB NOT NULL,                   -- 784 raw bytes
        hidden INTEGER NOT NULL DEFAULT 0,
        at REAL NOT NULL,
        lesson TEXT,
        step INTEGER NOT NULL,
        FOREIGN KEY (code, student) REFERENCES students (code, student) ON DELETE CASCADE
    )""",
    "CREATE INDEX drawings_class ON drawings (code, id)",
    """CREATE TABLE runs (
        code TEXT NOT NULL REFERENCES classes (code) ON DELETE CASCADE,
        run_id TEXT NOT NULL,
        first_published REAL NOT NULL,
        meta TEXT NOT NULL,                     -- records.ClassRun.meta_json
        samples_png BLOB,
        PRIMARY KEY (code, run_id)
    )""",
)
MIGRATIONS: dict[int, tuple[str, ...]] = {}      # from version N: the statements that make it N + 1
CLASS_COLUMNS = ("secret_digest, created, expires_at, ended, version, activity, capacity, stage, question_id, revealed, "
                 "question")


class SQLiteStore(BaseStore):
    UNAVAILABLE = (sqlite3.OperationalError,)

    def __init__(self, path: str | Path, settings: Settings | None = None, clock: Callable[[], float] = time.time):
        super().__init__(settings, clock)
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._schema_checked = False
        with self._reaching():
            self._conn()

    # ------------------------------------------------------------------------------------------ connections
    def _conn(self) -> sqlite3.Connection:
        if self._pid != os.getpid():            # a forked child: the parent's connections are not ours to use
            self._pid, self._local, self._connections = os.getpid(), threading.local(), []
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # owner-only from the start: the file holds secret digests and the class's nicknames
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")     # persistent: only the file's first opener converts it
            conn.execute("PRAGMA synchronous = NORMAL")
            if not self._schema_checked:
                self._ensure_schema(conn)
                self._schema_checked = True
        except BaseException:
            conn.close()
            raise
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")         # two processes opening a new file: one creates, one waits
        try:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise ClassError(Sentence("The class store was written by a newer seqgen; update this one, or set "
                                          "SEQGEN_CLASS_STORE to another file."), reason="unavailable")
            if found == 0:
                for statement in SCHEMA:
                    conn.execute(statement)
            else:
                for version in range(found, SCHEMA_VERSION):
                    for statement in MIGRATIONS[version]:
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _write(self):
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------------------------------ checks inside a write
    def _live(self, c: sqlite3.Connection, code: str, now: float) -> ClassRow:
        row = _class_row(c.execute(f"SELECT {CLASS_COLUMNS} FROM classes WHERE code = ?", (code,)).fetchone())
        if row is None or row.expires_at < now:
            raise refused("unknown_class", code=code)
        if row.ended:
            raise refused("ended")
        return row

    def _student(self, c: sqlite3.Connection, code: str, key: str) -> tuple:
        found = c.execute("SELECT seat, tokens, tokens_at, drawings FROM students WHERE code = ? AND student = ?",
                          (code, key)).fetchone()
        if found is None:
            raise refused("not_member")
        return found

    def _take_token(self, c: sqlite3.Connection, code: str, key: str, tokens, tokens_at, now: float) -> None:
        s = self.settings
        left = take_token(tokens, tokens_at, now, s.answer_rate, s.answer_burst)
        if left is None:
            raise refused("too_fast")
        c.execute("UPDATE students SET tokens = ?, tokens_at = ? WHERE code = ? AND student = ?", (left, now, code, key))

    def _changed(self, c: sqlite3.Connection, code: str, now: float, version: int = 0, activity: int = 0) -> None:
        """Every write ends here: the counters it announces, and the class's idle clock restarted."""
        c.execute("UPDATE classes SET version = version + ?, activity = activity + ?, expires_at = ? WHERE code = ?",
                  (version, activity, now + self.settings.idle_timeout_s, code))

    # ------------------------------------------------------------------------------------------ primitives
    def _create(self, code, secret_digest, stage_json, question_json, capacity, now) -> bool:
        with self._write() as c:
            try:
                c.execute("INSERT INTO classes (code, secret_digest, created, expires_at, capacity, stage, question, "
                          "question_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (code, secret_digest, now, now + self.settings.idle_timeout_s, capacity, stage_json,
                           question_json, 1 if question_json else 0))
            except sqlite3.IntegrityError:     # the code is taken (a live class, or one not yet swept)
                return False
        return True

    def _row(self, code) -> ClassRow | None:
        return _class_row(self._conn().execute(f"SELECT {CLASS_COLUMNS} FROM classes WHERE code = ?",
                                               (code,)).fetchone())

    def _versions(self, code, now) -> Versions | None:
        found = self._conn().execute("SELECT version, activity, ended, expires_at FROM classes WHERE code = ?",
                                     (code,)).fetchone()
        if found is None or found[3] < now:
            return None
        return Versions(found[0], found[1], bool(found[2]))

    def _set_stage(self, code, stage_json, question_json, now) -> None:
        with self._write() as c:
            if self._live(c, code, now).question_json != question_json:
                c.execute("UPDATE classes SET question_id = question_id + 1, revealed = 0 WHERE code = ?", (code,))
                c.execute("DELETE FROM answers WHERE code = ?", (code,))
            c.execute("UPDATE classes SET stage = ?, question = ? WHERE code = ?", (stage_json, question_json, code))
            self._changed(c, code, now, version=1)

    def _reveal(self, code, now) -> None:
        with self._write() as c:
            row = self._live(c, code, now)
            if not row.question_json:
                raise refused("closed")
            c.execute("UPDATE classes SET revealed = 1 WHERE code = ?", (code,))
            self._changed(c, code, now, version=1)

    def _join(self, code, key, nickname, now) -> int:
        with self._write() as c:
            row = self._live(c, code, now)
            seated = c.execute("SELECT COUNT(*) FROM students WHERE code = ? AND last_seen >= ?",
                               (code, now - self.settings.seat_timeout_s)).fetchone()[0]
            if seated >= row.capacity:
                raise refused("full", n=row.capacity)
            seat = c.execute("UPDATE classes SET seats = seats + 1 WHERE code = ? RETURNING seats", (code,)).fetchone()[0]
            c.execute("INSERT INTO students (code, student, seat, nickname, last_seen) VALUES (?, ?, ?, ?, ?)",
                      (code, key, seat, nickname, now))
            self._changed(c, code, now, activity=1)
        return seat

    def _answer(self, code, key, question_id, value_json, now) -> None:
        with self._write() as c:
            row = self._live(c, code, now)
            _seat, tokens, tokens_at, _drawings = self._student(c, code, key)
            if row.question_id != question_id:
                raise refused("question_changed")
            if row.revealed:
                raise refused("revealed")
            self._take_token(c, code, key, tokens, tokens_at, now)
            c.execute("INSERT INTO answers (code, student, question_id, value, at) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT (code, student) DO UPDATE SET question_id = excluded.question_id, "
                      "value = excluded.value, at = excluded.at", (code, key, question_id, value_json, now))
            c.execute("UPDATE students SET last_seen = ? WHERE code = ? AND student = ?", (now, code, key))
            self._changed(c, code, now, activity=1)

    def _my_answer(self, code, key, question_id) -> str | None:
        found = self._conn().execute("SELECT value FROM answers WHERE code = ? AND student = ? AND question_id = ?",
                                     (code, key, question_id)).fetchone()
        return found[0] if found else None

    def _answer_rows(self, code, question_id) -> list[tuple]:
        return self._conn().execute(
            "SELECT s.seat, s.nickname, a.value, a.at FROM answers a JOIN students s USING (code, student) "
            "WHERE a.code = ? AND a.question_id = ?", (code, question_id)).fetchall()

    def _submit_drawing(self, code, key, pixels, lesson, step, now) -> int:
        with self._write() as c:
            self._live(c, code, now)
            _seat, tokens, tokens_at, sent = self._student(c, code, key)
            if sent >= self.settings.max_drawings:
                raise refused("too_many", n=self.settings.max_drawings)
            self._take_token(c, code, key, tokens, tokens_at, now)
            drawing_id = c.execute("INSERT INTO drawings (code, student, pixels, at, lesson, step) "
                                   "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                   (code, key, pixels, now, lesson, step)).fetchone()[0]
            c.execute("UPDATE students SET drawings = drawings + 1, last_seen = ? WHERE code = ? AND student = ?",
                      (now, code, key))
            self._changed(c, code, now, activity=1)
        return drawing_id

    def _hide_drawing(self, code, drawing_id, hidden, now) -> None:
        with self._write() as c:
            self._live(c, code, now)
            if c.execute("UPDATE drawings SET hidden = ? WHERE code = ? AND id = ?",
                         (int(hidden), code, drawing_id)).rowcount == 0:
                raise refused("no_drawing", id=drawing_id)
            self._changed(c, code, now, activity=1)

    def _drawing_rows(self, code) -> list[Drawing]:
        rows = self._conn().execute(
            "SELECT d.id, s.seat, s.nickname, d.pixels, d.hidden, d.at, d.lesson, d.step FROM drawings d "
            "JOIN students s USING (code, student) WHERE d.code = ?", (code,)).fetchall()
        return [Drawing(i, seat, nick, bytes(px), bool(hidden), at, lesson, step)
                for i, seat, nick, px, hidden, at, lesson, step in rows]

    def _heartbeat(self, code, key, following, now, presence_cutoff) -> None:
        with self._write() as c:
            self._live(c, code, now)
            found = c.execute("SELECT last_seen, following FROM students WHERE code = ? AND student = ?",
                              (code, key)).fetchone()
            if found is None:
                raise refused("not_member")
            c.execute("UPDATE students SET last_seen = ?, following = ? WHERE code = ? AND student = ?",
                      (now, int(following), code, key))
            # the teacher's panel has news only when the student broke away, came back, or was silent until now
            news = bool(found[1]) != following or found[0] < presence_cutoff
            self._changed(c, code, now, activity=int(news))

    def _touch(self, code, now) -> None:
        with self._write() as c:
            self._live(c, code, now)
            self._changed(c, code, now)

    def _student_rows(self, code, seen_since) -> list[StudentRow]:
        rows = self._conn().execute("SELECT student, seat, nickname, last_seen, following FROM students "
                                    "WHERE code = ? AND last_seen >= ?", (code, seen_since)).fetchall()
        return [StudentRow(k, seat, nick, seen, bool(f)) for k, seat, nick, seen, f in rows]

    def _publish_run(self, code, run_id, meta_json, png, now) -> None:
        with self._write() as c:
            self._live(c, code, now)
            known = c.execute("SELECT 1 FROM runs WHERE code = ? AND run_id = ?", (code, run_id)).fetchone()
            if known is None:
                # a new run beyond the limit replaces the one first published
                c.execute("DELETE FROM runs WHERE code = ? AND run_id IN (SELECT run_id FROM runs WHERE code = ? "
                          "ORDER BY first_published, run_id LIMIT max(0, (SELECT COUNT(*) FROM runs WHERE code = ?) - ?))",
                          (code, code, code, self.settings.max_runs - 1))
            c.execute("INSERT INTO runs (code, run_id, first_published, meta, samples_png) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT (code, run_id) DO UPDATE SET meta = excluded.meta, samples_png = excluded.samples_png",
                      (code, run_id, now, meta_json, png))
            # only a new run is news for every follower's page; its later snapshots are read by the class-run
            # view's own poll, so 30 pages do not rerun at every snapshot
            self._changed(c, code, now, version=1 if known is None else 0)

    def _run_rows(self, code) -> list[tuple[str, bytes | None]]:
        rows = self._conn().execute("SELECT meta, samples_png FROM runs WHERE code = ? ORDER BY first_published, run_id",
                                    (code,)).fetchall()
        return [(meta, bytes(png) if png is not None else None) for meta, png in rows]

    def _end(self, code, now) -> None:
        with self._write() as c:
            found = c.execute("SELECT ended, expires_at FROM classes WHERE code = ?", (code,)).fetchone()
            if found is None or found[1] < now:
                raise refused("unknown_class", code=code)
            if found[0]:
                return
            # nothing a student gave is kept past the end: the seats (and with them answers and drawings), the runs
            c.execute("DELETE FROM students WHERE code = ?", (code,))
            c.execute("DELETE FROM runs WHERE code = ?", (code,))
            c.execute("UPDATE classes SET ended = 1, version = version + 1, activity = activity + 1, expires_at = ? "
                      "WHERE code = ?", (now + self.settings.ended_grace_s, code))

    def _expire(self, now) -> list[str]:
        with self._write() as c:
            return [r[0] for r in c.execute("DELETE FROM classes WHERE expires_at < ? RETURNING code", (now,))]


def _class_row(found) -> ClassRow | None:
    if found is None:
        return None
    secret, created, expires, ended, version, activity, capacity, stage, question_id, revealed, question = found
    return ClassRow(secret, created, expires, bool(ended), version, activity, capacity, stage, question_id, bool(revealed),
                    question)
