"""Training slots shared by every app process of one deployment (scripts/serve.py starts several behind nginx).

Without it each process has its own slots and queue, so a student whose browser landed on a full process waits
while another process has a free slot. With it (SEQGEN_LIVE_SLOTS: the path of an SQLite file that every
process of the deployment names), one table holds every run that trains or waits, with the process that owns
it: at most `total` train at once in the whole deployment, and the rest wait first come first served,
whichever process they are on. Each process's RunManager asks the table before it starts a run and tells it
when a run ends; a process with waiting runs asks again every `POLL_S` seconds, since the slot may free up in
another process.

A process that dies leaves its rows behind; they are forgotten when its process id is no longer alive on this
machine, or when the process has not been heard from for `STALE_AFTER_S` seconds (a process refreshes its
rows every poll).

The table is also the teacher's view of the whole deployment: with each refresh a process writes its runs'
latest figures (what trains, whose, how far, how fast) into their rows, and it stops those of its runs whose
row someone marked (`request_stop`: the teacher's Stop, on whichever process the teacher's browser is).
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

POLL_S = 0.5
STALE_AFTER_S = 30.0
TRAINING, WAITING = "training", "waiting"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        return True
    return True


class SharedSlots:
    """The deployment's slot table. Every method is one transaction, safe from any thread of any process."""

    def __init__(self, path: str | Path, total: int, clock=time.time):
        if total < 1:
            raise ValueError("a deployment needs at least one training slot")
        self.path, self.total, self.clock = Path(path), int(total), clock
        self.pid = os.getpid()

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def claim(self, run_id: str) -> bool:
        """True when `run_id` may train now: a slot is free and no run waits before it (it takes the slot).
        Otherwise it waits in the deployment's queue (joining it if new) and False."""
        now = self.clock()
        with self._table() as db:
            db.execute("BEGIN IMMEDIATE")
            self._forget_the_dead(db, now)
            row = db.execute("SELECT state, since FROM runs WHERE run = ?", (run_id,)).fetchone()
            if row is not None and row[0] == TRAINING:
                db.execute("COMMIT")
                return True
            since = row[1] if row else now
            (training,) = db.execute("SELECT COUNT(*) FROM runs WHERE state = ?", (TRAINING,)).fetchone()
            (ahead,) = db.execute("SELECT COUNT(*) FROM runs WHERE state = ? AND (since < ? OR (since = ? AND run < ?))",
                                  (WAITING, since, since, run_id)).fetchone()
            state = TRAINING if training < self.total and ahead == 0 else WAITING
            db.execute("INSERT INTO runs (run, pid, state, since, seen) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT(run) DO UPDATE SET state = excluded.state, seen = excluded.seen",
                       (run_id, self.pid, state, since, now))
            db.execute("COMMIT")
        return state == TRAINING

    def release(self, run_id: str) -> None:
        """The run ended (or left the queue): its slot or place is free."""
        with self._table() as db:
            db.execute("DELETE FROM runs WHERE run = ?", (run_id,))

    def position(self, run_id: str) -> int | None:
        """1 for the run that starts next in the whole deployment, ...; None when it trains or is unknown."""
        with self._table() as db:
            row = db.execute("SELECT state, since FROM runs WHERE run = ?", (run_id,)).fetchone()
            if row is None or row[0] != WAITING:
                return None
            (ahead,) = db.execute("SELECT COUNT(*) FROM runs WHERE state = ? AND (since < ? OR (since = ? AND run < ?))",
                                  (WAITING, row[1], row[1], run_id)).fetchone()
        return ahead + 1

    def beat(self, figures: dict[str, dict] | None = None) -> dict[str, str]:
        """This process is alive: refresh its rows, with `figures` (run id -> its latest figures, JSON-able).
        -> its runs that someone asked to stop: run id -> the reason given."""
        with self._table() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE runs SET seen = ? WHERE pid = ?", (self.clock(), self.pid))
            db.executemany("UPDATE runs SET figures = ? WHERE run = ? AND pid = ?",
                           [(json.dumps(f), run, self.pid) for run, f in (figures or {}).items()])
            stop = dict(db.execute("SELECT run, stop FROM runs WHERE pid = ? AND stop IS NOT NULL", (self.pid,)))
            db.execute("COMMIT")
        return stop

    def request_stop(self, reason: str, run_id: str | None = None) -> None:
        """Ask the process that owns `run_id` (every run, when None) to stop it, saying `reason`, at its next
        refresh."""
        with self._table() as db:
            if run_id is None:
                db.execute("UPDATE runs SET stop = ?", (reason,))
            else:
                db.execute("UPDATE runs SET stop = ? WHERE run = ?", (reason, run_id))

    def rows(self) -> list[dict]:
        """Every run of the deployment, training first, then the queue in order: its id, owning process, state,
        place in the queue (None while training) and latest figures."""
        with self._table() as db:
            raw = db.execute("SELECT run, pid, state, figures FROM runs ORDER BY state = ?, since, run",
                             (WAITING,)).fetchall()
        out, place = [], 0
        for run, pid, state, figures in raw:
            place += state == WAITING
            out.append({"run": run, "pid": pid, "state": state, "position": place if state == WAITING else None,
                        "figures": json.loads(figures or "{}")})
        return out

    def counts(self) -> dict[str, int]:
        """How many runs train and wait in the whole deployment."""
        with self._table() as db:
            rows = dict(db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state").fetchall())
        return {TRAINING: rows.get(TRAINING, 0), WAITING: rows.get(WAITING, 0)}

    # -- storage -------------------------------------------------------------------------------------
    def _forget_the_dead(self, db: sqlite3.Connection, now: float) -> None:
        pids = [pid for (pid,) in db.execute("SELECT DISTINCT pid FROM runs WHERE pid != ?", (self.pid,))]
        dead = [pid for pid in pids if not _alive(pid)]
        db.executemany("DELETE FROM runs WHERE pid = ?", [(pid,) for pid in dead])
        db.execute("DELETE FROM runs WHERE seen < ? AND pid != ?", (now - STALE_AFTER_S, self.pid))

    def _table(self) -> contextlib.closing[sqlite3.Connection]:
        """A connection for one `with`; closing it drops a transaction that was not committed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS runs (run TEXT PRIMARY KEY, pid INTEGER NOT NULL, "
                   "state TEXT NOT NULL, since REAL NOT NULL, seen REAL NOT NULL, figures TEXT, "
                   "stop TEXT)")
        return contextlib.closing(db)
