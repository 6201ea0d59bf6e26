"""A class in real browsers: a teacher and three students, each in a browser context of their own (their own
cookies and session), doing issue 23's acceptance flow; then the same behind nginx with two app processes, the
students spread over both (the x-seqgen-upstream header of their answers, chosen by their route cookie).

    python -m pytest -q tests/e2e/test_browser_classroom.py                       # one app process
    python -m pytest -q -m slow tests/e2e/test_browser_classroom.py               # also the nginx one
    SEQGEN_SCREENSHOTS=1 python -m pytest -q tests/e2e/test_browser_classroom.py  # also docs/class_teacher.png
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from e2e_helpers import REPO, browser_api, launch, streamlit_server, stroke, wait_idle

expect, sync_playwright = browser_api(60_000)
pytestmark = pytest.mark.e2e
if importlib.util.find_spec("streamlit_drawable_canvas") is None:
    pytest.skip("pip install -r requirements.txt (the drawing canvas)", allow_module_level=True)

SHOTS = os.environ.get("SEQGEN_SCREENSHOTS") == "1"
VIEW = {"width": 1300, "height": 1000}


def new_context(browser):
    """A browser context for one person. Four pages of the latent pad at once on two busy cores can keep a page's
    main thread from answering a click for longer than Playwright's default 30 s."""
    context = browser.new_context(viewport=VIEW)
    context.set_default_timeout(60_000)
    return context


def open_app(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=90_000)
    wait_idle(page, 90_000)
    return page


def nav(page, title: str) -> None:
    """In-app navigation (the session, and with it the class, stays). In two runs of the whole test line the
    teacher's Lessons page had no start button a minute after this click (alone, it always has): the address
    must change, else the link is clicked once more, as a person would."""
    from urllib.parse import urlsplit

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first
    path = urlsplit(link.get_attribute("href")).path
    link.click()
    try:
        page.wait_for_url(lambda url: urlsplit(url).path == path, timeout=20_000)
    except PlaywrightTimeout:
        link.click()
        page.wait_for_url(lambda url: urlsplit(url).path == path, timeout=40_000)
    wait_idle(page, 60_000)


def click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").first.click()
    wait_idle(page, 60_000)


def _stop_unless_finished(teacher) -> None:
    """Stop the class run; on a loaded machine it can have finished by itself before its samples reached the
    student, and then the console offers a new run instead of its controls."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    stop, again = teacher.locator(".st-key-lt_stop button").first, teacher.locator(".st-key-class_run_start")
    expect(stop.or_(again).first).to_be_visible(timeout=60_000)   # both, while a rerun still shows the old one
    try:
        stop.click(timeout=15_000)
    except PlaywrightTimeout:
        expect(again).to_be_visible()
    wait_idle(teacher, 60_000)


def _answers(teacher, pages: list, shot: bool) -> None:
    """Every student answers the map question; the teacher's console shows one point per student."""
    for i, page in enumerate(pages):
        page.locator(".st-key-class_question input").fill(f"{0.8 + 0.6 * i:.2f}, {0.25 - 0.3 * i:.2f}")
        page.locator(".st-key-class_question input").press("Enter")
        wait_idle(page)
        click(page, "class_point_send")
        expect(page.get_by_text("Your answer is in").first).to_be_visible()
    nav(teacher, "Class")
    try:
        expect(teacher.locator(".st-key-class_answer_count")).to_contain_text(f"{len(pages)} answers",
                                                                              timeout=30_000)
    except AssertionError as e:     # say what the teacher's screen showed instead
        raise AssertionError(f"{e}\nthe teacher's address: {teacher.url}\nthe teacher's screen:\n"
                             f"{teacher.locator('[data-testid=stMain]').inner_text()[:1500]}") from None
    # the map is drawn by plotly after the count: wait for its last trace to hold every student's point
    try:
        teacher.wait_for_function("(n) => { const p = document.querySelector('.st-key-class_answer_map "
                                  ".js-plotly-plot'); return !!(p && p.data && p.data[p.data.length - 1].x.length "
                                  "=== n); }", arg=len(pages), timeout=60_000)
    except Exception as e:         # noqa: BLE001 - Playwright's timeout: say what the map held instead
        drawn = teacher.evaluate("() => { const p = document.querySelector('.st-key-class_answer_map "
                                 ".js-plotly-plot'); return p && p.data ? p.data.map(t => (t.x || []).length) "
                                 ": null; }")
        raise AssertionError(f"{e}\npoints per trace on the teacher's map: {drawn}\nthe teacher's screen:\n"
                             f"{teacher.locator('[data-testid=stMain]').inner_text()[:1500]}") from None
    if shot:
        wait_idle(teacher)
        teacher.locator(".st-key-class_answer_map").scroll_into_view_if_needed()
        teacher.screenshot(path=str(REPO / "docs" / "class_teacher.png"), full_page=False)


def class_flow(browser, base: str, students: list, shot: bool = False, whole: bool = True) -> list:
    """The acceptance flow; `students` are browser contexts. -> every student page. whole=False stops once
    the answers are in: what crosses processes (joining, following, answers) without the rest again."""
    teacher_ctx = new_context(browser)
    teacher = open_app(teacher_ctx, base + "/class")
    click(teacher, "class_start_btn")
    code = teacher.locator(".st-key-class_code_big h1").inner_text().strip()
    assert len(code) == 6
    assert "teacher=" not in teacher.url

    pages = []
    for i, context in enumerate(students):
        page = open_app(context, f"{base}/class?class={code}")
        expect(page.locator(".st-key-class_join input").first).to_have_value(code)
        page.locator(".st-key-class_join input").nth(1).fill(f"Kid {i + 1}")
        click(page, "class_join_btn")
        expect(page.get_by_text("You are in class").first).to_be_visible()
        pages.append(page)
    expect(teacher.locator(".st-key-class_presence")).to_contain_text("3 students")

    # the teacher moves to step 3; every student's screen shows step 3
    nav(teacher, "Lessons")
    # After each click, the teacher's step on the banner and the end of that run: wait_idle alone can return before
    # a click's rerun has started. No second click: a Next must never be lost.
    click(teacher, "lesson_start_latent-space")
    for step in (1, 2, 3):
        if step > 1:
            click(teacher, "lesson_next")
        expect(teacher.locator(".st-key-lesson_banner")).to_contain_text(f"step {step} of")
        wait_idle(teacher, 60_000)
    for page in pages:
        try:
            expect(page.locator(".st-key-lesson_banner")).to_contain_text("step 3 of", timeout=30_000)
        except AssertionError as e:     # say whether the student was still following, and where its address was
            bar = page.locator(".st-key-class_bar").first
            raise AssertionError(f"{e}\nthe student's bar: {bar.inner_text() if bar.count() else '(none)'}"
                                 f"\nits address: {page.url}") from None
        expect(page.locator(".st-key-class_question")).to_be_visible()

    # one breaks away and comes back
    if not whole:
        _answers(teacher, pages, shot)
        teacher_ctx.close()
        return pages
    click(pages[0], "class_break_away")
    expect(pages[0].get_by_text("You are exploring on your own").first).to_be_visible()
    click(pages[0], "class_back")
    expect(pages[0].get_by_text("your screen follows the teacher").first).to_be_visible()
    expect(pages[0].locator(".st-key-lesson_banner")).to_contain_text("step 3 of")

    _answers(teacher, pages, shot)
    click(teacher, "class_reveal_btn")
    for page in pages:
        expect(page.locator(".st-key-class_reveal")).to_be_visible(timeout=30_000)

    # a drawing reaches the teacher's class map
    artist = pages[1]
    nav(artist, "Class")
    canvas = artist.locator(".st-key-class_draw canvas").last
    canvas.scroll_into_view_if_needed()
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    stroke(artist, box, [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2)])
    stroke(artist, box, [(0.75, 0.2), (0.62, 0.5), (0.5, 0.85)])
    expect(artist.get_by_text("what the model sees").first).to_be_visible()
    click(artist, "class_send_drawing")
    # the student's confirmation first: a failure then says which side lost the drawing
    expect(artist.get_by_text("Your drawing is on the teacher's map").first).to_be_visible()
    expect(teacher.locator(".st-key-class_drawings_map .js-plotly-plot")).to_be_visible(timeout=60_000)

    # the class run: its samples on a student's screen
    click(teacher, "class_run_start")
    expect(artist.locator(".st-key-class_run img").first).to_be_visible(timeout=120_000)
    _stop_unless_finished(teacher)
    teacher.locator(".st-key-class_end_confirm label").click()
    wait_idle(teacher)
    click(teacher, "class_end")
    teacher_ctx.close()
    return pages


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def test_a_teacher_and_three_students(chromium):
    with streamlit_server(timeout=90) as base:
        contexts = [new_context(chromium) for _ in range(3)]
        try:
            class_flow(chromium, base, contexts, shot=SHOTS)
        finally:
            for c in contexts:
                c.close()


@pytest.mark.slow
def test_the_same_class_over_two_app_processes_behind_nginx(chromium):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    spec = importlib.util.spec_from_file_location("serve", REPO / "scripts" / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    sys.modules["serve"] = serve        # dataclasses look their module up while the class is made
    spec.loader.exec_module(serve)
    with tempfile.TemporaryDirectory(prefix="seqgen-class-") as root:
        port = serve.free_loopback_ports(1)[0]
        with serve.Deployment(processes=2, port=port, run_dir=Path(root) / "run",
                              user_models=Path(root) / "user_models", max_live_runs=2) as d:
            upstream: dict = {}
            contexts = []
            # students whose route cookies land on both processes (each new browser gets a random route)
            for _ in range(12):
                context = new_context(chromium)
                seen = set()
                context.on("response", lambda r, seen=seen: seen.add(r.headers.get("x-seqgen-upstream", "")))
                page = context.new_page()
                page.goto(d.url + "/_stcore/health")
                page.close()
                target = next(iter(seen - {""}), "")
                if len(contexts) < 3 and (len({upstream.get(id(c)) for c in contexts} | {target}) > 1
                                          or len(contexts) < 2):
                    upstream[id(context)] = target
                    contexts.append(context)
                else:
                    context.close()
                if len(contexts) == 3 and len(set(upstream.values())) == 2:
                    break
            assert len(set(upstream.values())) == 2, upstream           # students on both processes
            try:
                class_flow(chromium, d.url, contexts, whole=False)
            finally:
                for c in contexts:
                    c.close()
