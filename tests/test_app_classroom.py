"""Class mode in the app (AppTest): a teacher and students in one class, and every bad input of issue 23's
item 8 answered with a sentence, never a traceback, without disturbing the class."""
from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from st_helpers import PAGES, app, open_page
from streamlit.testing.v1 import AppTest

from seqgen.classroom import ClassError, get_store


@pytest.fixture(autouse=True)
def class_store(tmp_path, monkeypatch):
    """Each test its own SQLite store file (get_store opens one per SEQGEN_CLASS_STORE)."""
    monkeypatch.setenv("SEQGEN_CLASS_STORE", f"sqlite:///{tmp_path / 'class.sqlite3'}")
    yield tmp_path / "class.sqlite3"
    get_store().close()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info", "text")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")     # plain() escapes markdown characters


def teacher_app() -> tuple[AppTest, str]:
    at = open_page("class")
    at.button(key="class_start_btn").click().run()
    assert not at.exception, at.exception
    return at, at.session_state["class_code"]


def student_app(code: str, nickname: str = "") -> AppTest:
    at = open_page("class")
    at.text_input(key="class_join_code").input(code)
    at.text_input(key="class_join_nick").input(nickname)
    at.button(key="class_join_btn").click().run()
    assert not at.exception, at.exception
    return at


def test_the_class_follows_the_teacher_and_the_student_link_cannot_lead():
    teacher, code = teacher_app()
    assert code in texts(teacher)
    student = student_app(code, "Lin")
    assert "You are in class" in texts(student)
    teacher.switch_page(PAGES["lessons"]).run()
    teacher.button(key="lesson_start_latent-space").click().run()
    teacher.button(key="lesson_next").click().run()
    teacher.button(key="lesson_next").click().run()
    assert teacher.session_state["lesson_step"] == 2
    student.run()
    assert student.session_state["lesson_step"] == 2           # step 3 on the student's screen too
    assert "Question" in texts(student)
    # a student's own Next is breaking away; the class stays where the teacher put it
    student.button(key="lesson_next").click().run()
    assert get_store().state(code).stage.step == 2
    assert "exploring on your own" in texts(student)
    student.button(key="class_back").click().run()
    student.run()
    assert student.session_state["lesson_step"] == 2 and student.session_state["class_following"]
    # the student's Class page offers no teacher action
    student.switch_page(PAGES["class"]).run()
    keys = {b.key for b in student.button}
    assert not keys & {"class_end", "class_reveal_btn", "class_show_map", "class_stop_all"}
    assert get_store().versions(code).ended is False


def test_a_teacher_link_leaves_the_address_bar_and_a_forged_one_is_refused():
    new = get_store().create_class()
    at = app()
    at.query_params.update({"class": new.code, "teacher": new.secret})
    at.run()
    assert not at.exception
    assert at.session_state["class_secret"] == new.secret
    assert "teacher" not in at.query_params and at.query_params.get("class") in (new.code, [new.code])
    forged = app()
    forged.query_params.update({"class": new.code, "teacher": new.secret[:-2] + "xx"})
    forged.run()
    assert not forged.exception
    assert "class_secret" not in forged.session_state
    assert "teacher" not in forged.query_params
    forged.switch_page(PAGES["class"]).run()
    assert "Only the teacher of this class can do that." in texts(forged)


def test_wrong_and_expired_codes_get_a_sentence(class_store):
    at = open_page("class")
    at.text_input(key="class_join_code").input("K7QX3M").run()
    at.button(key="class_join_btn").click().run()
    assert not at.exception and "There is no class with the code K7QX3M" in texts(at)
    at.text_input(key="class_join_code").input("<b>hi</b>")
    at.button(key="class_join_btn").click().run()
    assert not at.exception and "is not a class code" in texts(at)
    new = get_store().create_class()
    with sqlite3.connect(class_store) as db:                # an hour idle: the class expired
        db.execute("UPDATE classes SET expires_at = 0 WHERE code = ?", (new.code,))
    at.text_input(key="class_join_code").input(new.code.lower())
    at.button(key="class_join_btn").click().run()
    assert not at.exception and f"There is no class with the code {new.code}" in texts(at)
    ended = get_store().create_class()
    get_store().end_class(ended.code, ended.secret)
    at.text_input(key="class_join_code").input(ended.code)
    at.button(key="class_join_btn").click().run()
    assert not at.exception and "This class has ended." in texts(at)


@pytest.mark.parametrize("nickname, sentence", [("<img src=x onerror=alert(1)>", "A nickname cannot contain"),
                                                ("[me](http://x)", "A nickname cannot contain"),
                                                ("f u c k", "Please choose another nickname."),
                                                ("x" * 30, "A nickname has at most 20 characters.")])
def test_a_nickname_with_markup_or_an_offensive_word_is_refused(nickname, sentence):
    new = get_store().create_class()
    at = student_app(new.code, nickname)
    assert sentence in texts(at)
    assert "class_student" not in at.session_state
    assert get_store().presence(new.code, new.secret).joined == 0


def test_an_answer_flood_is_slowed_down_and_the_last_answer_counts():
    teacher, code = teacher_app()
    student = student_app(code)
    teacher.switch_page(PAGES["lessons"]).run()
    teacher.button(key="lesson_start_latent-space").click().run()
    teacher.button(key="lesson_next").click().run()
    teacher.button(key="lesson_next").click().run()
    student.run()
    for x in range(6):
        student.text_input(key="class_point_text").input(f"{x / 10:.1f}, 0.2")
        student.button(key="class_point_send").click().run()
        assert not student.exception
    assert "Not so fast" in texts(student)
    answers = get_store().answers(code, teacher.session_state["class_secret"])
    assert len(answers.items) == 1 and answers.items[0].value[1] == pytest.approx(0.2)


def _send_drawing_script(code: str, student_id: str, payload: bytes) -> None:
    import streamlit as st

    from seqgen.ui import classroom
    st.session_state.update({classroom.CODE_KEY: code, classroom.STUDENT_KEY: student_id})
    classroom.send_drawing(payload)
    classroom.show_note()


@pytest.mark.parametrize("payload, sentence", [(b"\x89PNG\r\n\x1a\n" + b"\0" * 40_000, "kB; a 28x28 drawing"),
                                               (b"GIF89a garbage", "must be a 28x28 greyscale picture"),
                                               (b"\x89PNG\r\n\x1a\nnot really", "not a readable PNG")])
def test_an_oversized_or_garbage_drawing_gets_a_sentence(payload, sentence):
    new = get_store().create_class()
    me = get_store().join(new.code)
    at = AppTest.from_function(_send_drawing_script, args=(new.code, me.student_id, payload), default_timeout=30)
    at.run()
    assert not at.exception
    assert sentence in texts(at)
    assert get_store().drawings(new.code, new.secret) == []
    get_store().submit_drawing(new.code, me.student_id, np.zeros((28, 28), np.uint8))   # the class still works
    assert len(get_store().drawings(new.code, new.secret)) == 1


def test_two_hundred_joins_at_once_fill_the_cap_and_the_rest_hear_it_is_full(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQGEN_CLASS_STORE", f"sqlite:///{tmp_path / 'capped.sqlite3'}")
    monkeypatch.setenv("SEQGEN_CLASS_MAX_STUDENTS", "30")
    store = get_store()
    new = store.create_class()

    def one(i):
        try:
            return store.join(new.code)
        except ClassError as e:
            return e.reason

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(200)))
    assert sum(1 for r in results if not isinstance(r, str)) == 30
    assert {r for r in results if isinstance(r, str)} == {"full"}
    at = student_app(new.code)
    assert "This class is full: it has room for 30 students." in texts(at)
    assert store.presence(new.code, new.secret).joined == 30
    store.close()


def test_students_behind_one_address_train_by_their_seats_while_a_second_plain_browser_is_refused(
        tmp_path, monkeypatch):
    """Every AppTest session comes from one address with no cookie: a second session outside the class is a new
    browser from an address that has had its turn; students who joined are known by their seats instead."""
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "1")
    _, code = teacher_app()
    plain_ones = [open_page("training"), open_page("training")]
    students = [student_app(code, f"Kid {i}") for i in (1, 2)]
    for at in students:
        at.switch_page(PAGES["training"]).run()
    runs = []
    try:
        for at in [*plain_ones, *students]:
            at.select_slider(key="lt_k_digits_vae_hidden").set_value(16)
            at.button(key="lt_step").click().run()
            assert not at.exception, at.exception
            runs.append(at.session_state["lt_run"] if "lt_run" in at.session_state else None)
        assert runs[0] is not None and runs[1] is None
        assert "Another browser on your network address already trains" in texts(plain_ones[1])
        assert runs[2] is not None and runs[3] is not None and runs[2] is not runs[3]
        assert len({r.client for r in runs if r}) == 3
        assert runs[2].client.startswith("seat:") and runs[0].client.startswith("browser:")
    finally:
        for r in runs:
            if r is not None:
                r.stop()
                r.join(10)


def _deployment_panel():
    from seqgen.ui import class_console
    class_console.deployment_part([
        {"run": "aaaaaa11", "pid": 101, "state": "training", "position": None,
         "figures": {"domain": "digits", "family": "vae", "status": "running", "step": 300, "total": 3000,
                     "steps_per_s": 6.0, "elapsed": 50.0, "client": False}},
        {"run": "bbbbbb22", "pid": 202, "state": "training", "position": None,
         "figures": {"domain": "names", "family": "gan", "status": "stopping", "step": 10, "total": 2000,
                     "steps_per_s": 4.0, "elapsed": 3.0, "client": True}},
        {"run": "cccccc33", "pid": 202, "state": "waiting", "position": 1, "figures": {}},
    ], class_run_id="aaaaaa11")


def test_the_teachers_panel_lists_the_runs_of_every_process():
    at = AppTest.from_function(_deployment_panel).run()
    assert not at.exception
    lines = [t.value for t in at.text]
    assert lines[0].startswith("run aaaaaa of process 101: digits VAE, yours (the class run), running, 0:50 trained")
    assert "process 202" in lines[1] and "someone's, stopping" in lines[1]
    assert "waiting; about 7:30 until it starts" in lines[2]          # the class run's 2,700 steps left at 6/s
    assert {b.key for b in at.button} == {"class_stop_aaaaaa11", "class_stop_bbbbbb22", "class_stop_cccccc33",
                                          "class_stop_all"}


def test_a_knob_the_teacher_changes_in_the_class_run_reaches_the_students_view(monkeypatch):
    from seqgen.classroom import ClassRun
    from seqgen.ui import live_figures
    built = []
    monkeypatch.setattr(live_figures, "loss_figure", lambda snap, made=live_figures.loss_figure: (
        built.append(snap) or made(snap)))
    teacher, code = teacher_app()
    secret = teacher.session_state["class_secret"]
    get_store().publish_run(code, secret, ClassRun(
        "digits.gan.run7", "running", "", 341, 2000, curves={"step": [100, 340, 341], "g_loss": [2.0, 1.5, 1.4],
                                                              "d_loss": [1.2, 1.3, 1.3]},
        changes=[(340, "lr", 0.002, 0.03)]))
    student = student_app(code)
    assert "At step 340 the teacher changed Learning rate from 0.002 to 0.03." in texts(student)
    chart = next(c for c in student.get("plotly_chart") if "class_run_curves" in c.proto.id)
    layout = json.loads(chart.proto.spec)["layout"]
    assert [a["text"] for a in layout["annotations"] if a["text"].startswith("Learning")] == ["Learning rate 0.03"]
    assert {s["x0"] for s in layout["shapes"]} == {340}
    # a second watcher of the same snapshot shares the curves this process made for the first
    again = student_app(code)
    assert any("class_run_curves" in c.proto.id for c in again.get("plotly_chart")) and len(built) == 1


def test_the_teacher_trains_the_class_run_on_the_drawings_the_class_sent():
    from seqgen.domains import get_domain
    teacher, code = teacher_app()
    store = get_store()
    x, _y = get_domain("digits").dataset("test")
    ids = []
    for i in range(22):
        joined = store.join(code, f"S{i}")
        ids.append(store.submit_drawing(code, joined.student_id, get_domain("digits").to_artifact(x[i])))
    store.hide_drawing(code, teacher.session_state["class_secret"], ids[0])      # moderated: not trained on
    teacher.run()
    teacher.button(key="class_train_drawings").click().run()
    assert not teacher.exception, teacher.exception
    assert "21 drawings are the data set of the next class run" in texts(teacher)
    domain = get_domain(teacher.session_state["lt_own_domain"])
    assert len(domain.own.x) == 21 and domain.n_labels == 10                    # labelled by the classifier's guess
    teacher.button(key="class_run_start").click().run()
    run = teacher.session_state["lt_run"]
    try:
        assert run.domain_name == domain.name
    finally:
        run.stop()
        run.join(10)
    teacher.switch_page(PAGES["training"]).run()
    assert teacher.radio(key="lt_domain").value == "own" and "Kept 21 items" in texts(teacher)


def test_on_a_class_server_only_the_teacher_saves_a_model(monkeypatch, tmp_path):
    import time
    monkeypatch.setenv("SEQGEN_CLASSROOM", "1")
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(tmp_path / "models"))
    teacher, code = teacher_app()
    student = student_app(code, "Mei")
    for who in (teacher, student):
        who.switch_page(PAGES["training"]).run()
        who.button(key="lt_step").click().run()                 # start paused, one step
    runs = [teacher.session_state["lt_run"], student.session_state["lt_run"]]
    try:
        end = time.monotonic() + 60
        while any(r.snapshot().step < 1 for r in runs) and time.monotonic() < end:
            time.sleep(0.3)
        student.run()
        assert "Saving is switched off on this class server" in texts(student)
        assert not [b for b in student.button if b.key == "lt_save"]
        teacher.run()
        teacher.text_input(key="lt_save_name").set_value("class-digits").run()
        teacher.button(key="lt_save").click().run()
        assert not teacher.exception and "Saved as **class-digits**" in texts(teacher)
        assert (tmp_path / "models" / "class-digits" / "config.json").is_file()
    finally:
        for r in runs:
            r.stop()
            r.join(10)
