"""A protocol-level Streamlit client: what the browser sends and receives on `/_stcore/stream`, no browser.

The browser's frontend talks to the server over one websocket per tab, in protobufs: it sends a `BackMsg`
whose `rerun_script` (a `ClientState`) carries the page, the URL's query string, the widget values and,
for a widget inside an `st.fragment`, that fragment's id; the server answers with `ForwardMsg`s (the
session, the navigation, one `delta` per element, `page_info_changed` when st.query_params changes,
`auto_rerun` for fragments with run_every, and `script_finished`). Images and sounds arrive as `/media/...`
URLs that the browser then fetches; this client fetches them too, so the server serves what it would for a
browser. Widgets are found by their user key, the last part of Streamlit's element id.

    session = Session("http://127.0.0.1:8501", "latent", "model=digits-vae")
    run = await session.open()                       # first page load: -> Run (sent .. finished)
    run = await session.set_widget("le_z0", double_array_value=[0.5])
    run = await session.set_widget("le_pad", json_value={"z": [0.5, 1.0]})
    run = await session.reconnect()                  # a network blip: new websocket, same server session
    run = await session.press_together(["lt_start", "lt_stop", "lt_start"])   # three presses, no gap
    await session.close()

Behind a proxy that routes by cookie (scripts/serve.py), give the sessions of one browser one `cookies` dict:
it is sent with the websocket handshake and every fetch and takes the `Set-Cookie`s that come back, and
`on_response(path, status, headers)` sees the response headers (e.g. which process answered).

Only `websockets` (installed with Streamlit) and Streamlit's own proto classes are needed.
"""
from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = (FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
ERROR_FORMAT = 1        # streamlit.proto.Alert.Format.ERROR


@dataclass
class Run:
    """One script run this client asked for, with what came back for it (times from time.perf_counter)."""
    sent: float
    fragment: str = ""
    first_media: float | None = None     # the first image or sound of the run fetched over HTTP
    url: float | None = None             # page_info_changed (the address bar) arrived
    finished: float | None = None
    status: str = ""
    images: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)      # st.audio URLs (fetched, as a player loads them)
    texts: list[str] = field(default_factory=list)      # progress and alert texts, for callers that read them
    query: str | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.sent


class ProtocolError(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]]       # lower-case name -> its values (Set-Cookie may come more than once)
    body: bytes


async def http_request(host: str, port: int, path: str, timeout: float = 30.0,
                       cookies: dict[str, str] | None = None, send: dict[str, str] | None = None) -> Response:
    """GET path over a fresh HTTP/1.1 connection, sending `cookies` and any other request headers in `send`."""
    async def go():
        reader, writer = await asyncio.open_connection(host, port)
        cookie = f"Cookie: {cookie_header(cookies)}\r\n" if cookies else ""
        extra = "".join(f"{k}: {v}\r\n" for k, v in (send or {}).items())
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{cookie}{extra}Connection: close\r\n\r\n"
                     .encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1]) if lines[0].startswith("HTTP/") else 0
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        return Response(status, headers, body)
    return await asyncio.wait_for(go(), timeout)


async def http_get(host: str, port: int, path: str, timeout: float = 30.0) -> tuple[int, int]:
    """GET path over a fresh HTTP/1.1 connection: -> (status, body bytes)."""
    r = await http_request(host, port, path, timeout)
    return r.status, len(r.body)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def take_cookies(jar: dict[str, str], set_cookies: list[str]) -> None:
    """Store each `Set-Cookie: name=value; attributes` in jar, as a browser does (attributes ignored)."""
    for header in set_cookies:
        name, _, value = header.split(";", 1)[0].partition("=")
        if name.strip():
            jar[name.strip()] = value.strip()


class Session:
    """One browser tab's websocket session (see the module docstring)."""

    def __init__(self, base: str, page: str = "", query: str = "", fetch_media: bool = True,
                 follow_auto_rerun: bool = True, cookies: dict[str, str] | None = None, on_response=None):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.page, self.query = page, query
        self.fetch_media = fetch_media
        self.follow_auto_rerun = follow_auto_rerun
        self.cookies = cookies
        self.on_response = on_response                  # (path, status, headers) -> None, or None
        self.session_id = ""                            # the server's id for this session (new_session)
        self.page_hash = ""
        self.widgets: dict[str, WidgetState] = {}       # id -> the value this client set last
        self.by_key: dict[str, str] = {}                # user key -> element id (the latest seen)
        self.fragment_of: dict[str, str] = {}           # element id -> fragment id ("" outside fragments)
        self.protos: dict[str, object] = {}             # element id -> its proto (the latest seen)
        self.texts: list[tuple[float, str]] = []        # (time, text) of every st.progress (live page)
        self.markdown: list[tuple[float, str]] = []     # (time, text) of every st.markdown (e.g. a run's status)
        self.auto_fragments: dict[str, float] = {}      # fragment id -> run_every interval, as the server asked
        self.errors: list[str] = []                     # errors shown outside a run this client asked for
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._auto: dict[str, asyncio.Task] = {}
        self._current: Run | None = None
        self._done = asyncio.Event()
        self._lock = asyncio.Lock()
        self._media: list[asyncio.Task] = []
        self.closed_error: str | None = None

    # ------------------------------------------------------------------------------------------ public
    async def open(self, timeout: float = 60.0) -> Run:
        await self._connect(["streamlit"], timeout)
        return await self._rerun(page_name=self.page, timeout=timeout)

    async def reconnect(self, timeout: float = 60.0) -> Run:
        """Drop the websocket and open a new one asking for this session back (the browser's reconnect: the
        subprotocols carry the XSRF token and the session id), then rerun with the same widget values."""
        await self._disconnect()
        self.closed_error = None
        xsrf = (self.cookies or {}).get("_streamlit_xsrf") or "none"
        await self._connect(["streamlit", xsrf, self.session_id], timeout)
        return await self._rerun(timeout=timeout)

    async def fetch(self, path: str, timeout: float = 30.0, headers: dict[str, str] | None = None) -> Response:
        """GET path from the server as this session's browser would (its cookies; on_response sees it)."""
        r = await http_request(self.host, self.port, path, timeout, self.cookies, headers)
        self._saw(path, r.status, r.headers)
        return r

    async def set_widget(self, key: str, timeout: float = 60.0, **value) -> Run:
        """Give the widget with user key `key` a new value (one WidgetState field, e.g. double_value=0.5,
        trigger_value=True, json_value={...} which is sent as JSON) and rerun as the browser would."""
        wid = self.widget_id(key)
        ws = WidgetState(id=wid)
        ((name, v),) = value.items()
        if name in ("json_value", "json_trigger_value") and not isinstance(v, str):
            v = json.dumps(v)
        if name.endswith("_array_value"):
            getattr(ws, name).data.extend(v)
        else:
            setattr(ws, name, v)
        self.widgets[wid] = ws
        try:
            return await self._rerun(fragment=self.fragment_of.get(wid, ""), timeout=timeout)
        finally:
            if name.startswith("trigger") or name.endswith("trigger_value"):
                self.widgets.pop(wid, None)     # a button press is sent once

    async def go_to(self, page: str, query: str = "", timeout: float = 60.0) -> Run:
        """In-app navigation to another page (a sidebar link): the same session, so its state stays."""
        self.page, self.query, self.page_hash = page, query, ""
        return await self._rerun(page_name=page, timeout=timeout)

    async def rerun(self, timeout: float = 60.0) -> Run:
        """Run the page again with the widget values as they are (what the browser does now and then)."""
        return await self._rerun(timeout=timeout)

    async def press_together(self, keys: list[str], timeout: float = 60.0) -> Run:
        """Press the buttons `keys` with no gap between them: one rerun message each, sent back to back before
        the server has answered any (as a double click, or a script, can). -> the run that ends the burst (the
        first script run that finishes other than by being cut short by the next message)."""
        async with self._lock:
            run = Run(sent=time.perf_counter())
            self._current, self._done = run, asyncio.Event()
            for key in keys:
                wid = self.widget_id(key)
                widgets = [*(w for k, w in self.widgets.items() if k != wid), WidgetState(id=wid, trigger_value=True)]
                await self._ws.send(self._message(widgets, self.fragment_of.get(wid, "")).SerializeToString())
            try:
                await asyncio.wait_for(self._done.wait(), timeout)
            except TimeoutError:
                run.errors.append(f"no script_finished within {timeout:g} s")
            self._current = None
            return run

    def widget_id(self, key: str) -> str:
        try:
            return self.by_key[key]
        except KeyError:
            raise ProtocolError(f"no widget with key {key!r} on the page (have: {sorted(self.by_key)})") from None

    def proto(self, key: str):
        return self.protos.get(self.by_key.get(key, ""))

    async def close(self) -> None:
        await self._disconnect()
        for t in self._media:
            t.cancel()

    # ------------------------------------------------------------------------------------------ internals
    async def _connect(self, subprotocols: list[str], timeout: float) -> None:
        uri = f"ws://{self.host}:{self.port}/_stcore/stream"
        headers = {"Origin": f"http://{self.host}:{self.port}"}     # as a browser sends; Streamlit checks it
        if self.cookies:
            headers["Cookie"] = cookie_header(self.cookies)
        self._ws = await websockets.connect(uri, subprotocols=subprotocols, max_size=2 ** 26, open_timeout=timeout,
                                            ping_interval=None, additional_headers=headers)
        response = self._ws.response
        self._saw("/_stcore/stream", response.status_code,
                  {k.lower(): response.headers.get_all(k) for k in set(response.headers.keys())})
        self._reader = asyncio.create_task(self._read_loop())

    async def _disconnect(self) -> None:
        for t in self._auto.values():
            t.cancel()
        self._auto.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)   # its last words land before a reconnect

    def _saw(self, path: str, status: int, headers: dict[str, list[str]]) -> None:
        if self.cookies is not None:
            take_cookies(self.cookies, headers.get("set-cookie", []))
        if self.on_response is not None:
            self.on_response(path, status, headers)

    async def _rerun(self, page_name: str = "", fragment: str = "", timeout: float = 60.0,
                     auto: bool = False) -> Run:
        async with self._lock:
            run = Run(sent=time.perf_counter(), fragment=fragment)
            msg = self._message(list(self.widgets.values()), fragment, auto, page_name)
            self._current, self._done = run, asyncio.Event()
            self._media = []
            await self._ws.send(msg.SerializeToString())
            try:
                await asyncio.wait_for(self._done.wait(), timeout)
            except TimeoutError:
                run.errors.append(f"no script_finished within {timeout:g} s")
            if self._media:
                await asyncio.gather(*self._media, return_exceptions=True)
            self._current = None
            if self.closed_error and not run.finished:
                run.errors.append(self.closed_error)
            return run

    def _message(self, widgets: list[WidgetState], fragment: str = "", auto: bool = False,
                 page_name: str = "") -> BackMsg:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if page_name and not self.page_hash:
            cs.page_name = page_name
        cs.widget_states.widgets.extend(widgets)
        if fragment:
            cs.fragment_id = fragment
        cs.is_auto_rerun = auto
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        cs.context_info.url = f"http://{self.host}:{self.port}/{self.page}?{self.query}"
        return msg

    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass
        except Exception as e:  # noqa: BLE001 - a protocol surprise ends this session, reported as an error
            self.closed_error = f"client error: {type(e).__name__}: {e}"
        finally:
            self.closed_error = self.closed_error or "websocket closed"
            self._done.set()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        run = self._current
        if kind == "delta":
            self._delta(msg, run)
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
            self.session_id = msg.new_session.initialize.session_id or self.session_id
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
            if run is not None and run.url is None:
                run.url, run.query = time.perf_counter(), self.query
        elif kind == "auto_rerun":
            fid = msg.auto_rerun.fragment_id
            self.auto_fragments[fid] = msg.auto_rerun.interval
            if self.follow_auto_rerun and fid not in self._auto:
                self._auto[fid] = asyncio.create_task(self._auto_loop(fid, msg.auto_rerun.interval))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                task = self._auto.pop(fid, None)
                if task is not None:
                    task.cancel()
        elif kind == "script_finished":
            status = msg.script_finished
            if run is not None and status != FINISHED.FINISHED_EARLY_FOR_RERUN:
                run.finished, run.status = time.perf_counter(), FINISHED.Name(status)
                if status not in DONE:
                    run.errors.append(f"script finished with {FINISHED.Name(status)}")
                self._done.set()

    def _delta(self, msg: ForwardMsg, run: Run | None) -> None:
        d = msg.delta
        if d.WhichOneof("type") != "new_element":
            return
        el = d.new_element
        etype = el.WhichOneof("type")
        if etype is None:
            return
        sub = getattr(el, etype)
        wid = getattr(sub, "id", "") if hasattr(sub, "id") else ""
        if wid:
            key = wid.split("-", 2)[-1] if wid.startswith("$$ID-") else wid   # a user key may hold "-"
            self.by_key[key] = wid
            self.fragment_of[wid] = d.fragment_id
            self.protos[wid] = sub
        sink = run.errors if run is not None else self.errors
        if etype == "exception":
            sink.append(f"exception: {sub.message[:200]}")
        elif etype == "alert":
            if sub.format == ERROR_FORMAT:
                sink.append(f"st.error: {sub.body[:200]}")
            if run is not None:
                run.texts.append(sub.body)
        elif etype == "markdown":
            self.markdown.append((time.perf_counter(), sub.body))
            del self.markdown[:-200]                    # the latest are what callers read
        elif etype == "progress":
            self.texts.append((time.perf_counter(), sub.text))
            if run is not None:
                run.texts.append(sub.text)
        elif etype == "audio" and run is not None and sub.url:
            run.audio.append(sub.url)
            if self.fetch_media and sub.url.startswith("/"):      # the player loads it to show its length
                self._media.append(asyncio.create_task(self._fetch(run, sub.url)))
        elif etype == "imgs" and run is not None:
            for img in sub.imgs:
                run.images.append(img.url)
                if self.fetch_media and img.url.startswith("/"):
                    self._media.append(asyncio.create_task(self._fetch(run, img.url)))

    async def _fetch(self, run: Run, path: str) -> None:
        status = (await self.fetch(path)).status
        if status != 200:
            run.errors.append(f"GET {path}: HTTP {status}")
        elif run.first_media is None:
            run.first_media = time.perf_counter()

    async def _auto_loop(self, fragment: str, interval: float) -> None:
        """What the frontend does for st.fragment(run_every=...): rerun that fragment every `interval` s."""
        while True:
            await asyncio.sleep(interval)
            if self._ws is None or self.closed_error:
                return
            run = await self._rerun(fragment=fragment, auto=True, timeout=15.0)
            self.errors.extend(e for e in run.errors if not e.startswith("no script_finished"))
