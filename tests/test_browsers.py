"""The record of known browsers (seqgen.browsers): new browsers per address are bounded, across processes, and
the record names no token or address."""
from __future__ import annotations

import stat
import subprocess
import sys
import threading
import time

import pytest
from st_helpers import REPO

from seqgen.browsers import KEY_FILE, RECORD_FILE, BrowserRefused, Browsers, address_of


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_a_known_browser_keeps_its_id_and_a_new_one_from_the_same_address_is_refused(tmp_path):
    clock = Clock()
    browsers = Browsers(tmp_path, new_per_address=1, window_s=3600, clock=clock)
    assert browsers.known("token-a") is None
    first = browsers.identify("token-a", "203.0.113.7")
    assert browsers.identify("token-a", "203.0.113.7") == first == browsers.known("token-a")   # its other tabs
    with pytest.raises(BrowserRefused, match="Another browser on your network address"):
        browsers.identify("token-b", "203.0.113.7")          # a private window, an edited cookie, a script
    assert browsers.known("token-b") is None
    other = browsers.identify("token-c", "198.51.100.2")      # another address
    assert other != first
    clock.now += 3601                                         # an hour on, the address has a new turn
    assert browsers.identify("token-b", "203.0.113.7") not in (first, other)


def test_the_record_holds_digests_only_and_the_key_is_the_owners_alone(tmp_path):
    Browsers(tmp_path).identify("secret-token-123", "203.0.113.7")
    raw = (tmp_path / RECORD_FILE).read_bytes()
    assert b"secret-token-123" not in raw and b"203.0.113.7" not in raw
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert len((tmp_path / KEY_FILE).read_bytes()) == 32


def test_a_damaged_key_or_an_unwritable_record_is_one_sentence(tmp_path):
    (tmp_path / KEY_FILE).write_bytes(b"short")
    with pytest.raises(OSError, match="not a 32-byte key; remove it"):
        Browsers(tmp_path).known("token")
    with pytest.raises(BrowserRefused, match=r"could not look up who is training \(.*not a 32-byte key"):
        Browsers(tmp_path).identify("token", "loopback")
    record = tmp_path / "record"
    record.mkdir()
    (record / RECORD_FILE).write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(BrowserRefused, match="could not look up who is training"):
        Browsers(record).identify("token", "loopback")


RACER = """
import os, sys, time
from seqgen.browsers import BrowserRefused, Browsers
folder, token, go = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.001)
try:
    print(Browsers(folder).identify(token, "203.0.113.7"))
except BrowserRefused:
    print("refused")
"""


def test_processes_racing_for_one_address_get_one_new_browser_between_them(tmp_path):
    """Four app processes, each with a new browser from one address at the same moment: one gets in, and they
    all made and read the same key."""
    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / "record"), f"token-{i}", str(go)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i in range(4)]
    time.sleep(1.0)                     # every racer has imported and waits
    go.touch()
    got = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        got.append(out.strip())
    assert got.count("refused") == 3, got
    winner = next(g for g in got if g != "refused")
    assert Browsers(tmp_path / "record").known(f"token-{got.index(winner)}") == winner


def test_threads_racing_in_one_process_get_one_new_browser(tmp_path):
    browsers, got = Browsers(tmp_path), []
    gate = threading.Barrier(8)

    def one(i):
        gate.wait()
        try:
            got.append(browsers.identify(f"t{i}", "loopback"))
        except BrowserRefused:
            got.append("refused")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert got.count("refused") == 7, got


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "3")
    monkeypatch.setenv("SEQGEN_NEW_BROWSERS_WINDOW", "60")
    b = Browsers.from_env(tmp_path)
    assert (b.new_per_address, b.window_s) == (3, 60.0)
    monkeypatch.setenv("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "lots")
    assert Browsers.from_env(tmp_path).new_per_address == 1


def test_behind_our_nginx_the_address_is_the_one_nginx_saw():
    # nginx appends the address it saw to whatever X-Forwarded-For the browser sent
    assert address_of("127.0.0.1", "6.6.6.6, 203.0.113.7", behind_proxy=True) == "203.0.113.7"
    assert address_of("127.0.0.1", "203.0.113.7", behind_proxy=True) == "203.0.113.7"
    assert address_of("198.51.100.2", "6.6.6.6", behind_proxy=False) == "198.51.100.2"   # a header is not trusted
    assert address_of(None, None, behind_proxy=False) == "loopback"
    assert address_of(None, " , ", behind_proxy=True) == "loopback"
