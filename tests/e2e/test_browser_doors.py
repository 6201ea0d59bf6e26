"""A fresh server in a real browser: deep links open the right page with no "Page not found" modal; the tabs of one
browser share its one training slot, a private window, an edited cookie or a cookie-less script on the same address
gets none, and buttons pressed with no gap leave no run its tab has lost."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("playwright")
from e2e_helpers import launch, st_client, streamlit_server, wait_idle  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.e2e
expect.set_options(timeout=45_000)

DEEP_LINKS = {"/training": "Live training", "/latent": "Latent explorer", "/text": "Text",
              "/music": "Music", "/noise": "Noise"}


def test_deep_links_to_a_fresh_server_show_no_page_not_found(slots_server):
    """Every tab opens at once on a server no one has visited (this module's server: this test comes first).
    Streamlit would start such first runs in its older pages-folder mode, with a "Page not found" modal over a
    deep link, if a pages/ folder sat beside the script it serves; app.py serves frame/main.py, which has none
    (see app.py)."""
    url = slots_server
    with sync_playwright() as p:
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


def _open_training(context, url: str):
    page = context.new_page()
    page.goto(url + "/training")
    page.locator(".st-key-lt_step button").first.wait_for(timeout=60_000)
    wait_idle(page, 60_000)
    return page


def _edited(cookies: list[dict]) -> list[dict]:
    """The browser's cookies with one hex digit of its XSRF token changed (still well-formed)."""
    out = []
    for c in cookies:
        if c["name"] == "_streamlit_xsrf":
            version, mask, masked, stamp = c["value"].split("|")
            masked = ("0" if masked[0] != "0" else "1") + masked[1:]
            c = {**c, "value": "|".join((version, mask, masked, stamp))}
        out.append(c)
    return out


async def _cookieless_step(url: str) -> list[str]:
    session = st_client().Session(url, "training")
    try:
        await session.open()
        run = await session.set_widget("lt_step", trigger_value=True)
        return run.texts + run.errors
    finally:
        await session.close()


NEW_BROWSER_REFUSED = "Another browser on your network address already trains on this server"
ALREADY_RUNNING = "already have a training run going"


@pytest.fixture(scope="module")
def slots_server(tmp_path_factory):
    """A server that gives one network address one new browser, and each browser one run."""
    env = {"SEQGEN_USER_MODELS": str(tmp_path_factory.mktemp("models")), "SEQGEN_MAX_RUNS": "4",
           "SEQGEN_MAX_RUNS_PER_CLIENT": "1", "SEQGEN_NEW_BROWSERS_PER_ADDRESS": "1"}
    with streamlit_server(env=env) as url:
        yield url


@pytest.fixture(scope="module")
def known_browser(slots_server) -> dict[str, str]:
    """The cookies of the one browser this address may train from, as a page load gives them (the XSRF cookie
    Streamlit sets); the first of these tests to train puts it on the server's record."""
    jar: dict[str, str] = {}

    async def page_load():
        await st_client().Session(slots_server, "training", cookies=jar).fetch("/_stcore/health")

    asyncio.run(page_load())
    assert "_streamlit_xsrf" in jar
    return jar


def test_tabs_of_one_browser_share_its_run_and_a_private_window_an_edited_cookie_or_a_script_get_none(
        slots_server, known_browser):
    url = slots_server
    with sync_playwright() as p:
        browser = launch(p)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
            ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in known_browser.items()])
            first, second = _open_training(ctx, url), _open_training(ctx, url)   # two tabs, opened before a run
            first.locator(".st-key-lt_step button").first.click()                 # start paused, one step
            expect(first.locator(".st-key-lt_status", has_text="paused").first).to_be_visible()
            second.locator(".st-key-lt_start button").first.click()
            expect(second.get_by_text(ALREADY_RUNNING)).to_be_visible()

            private = _open_training(browser.new_context(viewport={"width": 1280, "height": 1000}), url)
            private.locator(".st-key-lt_step button").first.click()
            expect(private.get_by_text(NEW_BROWSER_REFUSED)).to_be_visible()
            expect(private.locator(".st-key-lt_status")).to_have_count(0)             # no run was made

            edited_ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
            edited_ctx.add_cookies(_edited(ctx.cookies()))
            edited = _open_training(edited_ctx, url)
            edited.locator(".st-key-lt_step button").first.click()
            expect(edited.get_by_text(NEW_BROWSER_REFUSED)).to_be_visible()

            with ThreadPoolExecutor(1) as pool:      # Playwright's sync API holds this thread's event loop
                shown = pool.submit(asyncio.run, _cookieless_step(url)).result(120)
            assert any(NEW_BROWSER_REFUSED in t for t in shown), shown

            first.locator(".st-key-lt_stop button").first.click()
            expect(first.locator(".st-key-lt_status", has_text="stopped").first).to_be_visible()
        finally:
            browser.close()


BURSTS = [["lt_start", "lt_start"], ["lt_step", "lt_step"], ["lt_start", "lt_stop", "lt_start"],
          ["lt_step", "lt_stop", "lt_step", "lt_stop", "lt_start"]]


async def _slot_after_burst(url: str, jar: dict[str, str], keys: list[str]) -> tuple[bool, bool, list[str]]:
    """One tab of the browser whose cookies are `jar` presses `keys` with no gap; then, once its page shows it
    settled, it stops the run it shows (if any), and a second tab of the same browser asks for a run. -> (whether
    the first tab showed a run, whether the second got one, what the second was told). A run the first tab lost
    track of would still hold the browser's one slot."""
    client = st_client()
    first = client.Session(url, "training", cookies=dict(jar))
    await first.open()
    await first.press_together(keys)
    await asyncio.sleep(1.0)                             # the burst's reruns end; then the page as it stands
    await first.rerun()
    showed_run = not first.proto("lt_stop").disabled
    if showed_run:
        await first.set_widget("lt_stop", trigger_value=True)
    second = client.Session(url, "training", cookies=dict(jar))
    try:
        await second.open()
        told = await second.set_widget("lt_step", trigger_value=True)
        second_run = not second.proto("lt_stop").disabled
        if second_run:
            await second.set_widget("lt_stop", trigger_value=True)
        return showed_run, second_run, told.texts + told.errors
    finally:
        await second.close()
        await first.close()


def test_buttons_pressed_with_no_gap_leave_no_run_without_its_tab(slots_server, known_browser):
    """Start twice, Step twice, Start-Stop-Start... sent before the server answers: afterwards the tab shows the
    run it has (and can stop it), so the browser's one slot is free again for its next tab."""
    for keys in BURSTS:
        showed_run, second_run, told = asyncio.run(_slot_after_burst(slots_server, known_browser, keys))
        assert showed_run, keys                          # every burst ends with Start or Step: a run
        assert second_run, (keys, told)
