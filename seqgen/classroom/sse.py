"""Server-Sent Events: a class's counters pushed to browsers, so a follower's page reruns when the teacher moves.

    GET {base}/class/events?code=K7QX3M                  students: `event: version` whenever it changes
    GET {base}/class/events?code=K7QX3M&feed=teacher     also `event: activity` (answers, joins, drawings, ...)
    GET {base}/class/events?code=K7QX3M&student=ID&following=1
                                                         a student's stream: while it is open it is the
                                                         student's heartbeat (presence), so an idle follower
                                                         costs no script rerun to stay counted

A stream opens with `retry: 3000` and the current counters, then sends an event each time they change, an
`event: ended` once the teacher ends the class, and `event: gone` (then closes) when the class is deleted. A
comment line (`: keep-alive`) every settings.keepalive_s keeps proxies and browsers from closing an idle stream.
In the browser:

    const events = new EventSource(`/class/events?code=${code}`);
    events.addEventListener("version", (e) => rerunIfNewer(Number(e.data)));

The cost does not grow with the class: one `ClassWatch` per class per app process reads the store (SQLite: a
one-row query every settings.poll_interval_s in a worker thread; Redis: a pub/sub message) and fans the
counters out to every subscriber of that process through an asyncio.Event each; a subscriber that has not
caught up gets only the latest counters (it never queues). The watch stops with its last subscriber.
Subscribers are capped per process (settings.max_subscribers) and per class (PER_CLASS_SEATS times the class
cap); over a cap the answer is 503 with Retry-After, which EventSource retries on its own.

The endpoint is a plain ASGI app (not a StreamingResponse) so it notices a closed tab at once: it waits on the
connection's http.disconnect alongside the class's changes, and a send that cannot complete within
SEND_TIMEOUT_S ends the stream too. A stream also ends when the server shuts down: uvicorn's graceful shutdown
waits for every open response to finish, and an event stream never would, so a stopped app process (Ctrl-C,
serve.py, systemd) would hang. uvicorn asks each unfinished response to end by turning its connection's
keep-alive off (`RequestResponseCycle.keep_alive`, the object behind `receive`); the hub looks for that every
SHUTDOWN_CHECK_S and ends those streams without an event, so browsers reconnect to whichever process serves
next. Behind nginx the response carries `X-Accel-Buffering: no`, and
deploy/nginx/seqgen.conf.template's one location (read timeout 1 h) carries the stream unbuffered because of
that header; the keep-alive comments keep it well inside the timeout.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable

from starlette.requests import Request
from starlette.routing import Route

from ..locale import Sentence
from .base import BaseStore
from .errors import ClassError, refused
from .records import Versions
from .security import normalise_code
from .store import get_store

FEEDS = ("student", "teacher")
PER_CLASS_SEATS = 3          # tabs per seat: a student may have the class open on a phone and a laptop
SEND_TIMEOUT_S = 30.0
SHUTDOWN_CHECK_S = 0.5
RETRY_MS = 3000
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache, no-transform"),
           (b"x-accel-buffering", b"no")]
log = logging.getLogger(__name__)
_NOT_YET = object()


class Subscriber:
    """One open stream: what it has sent, and a wake-up when the watch saw something newer."""

    def __init__(self, feed: str, server_closing: Callable[[], bool] = lambda: False):
        self.feed = feed
        self.server_closing = server_closing
        self.wake = asyncio.Event()
        self.latest: Versions | None = None
        self.gone = False            # the class was deleted: say so, and close
        self.closing = False         # the server is shutting down: close without a word (the browser reconnects)
        self.sent: Versions | None = None

    def offer(self, versions: Versions | None) -> None:
        if versions is None:
            self.gone = True
            self.wake.set()
            return
        self.latest = versions
        if self.sent is None or versions.version != self.sent.version or versions.ended != self.sent.ended \
                or (self.feed == "teacher" and versions.activity != self.sent.activity):
            self.wake.set()

    def take(self) -> bytes:
        """The events that bring this stream up to date (b"" when it is)."""
        self.wake.clear()
        now, before = self.latest, self.sent
        if now is None:
            return b""
        events = []
        if before is None or now.version != before.version:
            events.append(f"event: version\ndata: {now.version}\n\n")
        if self.feed == "teacher" and (before is None or now.activity != before.activity):
            events.append(f"event: activity\ndata: {now.activity}\n\n")
        if now.ended and (before is None or not before.ended):
            events.append(f"event: ended\ndata: {now.version}\n\n")
        self.sent = now
        return "".join(events).encode()


class ClassWatch:
    """The one reader of a class's counters in this process, for all of its subscribers here."""

    def __init__(self, store: BaseStore, code: str):
        self.code = code
        self.subscribers: set[Subscriber] = set()
        self.latest = _NOT_YET
        self.task = asyncio.ensure_future(self._run(store))

    async def _run(self, store: BaseStore) -> None:
        stream = store.watch(self.code)
        try:
            async for versions in stream:
                self.latest = versions
                for subscriber in list(self.subscribers):
                    subscriber.offer(versions)
        except Exception:  # noqa: BLE001 - a broken watch must end its streams (browsers reconnect), not hang them
            log.exception("class %s: watching its changes failed", self.code)
            self.latest = None
            for subscriber in list(self.subscribers):
                subscriber.offer(None)
        finally:
            await stream.aclose()


class Hub:
    """This event loop's watches and subscribers."""

    def __init__(self, store: BaseStore):
        self.store = store
        self.watches: dict[str, ClassWatch] = {}
        self.count = 0
        self._shutdown_check: asyncio.Task | None = None

    async def _check_shutdown(self) -> None:
        while self.count:
            await asyncio.sleep(SHUTDOWN_CHECK_S)
            for watch in list(self.watches.values()):
                for subscriber in list(watch.subscribers):
                    if not subscriber.closing and subscriber.server_closing():
                        subscriber.closing = True
                        subscriber.wake.set()

    def subscribe(self, code: str, feed: str, server_closing: Callable[[], bool] = lambda: False) -> Subscriber | None:
        """A new subscriber of `code`, or None when this process or this class has all it takes."""
        settings = self.store.settings
        watch = self.watches.get(code)
        if self.count >= settings.max_subscribers or \
                (watch is not None and len(watch.subscribers) >= PER_CLASS_SEATS * settings.max_students):
            return None
        if watch is None or watch.task.done():
            watch = self.watches[code] = ClassWatch(self.store, code)
        subscriber = Subscriber(feed, server_closing)
        watch.subscribers.add(subscriber)
        self.count += 1
        if self._shutdown_check is None or self._shutdown_check.done():
            self._shutdown_check = asyncio.ensure_future(self._check_shutdown())
        if watch.latest is not _NOT_YET:
            subscriber.offer(watch.latest)
        return subscriber

    def unsubscribe(self, code: str, subscriber: Subscriber) -> None:
        watch = self.watches.get(code)
        if watch is None or subscriber not in watch.subscribers:
            return
        watch.subscribers.discard(subscriber)
        self.count -= 1
        if not watch.subscribers:
            watch.task.cancel()
            del self.watches[code]


class ClassEvents:
    """The ASGI endpoint of GET /class/events."""

    def __init__(self, store: BaseStore | None = None):
        self._store = store
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()

    def hub(self) -> Hub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = Hub(self._store if self._store is not None else get_store())
        return hub

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope)
        try:
            code = normalise_code(request.query_params.get("code", ""))
            feed = request.query_params.get("feed", "student")
            if feed not in FEEDS:
                raise ClassError(Sentence("feed is student or teacher, not {feed!r}.", feed=feed[:20]))
            hub = self.hub()
            first = await asyncio.to_thread(hub.store.versions, code)
            if first is None:
                raise refused("unknown_class", code=code)
        except ClassError as e:
            status = {"unknown_class": 404, "unavailable": 503}.get(e.reason, 400)
            return await _plain(send, status, str(e))
        student = request.query_params.get("student")
        following = request.query_params.get("following", "1") != "0"
        if student is not None:
            try:                # a stream for a student id that is not in the class is refused at once
                await asyncio.to_thread(hub.store.heartbeat, code, student, following)
            except ClassError as e:
                status = {"unknown_class": 404, "unavailable": 503}.get(e.reason, 403)
                return await _plain(send, status, str(e))
        subscriber = hub.subscribe(code, feed, _server_closing(receive))
        if subscriber is None:
            return await _plain(send, 503, str(refused("unavailable")), retry_after=RETRY_MS // 1000)
        beating = None if student is None else asyncio.ensure_future(
            _heartbeats(hub.store, code, student, following))
        try:
            await _stream(subscriber, receive, send, hub.store.settings.keepalive_s)
        finally:
            hub.unsubscribe(code, subscriber)
            if beating is not None:
                beating.cancel()


async def _heartbeats(store: BaseStore, code: str, student: str, following: bool) -> None:
    """A student's presence while their stream is open: a heartbeat a third of the presence timeout apart."""
    every = store.settings.presence_timeout_s / 3
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(store.heartbeat, code, student, following)
        except ClassError:          # the class ended or the store is busy: the stream itself says so
            pass


async def _stream(subscriber: Subscriber, receive, send, keepalive_s: float) -> None:
    disconnected = asyncio.ensure_future(_disconnect(receive))

    async def body(data: bytes, more: bool = True) -> None:
        await asyncio.wait_for(send({"type": "http.response.body", "body": data, "more_body": more}), SEND_TIMEOUT_S)

    try:
        await asyncio.wait_for(send({"type": "http.response.start", "status": 200, "headers": HEADERS}),
                               SEND_TIMEOUT_S)
        await body(f"retry: {RETRY_MS}\n\n".encode())
        while not disconnected.done():
            events = subscriber.take()
            if events:
                await body(events)
            if subscriber.gone:
                await body(b"event: gone\ndata: \n\n", more=False)
                return
            if subscriber.closing:
                await body(b"", more=False)
                return
            if events:
                continue
            woken = asyncio.ensure_future(subscriber.wake.wait())
            done, _ = await asyncio.wait({woken, disconnected}, timeout=keepalive_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if not done:
                await body(b": keep-alive\n\n")
    except (TimeoutError, OSError):       # the client went away mid-send, or stopped reading
        return
    finally:
        disconnected.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await disconnected


def _server_closing(receive) -> Callable[[], bool]:
    """Whether uvicorn has asked this response to end (graceful shutdown: its cycle's keep_alive turned off).
    A request that came without keep-alive, or another server, gives a check that is never true."""
    cycle = getattr(receive, "__self__", None)
    if getattr(cycle, "keep_alive", None) is not True:
        return lambda: False
    return lambda: not cycle.keep_alive


async def _disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _plain(send, status: int, text: str, retry_after: int | None = None) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


def routes(base_url: str = "", store: BaseStore | None = None) -> list[Route]:
    """The routes app.py gives st.App (under `server.baseUrlPath` when one is set). `store`: the one to stream
    from (tests, benchmarks); by default this process's get_store(), opened on the first request."""
    base = "/" + base_url.strip("/") if base_url.strip("/") else ""
    return [Route(f"{base}/class/events", ClassEvents(store), methods=["GET"])]
