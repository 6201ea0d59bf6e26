"""Every page in both languages, in one browser context whose every request is routed: each opens with its
heading, no exception, no error box and every page in the navigation once; in Chinese no English interface text
is left (its intro opened too); axe-core (through axe-playwright-python, which bundles it) finds no serious or
critical violation; and nothing the pages load leaves the machine (anything not on the app's own host is
blocked and recorded; the record must stay empty). Then the keyboard: the latent pad and the page's controls
are reached and used without a mouse.

    python -m pytest -q tests/e2e/test_accessibility.py -s     # -s prints each page's rule counts
"""
from __future__ import annotations

import collections
from urllib.parse import urlsplit

import pytest
from e2e_helpers import browser_api, wait_idle
from i18n_helpers import english_left, open_intro
from pad_helpers import wait_pad_frame

pytestmark = pytest.mark.e2e
expect, _ = browser_api(45_000)
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -r requirements-test.txt")

PAGES = {"home": "", "latent": "latent?model=digits-vae", "noise": "noise", "text": "text", "music": "music",
         "training": "training", "lessons": "lessons", "compare": "compare", "class": "class"}
HEADINGS = {  # page -> (English, Chinese)
    "home": ("seqgen: how machines learn", "seqgen：机器如何学会"), "latent": ("Latent explorer", "潜在空间探索"),
    "noise": ("Noise → image & sound", "噪声 → 图像与声音"), "text": ("Text: inventing names", "文本：创造名字"),
    "music": ("Music: new chorale melodies", "音乐：新的众赞歌旋律"), "training": ("Live training", "实时训练"),
    "lessons": ("Lessons", "课程"), "compare": ("Side by side", "并排比较"), "class": ("Class", "课堂")}
BLOCKING = ("serious", "critical")
# Beyond the pages above (each visited in both languages by the axe sweep): a lesson and presenter mode.
MORE_PATHS = ["?lesson=rnn-steps&lang=zh", "latent?lang=zh&present=1"]
OFFSITE: list[str] = []          # every request this module's pages tried to send off the machine
VISITED: set[str] = set()        # the pages this module's context has loaded


@pytest.fixture(scope="module")
def context(browser, server):
    """One browser context for the module; every request not for the app's own host is blocked and recorded."""
    own = urlsplit(server).netloc
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})

    def route(r):
        if urlsplit(r.request.url).netloc == own or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            OFFSITE.append(r.request.url)
            r.abort()
    ctx.route("**/*", route)
    yield ctx
    ctx.close()


def violations(page) -> list[dict]:
    return axe_api.Axe().run(page).response["violations"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_opens_cleanly_and_accessibly_in_both_languages(context, server, name, lang):
    page = context.new_page()
    try:
        path = PAGES[name]
        page.goto(f"{server}/{path}{'&' if '?' in path else '?'}lang={lang}")
        VISITED.add(name)
        page.locator("h1").first.wait_for(timeout=60_000)
        if name == "latent":
            wait_pad_frame(page)
        wait_idle(page, 60_000)
        expect(page.get_by_test_id("stHeading").filter(has_text=HEADINGS[name][lang == "zh"]).first).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stDialog")).to_have_count(0)
        if name != "training":  # that page's messages belong to live training; its own tests cover them
            expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
        links = [t.strip() for t in page.get_by_test_id("stSidebarNavLink").all_inner_texts()]
        assert len(links) == len(set(links)) == len(PAGES), links       # every page listed exactly once
        if lang == "zh":
            open_intro(page, lambda p: wait_idle(p, 60_000))
            assert english_left(page) == [], page.url
        page.wait_for_timeout(500)
        found = violations(page)
        if any(v["impact"] in BLOCKING for v in found):   # a rerun in flight can swap styles: look once more
            wait_idle(page, 60_000)
            page.wait_for_timeout(1500)
            found = violations(page)
        counts = collections.Counter(f"{v['id']} ({v['impact']})" for v in found for _ in v["nodes"])
        print(f"\naxe {lang} {name}: {dict(counts) or 'no violations'}")
        blocking = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in found
                    if v["impact"] in BLOCKING]
        assert not blocking, blocking
    finally:
        page.close()


def test_no_request_leaves_the_machine(context, server):
    """After the axe sweep (or alone: then it walks the pages itself), a lesson and presenter mode too."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for path in [PAGES[name] for name in PAGES if name not in VISITED] + MORE_PATHS:
            page.goto(f"{server}/{path}")
            page.get_by_test_id("stHeading").first.wait_for()
            wait_idle(page, 60_000)
            page.wait_for_timeout(1500)       # late loads: fonts, icons, the pad's runtime
    finally:
        page.close()
    assert OFFSITE == [], OFFSITE


def test_the_pad_is_reached_and_moved_by_keyboard(context, server):
    page = context.new_page()
    try:
        page.goto(f"{server}/latent?model=digits-vae&z=0.00,0.00")
        first = wait_pad_frame(page)
        wait_idle(page, 60_000)
        pad = page.locator(".pad-canvas")
        for _ in range(60):                               # Tab through the page until the pad has the focus
            page.keyboard.press("Tab")
            if pad.evaluate("el => el.getRootNode().activeElement === el"):
                break
        else:
            pytest.fail("Tab never reached the latent pad")
        assert pad.get_attribute("role") == "slider" and pad.get_attribute("aria-label")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowUp")
        state = wait_pad_frame(page, after=first["frame"])
        if state["z"] != "0.05,0.05":       # a frame may be drawn between the two presses
            state = wait_pad_frame(page, after=state["frame"])
        assert state["z"] == "0.05,0.05"
        page.wait_for_function("() => new URL(location.href).searchParams.get('z') === '0.05,0.05'", timeout=15_000)
        assert pad.get_attribute("aria-valuetext") == "z = (0.05, 0.05)"
    finally:
        page.close()
