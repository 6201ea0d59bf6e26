"""Class mode's store (seqgen.classroom): every test runs against both real backends, SQLite in a temporary
folder and Redis on a redis-server this module starts, through the same public API, with a clock the test
moves. Abuse cases are refused with a ClassError (a sentence and a reason), never another exception."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from classroom_helpers import REDIS_SERVER, Clock, redis_server
from PIL import Image
from st_helpers import REPO

from seqgen.classroom import (
    REASONS,
    ClassError,
    ClassRun,
    Question,
    Settings,
    Stage,
    open_store,
    security,
    sqlite_store,
)
from seqgen.classroom.redis_store import RedisStore
from seqgen.classroom.sqlite_store import SQLiteStore
from seqgen.locale import Sentence, in_language, translations

SETTINGS = Settings()
CHOICE = Question("choice", "Which digit is it?", ("4", "9", "7"), answer=1)
POINT = Question("point", "Click where a 4 turns into a 9.", answer=(1.4, 0.25), radius=0.3)
BLANK = np.zeros((28, 28), np.uint8)


@pytest.fixture(scope="module")
def redis_url():
    if not REDIS_SERVER.exists():
        pytest.skip(f"{REDIS_SERVER} is missing: install Debian's redis-server (apt-get install redis-server) for the "
                    "Redis class store tests")
    with redis_server() as url:
        yield url


@pytest.fixture
def clock():
    return Clock()


def _open(kind: str, tmp_path, redis_url_factory, clock, settings=SETTINGS):
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "class.sqlite3", settings, clock)
    url = redis_url_factory()
    store = RedisStore(url, settings, clock)
    return store


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path, clock):
    """-> open(settings=...) for this backend: a fresh store each call on the same data (a restart)."""
    opened = []

    def redis_url():
        return request.getfixturevalue("redis_url")

    if request.param == "redis":
        import redis
        redis.Redis.from_url(redis_url()).flushdb()

    def open_(settings=SETTINGS):
        store = _open(request.param, tmp_path, redis_url, clock, settings)
        opened.append(store)
        return store

    open_.kind = request.param
    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(backend):
    return backend()


def refused(reason: str, fn, *args, **kwargs) -> ClassError:
    with pytest.raises(ClassError) as caught:
        fn(*args, **kwargs)
    assert caught.value.reason == reason, (caught.value.reason, str(caught.value))
    assert isinstance(caught.value.sentence, Sentence) and str(caught.value)
    return caught.value


def png(array: np.ndarray, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ the life of a class
def test_a_class_from_creation_to_its_end(store, clock):
    new = store.create_class()
    assert len(new.code) == 6 and set(new.code) <= set(security.CODE_ALPHABET)
    assert len(new.secret) >= 40
    state = store.state(new.code.lower())                       # typed codes are forgiving
    assert state.stage == Stage() and not state.ended and state.code == new.code

    lin, anon = store.join(new.code, "Lin"), store.join(f" {new.code[:3]}-{new.code[3:]} ")
    assert (lin.seat, lin.nickname, anon.seat, anon.nickname) == (1, "Lin", 2, None)
    assert lin.student_id != anon.student_id

    stage = Stage("latent-space", 2, "latent", {"le_z0": 0.75, "le_classic": True}, CHOICE)
    before = store.versions(new.code)
    teacher = store.set_state(new.code, new.secret, stage)
    assert teacher.stage == stage and teacher.question.answer == 1
    student = store.state(new.code)
    assert student.version > before.version
    assert student.stage.settings == {"le_z0": 0.75, "le_classic": True}
    assert student.question.answer is None and student.question.options == CHOICE.options  # not yet revealed

    late = store.join(new.code)                                  # a late joiner lands on the current step
    assert store.state(new.code).stage.step == 2 and late.seat == 3

    store.answer(new.code, lin.student_id, 1)
    clock.advance(0.5)
    store.answer(new.code, anon.student_id, 2)
    answers = store.answers(new.code, new.secret)
    assert [(a.seat, a.nickname, a.value, a.correct) for a in answers.items] == [(1, "Lin", 1, True),
                                                                                 (2, None, 2, False)]
    assert answers.counts == (0, 1, 1) and not answers.revealed
    assert store.my_answer(new.code, lin.student_id) == 1 and store.my_answer(new.code, late.student_id) is None

    store.reveal(new.code, new.secret)
    assert store.state(new.code).question.answer == 1 and store.state(new.code).revealed
    refused("closed", store.answer, new.code, late.student_id, 1)

    store.end_class(new.code, new.secret)
    assert store.state(new.code).ended
    refused("ended", store.join, new.code)
    refused("ended", store.set_state, new.code, new.secret, Stage())
    store.end_class(new.code, new.secret)                        # twice is not an error


def test_a_new_question_starts_empty_and_hidden(store):
    new = store.create_class(Stage("l", 0, "p", question=CHOICE))
    me = store.join(new.code)
    store.answer(new.code, me.student_id, 0)
    store.reveal(new.code, new.secret)
    first = store.state(new.code).question_id
    # the same question again (the teacher only changed a setting): answers and reveal stay
    store.set_state(new.code, new.secret, Stage("l", 0, "p", {"x": 1}, CHOICE))
    assert store.state(new.code).question_id == first and store.state(new.code).revealed
    # another question: empty, hidden, a new id
    store.set_state(new.code, new.secret, Stage("l", 1, "p", question=POINT))
    state = store.state(new.code)
    assert state.question_id == first + 1 and not state.revealed and state.question.answer is None
    assert store.answers(new.code, new.secret).items == () and store.my_answer(new.code, me.student_id) is None


def test_point_questions_check_and_score_points(store, clock):
    new = store.create_class(Stage(question=POINT))
    a, b = store.join(new.code), store.join(new.code)
    store.answer(new.code, a.student_id, (1.5, 0.3))              # inside the radius
    store.answer(new.code, b.student_id, [3.0, -1.0])
    for bad in ((float("nan"), 0.0), (1.0,), "1,2", (1e9, 0.0), 2, (True, 0.0)):
        clock.advance(2)
        refused("invalid", store.answer, new.code, a.student_id, bad)
    correct = {x.seat: x.correct for x in store.answers(new.code, new.secret).items}
    assert correct == {1: True, 2: False}
    assert store.answers(new.code, new.secret).counts is None


def test_an_answer_that_crosses_a_question_change_is_refused(store, clock):
    """The teacher moves on between the student reading the question and the answer reaching the store."""
    new = store.create_class(Stage(question=CHOICE))
    me = store.join(new.code)
    old_id = store.state(new.code).question_id
    store.set_state(new.code, new.secret, Stage(step=1, question=Question("choice", "Next?", ("a", "b"))))
    with pytest.raises(ClassError) as caught:
        store._answer(new.code, security.digest(me.student_id), old_id, "0", clock())
    assert caught.value.reason == "question_changed"


def test_drawings_gather_for_the_teacher_and_can_be_hidden(store):
    new = store.create_class(Stage("latent-space", 3))
    lin, bo = store.join(new.code, "Lin"), store.join(new.code, "Bo")
    picture = np.arange(784, dtype=np.uint8).reshape(28, 28)
    first = store.submit_drawing(new.code, lin.student_id, picture)
    second = store.submit_drawing(new.code, bo.student_id, png(255 - picture))
    drawings = store.drawings(new.code, new.secret)
    assert [d.id for d in drawings] == [first, second]
    assert np.array_equal(drawings[0].array(), picture) and np.array_equal(drawings[1].array(), 255 - picture)
    assert (drawings[0].nickname, drawings[0].lesson, drawings[0].step) == ("Lin", "latent-space", 3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(drawings[0].png()))), picture)

    activity = store.versions(new.code).activity
    store.hide_drawing(new.code, new.secret, first)
    assert store.versions(new.code).activity > activity
    assert [d.id for d in store.drawings(new.code, new.secret, include_hidden=False)] == [second]
    assert [d.hidden for d in store.drawings(new.code, new.secret)] == [True, False]
    store.hide_drawing(new.code, new.secret, first, hidden=False)
    assert len(store.drawings(new.code, new.secret, include_hidden=False)) == 2
    refused("not_teacher", store.hide_drawing, new.code, lin.student_id, second)
    refused("invalid", store.hide_drawing, new.code, new.secret, 999_999)


def test_a_student_sends_at_most_max_drawings(backend, clock):
    store = backend(Settings(max_drawings=2))
    new = store.create_class()
    me = store.join(new.code)
    for _ in range(2):
        store.submit_drawing(new.code, me.student_id, BLANK)
        clock.advance(5)
    error = refused("too_many", store.submit_drawing, new.code, me.student_id, BLANK)
    assert "2 drawings" in str(error)


def test_presence_counts_followers_broken_away_and_silent(store, clock):
    new = store.create_class()
    a, b, c = (store.join(new.code) for _ in range(3))
    assert store.presence(new.code, new.secret).following == 3
    activity = store.versions(new.code).activity
    store.heartbeat(new.code, a.student_id, following=True)         # nothing new for the teacher
    assert store.versions(new.code).activity == activity
    store.heartbeat(new.code, b.student_id, following=False)        # broke away: the panel hears of it
    assert store.versions(new.code).activity == activity + 1
    clock.advance(SETTINGS.presence_timeout_s - 1)
    store.heartbeat(new.code, a.student_id)
    store.heartbeat(new.code, b.student_id, following=False)
    clock.advance(2)                                                 # c has been silent past the timeout
    presence = store.presence(new.code, new.secret)
    assert (presence.following, presence.away, presence.silent, presence.joined) == (1, 1, 1, 3)
    activity = store.versions(new.code).activity
    store.heartbeat(new.code, c.student_id)                          # came back
    assert store.versions(new.code).activity == activity + 1
    assert store.presence(new.code, new.secret).following == 2


def test_class_runs_are_published_by_the_teacher_and_read_by_anyone(backend, clock):
    store = backend(Settings(max_runs=2))
    new = store.create_class()
    picture = png(BLANK)
    version = store.versions(new.code).version
    store.publish_run(new.code, new.secret, ClassRun("run-1", "running", "", 10, 500,
                                                     curves={"step": [1, 2, 3], "loss": [0.9, float("inf"), 0.7]},
                                                     samples_png=picture))
    assert store.versions(new.code).version == version + 1          # a new run: followers show it
    (run,) = store.class_runs(new.code)
    assert (run.run_id, run.step, run.samples_png, run.curves["loss"]) == ("run-1", 10, picture, (0.9, None, 0.7))
    assert run.updated == clock()
    store.publish_run(new.code, new.secret, ClassRun("run-1", "running", "", 11, 500,
                                                     changes=[(10, "lr", 0.002, 0.03), [11, "d_steps", 1, 3]]))
    assert store.versions(new.code).version == version + 1          # its snapshots: the view polls them
    assert store.class_runs(new.code)[0].changes == ((10, "lr", 0.002, 0.03), (11, "d_steps", 1.0, 3.0))
    clock.advance(1)
    store.publish_run(new.code, new.secret, ClassRun("run-1", "done", "Finished.", 500, 500))
    clock.advance(1)
    store.publish_run(new.code, new.secret, ClassRun("run-2", "queued", queue_position=1))
    clock.advance(1)
    store.publish_run(new.code, new.secret, ClassRun("run-3", "starting"))  # replaces run-1, published first
    assert [(r.run_id, r.status) for r in store.class_runs(new.code)] == [("run-2", "queued"), ("run-3", "starting")]
    member = store.join(new.code)
    refused("not_teacher", store.publish_run, new.code, member.student_id, ClassRun("run-4", "running"))
    for bad in (dict(samples_png=b"GIF89a..."), dict(curves={f"c{i}": [] for i in range(20)}),
                dict(curves={"loss": list(range(5000))}), dict(run_id="../../etc"), dict(step=-1),
                dict(changes=[(1, "lr", 0.1)]), dict(changes=[(1, "<b>lr</b>", 0.1, 0.2)]),
                dict(changes=[(1, "lr", float("nan"), 0.2)]), dict(changes=[(True, "lr", 0.1, 0.2)]),
                dict(changes="lr"), dict(changes=[(1, "lr", 0.1, 0.2)] * 51)):
        with pytest.raises(ClassError) as caught:
            ClassRun(**{"run_id": "r", "status": "running", **bad})
        assert caught.value.reason == "invalid"


def test_from_snapshot_reads_a_live_runs_fields_without_torch():
    class Snap:                      # the fields of seqgen.training.live.Snapshot that a class run shows
        run_id, status, message, step, total_steps, queue_position = "run1", "running", "Training.", 40, 400, None
        history = {"step": (10, 20), "loss": (0.5, 0.4)}
        validation = {"step": (20,), "nll": (130.2,)}
    run = ClassRun.from_snapshot(Snap(), png(BLANK))
    assert run.curves["loss"] == (0.5, 0.4) and run.curves["val nll"] == (130.2,) and run.curves["val step"] == (20.0,)
    assert run.step == 40 and run.samples_png.startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------ counters
def test_which_changes_move_which_counter(store, clock):
    """`version` moves only with what students see, `activity` with the teacher panel's news; both only grow."""
    new = store.create_class(Stage(question=CHOICE))
    me = {}

    def join():
        me["id"] = store.join(new.code).student_id

    steps = [
        ("join", join, (0, 1)),
        ("set_state", lambda: store.set_state(new.code, new.secret, Stage(step=1, question=CHOICE)), (1, 0)),
        ("answer", lambda: store.answer(new.code, me["id"], 0), (0, 1)),
        ("drawing", lambda: store.submit_drawing(new.code, me["id"], BLANK), (0, 1)),
        ("reveal", lambda: store.reveal(new.code, new.secret), (1, 0)),
        ("run", lambda: store.publish_run(new.code, new.secret, ClassRun("r", "running")), (1, 0)),
        ("teacher heartbeat", lambda: store.teacher_heartbeat(new.code, new.secret), (0, 0)),
        ("state read", lambda: store.state(new.code), (0, 0)),
        ("end", lambda: store.end_class(new.code, new.secret), (1, 1)),
    ]
    for what, action, (dv, da) in steps:
        before = store.versions(new.code)
        clock.advance(2)
        action()
        after = store.versions(new.code)
        assert (after.version - before.version, after.activity - before.activity) == (dv, da), what
    assert store.versions(new.code).ended


# ------------------------------------------------------------------------------------------------ abuse
def test_wrong_and_malformed_codes_are_one_sentence(store):
    for code in ("ABC", "", None, 123, "K7QX3M0", "O0I1O0", "<script>", "x" * 10_000):
        error = refused("unknown_class", store.state, code)
        assert len(str(error)) < 200
    error = refused("unknown_class", store.join, "K7QX3M")
    assert "K7QX3M" in str(error)
    assert store.versions("K7QX3M") is None


def test_idle_classes_expire_and_ended_ones_after_their_grace(store, clock):
    idle, ended, busy = store.create_class(), store.create_class(), store.create_class()
    me = store.join(busy.code)
    store.end_class(ended.code, ended.secret)
    clock.advance(SETTINGS.ended_grace_s + 1)
    refused("unknown_class", store.state, ended.code)                # past its grace: gone even before the sweep
    clock.advance(SETTINGS.idle_timeout_s - SETTINGS.ended_grace_s - 10)
    store.heartbeat(busy.code, me.student_id)                        # a heartbeat keeps a class alive
    clock.advance(20)
    refused("unknown_class", store.state, idle.code)
    refused("unknown_class", store.answer, idle.code, me.student_id, 0)
    assert store._row(idle.code) is not None                        # refused before it is even swept
    assert sorted(store.expire_idle()) == sorted([idle.code, ended.code])
    assert store._row(idle.code) is None and store._row(ended.code) is None
    assert store.state(busy.code).code == busy.code
    assert store.expire_idle() == []
    refused("unknown_class", store.join, idle.code)


def test_creating_and_joining_sweep_idle_classes_by_themselves(store, clock):
    old = store.create_class()
    clock.advance(SETTINGS.idle_timeout_s + 1)
    fresh = store.create_class()
    assert store._row(old.code) is None and store._row(fresh.code) is not None


def test_every_teacher_action_wants_the_teacher_secret(store):
    new, other = store.create_class(Stage(question=CHOICE)), store.create_class()
    me = store.join(new.code)
    store.submit_drawing(new.code, me.student_id, BLANK)
    drawing = store.drawings(new.code, new.secret)[0].id
    actions = {
        "set_state": lambda s: store.set_state(new.code, s, Stage(step=1, question=CHOICE)),
        "teacher_state": lambda s: store.teacher_state(new.code, s),
        "reveal": lambda s: store.reveal(new.code, s),
        "answers": lambda s: store.answers(new.code, s),
        "drawings": lambda s: store.drawings(new.code, s),
        "hide_drawing": lambda s: store.hide_drawing(new.code, s, drawing),
        "presence": lambda s: store.presence(new.code, s),
        "teacher_heartbeat": lambda s: store.teacher_heartbeat(new.code, s),
        "publish_run": lambda s: store.publish_run(new.code, s, ClassRun("r", "running")),
        "end_class": lambda s: store.end_class(new.code, s),
    }
    one_letter_off = new.secret[:-1] + ("B" if new.secret.endswith("A") else "A")
    forged = [me.student_id, other.secret, security.new_secret(), one_letter_off, "", None, 12, new.secret + " ",
              "x" * 100_000, security.digest(new.secret)]
    for action in actions.values():
        for secret in forged:
            refused("not_teacher", action, secret)
        action(new.secret)                                            # and the real one works
    assert store.state(new.code).ended


def test_student_ids_work_only_in_their_class(store):
    new, other = store.create_class(Stage(question=CHOICE)), store.create_class(Stage(question=CHOICE))
    theirs = store.join(other.code)
    for student in (theirs.student_id, security.new_student_id(), "", None, "../../x", "a" * 5000, new.secret):
        reason = "not_member"
        refused(reason, store.answer, new.code, student, 0)
        refused(reason, store.submit_drawing, new.code, student, BLANK)
        refused(reason, store.heartbeat, new.code, student)
    assert store.answers(new.code, new.secret).items == ()


def test_answer_floods_are_rate_limited(store, clock):
    new = store.create_class(Stage(question=CHOICE))
    me, other = store.join(new.code), store.join(new.code)
    for i in range(SETTINGS.answer_burst):
        store.answer(new.code, me.student_id, i % 3)                 # a burst of 3 at once is fine
    refused("too_fast", store.answer, new.code, me.student_id, 0)
    refused("too_fast", store.submit_drawing, new.code, me.student_id, BLANK)   # one bucket for both
    store.answer(new.code, other.student_id, 0)                       # other students are not slowed
    clock.advance(1.0 / SETTINGS.answer_rate)
    store.answer(new.code, me.student_id, 2)
    refused("too_fast", store.answer, new.code, me.student_id, 2)
    flood = 0
    for _ in range(80):
        clock.advance(0.125)                                          # exact in binary: no rounding at the edges
        try:
            store.answer(new.code, me.student_id, 1)
        except ClassError as e:
            assert e.reason == "too_fast"
        else:
            flood += 1
    assert flood == 10                                                # 10 s at 1 a second
    assert store.my_answer(new.code, me.student_id) == 1


def test_the_token_bucket():
    t, rate, burst = 100.0, 1.0, 3
    tokens, at, taken = None, None, 0
    for _ in range(5):
        left = security.take_token(tokens, at, t, rate, burst)
        if left is not None:
            tokens, at, taken = left, t, taken + 1
    assert taken == 3
    assert security.take_token(tokens, at, t + 0.5, rate, burst) is None
    assert security.take_token(tokens, at, t + 1.0, rate, burst) == 0.0
    assert security.take_token(tokens, at, t + 1000, rate, burst) == burst - 1


def test_200_joins_at_once_fill_the_class_and_refuse_the_rest_clearly(store):
    new = store.create_class()
    results = []

    def join(i):
        try:
            return store.join(new.code, f"kid {i}").seat
        except ClassError as e:
            return e

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(join, range(200)))
    seats = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if not isinstance(r, int)]
    assert sorted(seats) == list(range(1, SETTINGS.max_students + 1))
    assert len(refusals) == 200 - SETTINGS.max_students
    assert {e.reason for e in refusals} == {"full"} and "room for 60 students" in str(refusals[0])
    assert store.presence(new.code, new.secret).joined == SETTINGS.max_students


def test_seats_of_students_long_gone_are_free_again(store, clock):
    new = store.create_class(capacity=2)
    store.join(new.code)
    stays = store.join(new.code)
    refused("full", store.join, new.code)
    clock.advance(SETTINGS.seat_timeout_s / 2)
    store.heartbeat(new.code, stays.student_id)
    clock.advance(SETTINGS.seat_timeout_s / 2 + 1)                   # the first student's seat timed out
    assert store.join(new.code).seat == 3
    refused("full", store.join, new.code)
    refused("invalid", store.create_class, capacity=0)
    assert store.create_class(capacity=10**6) is not None              # capped at the setting, not an error


@pytest.mark.parametrize("nickname, kept", [
    ("Lin", "Lin"), ("  李雷  ", "李雷"), ("Ｌｉｎ", "Lin"), ("Li\u202enL", "LinL"), ("a\u200bb\u200dc", "abc"),
    ("new\nline\ttab", "new line tab"), ("", None), ("   ", None), (None, None), ("\u202e", None),
    ("x\u0301\u0301\u0301\u0301y", "x\u0301\u0301y"),
])
def test_nicknames_are_cleaned(nickname, kept):
    assert security.clean_nickname(nickname) == kept


@pytest.mark.parametrize("nickname", [
    "<b>Lin</b>", "Lin & Bo", "[click](http://x)", "$x^2$", "`rm`", "a" * 21, "a" * 100_000, "shit", "f.u.c.k",
    "ass hole", 42, b"Lin",
])
def test_nicknames_with_markup_offence_or_length_are_refused(store, nickname):
    new = store.create_class()
    error = refused("invalid", store.join, new.code, nickname)
    assert "Traceback" not in str(error) and len(str(error)) < 120
    assert store.presence(new.code, new.secret).joined == 0


def test_bad_drawings_are_refused_before_decoding(store, monkeypatch):
    new = store.create_class()
    me = store.join(new.code)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    huge = security.PNG_SIGNATURE + b"\0" * (security.MAX_DRAWING_BYTES + 1)
    refused("invalid", store.submit_drawing, new.code, me.student_id, huge)
    refused("invalid", store.submit_drawing, new.code, me.student_id, b"\x80\x04\x95" + b"pickle" * 10)
    refused("invalid", store.submit_drawing, new.code, me.student_id, memoryview(b"GIF89a" + b"\0" * 100))
    assert opened == []                                               # none of those reached the decoder
    bad = [
        security.PNG_SIGNATURE + b"garbage" * 20,                    # a PNG in name only
        png(np.zeros((29, 28), np.uint8)),
        png(np.zeros((28, 28), np.uint8), "RGB"),
        png(np.zeros((28, 28), np.uint8), "1"),
        png(np.zeros((28, 28), np.uint8))[:50],                      # truncated inside the pixel data
        np.zeros((28, 28), np.float32), np.zeros((28, 28, 1), np.uint8), np.zeros((784,), np.uint8),
        np.zeros((28, 28), object), [[0] * 28] * 28, "drawing", None,
    ]
    for image in bad:
        refused("invalid", store.submit_drawing, new.code, me.student_id, image)
    small = png(np.zeros((28, 28), np.uint8))
    ihdr = b"IHDR" + (4000).to_bytes(4, "big") * 2 + small[24:29]     # a valid header claiming 4000x4000
    claims_huge = small[:8] + small[8:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + small[33:]
    assert Image.open(io.BytesIO(claims_huge)).size == (4000, 4000)
    opened.clear()
    refused("invalid", store.submit_drawing, new.code, me.student_id, claims_huge)
    assert store.drawings(new.code, new.secret) == []


def test_bad_stages_are_refused(store):
    new = store.create_class()
    deep: dict = {}
    node = deep
    for _ in range(50):
        node["x"] = {}
        node = node["x"]
    for bad in (dict(lesson="a b"), dict(step=-1), dict(step=10_000), dict(page="../x"), dict(settings={"x": object()}),
                dict(settings={"x": float("nan")}), dict(settings={"x": "y" * 20_000}), dict(settings=deep),
                dict(settings={1: 2}), dict(settings=[1])):
        with pytest.raises(ClassError) as caught:
            Stage(**bad)
        assert caught.value.reason == "invalid", bad
    for bad in (dict(kind="essay", prompt="?"), dict(kind="choice", prompt="?", options=("one",)),
                dict(kind="choice", prompt="?", options=("a", "b"), answer=2), dict(kind="choice", prompt="",
                options=("a", "b")), dict(kind="point", prompt="?", radius=0), dict(kind="point", prompt="?",
                answer=(float("nan"), 0))):
        with pytest.raises(ClassError):
            Question(**bad)
    refused("invalid", store.set_state, new.code, new.secret, {"step": 1})


def test_a_refusal_keeps_its_template_for_the_reader_s_language(store):
    """The UI shows a ClassError through seqgen.locale.in_language: the sentence keeps its gettext template and
    values (an entry not yet in the catalogue reads in English until it is translated)."""
    error = refused("unknown_class", store.state, "K7QX3M")
    assert error.sentence.template.startswith("There is no class with the code {code}.")
    assert error.sentence.values == {"code": "K7QX3M"}
    assert in_language(error, translations("zh")) == error.sentence.in_language(translations("zh"))
    assert "K7QX3M" in in_language(error, translations("zh")) and error.reason in REASONS


# ------------------------------------------------------------------------------------------------ durability
def test_a_new_store_object_loses_nothing(backend, clock):
    store = backend()
    new = store.create_class(Stage("l", 1, "latent", {"a": [1, 2]}, CHOICE))
    me = store.join(new.code, "Lin")
    store.answer(new.code, me.student_id, 1)
    store.submit_drawing(new.code, me.student_id, BLANK)
    store.publish_run(new.code, new.secret, ClassRun("r", "running", step=3))
    before = store.versions(new.code)
    store.close()

    again = backend()                                                # a restarted app process
    assert again.versions(new.code) == before
    assert again.teacher_state(new.code, new.secret).stage.settings == {"a": (1, 2)}
    assert again.answers(new.code, new.secret).items[0].value == 1
    assert len(again.drawings(new.code, new.secret)) == 1 and again.class_runs(new.code)[0].step == 3
    clock.advance(5)
    again.answer(new.code, me.student_id, 2)                         # the student id still works
    assert again.my_answer(new.code, me.student_id) == 2


def test_two_processes_share_one_sqlite_class(tmp_path):
    """Two app processes behind nginx: each joins students to one class and answers; the cap holds across both."""
    path = tmp_path / "shared.sqlite3"
    store = SQLiteStore(path)
    new = store.create_class(Stage(question=CHOICE), capacity=50)
    script = (
        "import json, sys\n"
        "from seqgen.classroom import ClassError\n"
        "from seqgen.classroom.sqlite_store import SQLiteStore\n"
        "s = SQLiteStore(sys.argv[1])\n"
        "seats, full = [], 0\n"
        "for i in range(40):\n"
        "    try:\n"
        "        me = s.join(sys.argv[2])\n"
        "    except ClassError as e:\n"
        "        assert e.reason == 'full', e.reason\n"
        "        full += 1\n"
        "        continue\n"
        "    s.answer(sys.argv[2], me.student_id, i % 3)\n"
        "    seats.append(me.seat)\n"
        "print(json.dumps({'seats': seats, 'full': full}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), new.code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outs.append(json.loads(out))
    seats = sorted(s for o in outs for s in o["seats"])
    assert seats == list(range(1, 51)) and sum(o["full"] for o in outs) == 30
    answers = store.answers(new.code, new.secret)
    assert len(answers.items) == 50 and sum(answers.counts) == 50
    assert store.versions(new.code).activity == 1 + 50 + 50          # created, 50 joins, 50 answers


def test_the_sqlite_file_is_private_versioned_and_in_wal_mode(tmp_path):
    path = tmp_path / "c.sqlite3"
    SQLiteStore(path).close()
    assert (path.stat().st_mode & 0o777) == 0o600
    import sqlite3
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_store.SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {sqlite_store.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(ClassError) as caught:
        SQLiteStore(path)
    assert caught.value.reason == "unavailable" and "newer seqgen" in str(caught.value)


def test_a_store_out_of_reach_or_locked_is_a_sentence(tmp_path, monkeypatch):
    from classroom_helpers import free_port
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")         # nothing listens there
    refused("unavailable", store.create_class)
    refused("unavailable", store.versions, "K7QX3M")
    path = tmp_path / "c.sqlite3"
    holder = SQLiteStore(path)
    new = holder.create_class()
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_S", 0.2)        # this test's patience, not the app's 5 s
    waiting = SQLiteStore(path)
    conn = holder._conn()
    conn.execute("BEGIN IMMEDIATE")                                  # another process is writing, and stuck
    try:
        refused("unavailable", waiting.join, new.code)
        assert waiting.state(new.code).code == new.code              # readers are not blocked (WAL)
    finally:
        conn.execute("ROLLBACK")
    assert waiting.join(new.code).seat == 1


# ------------------------------------------------------------------------------------------------ choosing a store
def test_open_store_follows_seqgen_class_store(tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "um"))
    monkeypatch.delenv("SEQGEN_CLASS_STORE", raising=False)
    default = open_store()
    assert isinstance(default, SQLiteStore) and default.path == tmp_path / "um" / ".classroom.sqlite3"
    monkeypatch.setenv("SEQGEN_CLASS_STORE", f"sqlite:///{tmp_path}/x.db")
    assert open_store().path == tmp_path / "x.db"
    monkeypatch.setenv("SEQGEN_CLASS_STORE", redis_url)
    assert isinstance(open_store(), RedisStore)
    monkeypatch.setenv("SEQGEN_CLASS_STORE", "mysql://school")
    with pytest.raises(ClassError) as caught:
        open_store()
    assert caught.value.reason == "settings" and "SEQGEN_CLASS_STORE" in str(caught.value)


def test_settings_come_from_the_environment_and_bad_values_are_one_sentence():
    s = Settings.from_env({"SEQGEN_CLASS_MAX_STUDENTS": "30", "SEQGEN_CLASS_ANSWER_RATE": "0.5"})
    assert (s.max_students, s.answer_rate, s.answer_burst) == (30, 0.5, 3)
    for name, value in (("SEQGEN_CLASS_MAX_STUDENTS", "lots"), ("SEQGEN_CLASS_MAX_STUDENTS", "2.5"),
                        ("SEQGEN_CLASS_IDLE_TIMEOUT", "-1"), ("SEQGEN_CLASS_ANSWER_RATE", "nan")):
        with pytest.raises(ClassError) as caught:
            Settings.from_env({name: value})
        assert caught.value.reason == "settings" and name in str(caught.value)


def test_class_mode_imports_neither_streamlit_nor_torch():
    done = subprocess.run([sys.executable, "-c", "import sys, seqgen.classroom as c; c.routes(); "
                           "import seqgen.classroom.redis_store; "
                           "print(sorted(m for m in ('streamlit', 'torch') if m in sys.modules))"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_refusal_sentences_are_the_same_words_in_both_stores(backend, clock):
    """One table of sentences (errors.SENTENCES) serves both backends: a refusal is not backend-specific."""
    store = backend()
    new = store.create_class(Stage(question=CHOICE))
    me = store.join(new.code)
    seen = Counter()
    for _ in range(5):
        try:
            store.answer(new.code, me.student_id, 0)
        except ClassError as e:
            seen[str(e)] += 1
    assert seen == Counter({"Not so fast: wait a second, then send it again.": 2})
