"""Several app processes behind nginx (scripts/serve.py): every browser stays on the process it started on.

A Streamlit session lives in one process: its WebSocket, and its st.image / st.audio files under /media/,
which the other processes answer with 404. So each simulated browser (its own cookie jar, two tabs: Noise
and Music, over benchmarks/st_client.py's protocol-level client) loads the page, reruns, reconnects its
WebSocket and fetches every media URL, all through nginx, and every answer must come from one process
(X-Seqgen-Upstream); across the browsers both processes must get some. Everything stays on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from st_helpers import REPO, script_module

serve = script_module("serve", REPO / "scripts" / "serve.py")
st_client = script_module("st_client", REPO / "benchmarks" / "st_client.py")

try:
    NGINX = serve.find_nginx(None)
except serve.ServeError:
    NGINX = None
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")

TIMEOUT = 60.0


# ------------------------------------------------------------------------------------------------ no processes
def test_every_process_shares_the_deployments_training_slots(tmp_path):
    d = serve.Deployment(processes=3, run_dir=tmp_path, max_live_runs=2)
    d.live_runs = 2
    env = d._app_env()
    assert env["SEQGEN_MAX_RUNS"] == "2"                      # the deployment's total, not a share
    assert env["SEQGEN_LIVE_SLOTS"] == str(tmp_path / "live-slots.sqlite3")
    assert serve.parse_args([]).processes == serve.usable_cores()


def test_upload_limit_follows_streamlits_max_upload_size(tmp_path):
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text("[server]\nmaxUploadSize = 3\n")
    assert serve.max_body_kib(tmp_path) == 3 * 1024 + serve.UPLOAD_FRAMING_KIB
    assert serve.max_body_kib(REPO) == 20 * 1024 + serve.UPLOAD_FRAMING_KIB     # the app's 20 MB (a data set)


@needs_nginx
def test_rendered_config_passes_nginx_t(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    text = serve.render_config(serve.TEMPLATE.read_text(), tmp_path, "127.0.0.1:8501", [9001, 9002], 1088)
    assert "@" not in re.sub(r"#.*", "", text)
    assert "ip_hash" not in re.sub(r"#.*", "", text)
    assert "server 127.0.0.1:9001;" in text and "client_max_body_size 1088k;" in text
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    done = subprocess.run([NGINX, "-p", f"{tmp_path}/", "-e", str(tmp_path / "logs" / "error.log"), "-c", str(conf),
                           "-t"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_nginx_lets_an_idle_app_connection_go_before_the_app_does(tmp_path):
    """A kept-alive connection the app closes while nginx sends on it fails; nginx then retries the request on
    the other process and, for fail_timeout, routes the browser there: its session and media are not there (a
    reconnect gets a new session, its /media/ a 404 or another's). So nginx's idle timeout for app connections
    is below the apps' own (uvicorn's timeout_keep_alive, which Streamlit leaves at its default)."""
    import uvicorn
    text = serve.render_config(serve.TEMPLATE.read_text(), tmp_path, "127.0.0.1:8501", [9001, 9002], 1088)
    upstream = re.search(r"upstream seqgen_apps \{(.*?)\n    \}", re.sub(r"#.*", "", text), re.S).group(1)
    seconds = re.search(r"keepalive_timeout (\d+)s;", upstream)
    assert "keepalive 16;" in upstream and seconds, upstream
    assert int(seconds.group(1)) < uvicorn.Config(app=None).timeout_keep_alive


def _serve_cli(*args, env=None, timeout=30):
    return subprocess.run([sys.executable, str(REPO / "scripts" / "serve.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_bad_arguments_get_one_line_each():
    for args in (["--processes", "0"], ["--port", "70000"], ["--address", "school-server"],
                 ["--max-live-runs", "0"]):
        done = _serve_cli(*args)
        assert done.returncode != 0, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)


def test_missing_nginx_says_how_to_install_it(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}       # no nginx on this PATH
    done = _serve_cli("--nginx", "nginx", env=env)
    assert done.returncode == 1 and "apt-get install nginx" in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1


# ------------------------------------------------------------------------------------------------ live
@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    root = tmp_path_factory.mktemp("serve")
    port = serve.free_loopback_ports(1)[0]
    # A closed tab's session is dropped after 3 s instead of 2 minutes, and its uploads swept every second:
    # the upload flood test sees its memory come back within the test.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL", "3")
        env.setenv("SEQGEN_UPLOAD_SWEEP_S", "1")
        with serve.Deployment(processes=2, port=port, run_dir=root / "run", user_models=root / "user_models",
                              max_live_runs=2) as d:
            yield d


class Browser:
    """One browser: a cookie jar its tabs share, and every answer it got: (path, status, upstream)."""

    def __init__(self, base: str):
        self.base, self.jar, self.seen = base, {}, []

    def tab(self, page: str) -> st_client.Session:
        return st_client.Session(self.base, page, cookies=self.jar, on_response=self._saw)

    def _saw(self, path: str, status: int, headers: dict) -> None:
        self.seen.append((path, status, (headers.get("x-seqgen-upstream") or [""])[-1]))

    @property
    def upstreams(self) -> set[str]:
        return {u for _, _, u in self.seen}


def _clean(run, what: str) -> None:
    assert not run.errors and run.finished is not None, f"{what}: {run.errors}"


async def _visit(browser: Browser) -> None:
    """Page load, reruns, a WebSocket reconnect and the media of two tabs, as a student would."""
    noise = browser.tab("noise")
    await noise.fetch("/", timeout=TIMEOUT)
    assert "seqgen_route" in browser.jar            # nginx gave the browser its route
    try:
        run = await noise.open(timeout=TIMEOUT)
        _clean(run, "noise page load")
        assert run.images, "the noise page showed no image"
        for seed in (11, 12, 13):
            _clean(await noise.set_widget("ni_seed", double_value=seed, timeout=TIMEOUT), f"seed {seed}")
        session_id = noise.session_id
        run = await noise.reconnect(timeout=TIMEOUT)
        _clean(run, "rerun after the reconnect")
        # the server resumed the session: only the process that holds it knows its id
        assert noise.session_id == session_id
    finally:
        await noise.close()
    music = browser.tab("music")
    try:
        run = await music.open(timeout=TIMEOUT)
        _clean(run, "music page load")
        assert run.audio, "the music page showed no player"
        for url in run.audio:
            assert (await music.fetch(url, timeout=TIMEOUT)).status == 200, url
    finally:
        await music.close()


async def _visits(base: str, first: int, most: int) -> list[Browser]:
    """`first` browsers at once, then more, four at a time, until both processes have some (or `most`)."""
    browsers = [Browser(base) for _ in range(first)]
    await asyncio.gather(*(_visit(b) for b in browsers))
    while len({u for b in browsers for u in b.upstreams}) < 2 and len(browsers) < most:
        more = [Browser(base) for _ in range(4)]
        await asyncio.gather(*(_visit(b) for b in more))
        browsers += more
    return browsers


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_every_browser_stays_on_one_process(deployment):
    apps = {f"127.0.0.1:{p}" for p in deployment.app_ports}
    browsers = asyncio.run(asyncio.wait_for(_visits(deployment.url, 8, 16), 5 * TIMEOUT))
    for b in browsers:
        assert {status for _, status, _ in b.seen} <= {200, 101}, b.seen
        assert any(path.startswith("/media/") and path.endswith(".wav") for path, _, _ in b.seen)
        assert any(path.startswith("/media/") and path.endswith(".png") for path, _, _ in b.seen)
        assert len(b.upstreams) == 1 and b.upstreams <= apps, b.seen
    assert {u for b in browsers for u in b.upstreams} == apps, "one process got every browser"


async def _media_from_both_cookies(base: str) -> tuple[int, int]:
    """An image URL made for one browser, fetched with its own cookie and with one that routes elsewhere."""
    owner, other = Browser(base), Browser(base)
    tab = owner.tab("noise")
    await tab.fetch("/")
    while True:                                     # a second browser whose route lands on the other process
        await other.tab("noise").fetch("/")
        if other.seen[-1][2] not in owner.upstreams:
            break
        other.jar.clear()
    try:
        run = await tab.open(timeout=TIMEOUT)
        _clean(run, "noise page load")
        url = run.images[0]
        return (await tab.fetch(url)).status, (await other.tab("noise").fetch(url)).status
    finally:
        await tab.close()


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_media_lives_only_in_the_process_that_made_it(deployment):
    """Why the routing must be sticky: the same /media/ URL is a 404 on the other process."""
    own, elsewhere = asyncio.run(asyncio.wait_for(_media_from_both_cookies(deployment.url), 2 * TIMEOUT))
    assert (own, elsewhere) == (200, 404)


async def _browsers_on(base: str, want: list[int], upstreams: list[str]) -> list[Browser]:
    """Browsers routed to the processes `want` (indices into `upstreams`), each from the first request of a new
    cookie jar (nginx picks a random route for a browser without one)."""
    found: list[Browser] = []
    for _ in range(40):
        b = Browser(base)
        await b.tab("training").fetch("/_stcore/health")
        proc = upstreams.index(b.seen[-1][2])
        if want.count(proc) > sum(upstreams.index(f.seen[-1][2]) == proc for f in found):
            found.append(b)
        if len(found) == len(want):
            return sorted(found, key=lambda f: want.index(upstreams.index(f.seen[-1][2])))
    raise AssertionError("nginx did not spread 40 new browsers over both processes")


async def _status(tab, text: str, within: float) -> None:
    """Rerun the tab until some text of the page, as the latest rerun drew it, holds `text` (the page's own
    status line, wherever it sits among the page's texts)."""
    end = time.monotonic() + within
    while True:
        since = time.perf_counter()
        await tab.rerun(timeout=TIMEOUT)
        drawn = [body for at, body in tab.markdown if at >= since]
        if any(text in body for body in drawn):
            return
        if time.monotonic() >= end:
            raise AssertionError(f"no {text!r} within {within:g} s: {drawn[:12]}")
        await asyncio.sleep(0.3)


@needs_nginx
@pytest.mark.slow
def test_the_training_slots_and_queue_are_the_deployments(deployment):
    """Two slots for the whole deployment: two runs on the first process fill them, so a student on the idle
    second process waits (position 1), and gets the slot the first process frees."""
    apps = [f"127.0.0.1:{p}" for p in deployment.app_ports]

    async def go():
        first_a, first_b, second = await _browsers_on(deployment.url, [0, 0, 1], apps)
        tabs = [b.tab("training") for b in (first_a, first_b, second)]
        try:
            for tab in tabs:
                _clean(await tab.open(timeout=TIMEOUT), "training page load")
            for tab in tabs[:2]:
                _clean(await tab.set_widget("lt_start", trigger_value=True, timeout=TIMEOUT), "start")
            _clean(await tabs[2].set_widget("lt_start", trigger_value=True, timeout=TIMEOUT), "third start")
            await _status(tabs[2], "position 1 in the queue", within=20)
            _clean(await tabs[0].set_widget("lt_stop", trigger_value=True, timeout=TIMEOUT), "stop")
            await _status(tabs[2], "**running**", within=20)
        finally:
            for tab in tabs:
                with contextlib.suppress(Exception):
                    await tab.set_widget("lt_stop", trigger_value=True, timeout=TIMEOUT)
                await tab.close()

    asyncio.run(asyncio.wait_for(go(), 6 * TIMEOUT))


def _websocket_handshake(port: int, host: str) -> str:
    """The status line nginx answers a browser's WebSocket handshake with, the browser at http://HOST."""
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Protocol: streamlit\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        conn.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
            head += chunk
    return head.split(b"\r\n", 1)[0].decode()


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_websocket_opens_for_a_browser_on_a_lan_name(deployment):
    """Streamlit refuses a WebSocket whose Origin is not its Host: nginx must pass the Host on, port and all."""
    status = _websocket_handshake(deployment.port, f"school-server.lan:{deployment.port}")
    assert status.split()[1] == "101", status


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_new_browsers_are_spread_over_the_processes(deployment):
    async def first_requests(n):
        return [(await st_client.http_request("127.0.0.1", deployment.port, "/_stcore/health")).headers
                for _ in range(n)]
    answers = asyncio.run(first_requests(100))
    counts = Counter(h["x-seqgen-upstream"][0] for h in answers)
    assert len(counts) == 2 and min(counts.values()) >= 20, counts       # not one process for a whole NAT
    routes = {c.split(";")[0] for h in answers for c in h["set-cookie"] if c.startswith("seqgen_route=")}
    assert len(routes) == 100                                            # each new browser its own route


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_a_port_in_use_is_one_line(deployment):
    done = _serve_cli("--processes", "1", "--port", str(deployment.port))
    assert done.returncode == 1 and "already in use" in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1


def _start_serve_cli(run_dir: Path) -> tuple[subprocess.Popen, list[int]]:
    """`serve.py --processes 1` on a free port, once it printed its address; -> (it, its children's pids)."""
    port = serve.free_loopback_ports(1)[0]
    proc = subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve.py"), "--processes", "1", "--port",
                             str(port), "--run-dir", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()           # printed once nginx and the app answer (or EOF when it gave up)
    assert f"http://127.0.0.1:{port}" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    nginx_pid = int((run_dir / "nginx.pid").read_text())
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                               text=True).stdout.split()]
    assert nginx_pid in children and len(children) == 2, children
    return proc, children


def _all_gone(pids: list[int], within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(_alive(p) for p in pids)


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_serve_cli_leaves_nothing_running(tmp_path, signum):
    """SIGTERM: serve.py stops nginx and the app itself; SIGKILL: they get their SIGTERM from the kernel."""
    proc, children = _start_serve_cli(tmp_path / "run")
    try:
        proc.send_signal(signum)
        code = proc.wait(30)
        assert code == (0 if signum == signal.SIGTERM else -signal.SIGKILL), proc.stderr.read()
        assert _all_gone(children)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _alive(pid: int) -> bool:
    """Running; a zombie (exited, waiting for an init that may never reap it here) counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


async def _a_browser_on(base: str, upstream: str | None, avoid: str | None = None) -> Browser:
    """A fresh browser whose route lands on `upstream` (or anywhere but `avoid`)."""
    for _ in range(64):
        browser = Browser(base)
        await browser.tab("noise").fetch("/", timeout=TIMEOUT)
        landed = browser.seen[-1][2]
        if (upstream is None or landed == upstream) and landed != avoid:
            return browser
    raise AssertionError(f"no route landed on {upstream}")


def _app_pids_by_port(serve_pid: int) -> dict[int, int]:
    out = {}
    for pid in map(int, subprocess.run(["pgrep", "-P", str(serve_pid)], capture_output=True, text=True).stdout.split()):
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--server.port" in args:
            out[int(args[args.index(b"--server.port") + 1])] = pid
    return out


@needs_nginx
@pytest.mark.slow
def test_a_killed_app_process_is_started_again_and_the_others_keep_serving(tmp_path):
    port = serve.free_loopback_ports(1)[0]
    proc = subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve.py"), "--processes", "2", "--port",
                             str(port), "--run-dir", str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        base = f"http://127.0.0.1:{port}"
        pids = _app_pids_by_port(proc.pid)
        assert len(pids) == 2, pids

        async def scenario() -> float:
            student = await _a_browser_on(base, None)
            survivor = int(student.seen[-1][2].rsplit(":", 1)[1])
            victim = next(p for p in pids if p != survivor)
            await _visit(student)                          # a whole visit before the kill
            os.kill(pids[victim], signal.SIGKILL)
            killed_at = time.monotonic()
            await _visit(student)                          # and one while the other process is down
            while not serve.healthy(victim):
                assert time.monotonic() - killed_at < 30, "the killed process was not started again"
                await asyncio.sleep(0.1)
            back_after = time.monotonic() - killed_at
            newcomer = await _a_browser_on(base, f"127.0.0.1:{victim}")   # the restarted process serves
            await _visit(newcomer)
            assert {status for b in (student, newcomer) for _, status, _ in b.seen} <= {200, 101}
            assert student.upstreams == {f"127.0.0.1:{survivor}"}
            return back_after

        back_after = asyncio.run(asyncio.wait_for(scenario(), 6 * TIMEOUT))
        print(f"the killed process answered again after {back_after:.1f} s")
        assert back_after <= 10.0, f"the killed process answered again after {back_after:.1f} s"
        assert proc.poll() is None, "serve.py stopped"
        assert len(_app_pids_by_port(proc.pid)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert "starting it again" in proc.stderr.read()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _forged_upload(base: str, jar: dict, session_id: str, n: int) -> int:
    """One upload PUT of 900 KiB for session_id, as a script with the browser's cookies sends it; -> status."""
    import urllib.error
    import urllib.request
    import uuid
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f{n}.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + os.urandom(900 * 1024) + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base}/_stcore/upload_file/{session_id}/{uuid.uuid4()}", data=body, method="PUT",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": st_client.cookie_header(jar),
                 "X-Xsrftoken": jar.get("_streamlit_xsrf", "")})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.slow  # starts nginx and app processes
@needs_nginx
def test_an_upload_flood_from_one_client_is_refused_and_its_memory_comes_back(deployment):
    """A student's script with a live session sends 300 uploads of 900 KiB, one after another (Streamlit keeps
    each in memory under the session, widget or not): nginx lets the first 10 or so through and refuses the
    rest, so the app process grows by about 10 files, not 300; once the tab is closed and its session has
    ended, seqgen.ui.uploads frees them, which Streamlit itself never does."""
    async def session() -> tuple[Browser, st_client.Session]:
        browser = await _a_browser_on(deployment.url, None)
        tab = browser.tab("noise")
        await tab.fetch("/_stcore/health", timeout=TIMEOUT)      # sets the XSRF cookie, as the page's own calls do
        _clean(await tab.open(timeout=TIMEOUT), "noise page load")
        return browser, tab

    async def scenario():
        browser, tab = await session()
        port = int(browser.seen[-1][2].rsplit(":", 1)[1])
        pid = deployment.children[f"app process on port {port}"][0].pid
        assert "_streamlit_xsrf" in browser.jar, browser.jar
        before = _rss_mib(pid)
        try:
            statuses = Counter([await asyncio.to_thread(_forged_upload, deployment.url, browser.jar,
                                                        tab.session_id, n) for n in range(300)])
            grown = _rss_mib(pid) - before
        finally:
            await tab.close()
        deadline = time.monotonic() + 30        # the session's 3 s for reconnecting, then a sweep each second
        while _rss_mib(pid) - before > 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        return statuses, grown, _rss_mib(pid) - before

    statuses, grown, left = asyncio.run(asyncio.wait_for(scenario(), 4 * TIMEOUT))
    print(f"statuses {dict(statuses)}; grew {grown:.1f} MiB; {left:.1f} MiB left after the session ended")
    assert 1 <= statuses[204] <= 12 and statuses[429] == 300 - statuses[204], statuses
    assert grown <= 20, f"the app process grew by {grown:.0f} MiB"
    assert left <= 5, f"{left:.0f} MiB were still held after the session ended"
