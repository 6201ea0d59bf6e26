"""The values class mode hands to the app: frozen dataclasses, JSON-safe, with their validation.

A store keeps a class's stage (lesson, step, page, settings, question) as one canonical JSON text
(`Stage.to_json`), so two processes that set the same stage write the same bytes, and "did the question change?"
is a string comparison both stores can make inside their transaction.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..locale import Sentence
from .errors import ClassError

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")   # lesson ids, page ids, run ids
MAX_STEP = 999
MAX_SETTINGS_BYTES = 16 * 1024     # a step's session values are a few hundred bytes
MAX_JSON_DEPTH = 8
MAX_PROMPT = 500
MAX_OPTION = 200
MAX_OPTIONS = 8
POINT_LIMIT = 100.0                # |x|, |y| of a point answer: latent maps span a few units
MAX_SERIES = 12
MAX_POINTS = 2000                  # per curve; a live run's series are downsampled to ~500
MAX_MESSAGE = 500
MAX_CHANGES = 50                   # knob changes a class run carries (its newest)
MAX_SAMPLES_PNG = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _invalid(template: str, **values) -> ClassError:
    return ClassError(Sentence(template, **values), reason="invalid")


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _text(value, what: str, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
        raise _invalid("{what} must be text of at most {limit} characters.", what=what, limit=limit)
    return value


def _name(value, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not NAME.match(value):
        raise _invalid("{what} must be a short name of letters, digits, '.', '_' or '-'.", what=what)
    return value


def _finite(value, what: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > limit:
        raise _invalid("{what} must be a number between -{limit} and {limit}.", what=what, limit=limit)
    return float(value)


def _point(value, what: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise _invalid("{what} must be a point (x, y).", what=what)
    return _finite(value[0], what, POINT_LIMIT), _finite(value[1], what, POINT_LIMIT)


def _plain_json(value, what: str, limit: int):
    """`value` if it is plain JSON (dicts with text keys, lists, text, finite numbers, booleans, None) of at most
    `limit` bytes and MAX_JSON_DEPTH levels; checked iteratively, so a deep value cannot recurse away."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _invalid("{what} are nested too deeply.", what=what)
        if isinstance(item, Mapping):
            if not all(isinstance(k, str) for k in item):
                raise _invalid("{what} must have text keys.", what=what)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _invalid("{what} must not hold NaN or infinity.", what=what)
        elif item is not None and not isinstance(item, (str, int, float, bool)):
            raise _invalid("{what} must be plain values (text, numbers, lists), not {kind}.", what=what,
                           kind=type(item).__name__[:30])
    text = canonical_json(value)
    if len(text.encode("utf-8")) > limit:
        raise _invalid("{what} are larger than {kib} kB.", what=what, kib=limit // 1024)
    return json.loads(text)


def _frozen(value):
    """JSON from a store -> read-only containers, so a cached state cannot be changed by the page using it."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


# ------------------------------------------------------------------------------------------------ question
@dataclass(frozen=True)
class Question:
    """A question a lesson step asks. kind "choice": pick one of `options` (answer: its index); kind "point":
    click a point on the latent map (answer: a point within `radius` of `answer` is right). `answer` None is
    a poll with no right answer. Texts are gettext message ids; the app translates them where it shows them."""
    kind: str
    prompt: str
    options: tuple[str, ...] = ()
    answer: int | tuple[float, float] | None = None
    radius: float = 0.5

    @property
    def is_choice(self) -> bool:
        """A multiple-choice question (else: a point on the map)."""
        return self.kind == "choice"

    def __post_init__(self):
        _text(self.prompt, "A question", MAX_PROMPT)
        if self.kind == "choice":
            if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence) \
                    or not 2 <= len(self.options) <= MAX_OPTIONS:
                raise _invalid("A choice question has 2 to {n} options.", n=MAX_OPTIONS)
            object.__setattr__(self, "options", tuple(_text(o, "An option", MAX_OPTION) for o in self.options))
            if self.answer is not None:
                object.__setattr__(self, "answer", self.check(self.answer))
        elif self.kind == "point":
            if self.options:
                raise _invalid("A point question has no options.")
            if self.answer is not None:
                object.__setattr__(self, "answer", _point(self.answer, "The right point"))
            object.__setattr__(self, "radius", _finite(self.radius, "The radius", POINT_LIMIT))
            if self.radius <= 0:
                raise _invalid("The radius must be above 0.")
        else:
            raise _invalid("A question is of kind 'choice' or 'point', not {kind!r}.", kind=str(self.kind)[:20])

    def check(self, value) -> int | tuple[float, float]:
        """A student's answer in canonical form; ClassError when it does not fit this question."""
        if self.kind == "choice":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(self.options):
                raise _invalid("Pick one of the {n} options.", n=len(self.options))
            return int(value)
        return _point(value, "Your answer")

    def is_correct(self, value) -> bool | None:
        """Whether an answer (as check() returns it) is right; None for a poll."""
        if self.answer is None:
            return None
        if self.kind == "choice":
            return value == self.answer
        return math.dist(value, self.answer) <= self.radius

    def without_answer(self) -> Question:
        """What students see before the teacher reveals it."""
        return Question(self.kind, self.prompt, self.options, None, self.radius)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "prompt": self.prompt, "options": list(self.options),
                "answer": list(self.answer) if isinstance(self.answer, tuple) else self.answer, "radius": self.radius}

    @classmethod
    def from_dict(cls, d: Mapping) -> Question:
        return cls(d["kind"], d["prompt"], tuple(d.get("options", ())), d.get("answer"), d.get("radius", 0.5))


# ------------------------------------------------------------------------------------------------ stage
@dataclass(frozen=True)
class Stage:
    """What the teacher shows now, pushed to every following student: the lesson and its step, the page, the
    step's settings (the pages' session values, plain JSON) and the step's question."""
    lesson: str | None = None
    step: int = 0
    page: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    question: Question | None = None

    def __post_init__(self):
        _name(self.lesson, "A lesson id")
        _name(self.page, "A page id")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or not 0 <= self.step <= MAX_STEP:
            raise _invalid("A step is a number from 0 to {n}.", n=MAX_STEP)
        if not isinstance(self.settings, Mapping):
            raise _invalid("The step's settings must be a dictionary.")
        object.__setattr__(self, "settings", _frozen(_plain_json(dict(self.settings), "The step's settings",
                                                                 MAX_SETTINGS_BYTES)))
        if self.question is not None and not isinstance(self.question, Question):
            raise _invalid("A step's question must be a Question.")

    def to_json(self) -> str:
        return canonical_json({"lesson": self.lesson, "step": self.step, "page": self.page,
                               "settings": _thawed(self.settings),
                               "question": self.question.to_dict() if self.question else None})

    @classmethod
    def from_json(cls, text: str) -> Stage:
        d = json.loads(text)
        q = d.get("question")
        return cls(d.get("lesson"), d.get("step", 0), d.get("page"), d.get("settings") or {},
                   Question.from_dict(q) if q else None)


def _thawed(value):
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class NewClass:
    """create_class's answer. The secret is shown once: keep it in the teacher's session, never in a URL."""
    code: str
    secret: str


@dataclass(frozen=True)
class Joined:
    """join's answer. Keep student_id in the student's session; seat numbers the anonymous ("Student 7")."""
    student_id: str
    seat: int
    nickname: str | None


@dataclass(frozen=True)
class Versions:
    """The two counters a class's watchers poll: `version` changes whenever anything students see changes
    (stage, reveal, a class run's snapshot, the end), `activity` whenever the teacher's panel has news
    (joins, answers, drawings, hidden drawings, a student breaking away or coming back)."""
    version: int
    activity: int
    ended: bool


@dataclass(frozen=True)
class ClassState:
    """A class as a follower sees it. `question` has its answer only once `revealed` (or for the teacher:
    teacher_state)."""
    code: str
    version: int
    stage: Stage
    question_id: int               # a new number for every new question: answers belong to one
    revealed: bool
    ended: bool
    created: float

    @property
    def question(self) -> Question | None:
        return self.stage.question


@dataclass(frozen=True)
class Answer:
    seat: int
    nickname: str | None
    value: int | tuple[float, float]
    at: float
    correct: bool | None           # None: a poll, or the question has no right answer


@dataclass(frozen=True)
class Answers:
    """The answers to the current question (the teacher's view), oldest first."""
    question_id: int
    question: Question | None
    revealed: bool
    items: tuple[Answer, ...]

    @property
    def counts(self) -> tuple[int, ...] | None:
        """How many picked each option (choice questions)."""
        if self.question is None or self.question.kind != "choice":
            return None
        counts = [0] * len(self.question.options)
        for a in self.items:
            counts[a.value] += 1
        return tuple(counts)


@dataclass(frozen=True)
class Drawing:
    id: int
    seat: int
    nickname: str | None
    pixels: bytes                  # 784 bytes, row by row
    hidden: bool
    at: float
    lesson: str | None
    step: int

    def array(self):
        """The drawing as a read-only uint8 array of shape (28, 28)."""
        import numpy as np
        return np.frombuffer(self.pixels, dtype=np.uint8).reshape(28, 28)

    def png(self) -> bytes:
        from .security import pixels_png
        return pixels_png(self.pixels)


@dataclass(frozen=True)
class Presence:
    """Joined students by what their last heartbeat said: following the teacher, broken away (browsing on their
    own), or silent (no heartbeat within the presence timeout: tab closed, phone locked)."""
    following: int
    away: int
    silent: int

    @property
    def joined(self) -> int:
        return self.following + self.away + self.silent


# ------------------------------------------------------------------------------------------------ class run
@dataclass(frozen=True)
class ClassRun:
    """A snapshot of a live training run shown to the whole class, published by the process that trains it
    (publish_run) and read by any app process (class_runs). `curves` maps a name ("step", "loss", "D(real)",
    ...) to its points; a non-finite value (a diverged run) is kept as None. `samples_png` is a picture of
    the current samples, already encoded (the store never decodes it)."""
    run_id: str
    status: str
    message: str = ""
    step: int = 0
    total_steps: int = 0
    queue_position: int | None = None
    curves: Mapping[str, tuple] = field(default_factory=dict)
    samples_png: bytes | None = None
    updated: float = 0.0
    changes: tuple = ()        # (step, knob name, old value, new value): the knobs changed while it trained

    def __post_init__(self):
        _name(self.run_id, "A run id")
        if isinstance(self.changes, (str, bytes)) or not isinstance(self.changes, Sequence) \
                or len(self.changes) > MAX_CHANGES:
            raise _invalid("A run has at most {n} setting changes.", n=MAX_CHANGES)
        object.__setattr__(self, "changes", tuple(_change(c) for c in self.changes))
        _name(self.status, "A run status")
        _text(self.message, "A run's message", MAX_MESSAGE, empty=True)
        for what, n in (("A run's step", self.step), ("A run's total steps", self.total_steps)):
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**53:
                raise _invalid("{what} must be a whole number of at least 0.", what=what)
        if self.queue_position is not None and (not isinstance(self.queue_position, int) or self.queue_position < 0):
            raise _invalid("A run's queue position must be a whole number of at least 0.")
        if not isinstance(self.curves, Mapping) or len(self.curves) > MAX_SERIES:
            raise _invalid("A run has at most {n} curves.", n=MAX_SERIES)
        curves = {}
        for name, points in self.curves.items():
            _text(name, "A curve's name", 64)
            if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or len(points) > MAX_POINTS:
                raise _invalid("A curve has at most {n} points.", n=MAX_POINTS)
            curves[name] = tuple(_curve_point(p) for p in points)
        object.__setattr__(self, "curves", MappingProxyType(curves))
        if self.samples_png is not None:
            if not isinstance(self.samples_png, bytes) or len(self.samples_png) > MAX_SAMPLES_PNG \
                    or not self.samples_png.startswith(PNG_SIGNATURE):
                raise _invalid("A run's samples must be a PNG of at most {kib} kB.", kib=MAX_SAMPLES_PNG // 1024)

    def meta_json(self) -> str:
        """Everything but the picture, as stored."""
        return canonical_json({"run_id": self.run_id, "status": self.status, "message": self.message,
                               "step": self.step, "total_steps": self.total_steps,
                               "queue_position": self.queue_position,
                               "curves": {k: list(v) for k, v in self.curves.items()}, "updated": self.updated,
                               "changes": [list(c) for c in self.changes]})

    @classmethod
    def from_stored(cls, meta: str, png: bytes | None) -> ClassRun:
        d = json.loads(meta)
        return cls(d["run_id"], d["status"], d["message"], d["step"], d["total_steps"], d["queue_position"],
                   d["curves"], png or None, d["updated"], d.get("changes", ()))

    @classmethod
    def from_snapshot(cls, snapshot, samples_png: bytes | None = None) -> ClassRun:
        """From a seqgen.training.live Snapshot (read by its fields, so class mode needs no torch): its status,
        step, loss history and validation figures; the samples picture is the caller's (seqgen.render)."""
        curves = {k: v for k, v in dict(snapshot.history).items()}
        curves.update({f"val {k}": v for k, v in dict(snapshot.validation).items() if k != "step"})
        if "step" in snapshot.validation:
            curves["val step"] = snapshot.validation["step"]
        return cls(snapshot.run_id, snapshot.status, str(snapshot.message or "")[:MAX_MESSAGE], int(snapshot.step),
                   int(snapshot.total_steps), snapshot.queue_position, curves, samples_png,
                   changes=tuple(getattr(snapshot, "changes", ()))[-MAX_CHANGES:])


def _change(value) -> tuple[int, str, float, float]:
    """(step, knob name, old, new) of a knob changed while a run trained."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 4 \
            or isinstance(value[0], bool) or not isinstance(value[0], int) or not 0 <= value[0] < 2**53:
        raise _invalid("A setting change must be (step, name, old value, new value).")
    return (value[0], _name(value[1], "A setting's name"), _finite(value[2], "A setting's value", 1e9),
            _finite(value[3], "A setting's value", 1e9))


def _curve_point(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)                      # numpy scalars
        except (TypeError, ValueError):
            raise _invalid("A curve's points must be numbers.") from None
    return float(value) if math.isfinite(value) else None
