"""Class mode's settings: one frozen value per store, read from the environment once (`Settings.from_env`).

Each field is one SEQGEN_CLASS_* variable (ENV below); docs/CLASSROOM.md lists them with what they protect. A
value that is not a number, or out of its range, is a ClassError naming the variable, so an operator's typo is
one sentence at start-up rather than a class that silently runs with a different limit.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

from ..locale import Sentence
from .errors import ClassError


@dataclass(frozen=True)
class Settings:
    max_students: int = 60              # seats per class: students seen within seat_timeout_s
    idle_timeout_s: float = 3600.0      # a class nobody touched (no heartbeat, no action) this long is over
    ended_grace_s: float = 600.0        # an ended class answers "ended" this long, then is deleted
    answer_rate: float = 1.0            # a student's answers and drawings: tokens per second...
    answer_burst: int = 3               # ...and at most this many at once
    presence_timeout_s: float = 30.0    # no heartbeat this long: the student is silent (tab closed, phone locked)
    seat_timeout_s: float = 900.0       # no heartbeat this long: the student's seat is free for someone else
    max_drawings: int = 20              # drawings one student may send in one class
    max_runs: int = 4                   # live runs shown to one class; a new one replaces the oldest
    poll_interval_s: float = 0.2        # the SSE poller's period (SQLite; Redis pushes, polling only as a backstop)
    keepalive_s: float = 15.0           # an SSE comment line this often, so proxies keep an idle stream open
    max_subscribers: int = 1000         # open SSE streams per app process, all classes together

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV[f.name], "").strip()
            if raw:
                values[f.name] = _parse(ENV[f.name], raw, int if f.type in ("int", int) else float)
        return cls(**values)


ENV = {
    "max_students": "SEQGEN_CLASS_MAX_STUDENTS",
    "idle_timeout_s": "SEQGEN_CLASS_IDLE_TIMEOUT",
    "ended_grace_s": "SEQGEN_CLASS_ENDED_GRACE",
    "answer_rate": "SEQGEN_CLASS_ANSWER_RATE",
    "answer_burst": "SEQGEN_CLASS_ANSWER_BURST",
    "presence_timeout_s": "SEQGEN_CLASS_PRESENCE_TIMEOUT",
    "seat_timeout_s": "SEQGEN_CLASS_SEAT_TIMEOUT",
    "max_drawings": "SEQGEN_CLASS_MAX_DRAWINGS",
    "max_runs": "SEQGEN_CLASS_MAX_RUNS",
    "poll_interval_s": "SEQGEN_CLASS_POLL_INTERVAL",
    "keepalive_s": "SEQGEN_CLASS_KEEPALIVE",
    "max_subscribers": "SEQGEN_CLASS_MAX_SUBSCRIBERS",
}


def _parse(name: str, raw: str, kind: type) -> int | float:
    try:
        value = kind(raw)
    except ValueError:
        value = None
    # Every setting is a count or a duration: zero would switch the feature off in a way nobody meant.
    if value is None or not math.isfinite(value) or value <= 0:
        if kind is int:
            raise ClassError(Sentence("{name} must be a whole number above 0, not {raw!r}.", name=name, raw=raw[:40]),
                             reason="settings")
        raise ClassError(Sentence("{name} must be a number above 0, not {raw!r}.", name=name, raw=raw[:40]),
                         reason="settings")
    return value
