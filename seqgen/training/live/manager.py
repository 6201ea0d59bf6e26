"""Training slots for live runs: at most N train at once in a process, the rest queue; abandoned runs stop.

`RunManager` (one per process, `get_manager()`) caps how many runs train at once (SEQGEN_MAX_RUNS, default:
the CPU cores it may use), queues the rest first come first served, and stops runs nobody has looked at for
`idle_timeout` seconds (SEQGEN_RUN_IDLE_TIMEOUT, default 120): the UI calls `heartbeat()` on every poll, so a
closed browser tab frees its slot.

It also caps the runs (training or queued) of one client at `max_per_client` (SEQGEN_MAX_RUNS_PER_CLIENT,
default 1), so one student with several tabs cannot take every slot. A run's client is given when it is made
(seqgen.ui.live: the browser on the deployment's record, seqgen.browsers, or the joined class seat); runs
without one (a notebook, a benchmark) are not capped per client.

Every run started through `start_for` has an owner (one browser tab: its Streamlit session), and the manager,
not the tab, remembers which run is whose. Starting is one step under the manager's lock: an owner with a run
training or queued gets that run back, so Start messages that race (two clicks with no gap, Start-Stop-Start)
never leave a run that its tab has lost track of; the tab asks `run_of(owner)` on every script run.

With several app processes (scripts/serve.py), SEQGEN_LIVE_SLOTS names the deployment's shared slot table
(slots.py): then the cap and the queue are the deployment's, whichever process a student's browser landed
on, and SEQGEN_MAX_RUNS is the deployment's total.

The manager knows a run only through the `ManagedRun` protocol below; `TrainingRun` (run.py) is one.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Protocol, TypeVar

from ...devices import usable_cores
from .slots import POLL_S, SharedSlots


class ManagedRun(Protocol):
    """What the manager asks of a run. `launch` and `wait_in_queue` are called with the manager's lock held,
    so they only change the run's own state (launch starts its thread)."""

    client: str | None           # whose run it is, for the cap per client (None: not capped)
    family: str                  # "vae" or "gan": only a GAN steps one network alone
    last_heartbeat: float        # time.monotonic() of the last sign that someone watches it

    @property
    def stopping(self) -> bool:
        """A stop was asked for."""

    def launch(self) -> None:
        """A slot is the run's: start training."""

    def wait_in_queue(self) -> None:
        """No slot is free: say so, and wait for launch()."""

    def start(self, paused: bool = False) -> object:
        """Ask this manager for a slot (submit); start_for calls it with the manager's lock held."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def step_once(self, part: str | None = None) -> None:
        """Make one more step (of a GAN's "d" or "g" alone), then stay paused."""

    def stop(self, reason: str | None = None) -> None:
        """Stop training (or waiting); the run calls release() once it has."""

    def snapshot(self) -> object:
        """What the run is doing (read for the deployment's slot table: domain, family, shown_status, step,
        total_steps, steps_per_s, elapsed)."""
        ...

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run's thread to end."""


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


R = TypeVar("R", bound=ManagedRun)
# what a tab can press (RunManager.press); step_d / step_g: a GAN's discriminator or generator alone
BUTTONS = ("start", "step", "step_d", "step_g", "pause", "resume", "stop")


class TooManyRuns(RuntimeError):
    """A client asked for more runs than it may have at once. The message says what to do."""


class RunManager:
    """Slots for training runs in one process: at most `max_runs` train at once, the rest wait in a FIFO
    queue; runs without a heartbeat for `idle_timeout` seconds are stopped (abandoned browser tabs)."""

    def __init__(self, max_runs: int | None = None, idle_timeout: float | None = None,
                 reap_interval: float | None = None, max_per_client: int | None = None,
                 shared: SharedSlots | None = None):
        self.max_runs = max_runs or _env_int("SEQGEN_MAX_RUNS", usable_cores())
        self.shared = shared                 # the deployment's slot table, or None: this process's slots only
        self._shared_ids: weakref.WeakKeyDictionary[ManagedRun, str] = weakref.WeakKeyDictionary()
        self.max_per_client = max_per_client or _env_int("SEQGEN_MAX_RUNS_PER_CLIENT", 1)
        self.idle_timeout = idle_timeout if idle_timeout is not None else _env_float("SEQGEN_RUN_IDLE_TIMEOUT", 120.0)
        self.reap_interval = reap_interval or max(0.05, min(5.0, self.idle_timeout / 4))
        if shared is not None:               # a slot may free up in another process: ask often
            self.reap_interval = min(self.reap_interval, POLL_S)
        self._lock = threading.RLock()
        self._active: list[ManagedRun] = []
        self._queue: deque[ManagedRun] = deque()
        # owner -> the owner's latest run; weak, so a finished run lives only as long as its tab keeps it
        self._owned: weakref.WeakValueDictionary[str, ManagedRun] = weakref.WeakValueDictionary()
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    # -- slots ---------------------------------------------------------------------------------------
    def submit(self, run: ManagedRun) -> None:
        """Start `run` or queue it; TooManyRuns when its client already has max_per_client runs."""
        with self._lock:
            if run in self._active or run in self._queue:
                return
            client = run.client
            if client is not None and self.runs_of(client) >= self.max_per_client:
                n = self.max_per_client
                raise TooManyRuns(f"You already have {n} training run{'s' if n > 1 else ''} going (perhaps in "
                                  "another tab), and each person may have "
                                  f"{'only one' if n == 1 else f'at most {n}'} at a time, so that everyone gets a "
                                  "turn. Stop it there, or wait until it finishes, then press Start again.")
            if self._slot_for(run):
                self._active.append(run)
                run.launch()
            else:
                self._queue.append(run)
                run.wait_in_queue()
            self._ensure_reaper()

    def _slot_for(self, run: ManagedRun) -> bool:
        """Whether `run` may train now (taking the slot); with shared slots it otherwise joins their queue."""
        if self.shared is None:
            return len(self._active) < self.max_runs
        return self.shared.claim(self._shared_ids.setdefault(run, SharedSlots.new_id()))

    def start_for(self, owner: str, make: Callable[[], R], paused: bool = False) -> R:
        """The owner's run if it is training or queued; otherwise a new one from `make()`, started (or queued)
        and remembered as the owner's, all under the manager's lock. TooManyRuns as for `submit`."""
        with self._lock:
            current = self._owned.get(owner)
            if current is not None and self._holds(current):
                return current
            run = make()
            run.start(paused=paused)          # submit() under the same (re-entrant) lock
            self._owned[owner] = run
            return run

    def press(self, owner: str, button: str, make: Callable[[], R] | None = None) -> R | None:
        """One of a tab's buttons, Start, Step once (of both networks, or D or G alone), Pause, Resume or Stop
        (BUTTONS), for `owner`'s run.
        Start and Step once make a run with `make()` (when given) only when the owner has none training or
        queued; Step once on a run pauses it after one more step. Each press is one step under the manager's
        lock, so presses that race, from one tab or several, leave every run with its owner. Returns the
        owner's run, or None."""
        if button not in BUTTONS:
            raise ValueError(f"unknown button {button!r}: one of {', '.join(BUTTONS)}")
        with self._lock:
            run = self._owned.get(owner)
            held = run is not None and self._holds(run)
            if button in ("start", "step") and not held and make is not None:
                run = self.start_for(owner, make, paused=button == "step")
                held = True
            if not held:
                return run                    # Pause, Resume, Stop with nothing training: nothing to do
            if button == "step":
                run.step_once()
            elif button in ("step_d", "step_g") and run.family == "gan":
                run.step_once(part=button[-1])
            elif button in ("pause", "resume", "stop"):
                getattr(run, button)()
            return run

    def run_of(self, owner: str) -> ManagedRun | None:
        """The owner's latest run (training, queued or finished while its tab still holds it), or None."""
        with self._lock:
            return self._owned.get(owner)

    def _holds(self, run: ManagedRun) -> bool:
        return (run in self._active or run in self._queue) and not run.stopping

    def release(self, run: ManagedRun) -> None:
        """A run finished or was stopped: free its slot (or queue place) and start whoever waits longest."""
        with self._lock:
            if run in self._active:
                self._active.remove(run)
            elif run in self._queue:
                self._queue.remove(run)
            if self.shared is not None and run in self._shared_ids:
                self.shared.release(self._shared_ids.pop(run))
            self._start_waiting()

    def _start_waiting(self) -> None:
        """Start the runs that wait longest, while there are slots (the caller holds the lock)."""
        while self._queue:
            nxt = self._queue[0]
            if nxt.stopping:                # stopped while waiting
                self._queue.popleft()
                if self.shared is not None and nxt in self._shared_ids:
                    self.shared.release(self._shared_ids.pop(nxt))
                continue
            if not self._slot_for(nxt):
                return
            self._queue.popleft()
            self._active.append(nxt)
            nxt.launch()

    def runs_of(self, client: str) -> int:
        """How many runs (training or queued) `client` has now."""
        with self._lock:
            return sum(1 for r in [*self._active, *self._queue] if r.client == client and not r.stopping)

    def queue_position(self, run: ManagedRun) -> int | None:
        """1 for the run that starts next (in the deployment, with shared slots), ...; None when not waiting."""
        with self._lock:
            if self.shared is not None:
                return self.shared.position(self._shared_ids[run]) if run in self._queue else None
            try:
                return list(self._queue).index(run) + 1
            except ValueError:
                return None

    def runs(self) -> dict[str, list[ManagedRun]]:
        with self._lock:
            return {"active": list(self._active), "queued": list(self._queue)}

    # -- abandoned runs ------------------------------------------------------------------------------
    def reap(self, now: float | None = None) -> list[ManagedRun]:
        """Stop every run (training or queued) whose last heartbeat is older than idle_timeout."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [r for r in [*self._active, *self._queue] if now - r.last_heartbeat > self.idle_timeout]
        for r in stale:
            r.stop(reason=f"Stopped: nobody watched this run for {self.idle_timeout:g} s "
                          "(the page was closed), so its training slot was freed.")
        return stale

    def _ensure_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, name="seqgen-run-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        while not self._closed.wait(self.reap_interval):
            try:
                self.reap()
                if self.shared is not None:
                    self._share()
            except Exception:  # noqa: BLE001 - never let the reaper die on one bad run or a busy table
                pass
            with self._lock:
                if not self._active and not self._queue:
                    self._reaper = None
                    return

    # -- the deployment (shared slots) --------------------------------------------------------------
    def _share(self) -> None:
        """Refresh this process's rows in the shared table with its runs' figures, stop the runs someone asked
        to stop there, and start waiting runs a slot has freed up for."""
        with self._lock:
            mine = {self._shared_ids[r]: r for r in [*self._active, *self._queue] if r in self._shared_ids}
        figures = {sid: _figures(run) for sid, run in mine.items()}
        for sid, reason in self.shared.beat(figures).items():
            if sid in mine:
                mine[sid].stop(reason=reason)
        with self._lock:
            self._start_waiting()

    def shared_id(self, run: ManagedRun) -> str | None:
        """`run`'s id in the deployment's table (None without shared slots, or once it has ended)."""
        with self._lock:
            return self._shared_ids.get(run)

    def deployment_runs(self) -> list[dict] | None:
        """Every run training or waiting in the deployment (SharedSlots.rows), or None without shared slots."""
        return None if self.shared is None else self.shared.rows()

    def stop_anywhere(self, reason: str, shared_id: str | None = None) -> None:
        """Stop the run `shared_id` (every run of the deployment, when None), whichever process trains it: this
        process's at once, another's at its next refresh (within about POLL_S seconds)."""
        with self._lock:
            mine = {sid: r for r, sid in self._shared_ids.items()}
        for sid, run in mine.items():
            if shared_id is None or sid == shared_id:
                run.stop(reason=reason)
        if self.shared is not None:
            self.shared.request_stop(reason, shared_id)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop all runs (tests, server shutdown)."""
        with self._lock:
            runs = [*self._active, *self._queue]
        for r in runs:
            r.stop()
        for r in runs:
            r.join(timeout)
        self._closed.set()


def _figures(run: ManagedRun) -> dict:
    s = run.snapshot()
    return {"domain": s.domain, "family": s.family, "status": s.shown_status, "step": s.step,
            "total": s.total_steps, "steps_per_s": round(s.steps_per_s, 2), "elapsed": round(s.elapsed, 1),
            "client": run.client is not None}


_manager: RunManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> RunManager:
    """The process-wide manager, created on first use (SEQGEN_MAX_RUNS, SEQGEN_RUN_IDLE_TIMEOUT,
    SEQGEN_LIVE_SLOTS)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            table = os.environ.get("SEQGEN_LIVE_SLOTS")
            max_runs = _env_int("SEQGEN_MAX_RUNS", usable_cores())
            _manager = RunManager(max_runs, shared=SharedSlots(table, max_runs) if table else None)
        return _manager
