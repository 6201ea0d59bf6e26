"""Lessons as data: guided tours that a teacher can read, change and add to, one TOML file each, both languages
side by side. The shipped ones are in lessons/ at the top of the repository; SEQGEN_LESSONS names one more
folder (a school's own). docs/LESSONS.md describes every field, with an example.

A step names the app page it opens (an id of seqgen.ui.pages.PAGES), what to do and what to notice, the page
state it starts from (the pages' own widget keys), optionally a preset whose Live-training knobs it sets, the
controls it hides, and a question for a class (multiple choice, or a point on the latent map).

Files are validated when read: a mistake is a LessonError whose sentence names the file and the line, and
every other lesson still loads. Nothing in a file is executed; its words are shown as plain text.
"""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .locale import N_, Sentence

SHIPPED = Path(__file__).resolve().parents[1] / "lessons"
LANGUAGES = ("en", "zh")
MAX_FILE_BYTES = 256 * 1024           # a lesson is a few kB; a larger file is not one
MAX_STEPS = 40
MAX_TEXT = 2000                       # characters in one text
MAX_CHOICES = 8
ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,39}"
QUESTION_KINDS = ("choice", "point")
STATE_TYPES = (bool, int, float, str)


class LessonError(ValueError):
    """A lesson file that cannot be used; its message names the file and the line."""


@dataclass(frozen=True)
class Text:
    """One text in each language; a language the file leaves out shows the other."""
    en: str
    zh: str

    def in_language(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Question:
    kind: str                                   # "choice" or "point"
    prompt: Text
    reveal: Text                                # what the teacher's reveal shows every screen
    choices: tuple[Text, ...] = ()              # kind "choice"
    answer: int | None = None                   # kind "choice": the right choice, counting from 0
    point: tuple[float, float] | None = None    # kind "point": where on the map the answer lies
    model: str | None = None                    # kind "point": the model whose map is clicked

    @property
    def is_choice(self) -> bool:
        """A multiple-choice question (else: a point on the map)."""
        return self.kind == "choice"


@dataclass(frozen=True)
class Step:
    page: str
    title: Text
    do: Text
    notice: Text
    state: Mapping[str, Any] = field(default_factory=dict)
    preset: tuple[str, str, str] | None = None  # (domain, family, preset name): Live training knobs from it
    hide: tuple[str, ...] = ()
    question: Question | None = None


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    minutes: int
    steps: tuple[Step, ...]
    source: Path


# ------------------------------------------------------------------------------------------------ reading
class _File:
    """One file being read: its lines, to say where a mistake is."""

    def __init__(self, path: Path, raw: str):
        self.path, self.lines = path, raw.splitlines()
        self.step_lines = [i + 1 for i, line in enumerate(self.lines) if re.match(r"\s*\[\[step\]\]", line)]

    def line_of(self, key: str, step: int | None = None) -> int | None:
        """The line where `key` (a dotted path's first part) is set: in step `step` (0-based), or at the top."""
        if step is not None and step < len(self.step_lines):
            start = self.step_lines[step]
            end = self.step_lines[step + 1] - 1 if step + 1 < len(self.step_lines) else len(self.lines)
        else:
            start, end = 1, (self.step_lines[0] - 1 if self.step_lines else len(self.lines))
        pattern = re.compile(rf"\s*(\[\s*step\.)?{re.escape(key)}\s*[.=\]]")
        for number in range(start, end + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return start if step is not None else None

    def error(self, message: str, field_name: str | None = None, step: int | None = None,
              **values) -> LessonError:
        """A LessonError: `message` (with `values`) after the file and the line where `field_name` is set."""
        line = self.line_of(field_name, step) if field_name else (self.step_lines[step] if step is not None and
                                                   step < len(self.step_lines) else None)
        where = Sentence("{file}, line {line}", file=self.path.name, line=line) if line else \
            Sentence("{file}", file=self.path.name)
        return LessonError(Sentence("{where}: {problem}", where=where, problem=Sentence(message, **values)))


def _text(f: _File, table: Any, key: str, step: int | None) -> Text:
    if isinstance(table, str):
        table = {"en": table}
    if not isinstance(table, dict) or not table:
        raise f.error(N_("{key} needs its words: {key}.en = \"...\" and {key}.zh = \"...\"."), key, step, key=key)
    unknown = sorted(set(table) - set(LANGUAGES))
    if unknown:
        raise f.error(N_("{key}.{lang} is not a language of the app (en, zh)."), key, step, key=key, lang=unknown[0])
    for lang, words in table.items():
        if not isinstance(words, str) or not words.strip():
            raise f.error(N_("{key}.{lang} must be some words in quotes."), key, step, key=key, lang=lang)
        if len(words) > MAX_TEXT:
            raise f.error(N_("{key}.{lang} is longer than {n} characters."), key, step, key=key, lang=lang, n=MAX_TEXT)
    en, zh = table.get("en"), table.get("zh")
    return Text(en=(en or zh).strip(), zh=(zh or en).strip())


def _only(f: _File, table: dict, allowed: Collection[str], where: str, step: int | None) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise f.error(N_("{where} has no field {key}; the fields are {fields}."), unknown[0], step, where=where,
                      key=unknown[0], fields=", ".join(sorted(allowed)))


def _require(f: _File, table: dict, keys: Collection[str], where: str, step: int | None) -> None:
    missing = [k for k in keys if k not in table]
    if missing:
        raise f.error(N_("{where} needs {key}."), None, step, where=where, key=missing[0])


def _question(f: _File, q: Any, step: int) -> Question:
    where = Sentence("The question of step {n}", n=step + 1)
    if not isinstance(q, dict):
        raise f.error(N_("question must be a table: [step.question]."), "question", step)
    _only(f, q, ("kind", "prompt", "reveal", "choices", "answer", "model"), where, step)
    _require(f, q, ("kind", "prompt", "reveal", "answer"), where, step)
    kind = q["kind"]
    if kind not in QUESTION_KINDS:
        raise f.error(N_("kind must be \"choice\" or \"point\", not {kind!r}."), "kind", step, kind=str(kind)[:40])
    prompt, reveal = _text(f, q["prompt"], "prompt", step), _text(f, q["reveal"], "reveal", step)
    if kind == "choice":
        choices = q.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
            raise f.error(N_("A choice question needs 2 to {n} choices."), "choices", step, n=MAX_CHOICES)
        texts = tuple(_text(f, c, "choices", step) for c in choices)
        answer = q["answer"]
        if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= len(texts):
            raise f.error(N_("answer must be the number of the right choice, 1 to {n}."), "answer", step, n=len(texts))
        return Question(kind, prompt, reveal, choices=texts, answer=answer - 1)
    point = q["answer"]
    if not (isinstance(point, list) and len(point) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                                                and abs(v) <= 4 for v in point)):
        raise f.error(N_("answer must be the point [z₁, z₂] on the map, each between -4 and 4."), "answer", step)
    model = q.get("model")
    if not isinstance(model, str) or not model:
        raise f.error(N_("A point question names the model whose map is clicked: model = \"digits-vae\"."), "model",
                      step)
    return Question(kind, prompt, reveal, point=(float(point[0]), float(point[1])), model=model)


def _step(f: _File, s: Any, index: int, pages: Collection[str], presets: Collection[str]) -> Step:
    where = Sentence("Step {n}", n=index + 1)
    if not isinstance(s, dict):
        raise f.error(N_("Each step is a [[step]] table."), None, index)
    _only(f, s, ("page", "title", "do", "notice", "state", "preset", "hide", "question"), where, index)
    _require(f, s, ("page", "title", "do", "notice"), where, index)
    if s["page"] not in pages:
        raise f.error(N_("page {page!r} is not a page of the app; the pages are {pages}."), "page", index,
                      page=str(s["page"])[:40], pages=", ".join(sorted(pages)))
    state = s.get("state", {})
    if not isinstance(state, dict) or not all(re.fullmatch(r"[a-z][a-z0-9_]{0,63}", k) for k in state):
        raise f.error(N_("state must be a table of the page's widget keys: state = {{ le_z0 = 1.5 }}."), "state", index)
    for key, value in state.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, STATE_TYPES) for v in values) or len(values) > 16:
            raise f.error(N_("state.{key} must be a number, a word, true/false or a short list of them."), "state",
                          index, key=key)
    state = {k: tuple(v) if isinstance(v, list) else v for k, v in state.items()}
    preset = s.get("preset")
    if preset is not None:
        if not (isinstance(preset, list) and len(preset) == 3 and all(isinstance(p, str) for p in preset)):
            raise f.error(N_("preset must be [domain, family, preset]: [\"digits\", \"gan\", \"digits-gan-live\"]."),
                          "preset", index)
        if preset[2] not in presets:
            raise f.error(N_("There is no preset {name!r}."), "preset", index, name=preset[2][:60])
        preset = tuple(preset)
    hide = s.get("hide", [])
    if not isinstance(hide, list) or not all(isinstance(h, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,63}", h)
                                             for h in hide):
        raise f.error(N_("hide must be a list of widget keys: hide = [\"le_text\"]."), "hide", index)
    question = _question(f, s["question"], index) if "question" in s else None
    return Step(s["page"], _text(f, s["title"], "title", index), _text(f, s["do"], "do", index),
                _text(f, s["notice"], "notice", index), state, preset, tuple(hide), question)


def read_lesson(path: str | Path, pages: Collection[str], presets: Collection[str] | None = None) -> Lesson:
    """One lesson file -> Lesson, or a LessonError naming the file and the line of the mistake.
    pages: the app's page ids; presets: the preset names a step may name (default: seqgen.presets)."""
    path = Path(path)
    if presets is None:
        from .presets import PRESETS
        presets = PRESETS
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LessonError(Sentence("{file} is {kb} kB; a lesson file is a few kB.", file=path.name,
                                       kb=size // 1024))
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(Sentence("{file} is not UTF-8 text.", file=path.name)) from None
    except OSError as e:
        raise LessonError(Sentence("{file} could not be read ({error}).", file=path.name,
                                   error=e.strerror or type(e).__name__)) from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise LessonError(Sentence("{file}: not valid TOML ({error}).", file=path.name, error=str(e))) from None
    f = _File(path, raw)
    _only(f, data, ("id", "minutes", "title", "summary", "step"), Sentence("A lesson"), None)
    _require(f, data, ("id", "minutes", "title", "summary", "step"), Sentence("A lesson"), None)
    lesson_id = data["id"]
    if not isinstance(lesson_id, str) or not re.fullmatch(ID_PATTERN, lesson_id):
        raise f.error(N_("id must be 1 to 40 lower-case letters, digits and dashes, like \"latent-space\"."), "id")
    minutes = data["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 180:
        raise f.error(N_("minutes must be a whole number from 1 to 180."), "minutes")
    steps = data["step"]
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise f.error(N_("A lesson needs 1 to {n} steps, each a [[step]] table."), "step", n=MAX_STEPS)
    return Lesson(lesson_id, _text(f, data["title"], "title", None), _text(f, data["summary"], "summary", None),
                  minutes, tuple(_step(f, s, i, pages, presets) for i, s in enumerate(steps)), path)


def folders() -> list[Path]:
    """Where lessons are read from: the shipped folder, then SEQGEN_LESSONS when it is set."""
    extra = os.environ.get("SEQGEN_LESSONS")
    return [SHIPPED] + ([Path(extra)] if extra else [])


def load_lessons(pages: Collection[str], where: list[Path] | None = None) -> tuple[dict[str, Lesson], list[str]]:
    """Every lesson file in `where` (default: folders()), in file-name order -> ({id: Lesson}, problems): a
    file with a mistake, or a second file with an id already taken, is left out with a sentence about it."""
    lessons: dict[str, Lesson] = {}
    problems: list[str] = []
    for folder in where if where is not None else folders():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                lesson = read_lesson(path, pages)
            except LessonError as e:
                problems.append(e.args[0])
                continue
            if lesson.id in lessons:
                problems.append(Sentence("{file}: the id {id} is already the lesson in {other}; this file is left "
                                         "out.", file=path.name, id=lesson.id, other=lessons[lesson.id].source.name))
                continue
            lessons[lesson.id] = lesson
    return lessons, problems
