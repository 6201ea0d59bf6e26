"""A student's phone and a tablet, emulated in Chromium (touch, a mobile viewport): a lesson link shows its step,
a finger drags the latent pad, draws a digit and taps the note grid.

    python -m pytest -q tests/e2e/test_phone.py
    SEQGEN_SCREENSHOTS=1 python -m pytest -q tests/e2e/test_phone.py    # also writes docs/phone_*.png
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from e2e_helpers import CHROME_ARGS, CHROMIUM, REPO, browser_api, wait_idle
from pad_helpers import to_screen, wait_pad_frame

pytestmark = pytest.mark.e2e
expect, _ = browser_api(45_000)

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
SHOTS = os.environ.get("SEQGEN_SCREENSHOTS") == "1"
# Bring an element's top to 120 px below the top of the window, whichever ancestor scrolls (Streamlit's main).
SCROLL_TO_TOP = """el => { const r = el.getBoundingClientRect(); let p = el.parentElement;
  while (p && !(p.scrollHeight > p.clientHeight && getComputedStyle(p).overflowY !== "visible")) p = p.parentElement;
  (p || document.scrollingElement).scrollBy(0, r.top - 120); }"""
PAGES = {"home": "", "latent": "latent?model=digits-vae", "noise": "noise", "text": "text", "music": "music",
         "training": "training", "lessons": "lessons", "compare": "compare", "class": "class"}


@pytest.fixture(scope="module")
def browser(server):
    """Chromium as a phone's: sound may start only inside a user gesture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROME_ARGS, "--autoplay-policy=user-gesture-required"],
                              headless=True)
        yield b
        b.close()


@contextmanager
def device(browser, viewport: dict):
    """A page on a touch device of that size: the phone's user agent, is_mobile, has_touch, a 3x screen."""
    ctx = browser.new_context(viewport=viewport, device_scale_factor=3 if viewport == PHONE else 2, is_mobile=True,
                              has_touch=True, user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                              "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def touch_path(page, points) -> None:
    """One finger: down on the first point, through the others, up (CDP touch events, as a screen sends them)."""
    cdp = page.context.new_cdp_session(page)

    def send(kind, xy):
        touch = [] if kind == "touchEnd" else [{"x": xy[0], "y": xy[1], "id": 1, "radiusX": 4, "radiusY": 4,
                                                 "force": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch})

    send("touchStart", points[0])
    for xy in points[1:]:
        send("touchMove", xy)
        page.wait_for_timeout(16)
    send("touchEnd", points[-1])
    cdp.detach()


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_a_lesson_link_shows_its_step_and_next_without_opening_the_sidebar(browser, server, viewport):
    with device(browser, viewport) as page:
        page.goto(server + "/?lesson=latent-space&lang=zh")
        top = page.locator(".st-key-lesson_banner_top")
        if viewport == PHONE:
            expect(top).to_be_visible()
            expect(top.get_by_text("第 1 步")).to_be_visible()
            top.locator(".st-key-lesson_next_top button").tap()
            expect(top.get_by_text("第 2 步")).to_be_visible()
            expect(page.get_by_test_id("stException")).to_have_count(0)
            if SHOTS:
                wait_idle(page)
                page.screenshot(path=str(REPO / "docs" / "phone_lesson_zh.png"))
        else:                                   # a tablet shows the sidebar, and the step in it, once
            expect(page.locator(".st-key-lesson_banner")).to_be_visible()
            expect(top).to_be_hidden()


def test_a_finger_drags_the_pad_and_the_output_follows_in_view(browser, server):
    with device(browser, PHONE) as page:
        page.goto(server + "/latent?model=digits-vae&z=0.00,0.00")
        first = wait_pad_frame(page)
        canvas = page.locator(".pad-canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        out = page.locator(".pad-out").bounding_box()
        assert out["y"] + out["height"] <= box["y"] + 1          # the output sits above the map on a phone
        scroll = page.evaluate("() => window.scrollY")
        touch_path(page, [to_screen(box, (-3.0 + 0.5 * i, -2.0 + 0.3 * i)) for i in range(13)])
        state = wait_pad_frame(page, after=first["frame"])
        assert state["out"] != first["out"], "the picture did not change under the finger"
        assert page.evaluate("() => window.scrollY") == scroll, "the page scrolled while the finger dragged"
        page.wait_for_function("() => new URL(location.href).searchParams.get('z') !== '0.00,0.00'", timeout=15_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_tap_on_the_melody_pad_plays_it(browser, server):
    """Phones start sound only inside a touch: lifting the finger off the melody pad plays the melody then."""
    with device(browser, PHONE) as page:
        page.goto(server + "/latent?model=melodies-vae&z=0.00,0.00")
        first = wait_pad_frame(page)
        canvas = page.locator(".pad-canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        touch_path(page, [to_screen(box, (1.0, 1.0)), to_screen(box, (1.2, 1.1))])
        wait_pad_frame(page, after=first["frame"])
        page.wait_for_function("() => globalThis.__seqgenPadRuntime.audioContext?.state === 'running'",
                               timeout=10_000)
        t0 = page.evaluate("() => globalThis.__seqgenPadRuntime.audioContext.currentTime")
        page.wait_for_timeout(300)
        assert page.evaluate("() => globalThis.__seqgenPadRuntime.audioContext.currentTime") > t0


def test_a_finger_stroke_draws_a_digit_the_guess_reads(browser, server):
    with device(browser, PHONE) as page:
        page.goto(server + "/latent?model=digits-vae&z=0.00,0.00")
        wait_pad_frame(page)
        page.locator(".st-key-le_own_src").get_by_text("draw one").tap()
        canvas = page.locator(".st-key-le_draw canvas").last
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_be_visible()
        wait_idle(page)
        box = canvas.bounding_box()

        def at(fx, fy):
            return box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        touch_path(page, [at(0.5, 0.12 + 0.76 * i / 20) for i in range(21)])         # a one: one stroke down
        expect(page.get_by_text("reads it as 1")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_tap_on_the_note_grid_sets_a_note(browser, server):
    with device(browser, PHONE) as page:
        page.goto(server + "/music")
        grid = page.locator(".st-key-own_mel_grid")
        grid.scroll_into_view_if_needed()
        expect(grid).to_be_visible()
        wait_idle(page, 60_000)
        grid.evaluate(SCROLL_TO_TOP)                          # the grid's first rows below the app's header
        roll = page.locator(".st-key-own_mel_roll0").first
        # the roll's chart drawn first: a chart that appears late moves the grid under the finger (ci46 tapped
        # while the roll was still empty, and the tap landed off the grid)
        expect(roll).to_contain_text("pitch", timeout=30_000)
        before = roll.inner_text()
        box = grid.bounding_box()
        for _ in range(50):                                   # the scroll has settled: the same box twice
            page.wait_for_timeout(100)
            box, was = grid.bounding_box(), box
            if box == was:
                break
        # Rows are 35 px under a 35 px header, the first is C6; the pitch names take the first ~50 px, then one
        # 40 px column per sixteenth. Tap C6 at the second sixteenth.
        page.touchscreen.tap(box["x"] + 50 + 40 + 20, box["y"] + 35 + 17)
        expect(roll).to_contain_text("C6")                    # the continuation now plays the tapped note
        assert "C6" not in before
        expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.skipif(not SHOTS, reason="SEQGEN_SCREENSHOTS=1 writes the phone screenshots in docs/")
@pytest.mark.parametrize("name", PAGES)
def test_screenshots_of_every_page_on_a_phone(browser, server, name):
    with device(browser, PHONE) as page:
        page.goto(f"{server}/{PAGES[name]}")
        page.locator("h1").first.wait_for()
        if name == "latent":
            wait_pad_frame(page)
            page.locator(".pad-root").scroll_into_view_if_needed()   # the pad, not the page's header
        wait_idle(page, 60_000)
        expect(page.locator("[data-testid=stSkeleton]")).to_have_count(0, timeout=60_000)   # charts drawn
        page.wait_for_timeout(500)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1, "wider than the phone"
        page.screenshot(path=str(REPO / "docs" / f"phone_{name}.png"))


def test_nothing_is_wider_than_the_phone(browser, server):
    with device(browser, PHONE) as page:
        for name, path in PAGES.items():
            page.goto(f"{server}/{path}")
            page.locator("h1").first.wait_for()
            wait_idle(page, 60_000)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"] + 1, f"{name} is {width} px wide on a {PHONE['width']} px phone"
