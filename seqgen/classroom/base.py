"""BaseStore: the class-mode API written once over a backend's primitives, and ClassStore, its contract.

Both backends (sqlite_store.SQLiteStore, redis_store.RedisStore) inherit everything a caller sees from
`BaseStore`: input checks (security.py, records.py), the teacher secret check, the refusals and their sentences.
A backend only stores: each of its write primitives (the `_` methods at the end of BaseStore) is one atomic
step (an SQLite IMMEDIATE transaction, a Redis Lua script) that re-checks, inside that step, that the class is
live and the caller still a member, so two processes racing on one class cannot break a rule (the class cap,
the rate limit, one answer per question).

Counters. Each class has two integers that only grow, stored with it and changed in the same atomic step as
the change they announce: `version` (what students see: the stage, a reveal, a class run's snapshot, the end)
and `activity` (what the teacher's panel shows: joins, answers, drawings, moderation, students breaking away or
coming back). Watchers read both with one cheap `versions(code)`, or stream them (`watch`, sse.py).

Time is `clock()` (wall-clock seconds, shared by every process of the machine); tests pass their own.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..locale import Sentence
from .errors import ClassError, refused
from .records import (
    Answer,
    Answers,
    ClassRun,
    ClassState,
    Drawing,
    Joined,
    NewClass,
    Presence,
    Stage,
    Versions,
    canonical_json,
)
from .security import (
    clean_nickname,
    digest,
    drawing_pixels,
    new_code,
    new_secret,
    new_student_id,
    normalise_code,
    secret_matches,
    student_key,
)
from .settings import Settings

CREATE_ATTEMPTS = 8                    # fresh codes tried when one is taken (1 in 10**9 per live class)
SWEEP_EVERY_S = 60.0                   # create_class and join clean up idle classes at most this often


class ClassStore(Protocol):
    """What the app calls. `code` is a class code as typed (normalised here); `secret` the teacher's; a
    `student_id` what join returned. Every refusal is a ClassError (a sentence, and a `reason`)."""

    settings: Settings

    # the teacher
    def create_class(self, stage: Stage | None = None, capacity: int | None = None) -> NewClass: ...
    def set_state(self, code: str, secret: str, stage: Stage) -> ClassState: ...
    def teacher_state(self, code: str, secret: str) -> ClassState: ...
    def reveal(self, code: str, secret: str) -> None: ...
    def answers(self, code: str, secret: str) -> Answers: ...
    def drawings(self, code: str, secret: str, include_hidden: bool = True) -> list[Drawing]: ...
    def hide_drawing(self, code: str, secret: str, drawing_id: int, hidden: bool = True) -> None: ...
    def presence(self, code: str, secret: str) -> Presence: ...
    def teacher_heartbeat(self, code: str, secret: str) -> Versions: ...
    def publish_run(self, code: str, secret: str, run: ClassRun) -> None: ...
    def end_class(self, code: str, secret: str) -> None: ...
    # a student
    def join(self, code: str, nickname: str | None = None) -> Joined: ...
    def answer(self, code: str, student_id: str, value) -> None: ...
    def my_answer(self, code: str, student_id: str): ...
    def submit_drawing(self, code: str, student_id: str, image) -> int: ...
    def heartbeat(self, code: str, student_id: str, following: bool = True) -> Versions: ...
    # anyone with the code
    def state(self, code: str) -> ClassState: ...
    def versions(self, code: str) -> Versions | None: ...
    def class_runs(self, code: str) -> list[ClassRun]: ...
    def watch(self, code: str) -> AsyncIterator[Versions | None]: ...
    # housekeeping
    def expire_idle(self) -> list[str]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ClassRow:
    """One class as a backend reads it (the stored stage includes the question's answer)."""
    secret_digest: str
    created: float
    expires_at: float
    ended: bool
    version: int
    activity: int
    capacity: int
    stage_json: str
    question_id: int
    revealed: bool
    question_json: str                 # the question alone, canonical JSON ('' for none): "did it change?"


@dataclass(frozen=True)
class StudentRow:
    key: str
    seat: int
    nickname: str | None
    last_seen: float
    following: bool


class BaseStore:
    """The public operations, written once over a backend's primitives (the `_` methods a backend defines)."""

    #: the backend's exceptions that mean "cannot reach or lock the store now" -> ClassError "unavailable"
    UNAVAILABLE: tuple[type[BaseException], ...] = ()

    def __init__(self, settings: Settings | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings or Settings.from_env()
        self.clock = clock
        self._last_sweep = float("-inf")
        self._sweep_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _reaching(self):
        try:
            yield
        except self.UNAVAILABLE as e:
            raise refused("unavailable") from e

    def _live_row(self, code: str) -> ClassRow:
        with self._reaching():
            row = self._row(code)
        if row is None or row.expires_at < self.clock():
            raise refused("unknown_class", code=code)
        return row

    def _teacher_row(self, code, secret) -> tuple[str, ClassRow]:
        code = normalise_code(code)
        row = self._live_row(code)
        if not secret_matches(secret, row.secret_digest):
            raise refused("not_teacher")
        return code, row

    def _state_of(self, code: str, row: ClassRow, teacher: bool) -> ClassState:
        stage = Stage.from_json(row.stage_json)
        if stage.question is not None and not (teacher or row.revealed):
            stage = replace(stage, question=stage.question.without_answer())
        return ClassState(code, row.version, stage, row.question_id, row.revealed, row.ended, row.created)

    def _maybe_sweep(self) -> None:
        now = self.clock()
        with self._sweep_lock:
            if now - self._last_sweep < SWEEP_EVERY_S:
                return
            self._last_sweep = now
        self.expire_idle()

    # ------------------------------------------------------------------------------------------ teacher
    def create_class(self, stage: Stage | None = None, capacity: int | None = None) -> NewClass:
        """A new class, with its first stage (none yet by default). `capacity`: fewer seats than the
        setting (SEQGEN_CLASS_MAX_STUDENTS), never more."""
        stage = stage if stage is not None else Stage()
        limit = self.settings.max_students
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity):
            raise ClassError(Sentence("A class has room for 1 to {n} students.", n=limit))
        capacity = min(capacity or limit, limit)
        self._maybe_sweep()
        secret = new_secret()
        for _ in range(CREATE_ATTEMPTS):
            code = new_code()
            with self._reaching():
                if self._create(code, digest(secret), stage.to_json(), _question_json(stage), capacity, self.clock()):
                    return NewClass(code, secret)
        raise refused("unavailable")

    def set_state(self, code, secret, stage: Stage) -> ClassState:
        """Push a new stage to every follower. A new question (any change to it) starts with no answers and
        hidden; the previous question's answers are dropped. -> the class as the teacher now sees it."""
        if not isinstance(stage, Stage):
            raise ClassError(Sentence("A class's state must be a Stage."))
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            self._set_stage(code, stage.to_json(), _question_json(stage), self.clock())
        return self.teacher_state(code, secret)

    def teacher_state(self, code, secret) -> ClassState:
        code, row = self._teacher_row(code, secret)
        return self._state_of(code, row, teacher=True)

    def reveal(self, code, secret) -> None:
        """Show the current question's answer to everyone; answers close."""
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            self._reveal(code, self.clock())

    def answers(self, code, secret) -> Answers:
        code, row = self._teacher_row(code, secret)
        question = Stage.from_json(row.stage_json).question
        with self._reaching():
            rows = self._answer_rows(code, row.question_id)
        items = []
        for seat, nickname, value_json, at in rows:
            value = _answer_value(json.loads(value_json))
            items.append(Answer(seat, nickname, value, at, question.is_correct(value) if question else None))
        items.sort(key=lambda a: (a.at, a.seat))
        return Answers(row.question_id, question, row.revealed, tuple(items))

    def drawings(self, code, secret, include_hidden: bool = True) -> list[Drawing]:
        """The class's drawings, oldest first; the hidden ones (moderated) only with include_hidden."""
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            found = self._drawing_rows(code)
        return [d for d in sorted(found, key=lambda d: d.id) if include_hidden or not d.hidden]

    def hide_drawing(self, code, secret, drawing_id: int, hidden: bool = True) -> None:
        """Moderation: hide a drawing from the class map (hidden=False shows it again)."""
        if isinstance(drawing_id, bool) or not isinstance(drawing_id, int) or drawing_id < 1:
            raise refused("no_drawing", id=str(drawing_id)[:20])
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            self._hide_drawing(code, drawing_id, bool(hidden), self.clock())

    def presence(self, code, secret) -> Presence:
        """Students holding a seat, by their last heartbeat: following, broken away, silent."""
        code, _row = self._teacher_row(code, secret)
        now, s = self.clock(), self.settings
        with self._reaching():
            students = self._student_rows(code, now - s.seat_timeout_s)
        heard = [st for st in students if st.last_seen >= now - s.presence_timeout_s]
        following = sum(1 for st in heard if st.following)
        return Presence(following, len(heard) - following, len(students) - len(heard))

    def teacher_heartbeat(self, code, secret) -> Versions:
        """The teacher's page is open: the class is not idle. -> the counters, for the page to compare."""
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            self._touch(code, self.clock())
        return self._versions_or_unknown(code)

    def publish_run(self, code, secret, run: ClassRun) -> None:
        """A live run's snapshot for the whole class (the process that trains it calls this as it goes). The
        class keeps settings.max_runs runs; a new run id beyond that replaces the one published first."""
        if not isinstance(run, ClassRun):
            raise ClassError(Sentence("A class run must be a ClassRun."))
        code, _row = self._teacher_row(code, secret)
        now = self.clock()
        run = replace(run, updated=now)
        with self._reaching():
            self._publish_run(code, run.run_id, run.meta_json(), run.samples_png, now)

    def end_class(self, code, secret) -> None:
        """End the class: students, answers, drawings and runs are deleted at once; the code answers "ended"
        for settings.ended_grace_s, then is gone. Ending twice is not an error."""
        code, _row = self._teacher_row(code, secret)
        with self._reaching():
            self._end(code, self.clock())

    # ------------------------------------------------------------------------------------------ students
    def join(self, code, nickname: str | None = None) -> Joined:
        """A seat in the class; nickname None (or blank) stays anonymous. ClassError when the class is full."""
        code = normalise_code(code)
        nickname = clean_nickname(nickname)
        self._maybe_sweep()
        student_id = new_student_id()
        with self._reaching():
            seat = self._join(code, digest(student_id), nickname, self.clock())
        return Joined(student_id, seat, nickname)

    def answer(self, code, student_id, value) -> None:
        """Answer the current question (again, until the answer is revealed: the last one counts)."""
        code, key = normalise_code(code), student_key(student_id)
        row = self._live_row(code)
        if row.ended:
            raise refused("ended")
        question = Stage.from_json(row.stage_json).question
        if question is None:
            raise refused("closed")
        if row.revealed:
            raise refused("revealed")
        checked = question.check(value)
        now = self.clock()
        with self._reaching():
            self._answer(code, key, row.question_id, canonical_json(_answer_json(checked)), now)

    def my_answer(self, code, student_id):
        """This student's answer to the current question, or None."""
        code, key = normalise_code(code), student_key(student_id)
        row = self._live_row(code)
        with self._reaching():
            found = self._my_answer(code, key, row.question_id)
        return None if found is None else _answer_value(json.loads(found))

    def submit_drawing(self, code, student_id, image) -> int:
        """Send a drawing (28x28 uint8 array or greyscale PNG) to the teacher's map. -> its id."""
        code, key = normalise_code(code), student_key(student_id)
        pixels = drawing_pixels(image)
        row = self._live_row(code)
        stage = Stage.from_json(row.stage_json)
        with self._reaching():
            return self._submit_drawing(code, key, pixels, stage.lesson, stage.step, self.clock())

    def heartbeat(self, code, student_id, following: bool = True) -> Versions:
        """The student's page is open; `following` False while the student browses on their own. Call it
        every few seconds (well inside settings.presence_timeout_s). -> the class's counters."""
        code, key = normalise_code(code), student_key(student_id)
        now = self.clock()
        with self._reaching():
            self._heartbeat(code, key, bool(following), now, now - self.settings.presence_timeout_s)
        return self._versions_or_unknown(code)

    # ------------------------------------------------------------------------------------------ anyone
    def state(self, code) -> ClassState:
        """The class as a follower sees it (the question's answer only once revealed)."""
        code = normalise_code(code)
        return self._state_of(code, self._live_row(code), teacher=False)

    def versions(self, code) -> Versions | None:
        """The class's two counters; None when there is no such class (any more)."""
        code = normalise_code(code)
        with self._reaching():
            return self._versions(code, self.clock())

    def _versions_or_unknown(self, code: str) -> Versions:
        found = self.versions(code)
        if found is None:
            raise refused("unknown_class", code=code)
        return found

    def class_runs(self, code) -> list[ClassRun]:
        """The live runs shown to the class, in the order they were first published."""
        code = normalise_code(code)
        self._live_row(code)
        with self._reaching():
            return [ClassRun.from_stored(meta, png) for meta, png in self._run_rows(code)]

    async def watch(self, code) -> AsyncIterator[Versions | None]:
        """The class's counters now, then each time they change; None (and the end) when the class is gone.
        This polls versions() every settings.poll_interval_s in a worker thread (the SQLite backend: a read
        of one row); RedisStore overrides it with pub/sub."""
        code = normalise_code(code)
        last, first = None, True
        while True:
            try:
                now = await asyncio.to_thread(self.versions, code)
            except ClassError:                 # unavailable for a moment: the next tick tries again
                await asyncio.sleep(self.settings.poll_interval_s)
                continue
            if first or now != last:
                first, last = False, now
                yield now
            if now is None:
                return
            await asyncio.sleep(self.settings.poll_interval_s)

    # ------------------------------------------------------------------------------------------ housekeeping
    def expire_idle(self) -> list[str]:
        """Delete every class past its expiry (idle for settings.idle_timeout_s, or ended longer than
        settings.ended_grace_s). -> their codes. Runs by itself at most once a minute on create and join."""
        with self._reaching():
            return self._expire(self.clock())

    def close(self) -> None:
        """Release connections (the store cannot be used after)."""

    # ------------------------------------------------------------------------------------------ a backend's part
    def _create(self, code, secret_digest, stage_json, question_json, capacity, now) -> bool: raise NotImplementedError
    def _row(self, code) -> ClassRow | None: raise NotImplementedError
    def _versions(self, code, now) -> Versions | None: raise NotImplementedError
    def _set_stage(self, code, stage_json, question_json, now) -> None: raise NotImplementedError
    def _reveal(self, code, now) -> None: raise NotImplementedError
    def _join(self, code, key, nickname, now) -> int: raise NotImplementedError
    def _answer(self, code, key, question_id, value_json, now) -> None: raise NotImplementedError
    def _my_answer(self, code, key, question_id) -> str | None: raise NotImplementedError
    def _answer_rows(self, code, question_id) -> list[tuple]: raise NotImplementedError
    def _submit_drawing(self, code, key, pixels, lesson, step, now) -> int: raise NotImplementedError
    def _hide_drawing(self, code, drawing_id, hidden, now) -> None: raise NotImplementedError
    def _drawing_rows(self, code) -> list[Drawing]: raise NotImplementedError
    def _heartbeat(self, code, key, following, now, presence_cutoff) -> None: raise NotImplementedError
    def _touch(self, code, now) -> None: raise NotImplementedError
    def _student_rows(self, code, seen_since) -> list[StudentRow]: raise NotImplementedError
    def _publish_run(self, code, run_id, meta_json, png, now) -> None: raise NotImplementedError
    def _run_rows(self, code) -> list[tuple[str, bytes | None]]: raise NotImplementedError
    def _end(self, code, now) -> None: raise NotImplementedError
    def _expire(self, now) -> list[str]: raise NotImplementedError


def _question_json(stage: Stage) -> str:
    """The question as stored for "did it change?": canonical JSON, or '' for none."""
    return canonical_json(stage.question.to_dict()) if stage.question else ""


def _answer_json(value):
    return list(value) if isinstance(value, tuple) else value


def _answer_value(stored):
    return tuple(stored) if isinstance(stored, list) else stored
