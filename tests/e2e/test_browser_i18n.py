"""Chinese in real Chromium: the live training panel's states with no English left over (every page's first
screen is checked in the page sweep, test_accessibility.py), the language through page switches, lessons in
both languages, presenter mode.

    python -m pytest -q tests/e2e/test_browser_i18n.py
    SEQGEN_SCREENSHOTS=1 python -m pytest -q tests/e2e/test_browser_i18n.py   # docs/<page>.png and <page>_zh.png
"""
from __future__ import annotations

import os

import pytest
from e2e_helpers import REPO, browser_api, launch, wait_idle
from i18n_helpers import english_left, open_intro

pytestmark = pytest.mark.e2e

expect, sync_playwright = browser_api()

SHOTS = os.environ.get("SEQGEN_SCREENSHOTS") == "1"
PAGES = [  # (url path, screenshot name, Chinese heading)
    ("", "home", "seqgen：机器如何学会"),
    ("latent", "latent_explorer", "潜在空间探索"),
    ("noise", "noise_to_image", "噪声 → 图像与声音"),
    ("text", "text", "文本：创造名字"),
    ("music", "music", "音乐：新的众赞歌旋律"),
    ("training", "live_training", "实时训练"),
    ("lessons", "lessons", "课程"),
    ("compare", "side_by_side", "并排比较"),
    ("class", "class", "课堂"),
]


@pytest.fixture(scope="module")
def browser(server):
    with sync_playwright() as p:
        b = launch(p)
        warm = b.new_page()
        warm.goto(server + "/")
        warm.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=60_000)
        wait_idle(warm, 60_000)
        warm.close()
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.base_url = server
    yield pg
    ctx.close()


def screenshot(page, name: str) -> None:
    if not SHOTS:
        return
    wait_idle(page)
    h = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(min(max(h, 800), 5000))})
    page.wait_for_timeout(600)
    wait_idle(page)
    page.screenshot(path=str(REPO / "docs" / f"{name}.png"))
    page.set_viewport_size(size)


def open_page(page, path: str, lang: str, extra: str = "") -> None:
    page.goto(f"{page.base_url}/{path}?lang={lang}{extra}")
    page.get_by_test_id("stHeading").first.wait_for()
    wait_idle(page)



def test_the_live_training_panel_in_chinese_has_no_english_left(page):
    """The panel's states: a run made with Step once, then stopped."""
    open_page(page, "training", "zh")
    open_intro(page, wait_idle)
    assert english_left(page) == [], page.url
    page.locator(".st-key-lt_step button").first.click()
    expect(page.locator(".st-key-lt_status").last).to_contain_text("已暂停", timeout=60_000)
    page.wait_for_function("() => /第 1\\/\\d+ 步/.test(document.body.innerText)", timeout=60_000)
    wait_idle(page)
    assert english_left(page) == []
    page.locator(".st-key-lt_stop button").first.click()
    page.wait_for_function("() => [...document.querySelectorAll('.st-key-lt_status')]"
                           ".every((e) => e.innerText.includes('已停止'))")
    wait_idle(page)
    assert english_left(page) == []
    assert "lang=zh" in page.url


@pytest.mark.skipif(not SHOTS, reason="screenshots only: SEQGEN_SCREENSHOTS=1")
@pytest.mark.parametrize("path, shot, heading", PAGES)
def test_screenshot_of_every_page_in_chinese(page, path, shot, heading):
    open_page(page, path, "zh")
    expect(page.get_by_test_id("stHeading").filter(has_text=heading).first).to_be_visible()
    open_intro(page, wait_idle)
    screenshot(page, f"{shot}_zh")


def test_language_survives_page_switches_and_the_switch(page):
    open_page(page, "", "zh")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="实时训练").click()
    expect(page.get_by_test_id("stHeading").filter(has_text="实时训练").first).to_be_visible()
    page.wait_for_function("() => location.search.includes('lang=zh')")
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(page.get_by_test_id("stHeading").filter(has_text="Live training").first).to_be_visible()
    page.wait_for_function("() => location.search.includes('lang=en')")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Noise → image & sound").click()
    expect(page.get_by_test_id("stHeading").filter(has_text="Noise → image & sound").first).to_be_visible()


def test_browser_language_is_the_default(page):
    page.goto(page.base_url + "/noise")     # a zh-CN browser, no ?lang=
    expect(page.get_by_test_id("stHeading").filter(has_text="噪声 → 图像与声音").first).to_be_visible()


@pytest.mark.parametrize("lang, heading, banner", [("en", "Noise → image & sound", "The first rows"),
                                                  ("zh", "噪声 → 图像与声音", "最初几行")])
def test_a_lesson_link_opens_its_step(page, lang, heading, banner):
    page.goto(f"{page.base_url}/?lesson=rnn-steps&lang={lang}")
    expect(page.get_by_test_id("stHeading").filter(has_text=heading).first).to_be_visible()
    expect(page.locator(".st-key-lesson_banner")).to_contain_text(banner)
    expect(page.locator(".st-key-ni_png")).to_be_hidden()          # the step hides the download button
    wait_idle(page)
    screenshot(page, f"lesson_step_{lang}")
    page.locator(".st-key-lesson_next button").first.click()
    page.wait_for_function("() => location.search.includes('step=2')")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_english_pages_and_presenter_mode(page):
    for path, shot in (("lessons", "lessons"), ("training", "live_training")):
        open_page(page, path, "en")
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, shot)
    open_page(page, "noise", "en", "&present=1")
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '21px'")  # larger type
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Lessons").click()
    page.wait_for_function("() => location.search.includes('present=1')")
    screenshot(page, "presenter_mode")


def test_embed_mode(page):
    page.goto(f"{page.base_url}/?lesson=latent-space&lang=en&embed=true")
    # embedded, the sidebar may be hidden: the banner is on top of the page instead
    expect(page.locator("[data-testid=stMain] .st-key-lesson_banner")).to_contain_text("A map of all digits")
    expect(page.get_by_test_id("stToolbar")).to_have_count(0)
