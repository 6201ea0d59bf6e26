"""Server + browser helpers for the Live training browser test (own module name: no clash with e2e_helpers)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(user_dir: str, timeout: float = 60.0):
    """`streamlit run app.py` on a free loopback port, user models in `user_dir`; yields the base URL."""
    port = free_port()
    env = {**os.environ, "SEQGEN_USER_MODELS": user_dir, "SEQGEN_MAX_RUNS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("streamlit did not start:\n" + (proc.communicate(timeout=5)[0] or ""))
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()  # only the process this helper started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


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
    """Open the app, wait for app.py's own navigation, then go to Live training through the sidebar.

    With a pages/ folder beside app.py, the first script run of a fresh server briefly shows Streamlit's
    automatic pages/ navigation (labels 'app', 'live training', ...) before app.py's st.navigation replaces it;
    clicking a link of that first list lands on the wrong kind of page. So wait for the 'Home' entry first."""
    page.goto(url + "/")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Home").wait_for()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Live training").click()
    page.locator(".st-key-lt_start button").wait_for()
