"""Helpers for the class-mode tests and benchmarks/classroom.py: a real redis-server on a loopback port, a
clock the tests move, an in-process uvicorn server, and a Server-Sent Events reader over urllib."""
from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = Path("/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(timeout: float = 10.0):
    """redis-server on a free 127.0.0.1 port, nothing written to disk; yields its redis:// URL (database 0)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="seqgen-redis-") as folder:
        proc = subprocess.Popen([str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", folder, "--protected-mode", "yes"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError("redis-server did not start: " + (proc.communicate(timeout=5)[0] or "")[-500:])
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()             # only the server this helper started
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class Clock:
    """A wall clock the test moves by hand (stores take `clock=`)."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def serve_asgi(app, timeout: float = 10.0):
    """`app` under a real uvicorn server in a thread on a free loopback port; yields the base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Event:
    name: str
    data: str
    at: float                   # time.perf_counter() when its last line arrived


class EventStream:
    """One Server-Sent Events connection read line by line (urllib; http.client undoes the chunking)."""

    def __init__(self, url: str, timeout: float = 10.0, headers: dict | None = None):
        self.response = urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout)
        self.headers = self.response.headers
        self.comments = 0

    def next_event(self) -> Event | None:
        """The next event (comments are counted, not returned); None when the server ended the stream."""
        name, data = "message", []
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode("utf-8").rstrip("\r\n")
            if text == "":
                if data or name != "message":
                    return Event(name, "\n".join(data), time.perf_counter())
                continue
            if text.startswith(":"):
                self.comments += 1
            elif text.startswith("event:"):
                name = text[6:].strip()
            elif text.startswith("data:"):
                data.append(text[5:].strip())

    def until(self, name: str, data: str | None = None) -> Event:
        """Read on until an event `name` (with `data`, when given); AssertionError when the stream ends first."""
        while True:
            event = self.next_event()
            assert event is not None, f"the stream ended before event {name} {data or ''}"
            if event.name == name and (data is None or event.data == data):
                return event

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
