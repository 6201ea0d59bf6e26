"""One live training run in a background thread, watched through immutable snapshots. No Streamlit here.

    run = TrainingRun("digits", "vae")           # the digits-vae-live preset, no knob changed
    run.start()                                   # -> queued or running (at most N runs per process)
    snap = run.snapshot()                         # step, losses, fixed-noise samples, latent map ...
    run.pause(); run.step_once(); run.step_once(part="d"); run.resume(); run.stop()
    run.slow_motion(True)                         # one step a second, every step drawn
    run.save("my-digits")                         # into the user models folder the other pages list
    run.kept_steps(); run.model_at(500)           # the weights as they were at step 500 (side by side)

All state the UI reads sits behind `_lock` and is copied out by `snapshot()` (a frozen dataclass of tuples
and read-only arrays). The model itself is only touched under `_model_lock`, held for each training step,
so `model_copy()` / `save()` work mid-run. The training thread gives itself `threads` torch threads
(default 1) so that several runs and the app's own work share the CPU. It runs at the server's priority:
it shares the GIL with the server's threads, and a lower-priority thread that is descheduled while it holds
the GIL stalls the pages too (benchmarks/README.md, "A class on one server"). It names itself "seqgen-runN"
in the OS, so top -H, py-spy and benchmarks/load.py can tell it apart.
"""
from __future__ import annotations

import copy
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import torch

from ..trainer import Controls, Trainer, TrainingDiverged
from .diagnostics import RECENT, Checkup, Diagnostics, read
from .knobs import build_configs, describe_knobs, knobs_for
from .manager import RunManager, get_manager
from .snapshot import ACTIVE, FINISHED, Snapshot, _readonly, _Series

# The steps whose weights a run keeps, so that a learner can put the model of step 500 beside that of
# step 3,000. A live model is a few MB at most, so keeping eight costs little.
KEPT_AT = (100, 250, 500, 1000, 2000, 3000, 5000, 10000)


# ------------------------------------------------------------------------------------------------ threads
def _use_torch_threads(n: int) -> None:
    """Give the calling thread n intra-op threads without changing the default of threads created later.

    at::set_num_threads() sets OpenMP's and MKL's per-thread setting for the caller *and* a process-wide
    default that threads read once, lazily, on their first parallel op. Threads already running keep their
    own value. We set ours, then let a throw-away thread put the process default back, so the server's other
    threads keep theirs. NB: the lazy per-thread initialisation must happen *before* our set
    (torch.get_num_threads() triggers it), or the thread's first parallel op would re-read the restored
    default and undo the setting."""
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


def _name_os_thread(name: str) -> None:
    """Give the calling thread `name` in the OS (top -H, py-spy, /proc/<pid>/task/*/comm; 15 bytes on
    Linux), so the training threads can be told apart from the server's own. Nothing happens elsewhere."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


_ids = itertools.count(1)
LATENT_BATCH = 500
MAX_CHANGES = 50        # knob changes a snapshot keeps (the newest)
SLOW_MOTION_SECONDS = 1.0
# the per-step figures the curves keep: losses, D's beliefs, the gradient norms
CURVES = ("loss", "recon", "kl", "d_loss", "g_loss", "d_real", "d_fake", "mle", "grad_norm", "d_grad", "g_grad")


class TrainingRun:
    """One live training run in a background thread (see the module docstring)."""

    def __init__(self, domain: str, family: str, knobs: Mapping[str, Any] | None = None, *,
                 manager: RunManager | None = None, preview_every: int = 25, threads: int | None = 1,
                 max_points: int = 500, seed: int = 0, client: str | None = None):
        """`client`: who the run belongs to, for the manager's cap per client (None: not capped)."""
        self.domain_name, self.family = domain, family
        self.client = client
        self.model_cfg, self.train_cfg, self.knobs = build_configs(domain, family, knobs)
        self.train_cfg.seed = seed
        self.preview_every = max(1, int(preview_every))
        self.threads = threads
        self.run_id = f"run{next(_ids)}"
        self.manager = manager or get_manager()
        self._lock = threading.Lock()          # guards everything the UI reads
        self._model_lock = threading.Lock()    # held while the model changes (one training step)
        self.controls = Controls()             # stop, pause and single steps, read by the Trainer's loop
        self._thread: threading.Thread | None = None
        self.native_id: int | None = None      # the training thread's OS id, once it runs
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
        self._changes: list[tuple] = []
        self._recent: deque = deque(maxlen=RECENT)   # the last steps' figures, for the diagnostics' reading
        self._diagnostics: Diagnostics | None = None
        self._kept: dict[int, dict] = {}             # step -> the weights then (KEPT_AT)
        self.checkup: Checkup | None = None
        self.model = None
        self.trainer: Trainer | None = None
        self.domain = None
        self.started_wall: float | None = None

    # -- control (any thread) ------------------------------------------------------------------------
    def start(self, paused: bool = False) -> TrainingRun:
        """Ask the manager for a slot: starts now, or waits in the queue. A second call does nothing."""
        with self._lock:
            if self._submitted:
                return self
            self._submitted = True
            if paused:
                self.controls.pause()
        self.heartbeat()
        self.manager.submit(self)
        return self

    def pause(self) -> None:
        with self._lock:
            self.controls.pause()
            if self._status == "running":
                self._set_status("paused", "Paused. Resume, or step once to watch a single update.")

    def resume(self) -> None:
        with self._lock:
            self.controls.resume()
            if self._status == "paused":
                self._set_status("running", "Training.")

    def step_once(self, n: int = 1, part: str | None = None) -> None:
        """While paused: make n training steps (then refresh the samples), then stay paused. `part` "d" or
        "g": steps of a GAN's discriminator or generator alone."""
        if part is not None and (self.family != "gan" or part not in ("d", "g")):
            raise ValueError(f"only a GAN steps one network alone (part 'd' or 'g'), not {part!r}")
        with self._lock:
            self.controls.request_steps(n, part)
            if self._status == "running":
                self._set_status("paused", "Paused. Resume, or step once to watch a single update.")

    def stop(self, reason: str | None = None) -> None:
        """Stop between two steps (typically well under a second) and free the slot. Idempotent."""
        with self._lock:
            if self._status in FINISHED:
                return
            self.controls.stop()
            never_ran = self._thread is None
            if never_ran:
                self._set_status("stopped", reason or "Stopped before it started.")
            elif reason:
                self._message = reason
        if never_ran:
            self.manager.release(self)

    def change(self, name: str, value) -> None:
        """Set a knob that a running run takes (its field metadata says live.while_running: the learning rate,
        the gradient clip, D steps) from the next step on. The snapshot's `changes` keeps (step, name, old,
        new) for the charts. ValueError for any other knob or a value outside the knob's options or range."""
        knob = next((k for k in knobs_for(self.domain_name, self.family) if k.name == name), None)
        if knob is None or not knob.while_running:
            raise ValueError(f"{name} cannot change while a run trains")
        value = knob.checked(value)
        with self._model_lock:                 # between two steps
            old = getattr(self.train_cfg, name)
            if value == old:
                return
            if self.trainer is not None:
                self.trainer.change_setting(name, value)
            setattr(self.train_cfg, name, value)
        with self._lock:
            self.knobs[name] = value
            self._changes.append((self._step, name, old, value))
            del self._changes[:-MAX_CHANGES]
            self._version += 1

    def slow_motion(self, on: bool) -> None:
        """One step a second, each step's samples and figures drawn (on), or full speed (off)."""
        self.controls.slow_motion(SLOW_MOTION_SECONDS if on else 0.0)
        with self._lock:
            self._version += 1

    @property
    def slow(self) -> bool:
        return self.controls.seconds_per_step > 0

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

    @property
    def pending_steps(self) -> int:
        """Step-once requests not yet made: a UI polls fast until they are, so a step shows at once."""
        return self.controls.pending_steps

    @property
    def stopping(self) -> bool:
        """A stop was asked for (the run may still be finishing its step)."""
        return self.controls.stop_event.is_set()

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
                version=self._version, stopping=self.stopping and self._status in ACTIVE,
                changes=tuple(self._changes), diagnostics=self._diagnostics, slow_motion=self.slow,
                last_figures=MappingProxyType(dict(self._recent[-1]) if self._recent else {}))

    def model_copy(self):
        """A copy of the model as it is between two steps (safe while training)."""
        if self.model is None:
            raise RuntimeError("this run has not built its model yet")
        with self._model_lock:
            m = copy.deepcopy(self.model)
        return m.eval()

    def kept_steps(self) -> tuple[int, ...]:
        """The steps (of KEPT_AT) this run has passed, whose weights `model_at` gives back."""
        with self._lock:
            return tuple(sorted(self._kept))

    def model_at(self, step: int):
        """A copy of the model with the weights it had right after `step` (one of `kept_steps()`)."""
        with self._lock:
            weights = self._kept.get(step)
        if weights is None:
            raise KeyError(f"this run kept no weights at step {step}; it has: {self.kept_steps()}")
        m = self.model_copy()
        m.load_state_dict(weights)
        return m

    # -- saving --------------------------------------------------------------------------------------
    def save(self, name: str, replace: bool = False, owner: str | None = None):
        """Write the current weights as a user checkpoint `name` (see `check_save_name`); -> its path. owner:
        who saves it; a model saved by another owner is not replaced (checkpoints.save)."""
        from ...checkpoints import CheckpointError
        from ..publish import check_save_name, save_trained

        target = check_save_name(name, replace)
        snap = self.snapshot()
        if snap.status == "diverged":
            raise CheckpointError("This run diverged, so its weights are broken (NaN); "
                                  "start again with a lower learning rate.")
        if self.model is None or snap.step == 0:
            raise CheckpointError("Nothing to save yet: the run has not made a training step.")
        self.domain.keep()            # a learner's data set is stored for the model that needs it
        return save_trained(self.model_copy(), target, self._card_info(snap, target.name), replace=replace,
                            owner=owner)

    def _card_info(self, snap: Snapshot, name: str) -> dict:
        last_val = {k: v[-1] for k, v in snap.validation.items() if v} if snap.validation.get("step") else {}
        return {
            "description": f"{snap.domain} {snap.family.upper()} trained live for {snap.step} steps "
                           f"({snap.elapsed:.0f} s) in the Live training page.",
            "command": f"trained in the Live training page with {snap.domain} {snap.family}, "
                       f"{describe_knobs(self.knobs)}",
            "train": self.train_cfg.to_dict(),
            "train_seconds": round(snap.elapsed, 1),
            "steps": snap.step, "status": snap.status if snap.finished else f"{snap.status} (saved mid-run)",
            "machine": f"{os.cpu_count()}-core CPU, {self.threads or torch.get_num_threads()} training thread(s)",
            "data_split": f"{self.domain.data_note()}; trained on 'train', samples and curves on 'val'; weights as "
                          "they were when saved",
            "validation": last_val,
            "live_knobs": dict(self.knobs),
            "limitations": ["Trained for minutes in the browser's live page: expect rougher samples than the "
                            "shipped models.", "Not evaluated on the test split yet: run "
                            f"`python -m seqgen eval {name} --write`."],
        }

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

    def wait_in_queue(self) -> None:  # the manager, with its lock held: no slot is free
        with self._lock:
            self._set_status("queued", "Waiting for a free training slot.")

    def launch(self) -> None:  # the manager, with its lock held: a slot is this run's
        with self._lock:
            self._set_status("starting", "Loading data and building the model...")
            self._thread = threading.Thread(target=self._main, name=f"seqgen-{self.run_id}", daemon=True)
        self.started_wall = time.monotonic()
        self._thread.start()

    def _main(self) -> None:
        try:
            self.native_id = threading.get_native_id()
            _name_os_thread(f"seqgen-{self.run_id}")
            if self.threads:
                _use_torch_threads(self.threads)
            self._setup()
            self._loop()
        except TrainingDiverged as e:
            with self._lock:
                self._error = str(e)
                self._set_status("diverged", f"{e} The run was stopped; nothing you saw after that step is "
                                             "usable. Start again with a lower learning rate.")
        except Exception as e:  # noqa: BLE001 - surface anything else to the UI in words
            with self._lock:
                self._error = f"{type(e).__name__}: {e}"
                self._set_status("error", f"The run failed: {type(e).__name__}: {e}")
        finally:
            self.manager.release(self)

    def _setup(self) -> None:
        from ...domains import get_domain
        from ...models import build_model
        from ..trainer import take_start_weights

        self.domain = get_domain(self.domain_name)
        torch.manual_seed(self.train_cfg.seed)
        self.model = build_model(self.model_cfg)
        take_start_weights(self.model, self.train_cfg)
        cfg = self.model_cfg
        preview = 20 if (cfg.conditional and cfg.n_labels == 10) else 16   # two rows of ten labels
        self.trainer = Trainer(self.model, self.domain, self.train_cfg, callbacks=[self._on_event],
                               device="cpu", preview=preview, controls=self.controls, step_lock=self._model_lock,
                               history_limit=1000)   # the run keeps its own downsampled series
        vx, vy = self.trainer.val_x, self.trainer.val_y
        self.checkup = Checkup(cfg, self.domain, vx, self.trainer.x.cpu())
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
            if self.stopping:
                return
            if self.controls.paused:
                self._set_status("paused", "Paused before the first step. Resume, or step once.")
            else:
                self._set_status("running", "Training.")

    def _loop(self) -> None:
        status = self.trainer.loop()
        total = self.train_cfg.steps
        with self._lock:
            if status == "stopped":
                message = self._message if self._message.startswith("Stopped") else \
                    "Stopped. You can still save what it learned."
            elif status == "no_better":
                message = (f"Stopped early at step {self.trainer.step}: the held-out figure has not improved for "
                           f"{self.train_cfg.patience} checks.")
            else:
                message = f"Finished all {total} steps."
            self._set_status("stopped" if status == "stopped" else "done", message)

    def _on_event(self, event) -> None:  # training thread, inside the step (model lock held)
        if event.kind == "step":
            with self._lock:
                self._step = event.step
                self._history.add(event.step, {k: v for k, v in event.stats.items() if k in CURVES})
                self._recent.append(dict(event.stats))
                self._rate.append((time.monotonic(), event.step))
                if self._status == "paused":
                    self._message = f"Paused at step {event.step}. Resume, or step once to watch a single update."
                self._version += 1
            if event.step in KEPT_AT:
                weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                with self._lock:
                    self._kept[event.step] = weights
            # a single step, or each step in slow motion, shows at once
            if self.controls.paused or self.slow or event.step % self.preview_every == 0:
                self._preview()
        elif event.kind == "eval":
            keep = ("neg_elbo", "recon", "kl", "d_real", "d_fake")
            with self._lock:
                self._validation.add(event.step, {f"val_{k}": v for k, v in event.stats.items() if k in keep})
                self._version += 1

    def _preview(self) -> None:  # training thread, model lock held (or before training starts)
        diag = self.checkup.check(self.model, self.trainer.step)
        cfg = self.model_cfg
        with self._lock:
            recent = list(self._recent)
        diag = replace(diag, findings=read(diag, recent, conditional=cfg.conditional, n_labels=cfg.n_labels,
                                           latent=cfg.latent))
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
            self._diagnostics = diag
            self._samples, self._samples_step = arts, self.trainer.step
            if latent is not None:
                self._latent = _readonly(latent)
                self._latent_labels = _readonly(self._latent_y)
                self._latent_step = self.trainer.step
            self._version += 1
