"""Browser helpers for the Live training test (own module name: no clash with e2e_helpers)."""
from __future__ import annotations

from contextlib import contextmanager

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
