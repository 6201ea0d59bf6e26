"""A fresh server in a real browser: deep links open the right page with no "Page not found" modal, and two
tabs of one browser share one training slot."""
import pytest

pytest.importorskip("playwright")
from e2e_helpers import launch, streamlit_server, wait_idle  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.e2e
expect.set_options(timeout=45_000)

DEEP_LINKS = {"/training": "Live training", "/latent": "Latent explorer", "/text": "Text",
              "/music": "Music", "/noise": "Noise"}


def test_deep_links_to_a_fresh_server_show_no_page_not_found():
    """Every tab opens at once on a server no one has visited. Streamlit would start such first runs in its
    older pages-folder mode, with a "Page not found" modal over a deep link, if a pages/ folder sat beside the
    script it serves; app.py serves frame/main.py, which has none (see app.py)."""
    with streamlit_server() as url, sync_playwright() as p:
        browser = launch(p)
        try:
            pages = [browser.new_context().new_page() for _ in DEEP_LINKS]
            for page, path in zip(pages, DEEP_LINKS):
                page.goto(url + path, wait_until="commit")
            for page, (path, title) in zip(pages, DEEP_LINKS.items()):
                expect(page.locator("h1").first).to_contain_text(title)
                wait_idle(page, 60_000)
                page.wait_for_timeout(500)                     # the modal, if any, is drawn by now
                assert page.get_by_text("Page not found").count() == 0, path
                assert page.get_by_role("dialog").count() == 0, path
        finally:
            browser.close()


def test_two_tabs_of_one_browser_get_one_training_slot(tmp_path):
    with streamlit_server(env={"SEQGEN_USER_MODELS": str(tmp_path), "SEQGEN_MAX_RUNS": "2"}) as url, \
            sync_playwright() as p:
        browser = launch(p)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 1000})   # one browser: shared cookies
            first, second = ctx.new_page(), ctx.new_page()
            for page in (first, second):
                page.goto(url + "/training")
                page.locator(".st-key-lt_start button").wait_for(timeout=60_000)
                wait_idle(page, 60_000)
            first.locator(".st-key-lt_step button").first.click()                     # start paused, one step
            expect(first.locator(".st-key-lt_status", has_text="paused").first).to_be_visible()
            second.locator(".st-key-lt_start button").first.click()
            expect(second.get_by_text("already have a training run going")).to_be_visible()
            other = browser.new_context().new_page()                             # another browser may start
            other.goto(url + "/training")
            other.locator(".st-key-lt_step button").first.wait_for(timeout=60_000)
            wait_idle(other, 60_000)
            other.locator(".st-key-lt_step button").first.click()
            expect(other.locator(".st-key-lt_status", has_text="paused").first).to_be_visible()
            first.locator(".st-key-lt_stop button").first.click()
            other.locator(".st-key-lt_stop button").first.click()
        finally:
            browser.close()
