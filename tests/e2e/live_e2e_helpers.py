"""Browser helpers for the Live training test (own module name: no clash with e2e_helpers)."""
from __future__ import annotations

import time
from contextlib import contextmanager, suppress

from e2e_helpers import CHROME_ARGS, CHROMIUM, streamlit_server  # noqa: F401  (re-exported for the test)


@contextmanager
def live_server(user_dir: str, timeout: float = 60.0):
    """The app on a free loopback port with user models in `user_dir` and room for two runs."""
    with streamlit_server(timeout, env={"SEQGEN_USER_MODELS": user_dir, "SEQGEN_MAX_RUNS": "2"}) as url:
        yield url


def progress_step(page) -> int:
    """Current step from the progress bar text 'step N/M · ...' (-1 while not shown)."""
    loc = page.get_by_test_id("stProgress")
    if not loc.count():
        return -1
    text = loc.first.inner_text()
    try:
        return int(text.split("step ", 1)[1].split("/", 1)[0])
    except (IndexError, ValueError):
        return -1


def loss_points(page) -> int:
    """Number of points of the first trace of the loss chart, read from plotly's own graph div."""
    return page.evaluate("""() => {
        const gd = document.querySelector('.st-key-lt_loss_chart .js-plotly-plot');
        return gd && gd.data && gd.data[0] && gd.data[0].x ? gd.data[0].x.length : 0;
    }""")


def open_live_page(page, url: str) -> None:
    """Open the app, then go to Live training through the sidebar (as a student would)."""
    page.goto(url + "/")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Home").wait_for()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Live training").click()
    page.locator(".st-key-lt_start button").wait_for()


# ------------------------------------------------------------------------------------------------ Stop, by hand
# Three students on a server with two training slots, two training and one queued, press Stop in the order 0, 2, 1
# (so the queued student's Stop lands while its run has just been given the freed slot). Each click is a plain
# mouse click at the button, as a hand makes it, not a Playwright click that waits until the button is ready.
OBEYED_WITHIN_S = 5.0


def status(page) -> str:
    """The status word of the tab's run ('running', 'queued', ...), '' while none is shown."""
    text = page.evaluate("""() => {
        const all = document.querySelectorAll('.st-key-lt_status');
        return all.length ? all[all.length - 1].innerText : '';
    }""")
    for word in ("queued", "starting", "running", "paused", "stopping", "stopped", "done", "error"):
        if word in text:
            return word
    return ""


def hand_click(page, key: str) -> None:
    """A mouse click where the button is now, enabled or not (a hand does not wait for the page). While the page
    redraws the button it has no place on screen: then the hand looks again."""
    button = page.locator(f".st-key-{key} button").first
    box = button.bounding_box()
    if box is None:
        button.wait_for(state="visible")
        box = button.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def wait_status(page, words: tuple[str, ...], within: float) -> str:
    end = time.monotonic() + within
    while time.monotonic() < end:
        now = status(page)
        if now in words:
            return now
        page.wait_for_timeout(100)
    return status(page)


def press(page, key: str, words: tuple[str, ...], record: dict, then: tuple[str, ...] = ()) -> dict:
    """A hand click on `key`; `record` gets what the run was doing, whether the page showed one of `words`
    within OBEYED_WITHIN_S, after how many seconds, and whether the button was disabled when clicked. A lost
    click is clicked again, as the student would, until the page obeys. With `then`, it also waits for one of
    those (a stopping run's end) and records when it came."""
    button = page.locator(f".st-key-{key} button").first
    button.wait_for()
    disabled = button.is_disabled()
    before = status(page)
    t0 = time.monotonic()
    hand_click(page, key)
    after = wait_status(page, words, OBEYED_WITHIN_S)
    record.update(key=key, was=before, disabled=disabled, obeyed=after in words,
                  seconds=round(time.monotonic() - t0, 2))
    if after not in words:
        try:
            button.click(timeout=30_000)
        except Exception as e:  # noqa: BLE001 - say what the page showed instead
            raise AssertionError(f"{record}: no second click ({type(e).__name__}); the page: {page_state(page)}") from None
        if wait_status(page, words, 60) not in words:
            raise AssertionError(f"{record}: not {words} after a second click; the page: {page_state(page)}")
    if then:
        if wait_status(page, then, 60) not in then:
            raise AssertionError(f"{record}: never {then}; the page: {page_state(page)}")
        record["then_seconds"] = round(time.monotonic() - t0, 2)
    return record


def page_state(page) -> str:
    return page.evaluate("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        const main = document.querySelector('[data-testid="stMain"]');
        return JSON.stringify({script: app && app.getAttribute('data-test-script-state'),
                               connection: app && app.getAttribute('data-test-connection-state'),
                               url: location.href, text: main ? main.innerText.slice(0, 600) : ''});
    }""")


def stop_rounds(browser, url: str, rounds: int) -> list[dict]:
    """`rounds` rounds of Start 0, 1, 2 then Stop 0, 2, 1 -> one record per click (see press)."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 1000}) for _ in range(3)]
    pages = []
    for context in contexts:
        context.set_default_timeout(60_000)
        page = context.new_page()
        open_live_page(page, url)
        pages.append(page)
    records = []
    try:
        for r in range(rounds):
            for i, page in enumerate(pages):
                want = ("queued",) if i == 2 else ("starting", "running")
                records.append(press(page, "lt_start", want, {"round": r, "student": i}))
            for i in (0, 2, 1):
                records.append(press(pages[i], "lt_stop", ("stopping", "stopped"), {"round": r, "student": i},
                                     then=("stopped",)))
    finally:
        for page in pages:           # a failed round must not leave the server's slots to the next test
            with suppress(Exception):
                page.locator(".st-key-lt_stop button").first.click(timeout=5_000)
        for context in contexts:
            context.close()
    return records
