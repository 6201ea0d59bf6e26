"""Helpers for the browser tests and benchmarks/browser_latency.py: start `streamlit run app.py`, launch chromium."""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def st_client():
    """benchmarks/st_client.py, the protocol-level Streamlit client (a module outside the test packages)."""
    if "st_client" not in sys.modules:
        spec = importlib.util.spec_from_file_location("st_client", REPO / "benchmarks" / "st_client.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["st_client"] = module            # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["st_client"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(timeout: float = 60.0, env: dict | None = None):
    """`streamlit run app.py` on a free loopback port; yields the base URL once /_stcore/health says ok.

    User models go to a fresh temporary folder so the run never depends on (or writes to) user_models/. The
    server's output goes to a file there, not a pipe: nobody reads a pipe while the server runs, and a server
    that has written a pipe's 64 KiB blocks on its next log line (a long browser test then sees its page
    disconnect for good).
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="seqgen-e2e-") as user_dir:
        proc_env = {**os.environ, "SEQGEN_USER_MODELS": user_dir, **(env or {})}
        log_path = Path(user_dir) / ".server.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"],
                cwd=REPO, env=proc_env, stdout=log, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + timeout
        try:
            while True:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    raise RuntimeError("streamlit did not start:\n" + log_path.read_text(encoding="utf-8")[-4000:])
                time.sleep(0.05)
            yield url
        finally:
            proc.terminate()  # only the process this helper started
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def browser_api(timeout_ms: int | None = 30_000):
    """(expect, sync_playwright) for a browser test module, or the whole module skipped with what to install.
    timeout_ms: how long `expect` waits (a first page visit imports torch and loads plotly's JS on 2 cores)."""
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) for the browser "
                    "tests", allow_module_level=True)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    if timeout_ms is not None:
        sync_api.expect.set_options(timeout=timeout_ms)
    return sync_api.expect, sync_api.sync_playwright


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)


IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && !document.querySelector('[data-stale="true"]');
}"""


def wait_idle(page, timeout: float = 30_000) -> None:
    """Script finished and nothing greyed out. Wait for an expected change first, then call this."""
    page.wait_for_function(IDLE_JS, timeout=timeout)


def settled_width(image, timeout: float = 30.0) -> float:
    """Width of a loaded <img> once it stops changing: on a busy machine the first box can be measured before the
    picture has decoded or before the column has its final width."""
    image.wait_for(state="visible")
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                 timeout=timeout * 1000)
    deadline, last = time.monotonic() + timeout, -1.0
    while time.monotonic() < deadline:
        width = image.bounding_box()["width"]
        if width == last:
            return width
        last = width
        time.sleep(0.3)
    return last


def img_src(page, key: str) -> str | None:
    """src of the first <img> inside the keyed container (None while it is not there)."""
    loc = page.locator(f".st-key-{key} img").first
    return loc.get_attribute("src") if loc.count() else None


def stroke(page, box, points) -> None:
    """Press, drag through the points (fractions of the canvas box), release: as a hand with a mouse would."""
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
    page.mouse.up()
