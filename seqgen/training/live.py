"""Live mini-training: a run in a background thread that a UI (the Streamlit Live training page, a
notebook, a benchmark) watches through immutable snapshots. No Streamlit here.

    run = TrainingRun("digits", "vae")          # live defaults: hidden 128, non-AR decoder, lr 2e-3
    run.start()                                   # -> queued or running (at most N runs per process)
    snap = run.snapshot()                         # step, losses, fixed-noise samples, latent map ...
    run.pause(); run.step_once(); run.resume(); run.stop()
    run.save("my-digits")                         # into the user models folder the other pages list

Design:
- `TrainingRun` owns one thread. All state the UI reads sits behind `_lock` and is copied out by
  `snapshot()` (a frozen dataclass of tuples / read-only arrays). The model itself is only touched
  under `_model_lock`, held for each training step, so `model_copy()` / `save()` work mid-run.
- `RunManager` (one per process, `get_manager()`) caps how many runs train at once (SEQGEN_MAX_RUNS,
  default: CPU cores), queues the rest first come first served, and stops runs nobody has looked at
  for `idle_timeout` seconds (SEQGEN_RUN_IDLE_TIMEOUT, default 120): the UI calls `heartbeat()` on
  every poll, so a closed browser tab frees its slot.
- Threads: the training thread gives itself `threads` torch threads (default 1; DESIGN.md section 7).
  torch.set_num_threads() is per calling thread (OpenMP/MKL thread-local settings) but also sets the
  default for threads created later; we restore that default so the server's other threads keep theirs.
"""
from __future__ import annotations

import copy
import itertools
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import torch

from .trainer import Trainer, TrainingDiverged

# ------------------------------------------------------------------------------------------------ knobs
DOMAINS = ("digits", "names", "melodies")
FAMILIES = ("vae", "gan")


@dataclass(frozen=True)
class Knob:
    """One setting a student can change, with a one-line explanation for the page."""
    name: str
    label: str
    help: str
    target: str                       # "model" (ModelConfig field) | "train" (TrainConfig field)
    options: tuple = ()               # choice knobs
    min: float | None = None          # numeric knobs
    max: float | None = None
    step: float | None = None
    families: tuple[str, ...] = FAMILIES
    discrete_only: bool = False       # only meaningful for token domains (names, melodies)


KNOBS: tuple[Knob, ...] = (
    Knob("cell", "Cell", "LSTM or GRU: the recurrent unit that reads/writes one row, letter or note per step. "
         "LSTM has the fast fused CPU kernel here.", "model", options=("lstm", "gru")),
    Knob("hidden", "Hidden size", "Memory of the recurrent layer. Bigger learns more per step but each step is "
         "slower (256 costs 3-4x of 128).", "model", options=(16, 32, 64, 96, 128, 256)),
    Knob("lr", "Learning rate", "Size of each optimiser step. Too high and training blows up (the run stops and "
         "says so); too low and nothing seems to happen.", "train",
         options=(1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1)),
    Knob("batch_size", "Batch size", "Examples per step: bigger batches give smoother curves but slower steps.",
         "train", options=(8, 16, 32, 64, 128)),
    Knob("steps", "Steps", "How many training steps the run makes before it finishes on its own.", "train",
         min=10, max=50_000, step=10),
    Knob("latent", "Latent size", "Size of z, the code the encoder compresses each example into. With 2 you can "
         "see the whole latent map and explore it later.", "model", min=1, max=32, step=1, families=("vae",)),
    Knob("kl_anneal_steps", "KL annealing (steps)", "The KL penalty ramps up from 0 over this many steps, so the "
         "decoder learns to use z before being pulled towards the prior. 0 = full penalty from the start.",
         "train", min=0, max=5000, step=50, families=("vae",)),
    Knob("free_bits", "Free bits (nats per dim)", "KL below this many nats per latent dimension costs nothing, "
         "which stops the latent from collapsing to 'unused'.", "model", min=0.0, max=3.0, step=0.25,
         families=("vae",)),
    Knob("word_dropout", "Word dropout", "Hide the previous letter/note from the decoder this often, so it has "
         "to rely on z instead of just continuing the sequence.", "model", min=0.0, max=0.7, step=0.05,
         families=("vae",), discrete_only=True),
    Knob("feature_matching", "Feature matching", "The generator also matches the discriminator's average "
         "features of real data: a steadier target than only fooling D (weight; 0 = off).", "model",
         min=0.0, max=2.0, step=0.25, families=("gan",)),
    Knob("label_smoothing", "Label smoothing", "D is trained to say 0.9 (not 1) for real data, so it cannot get "
         "overconfident and starve the generator of gradient.", "model", min=0.0, max=0.3, step=0.05,
         families=("gan",)),
    Knob("d_steps", "D steps", "Discriminator updates per generator update.", "train", min=1, max=5, step=1,
         families=("gan",)),
)
KNOB_BY_NAME = {k.name: k for k in KNOBS}

# Live defaults (DESIGN.md section 7): hidden 128 (3-4x cheaper than the shipped 256), the digits VAE with
# the non-autoregressive decoder at hidden 96 and lr 3e-3 (recognisable digits in 50-54 s on 2 cores, against
# 66-68 s at hidden 128: benchmarks/time_to_quality.py), GANs with the stabilising options on.
_COMMON = dict(cell="lstm", hidden=128, batch_size=64)
LIVE_DEFAULTS: dict[tuple[str, str], dict] = {
    ("digits", "vae"): dict(_COMMON, hidden=96, lr=3e-3, steps=3000, latent=2, kl_anneal_steps=0, free_bits=0.0),
    ("names", "vae"): dict(_COMMON, lr=2e-3, steps=3000, latent=2, kl_anneal_steps=500, free_bits=0.0,
                           word_dropout=0.3),
    ("melodies", "vae"): dict(_COMMON, lr=2e-3, steps=3000, latent=2, kl_anneal_steps=500, free_bits=0.0,
                              word_dropout=0.4),
    ("digits", "gan"): dict(_COMMON, lr=1e-3, steps=3000, feature_matching=1.0, label_smoothing=0.1, d_steps=1),
    ("names", "gan"): dict(_COMMON, lr=2e-3, steps=3000, feature_matching=1.0, label_smoothing=0.1, d_steps=1),
    ("melodies", "gan"): dict(_COMMON, lr=2e-3, steps=3000, feature_matching=1.0, label_smoothing=0.1,
                              d_steps=1),
}
# Settings that are not knobs but differ from the shipped presets for live runs.
_FIXED_TRAIN = dict(eval_every=100)                        # held-out validation every 100 steps
# The shipped GANs' diversity terms pay off over thousands of steps; live runs keep the plain setup whose
# time-to-quality benchmarks/time_to_quality.py measured (digits GAN: 80 % requested digit at 202 s).
_NO_DIVERSITY_TERMS = dict(mode_seeking=0.0, minibatch_std=False)
_FIXED_MODEL: dict[tuple[str, str], dict] = {
    ("digits", "vae"): dict(autoregressive=False),
    ("digits", "gan"): _NO_DIVERSITY_TERMS, ("names", "gan"): _NO_DIVERSITY_TERMS,
    ("melodies", "gan"): _NO_DIVERSITY_TERMS,
}
_FIXED_TRAIN_BY: dict[tuple[str, str], dict] = {
    ("names", "gan"): dict(mle_steps=300),                 # short SeqGAN-style warm-up (preset: 4000)
    ("melodies", "gan"): dict(mle_steps=300),
}


def knobs_for(domain: str, family: str) -> list[Knob]:
    """The knobs that mean something for this domain/family, in display order."""
    from ..domains import get_domain
    discrete = get_domain(domain).discrete
    return [k for k in KNOBS if family in k.families and (discrete or not k.discrete_only)]


def live_defaults(domain: str, family: str) -> dict:
    if (domain, family) not in LIVE_DEFAULTS:
        raise ValueError(f"no live training for {domain}/{family}; choose a domain from {DOMAINS} "
                         f"and a family from {FAMILIES}")
    return dict(LIVE_DEFAULTS[(domain, family)])


def build_configs(domain: str, family: str, knobs: Mapping[str, Any] | None = None):
    """(ModelConfig, TrainConfig, knob values used) for a live run; unknown knob names raise ValueError."""
    from ..presets import configure
    values = live_defaults(domain, family)
    unknown = sorted(set(knobs or {}) - set(KNOB_BY_NAME))
    if unknown:
        raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
    values.update({k: v for k, v in (knobs or {}).items() if v is not None})
    allowed = {k.name for k in knobs_for(domain, family)}
    values = {k: v for k, v in values.items() if k in allowed}
    model_over = dict(_FIXED_MODEL.get((domain, family), {}))
    train_over = dict(_FIXED_TRAIN, **_FIXED_TRAIN_BY.get((domain, family), {}))
    for k, v in values.items():
        (model_over if KNOB_BY_NAME[k].target == "model" else train_over)[k] = v
    # keep eval cheap relative to the run: never fewer than ~3 validations, never more than every 25 steps
    train_over["eval_every"] = max(25, min(train_over["eval_every"], int(train_over.get("steps", 3000)) // 3 or 25))
    model_cfg, train_cfg, _ = configure(domain=domain, family=family, model_overrides=model_over,
                                        train_overrides=train_over)
    return model_cfg, train_cfg, values


def describe_knobs(values: Mapping[str, Any]) -> str:
    def fmt(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k}={fmt(v)}" for k, v in values.items())


# ------------------------------------------------------------------------------------------------ snapshots
ACTIVE = ("queued", "starting", "running", "paused")
FINISHED = ("done", "stopped", "diverged", "error")


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of a run's state for the UI. Series are tuples; arrays are read-only."""
    run_id: str
    domain: str
    family: str
    knobs: Mapping[str, Any]
    status: str                        # queued | starting | running | paused | done | stopped | diverged | error
    message: str                       # plain words: what is happening / what went wrong
    queue_position: int | None         # 1 = next to start; None when not queued
    step: int
    total_steps: int
    elapsed: float                     # seconds spent training (queue and pauses excluded)
    steps_per_s: float
    history: Mapping[str, tuple]       # "step" + loss series (downsampled: at most ~max_points points)
    validation: Mapping[str, tuple]    # "step" + held-out figures, one point per validation
    samples: tuple                     # artifacts from the fixed preview noise (images / strings / notes)
    sample_labels: tuple | None        # requested label names for conditional models
    samples_step: int                  # the step the samples were drawn at (-1: none yet)
    latent: np.ndarray | None          # [N, 2] means of a fixed validation batch (2-D VAEs only)
    latent_labels: np.ndarray | None   # [N] their labels
    latent_step: int
    version: int                       # increases whenever anything changes

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> float:
        return min(1.0, self.step / max(1, self.total_steps))


class _Series:
    """Per-step values averaged into buckets of `stride` steps; when longer than max_points, neighbouring
    points merge and the stride doubles, so a long run stays a few hundred points (the page stays light)."""

    def __init__(self, max_points: int = 500):
        self.max_points = max_points
        self.stride = 1
        self.cols: dict[str, list[float]] = {"step": []}
        self._bucket: dict[str, list[float]] = {}
        self._bucket_n = 0

    def add(self, step: int, values: Mapping[str, float]) -> None:
        for k, v in values.items():
            self._bucket.setdefault(k, []).append(float(v))
        self._bucket_n += 1
        if self._bucket_n >= self.stride:
            self._flush(step)

    def _flush(self, step: int) -> None:
        n = len(self.cols["step"])
        self.cols["step"].append(step)
        for k, vs in self._bucket.items():
            col = self.cols.setdefault(k, [math.nan] * n)
            col.append(sum(vs) / len(vs))
        for k, col in self.cols.items():   # keys missing from this bucket (e.g. "mle" after warm-up)
            if len(col) < n + 1:
                col.append(math.nan)
        self._bucket, self._bucket_n = {}, 0
        if len(self.cols["step"]) > self.max_points:
            for k, col in self.cols.items():
                if k == "step":
                    self.cols[k] = col[1::2]
                else:
                    self.cols[k] = [_nanmean(col[i:i + 2]) for i in range(0, len(col) - 1, 2)]
            self.stride *= 2

    def frozen(self) -> Mapping[str, tuple]:
        return MappingProxyType({k: tuple(v) for k, v in self.cols.items()})


def _nanmean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else math.nan


def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


# ------------------------------------------------------------------------------------------------ threads
def _use_torch_threads(n: int) -> None:
    """Give the calling thread n intra-op threads without changing the default of threads created later.

    at::set_num_threads() sets OpenMP's and MKL's per-thread setting for the caller *and* a process-wide
    default that threads read once, lazily, on their first parallel op. Threads already running keep their
    own value. We set ours, then let a throw-away thread put the process default back. NB: the lazy
    per-thread initialisation must happen *before* our set (torch.get_num_threads() triggers it), or the
    thread's first parallel op would re-read the restored default and undo the setting."""
    torch.get_num_threads()
    holder: list[int] = []
    probe = threading.Thread(target=lambda: holder.append(torch.get_num_threads()))
    probe.start()
    probe.join()
    torch.set_num_threads(n)
    if holder and holder[0] != n:
        restore = threading.Thread(target=torch.set_num_threads, args=(holder[0],))
        restore.start()
        restore.join()


# ------------------------------------------------------------------------------------------------ manager
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


class RunManager:
    """Slots for training runs in one process: at most `max_runs` train at once, the rest wait in a FIFO
    queue; runs without a heartbeat for `idle_timeout` seconds are stopped (abandoned browser tabs)."""

    def __init__(self, max_runs: int | None = None, idle_timeout: float | None = None,
                 reap_interval: float | None = None):
        self.max_runs = max_runs or _env_int("SEQGEN_MAX_RUNS", os.cpu_count() or 1)
        self.idle_timeout = idle_timeout if idle_timeout is not None else _env_float("SEQGEN_RUN_IDLE_TIMEOUT", 120.0)
        self.reap_interval = reap_interval or max(0.05, min(5.0, self.idle_timeout / 4))
        self._lock = threading.RLock()
        self._active: list[TrainingRun] = []
        self._queue: deque[TrainingRun] = deque()
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    # -- slots ---------------------------------------------------------------------------------------
    def submit(self, run: "TrainingRun") -> None:
        with self._lock:
            if run in self._active or run in self._queue:
                return
            if len(self._active) < self.max_runs:
                self._active.append(run)
                run._launch()
            else:
                self._queue.append(run)
                run._set_queued()
            self._ensure_reaper()

    def release(self, run: "TrainingRun") -> None:
        """A run finished or was stopped: free its slot (or queue place) and start whoever waits longest."""
        with self._lock:
            if run in self._active:
                self._active.remove(run)
            elif run in self._queue:
                self._queue.remove(run)
            while self._queue and len(self._active) < self.max_runs:
                nxt = self._queue.popleft()
                if nxt._stop.is_set():      # stopped while waiting
                    continue
                self._active.append(nxt)
                nxt._launch()

    def queue_position(self, run: "TrainingRun") -> int | None:
        with self._lock:
            try:
                return list(self._queue).index(run) + 1
            except ValueError:
                return None

    def runs(self) -> dict[str, list["TrainingRun"]]:
        with self._lock:
            return {"active": list(self._active), "queued": list(self._queue)}

    # -- abandoned runs ------------------------------------------------------------------------------
    def reap(self, now: float | None = None) -> list["TrainingRun"]:
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
            except Exception:  # never let the reaper die silently on one bad run
                pass
            with self._lock:
                if not self._active and not self._queue:
                    self._reaper = None
                    return

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop all runs (tests, server shutdown)."""
        with self._lock:
            runs = [*self._active, *self._queue]
        for r in runs:
            r.stop()
        for r in runs:
            r.join(timeout)
        self._closed.set()


_manager: RunManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> RunManager:
    """The process-wide manager, created on first use (SEQGEN_MAX_RUNS / SEQGEN_RUN_IDLE_TIMEOUT)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = RunManager()
        return _manager


# ------------------------------------------------------------------------------------------------ the run
_ids = itertools.count(1)
LATENT_BATCH = 500


class TrainingRun:
    """One live training run in a background thread (see the module docstring)."""

    def __init__(self, domain: str, family: str, knobs: Mapping[str, Any] | None = None, *,
                 manager: RunManager | None = None, preview_every: int = 25, threads: int | None = 1,
                 max_points: int = 500, seed: int = 0, domain_obj=None):
        self.domain_name, self.family = domain, family
        self.model_cfg, self.train_cfg, self.knobs = build_configs(domain, family, knobs) \
            if domain_obj is None else self._toy_configs(domain_obj, family, knobs)
        self.train_cfg.seed = seed
        self.preview_every = max(1, int(preview_every))
        self.threads = threads
        self.run_id = f"run{next(_ids)}"
        self.manager = manager or get_manager()
        self._domain_obj = domain_obj
        self._lock = threading.Lock()          # guards everything the UI reads
        self._model_lock = threading.Lock()    # held while the model changes (one training step)
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._pause = threading.Event()
        self._step_requests = 0
        self._thread: threading.Thread | None = None
        self._submitted = False
        self.last_heartbeat = time.monotonic()
        # state (under _lock)
        self._status, self._message = "created", "Not started yet."
        self._step, self._elapsed, self._version = 0, 0.0, 0
        self._rate: deque = deque(maxlen=64)
        self._history = _Series(max_points)
        self._validation = _Series(max_points)
        self._samples: tuple = ()
        self._sample_labels: tuple | None = None
        self._samples_step = -1
        self._latent = self._latent_labels = None
        self._latent_step = -1
        self._error: str | None = None
        self.model = None
        self.trainer: Trainer | None = None
        self.domain = None
        self.started_wall: float | None = None

    @staticmethod
    def _toy_configs(domain_obj, family, knobs):
        """Configs for a Domain object that is not registered (tests use tiny synthetic domains)."""
        from ..models import ModelConfig, TrainConfig
        knobs = dict(knobs or {})
        model_keys = {k.name for k in KNOBS if k.target == "model"} | {"embed", "conditional", "autoregressive"}
        model_over = {k: v for k, v in knobs.items() if k in model_keys}
        train_over = {k: v for k, v in knobs.items() if k not in model_keys}
        train_over.setdefault("eval_every", 25)
        return ModelConfig.for_domain(domain_obj, family, **model_over), TrainConfig(**train_over), knobs

    # -- control (any thread) ------------------------------------------------------------------------
    def start(self, paused: bool = False) -> "TrainingRun":
        """Ask the manager for a slot: starts now, or waits in the queue. A second call does nothing."""
        with self._lock:
            if self._submitted:
                return self
            self._submitted = True
            if paused:
                self._pause.set()
        self.heartbeat()
        self.manager.submit(self)
        return self

    def pause(self) -> None:
        with self._lock:
            self._pause.set()
            if self._status == "running":
                self._set_status("paused", "Paused. Resume, or step once to watch a single update.")

    def resume(self) -> None:
        with self._lock:
            self._pause.clear()
            if self._status == "paused":
                self._set_status("running", "Training.")
            self._wake.notify_all()

    def step_once(self, n: int = 1) -> None:
        """While paused: make n training steps (then refresh the samples), then stay paused."""
        with self._lock:
            self._pause.set()
            self._step_requests += max(1, int(n))
            if self._status == "running":
                self._set_status("paused", "Paused. Resume, or step once to watch a single update.")
            self._wake.notify_all()

    def stop(self, reason: str | None = None) -> None:
        """Stop between two steps (typically well under a second) and free the slot. Idempotent."""
        with self._lock:
            if self._status in FINISHED:
                return
            self._stop.set()
            self._wake.notify_all()
            never_ran = self._thread is None
            if never_ran:
                self._set_status("stopped", reason or "Stopped before it started.")
            elif reason:
                self._message = reason
        if never_ran:
            self.manager.release(self)

    def heartbeat(self) -> None:
        """The UI calls this on every poll; a run without one for idle_timeout seconds is stopped."""
        self.last_heartbeat = time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has (or never started)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    # -- observation ---------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        pos = self.manager.queue_position(self) if self.status == "queued" else None
        with self._lock:
            rate = 0.0
            if len(self._rate) >= 2 and self._status == "running":
                (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
                rate = (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0
            message = self._message
            if pos is not None:
                message = f"Waiting for a free training slot: position {pos} in the queue."
            return Snapshot(
                run_id=self.run_id, domain=self.domain_name, family=self.family,
                knobs=MappingProxyType(dict(self.knobs)), status=self._status, message=message,
                queue_position=pos, step=self._step, total_steps=self.train_cfg.steps,
                elapsed=self._elapsed + (time.monotonic() - self._running_since if self._running_since else 0.0),
                steps_per_s=rate, history=self._history.frozen(), validation=self._validation.frozen(),
                samples=self._samples, sample_labels=self._sample_labels, samples_step=self._samples_step,
                latent=self._latent, latent_labels=self._latent_labels, latent_step=self._latent_step,
                version=self._version)

    def model_copy(self):
        """A copy of the model as it is between two steps (safe while training)."""
        if self.model is None:
            raise RuntimeError("this run has not built its model yet")
        with self._model_lock:
            m = copy.deepcopy(self.model)
        return m.eval()

    # -- saving --------------------------------------------------------------------------------------
    def save(self, name: str, replace: bool = False):
        """Write the current weights as a user checkpoint `name` (see `check_save_name`); -> its path."""
        from .. import checkpoints
        from ..cards import render_card

        target = check_save_name(name, replace)
        name = target.name
        snap = self.snapshot()
        if snap.status == "diverged":
            raise checkpoints.CheckpointError("This run diverged, so its weights are broken (NaN); "
                                              "start again with a lower learning rate.")
        if self.model is None or snap.step == 0:
            raise checkpoints.CheckpointError("Nothing to save yet: the run has not made a training step.")
        model = self.model_copy()
        knobs = describe_knobs(self.knobs)
        last_val = {k: v[-1] for k, v in snap.validation.items() if v} if snap.validation.get("step") else {}
        info = {
            "description": f"{snap.domain} {snap.family.upper()} trained live for {snap.step} steps "
                           f"({snap.elapsed:.0f} s) in the Live training page.",
            "command": f"trained in the Live training page with {snap.domain} {snap.family}, {knobs}",
            "train": self.train_cfg.to_dict(),
            "train_seconds": round(snap.elapsed, 1),
            "steps": snap.step, "status": snap.status if snap.finished else f"{snap.status} (saved mid-run)",
            "machine": f"{os.cpu_count()}-core CPU, {self.threads or torch.get_num_threads()} training thread(s)",
            "data_split": "bundled data, fixed seeded split (see seqgen/domains/data/NOTICE); trained on 'train', "
                          "samples and curves on 'val'; weights as they were when saved",
            "validation": last_val,
            "live_knobs": dict(self.knobs),
            "limitations": ["Trained for minutes in the browser's live page: expect rougher samples than the "
                            "shipped models.", "Not evaluated on the test split yet: run "
                            f"`python -m seqgen eval {name} --write`."],
        }
        info_card = {**info, "parameters": sum(p.numel() for p in model.parameters())}
        path = checkpoints.save(model, target, info, card=render_card(name, model.cfg, info_card))
        _, _, saved = checkpoints.read_info(path)
        checkpoints.update_info(path, {}, card=render_card(name, model.cfg, saved))  # card with the file size
        return path

    # -- internals -----------------------------------------------------------------------------------
    _running_since: float | None = None

    def _set_status(self, status: str, message: str) -> None:  # caller holds _lock
        now = time.monotonic()
        if self._running_since is not None and status != "running":
            self._elapsed += now - self._running_since
            self._running_since = None
        if status == "running" and self._running_since is None:
            self._running_since = now
            self._rate.clear()
        self._status, self._message = status, message
        self._version += 1

    def _set_queued(self) -> None:
        with self._lock:
            self._set_status("queued", "Waiting for a free training slot.")

    def _launch(self) -> None:  # called by the manager with its lock held
        with self._lock:
            self._set_status("starting", "Loading data and building the model...")
            self._thread = threading.Thread(target=self._main, name=f"seqgen-{self.run_id}", daemon=True)
        self.started_wall = time.monotonic()
        self._thread.start()

    def _main(self) -> None:
        try:
            if self.threads:
                _use_torch_threads(self.threads)
            self._setup()
            self._loop()
        except TrainingDiverged as e:
            with self._lock:
                self._error = str(e)
                self._set_status("diverged", f"{e} The run was stopped; nothing you saw after that step is "
                                             "usable. Start again with a lower learning rate.")
        except Exception as e:  # surface anything else to the UI in words
            with self._lock:
                self._error = f"{type(e).__name__}: {e}"
                self._set_status("error", f"The run failed: {type(e).__name__}: {e}")
        finally:
            self.manager.release(self)

    def _setup(self) -> None:
        from ..domains import get_domain
        from ..models import build_model

        self.domain = self._domain_obj or get_domain(self.domain_name)
        torch.manual_seed(self.train_cfg.seed)
        self.model = build_model(self.model_cfg)
        cfg = self.model_cfg
        preview = 20 if (cfg.conditional and cfg.n_labels == 10) else 16   # two rows of 0..9 for digits
        self.trainer = Trainer(self.model, self.domain, self.train_cfg, callbacks=[self._on_event],
                               device="cpu", preview=preview, stop_event=self._stop, pause_event=self._pause)
        vx, vy = self.trainer.val_x, self.trainer.val_y
        self._latent_x = vx[:LATENT_BATCH] if (cfg.family == "vae" and cfg.latent == 2) else None
        self._latent_y = None if (vy is None or self._latent_x is None) else vy[:LATENT_BATCH].numpy()
        labels = None
        if cfg.conditional:
            names = self.domain.label_names
            labels = tuple(names[i % cfg.n_labels] for i in range(preview))
        with self._lock:
            self._sample_labels = labels
        self._preview()  # the untrained model's samples: the "before" picture
        with self._lock:
            if self._stop.is_set():
                return
            if self._pause.is_set():
                self._set_status("paused", "Paused before the first step. Resume, or step once.")
            else:
                self._set_status("running", "Training.")

    def _loop(self) -> None:
        tr = self.trainer
        total = self.train_cfg.steps
        status, message = "done", f"Finished all {total} steps."
        while True:
            with self._lock:
                if self._stop.is_set():
                    status, message = "stopped", self._message if self._message.startswith("Stopped") \
                        else "Stopped. You can still save what it learned."
                    break
                if tr.step >= total:
                    break
                single = False
                if self._pause.is_set():
                    if self._step_requests <= 0:
                        self._wake.wait(0.25)
                        continue
                    self._step_requests -= 1
                    single = True
            with self._model_lock:
                tr.run_steps(1)
                if single or tr.step % self.preview_every == 0:
                    self._preview()
                if len(tr.history) > 1000:   # the trainer keeps one row per step; we keep our own series
                    del tr.history[:]
        with self._lock:
            self._set_status(status, message)

    def _on_event(self, event) -> None:  # training thread, inside run_steps
        if event.kind == "step":
            with self._lock:
                self._step = event.step
                self._history.add(event.step, {k: v for k, v in event.stats.items()
                                               if k in ("loss", "recon", "kl", "d_loss", "g_loss", "d_real",
                                                        "d_fake", "mle")})
                self._rate.append((time.monotonic(), event.step))
                self._version += 1
        elif event.kind == "eval":
            keep = ("neg_elbo", "recon", "kl", "d_real", "d_fake")
            with self._lock:
                self._validation.add(event.step, {f"val_{k}": v for k, v in event.stats.items() if k in keep})
                self._version += 1

    def _preview(self) -> None:  # training thread, model lock held (or before training starts)
        samples = self.trainer.preview_samples()
        arts = tuple(self.domain.to_artifact(s) for s in samples) if samples is not None else ()
        latent = None
        if self._latent_x is not None:
            was = self.model.training
            self.model.eval()
            with torch.inference_mode():
                latent = self.model.encode(self._latent_x)[0].float().numpy()
            self.model.train(was)
        with self._lock:
            self._samples, self._samples_step = arts, self.trainer.step
            if latent is not None:
                self._latent = _readonly(latent)
                self._latent_labels = _readonly(self._latent_y)
                self._latent_step = self.trainer.step
            self._version += 1


# ------------------------------------------------------------------------------------------------ names
def reserved_names() -> set[str]:
    """Names a live run may not take: every entry in checkpoints/ and every preset (lower-cased)."""
    from ..checkpoints import SHIPPED_DIR
    from ..presets import PRESETS
    names = {n.lower() for n in PRESETS}
    if SHIPPED_DIR.is_dir():
        names |= {p.name.lower() for p in SHIPPED_DIR.iterdir()}
    return names


def check_save_name(name: str, replace: bool = False):
    """-> the target folder in the user models folder, or CheckpointError saying what is wrong with `name`."""
    from ..checkpoints import CheckpointError, user_dir, validate_name
    name = validate_name((name or "").strip()) if isinstance(name, str) else validate_name(name)
    if name.lower() in reserved_names():
        raise CheckpointError(f"{name!r} is the name of a shipped model; pick another name.")
    target = user_dir() / name
    if target.exists() and not replace:
        raise CheckpointError(f"A model named {name!r} already exists in your models folder; tick 'replace' "
                              "to overwrite it, or pick another name.")
    return target
