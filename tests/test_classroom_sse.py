"""/class/events (seqgen.classroom.sse): a class's counters streamed to browsers as Server-Sent Events.

The fast tests serve the route from a real uvicorn server in a thread (the server Streamlit runs on) and read it
with urllib, against both stores; the slow one runs `streamlit run app.py`, so the route is the one app.py adds.
The test through nginx is in test_proxy.py.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error

import pytest
from classroom_helpers import REDIS_SERVER, EventStream, free_port, redis_server, serve_asgi
from st_helpers import REPO
from starlette.applications import Starlette

from seqgen import classroom
from seqgen.classroom import ClassRun, Settings, Stage
from seqgen.classroom.redis_store import RedisStore
from seqgen.classroom.sqlite_store import SQLiteStore

FAST = Settings(poll_interval_s=0.05, keepalive_s=0.5)


@pytest.fixture(scope="module")
def redis_url():
    if not REDIS_SERVER.exists():
        pytest.skip(f"{REDIS_SERVER} is missing: install Debian's redis-server (apt-get install redis-server)")
    with redis_server() as url:
        yield url


class CountingWatches:
    """Wraps a store's watch to count how many a process runs at once and in all."""

    def __init__(self, store):
        self.store, self.started, self.running = store, 0, 0
        original = store.watch

        async def watch(code):
            self.started += 1
            self.running += 1
            try:
                async for versions in original(code):
                    yield versions
            finally:
                self.running -= 1

        store.watch = watch


@pytest.fixture(params=["sqlite", "redis"])
def served(request, tmp_path):
    """-> (store, base URL, the route's endpoint): the route served by uvicorn over one store."""
    if request.param == "sqlite":
        store = SQLiteStore(tmp_path / "c.sqlite3", FAST)
    else:
        url = request.getfixturevalue("redis_url")
        import redis
        redis.Redis.from_url(url).flushdb()
        store = RedisStore(url, FAST)
    routes = classroom.routes(store=store)
    with serve_asgi(Starlette(routes=routes)) as base:
        yield store, base, routes[0].app
    store.close()


def _wait(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_step_change_reaches_every_follower(served):
    store, base, _ = served
    new = store.create_class()
    streams = [EventStream(f"{base}/class/events?code={new.code.lower()}") for _ in range(3)]
    try:
        for s in streams:
            assert s.headers["content-type"].startswith("text/event-stream")
            assert s.headers["x-accel-buffering"] == "no" and "no-cache" in s.headers["cache-control"]
            assert s.until("version").data == str(store.versions(new.code).version)     # where the class is now
        t0 = time.perf_counter()
        state = store.set_state(new.code, new.secret, Stage("latent-space", 1, "latent"))
        for s in streams:
            event = s.until("version")
            assert event.data == str(state.version)
            assert event.at - t0 < 2.0
    finally:
        for s in streams:
            s.close()


def test_the_teacher_feed_also_carries_activity_and_the_end(served):
    store, base, _ = served
    new = store.create_class()
    with EventStream(f"{base}/class/events?code={new.code}&feed=teacher") as teacher, \
            EventStream(f"{base}/class/events?code={new.code}") as student:
        teacher.until("version")
        activity = int(teacher.until("activity").data)
        student.until("version")
        store.join(new.code, "Lin")                                  # the panel hears of it; students do not
        assert int(teacher.until("activity").data) == activity + 1
        store.publish_run(new.code, new.secret, ClassRun("r1", "running", step=5))
        version = store.versions(new.code).version
        assert student.until("version").data == str(version)        # the join sent students nothing before this
        store.end_class(new.code, new.secret)
        assert student.until("ended").data == str(version + 1)
        teacher.until("ended")


def test_one_watch_per_class_however_many_subscribers(served):
    store, base, endpoint = served
    counting = CountingWatches(store)
    a, b = store.create_class(), store.create_class()
    streams = [EventStream(f"{base}/class/events?code={code}") for code in [a.code] * 4 + [b.code] * 3]
    try:
        for s in streams:
            s.until("version")
        assert counting.started == 2 and counting.running == 2
    finally:
        for s in streams:
            s.close()
    _wait(lambda: counting.running == 0, what="the watches to stop with their last subscriber")
    hub = next(iter(endpoint._hubs.values()))
    assert hub.count == 0 and hub.watches == {}


def test_keep_alive_comments_flow_while_nothing_changes(served):
    store, base, _ = served
    new = store.create_class()
    with EventStream(f"{base}/class/events?code={new.code}") as s:
        s.until("version")
        store.join(new.code)                                         # activity only: nothing for a student
        time.sleep(3 * FAST.keepalive_s)
        store.set_state(new.code, new.secret, Stage(step=4))
        assert s.until("version").data == str(store.versions(new.code).version)
        assert s.comments >= 2


def test_a_deleted_class_says_gone_and_closes(served):
    store, base, _ = served
    new = store.create_class()
    with EventStream(f"{base}/class/events?code={new.code}") as s:
        s.until("version")
        store.end_class(new.code, new.secret)
        s.until("ended")
        store.clock = lambda: time.time() + store.settings.ended_grace_s + 1
        assert new.code in store.expire_idle()
        s.until("gone")
        assert s.next_event() is None                                # the server closed the stream


@pytest.mark.parametrize("query, status, words", [
    ("code=K7QX3M", 404, "There is no class with the code K7QX3M"),
    ("code=nope", 404, "is not a class code"),
    ("", 404, "is not a class code"),
    ("code=K7QX3M&feed=admin", 400, "feed is student or teacher"),
])
def test_bad_requests_get_a_sentence(served, query, status, words):
    _, base, _ = served
    with pytest.raises(urllib.error.HTTPError) as caught:
        EventStream(f"{base}/class/events?{query}")
    assert caught.value.code == status and words in caught.value.read().decode()


def test_subscribers_are_capped_per_process(tmp_path):
    store = SQLiteStore(tmp_path / "c.sqlite3", Settings(poll_interval_s=0.05, max_subscribers=2))
    new = store.create_class()
    with serve_asgi(Starlette(routes=classroom.routes(store=store))) as base:
        first, second = (EventStream(f"{base}/class/events?code={new.code}") for _ in range(2))
        with pytest.raises(urllib.error.HTTPError) as caught:
            EventStream(f"{base}/class/events?code={new.code}")
        assert caught.value.code == 503 and caught.value.headers["retry-after"] == "3"
        first.close()
        deadline = time.monotonic() + 5
        while True:                                                  # the closed one's place frees up
            try:
                third = EventStream(f"{base}/class/events?code={new.code}")
                break
            except urllib.error.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        third.until("version")
        third.close()
        second.close()


def test_a_slow_reader_gets_the_latest_version_not_a_backlog():
    """Changes that come while a stream is still sending are coalesced: the stream sends the latest counters
    once, never a queue of every change (a socket's own buffer makes this untestable end to end)."""
    from seqgen.classroom.records import Versions
    from seqgen.classroom.sse import Subscriber

    subscriber = Subscriber("student")
    subscriber.offer(Versions(1, 1, False))
    assert subscriber.take() == b"event: version\ndata: 1\n\n"
    for version in range(2, 31):
        subscriber.offer(Versions(version, 1, False))
    assert subscriber.wake.is_set()
    assert subscriber.take() == b"event: version\ndata: 30\n\n"
    assert subscriber.take() == b"" and not subscriber.wake.is_set()


@pytest.mark.slow
def test_the_app_serves_class_events_and_stops_with_streams_open(tmp_path):
    """`streamlit run app.py`: the route app.py adds streams a change made by another process, and SIGTERM
    stops the server promptly even with a stream open (uvicorn would wait for it forever)."""
    db = tmp_path / "class.sqlite3"
    store = SQLiteStore(db)
    new = store.create_class()
    port = free_port()
    env = {**os.environ, "SEQGEN_CLASS_STORE": f"sqlite:///{db}", "SEQGEN_USER_MODELS": str(tmp_path / "um")}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                stream = EventStream(f"{base}/class/events?code={new.code}")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "streamlit did not start"
                time.sleep(0.2)
        with stream:
            stream.until("version")
            t0 = time.perf_counter()
            version = store.set_state(new.code, new.secret, Stage("latent-space", 3, "latent")).version
            assert stream.until("version").data == str(version) and stream.until is not None
            assert time.perf_counter() - t0 < 2.0
            reader = threading.Thread(target=lambda: stream.next_event(), daemon=True)
            reader.start()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)                                    # not held open by the stream
            reader.join(5)
            assert not reader.is_alive()                             # and the stream was ended, not cut
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
