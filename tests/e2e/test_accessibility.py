"""axe-core (through axe-playwright-python, which bundles it) on every page in both languages: no serious or
critical violation. Then the keyboard: the latent pad and the page's controls are reached and used without a
mouse.

    python -m pytest -q tests/e2e/test_accessibility.py -s     # -s prints each page's rule counts
"""
from __future__ import annotations

import collections

import pytest
from e2e_helpers import browser_api, wait_idle
from pad_helpers import wait_pad_frame

pytestmark = pytest.mark.e2e
expect, _ = browser_api(45_000)
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -r requirements-test.txt")

PAGES = {"home": "", "latent": "latent?model=digits-vae", "noise": "noise", "text": "text", "music": "music",
         "training": "training", "lessons": "lessons", "class": "class"}
BLOCKING = ("serious", "critical")


def violations(page) -> list[dict]:
    return axe_api.Axe().run(page).response["violations"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_violation(browser, server, name, lang):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        path = PAGES[name]
        page.goto(f"{server}/{path}{'&' if '?' in path else '?'}lang={lang}")
        page.locator("h1").first.wait_for(timeout=60_000)
        if name == "latent":
            wait_pad_frame(page)
        wait_idle(page, 60_000)
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


def test_the_pad_is_reached_and_moved_by_keyboard(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
