"""One training loop for every family. It emits events to callbacks (the CLI's progress lines, the live
page's TrainingRun), can be stopped, paused and stepped one step at a time from another thread (`Controls`),
and stops with a clear error on NaN/inf instead of writing a broken model."""
from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..devices import resolve_device
from ..models.base import seed_everything
from ..models.config import TrainConfig
from . import resume
from .distributed import DataParallel, Processes


class TrainingDiverged(RuntimeError):
    """Raised when a loss becomes NaN/inf; the message says what to change."""


@dataclass
class Event:
    kind: str                      # "start" | "step" | "eval" | "done"
    step: int
    elapsed: float                 # seconds of training so far (pauses excluded)
    stats: dict = field(default_factory=dict)
    samples: torch.Tensor | None = None   # "eval": model output for the fixed preview noise


@dataclass
class TrainResult:
    status: str                    # "done" | "stopped" | "time_budget" | "no_better" (patience ran out)
    steps: int
    elapsed: float
    history: list[dict]            # one row per step: {"step", "time", name: value...}
    validation: list[dict]         # one row per eval
    best: dict | None              # best validation row (the weights kept)


class Controls:
    """Stop, pause, single steps and slow motion of a training loop, from any thread (a Ctrl-C handler, a UI's
    buttons).

    Paused, the loop makes only the steps asked for with `request_steps`, each of both networks or, for a GAN,
    of one (`part` "d" or "g"); a request counts as pending until its step and that step's events are done, so
    a UI can wait until the step's pictures are there. `seconds_per_step` > 0 slows a running loop down to at
    most one step in that many seconds (slow motion)."""

    def __init__(self, stop_event: threading.Event | None = None, pause_event: threading.Event | None = None):
        self.stop_event = stop_event or threading.Event()
        self.pause_event = pause_event or threading.Event()    # set = paused
        self._changed = threading.Condition()
        self._requested: deque[str | None] = deque()
        self.seconds_per_step = 0.0

    def stop(self) -> None:
        self.stop_event.set()
        self._notify()

    def pause(self) -> None:
        self.pause_event.set()
        self._notify()

    def resume(self) -> None:
        self.pause_event.clear()
        self._notify()

    def slow_motion(self, seconds_per_step: float) -> None:
        """At most one step in `seconds_per_step` seconds from now on (0: full speed)."""
        self.seconds_per_step = max(0.0, float(seconds_per_step))
        self._notify()

    def request_steps(self, n: int = 1, part: str | None = None) -> None:
        """Pause, and make n more steps (of one network only, with `part`)."""
        with self._changed:
            self.pause_event.set()
            self._requested.extend([part] * max(1, int(n)))
            self._changed.notify_all()

    @property
    def paused(self) -> bool:
        return self.pause_event.is_set()

    @property
    def pending_steps(self) -> int:
        with self._changed:
            return len(self._requested)

    def next_part(self) -> str | None:
        """Which network the next requested step updates (None: both)."""
        with self._changed:
            return self._requested[0] if self._requested else None

    def wait(self, timeout: float) -> None:
        """While paused with nothing to do: wait for a request, a resume or a stop (at most `timeout` s)."""
        with self._changed:
            if self.paused and not self._requested and not self.stop_event.is_set():
                self._changed.wait(timeout)

    def pace(self, step_started: float) -> None:
        """In slow motion, wait until `seconds_per_step` after `step_started` (time.monotonic()), or until a
        stop, a pause or a change of speed."""
        with self._changed:
            while (self.seconds_per_step > 0 and not self.stop_event.is_set() and not self.paused
                   and time.monotonic() < step_started + self.seconds_per_step):
                self._changed.wait(step_started + self.seconds_per_step - time.monotonic())

    def step_done(self) -> None:
        with self._changed:
            if self._requested:
                self._requested.popleft()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def cpu_has_bf16() -> bool:
    """Whether the CPU computes in bfloat16 natively: AVX512-BF16 (AMD Zen 4, Intel Cooper Lake and later) or
    AMX (Intel Sapphire Rapids and later)."""
    flags = set(_cpu_flags().split())
    return "avx512_bf16" in flags or "amx_bf16" in flags


def use_bf16(train: TrainConfig, device: torch.device) -> bool:
    """Whether this run trains under bfloat16 autocast. "auto" takes it on GPUs with bfloat16 and keeps
    float32 on every CPU. On CPUs with AVX512-BF16 or AMX, "on" makes each step faster, but a run ends no
    better in the same time, and it trains the GAN and lesson presets differently from the float32 runs
    their cards and lessons come from (benchmarks/README.md, "bfloat16 on the CPU"). Where bf16 is
    only emulated it is slower, and with no bf16 instructions at all oneDNN's fused LSTM cannot run it, so
    "on" falls back to float32 with a warning instead of crashing."""
    if device.type == "cuda":
        return train.bf16 == "on" or (train.bf16 == "auto" and torch.cuda.is_bf16_supported())
    if train.bf16 == "on" and device.type == "cpu" and not cpu_has_bf16():
        warnings.warn("bf16 requested but this CPU has no bfloat16 instructions; training in float32", stacklevel=2)
        return False
    return train.bf16 == "on"


# No loss here is legitimately this large (nats per sequence): treat it like NaN.
EXPLODED = 1e10

# Which validation figure decides the "best" weights, and whether lower is better.
def take_start_weights(model, train: TrainConfig) -> None:
    """With `train.init_from`, the model starts from that checkpoint's weights (its config was made the
    checkpoint's architecture: presets.started_from)."""
    if train.init_from:
        from ..zoo import load
        model.load_state_dict(load(train.init_from).model.state_dict())


PRIMARY_METRIC = {"vae": ("neg_elbo", True), "lm": ("nll_per_token", True), "classifier": ("accuracy", False)}


class Trainer:
    def __init__(self, model, domain, train: TrainConfig, callbacks: list[Callable[[Event], None]] = (),
                 device: str | torch.device | None = None, progress: bool = False, preview: int = 16,
                 stop_event: threading.Event | None = None, pause_event: threading.Event | None = None,
                 processes: Processes | None = None, controls: Controls | None = None,
                 step_lock: threading.Lock | None = None, history_limit: int | None = None):
        """`processes`: the torchrun launch this process belongs to (seqgen.training.distributed); each
        process trains on its slice of every batch, and only process 0 emits events and evaluates.
        `controls` (or just its stop and pause events) stop, pause and step the loop from other threads.
        `step_lock` is held for each step and its events, so another thread can copy the model between steps.
        `history_limit` keeps only that many of the latest rows of the per-step history."""
        train.validate()
        self.model, self.domain, self.train = model, domain, train
        self.processes = processes or Processes()
        self.processes.check_batch_size(train.batch_size)
        self.callbacks = list(callbacks) if self.processes.is_main else []
        self.device = torch.device(device) if device else resolve_device(train.device, self.processes.local_rank)
        self.bf16 = use_bf16(train, self.device)
        self.progress = progress
        self.controls = controls or Controls(stop_event, pause_event)
        self.step_lock = step_lock or contextlib.nullcontext()
        self.history_limit = history_limit
        self.step = 0
        self.elapsed = 0.0
        seed_everything(train.seed)
        self.model.to(self.device)
        self.processes.choose_exchange(train.gradient_exchange, self.device)
        self.processes.same_start(self.model)
        if not self.processes.is_main:  # its own dropout and sampling noise; process 0's is a lone run's
            torch.manual_seed(train.seed + 1_000_003 * self.processes.rank)
        self.parallel = DataParallel(self.model, self.processes) if self.processes.active else None
        self.optimizers = self.model.configure_optimizers(train)
        self._base_lrs = [[group["lr"] for group in opt.param_groups] for opt in self.optimizers.values()]
        self.last_state: resume.TrainingState | None = None
        self._stop_requested = self._out_of_time = self._no_better = False   # what the processes agreed last step
        x, y = domain.training_data(train.data)
        self.x, self.y = x.to(self.device), (None if y is None else y.to(self.device))
        vx, vy = domain.dataset("val")
        self.val_x, self.val_y = vx, vy
        self.history: list[dict] = []
        self.validation: list[dict] = []
        self.best: dict | None = None
        self._best_state = None
        self.passes_since_best = 0         # validation passes since the best one (early stopping's count)
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._batch_gen = torch.Generator().manual_seed(train.seed)
        # fixed preview noise: the same inputs every eval, so a viewer sees the *same* samples improve
        self.preview_n = preview
        self._preview_gen_seed = train.seed + 777

    # -- data --------------------------------------------------------------------------------
    def _next_batch(self):
        """This process's part of the next global batch: every process draws the same shuffled order, so
        one process or N follow the same batches (each of the N trains on a disjoint slice)."""
        if self._cursor + self.train.batch_size > len(self._order):
            self._order = torch.randperm(len(self.x), generator=self._batch_gen).to(self.device)
            self._cursor = 0
        idx = self.processes.shard(self._order[self._cursor:self._cursor + self.train.batch_size])
        self._cursor += self.train.batch_size
        return self.x[idx], (None if self.y is None else self.y[idx])

    # -- events ------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        for cb in self.callbacks:  # empty outside process 0
            cb(event)

    def preview_latents(self, g: torch.Generator) -> torch.Tensor:
        """VAE preview points: for a 2-D latent a fixed square grid over [-1.5, 1.5]^2 (the classic manifold
        picture, where the classes show up side by side), otherwise fixed draws from the prior."""
        side = int(round(self.preview_n ** 0.5))
        if self.model.cfg.latent == 2 and side * side == self.preview_n:
            axis = torch.linspace(-1.5, 1.5, side)
            return torch.stack(torch.meshgrid(axis, -axis, indexing="xy"), -1).reshape(-1, 2)
        return torch.randn(self.preview_n, self.model.cfg.latent, generator=g)

    def preview_samples(self) -> torch.Tensor:
        """Model output for fixed noise (and labels 0, 1, 2... for conditional models)."""
        cfg = self.model.cfg
        g = torch.Generator().manual_seed(self._preview_gen_seed)
        label = None
        if cfg.conditional:
            label = (torch.arange(self.preview_n) % cfg.n_labels).to(self.device)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            if cfg.family == "vae":
                out = self.model.decode(self.preview_latents(g), label)
            elif cfg.family == "gan":
                out = self.model.sample(self.preview_n, label, generator=g)
            else:
                out = None
        self.model.train(was_training)
        return None if out is None else out.cpu()

    def validate(self) -> dict:
        stats = self.model.evaluate(self.val_x, self.val_y)
        row = {"step": self.step, "time": self.elapsed, **stats}
        self.validation.append(row)
        primary = PRIMARY_METRIC.get(self.model.cfg.family)
        if primary:
            name, lower = primary
            value = stats[name]
            better = self.best is None or (value < self.best[name] if lower else value > self.best[name])
            self.passes_since_best = 0 if better else self.passes_since_best + 1
            if better:
                self.best = row
                self._best_state = copy.deepcopy(self.model.state_dict())
        self.model.train()
        return row

    # -- loop --------------------------------------------------------------------------------
    def run_steps(self, n: int, part: str | None = None) -> None:
        """Advance training by n steps (raises TrainingDiverged on NaN/inf); `part` "d" or "g": steps of a
        GAN's discriminator or generator alone."""
        options = {"parallel": self.parallel} if self.parallel is not None else {}
        if part is not None:
            options["part"] = part
        self.model.train()
        for _ in range(n):
            t0 = time.perf_counter()
            x, y = self._next_batch()
            self._set_learning_rates()
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                stats = self.model.train_step(x, y, self.step, self.optimizers, self.train, **options)
            stats = self._agree(stats)
            bad = [k for k, v in stats.items() if not math.isfinite(v) or abs(v) > EXPLODED]
            if bad:
                raise TrainingDiverged(
                    f"Training diverged at step {self.step + 1}: {', '.join(bad)} became NaN/inf or exploded. "
                    f"The learning rate ({self.train.lr:g}) is probably too high; try {self.train.lr / 10:g}.")
            self.step += 1
            self.elapsed += time.perf_counter() - t0
            row = {"step": self.step, "time": self.elapsed, **stats}
            self.history.append(row)
            if self.history_limit is not None and len(self.history) > self.history_limit:
                del self.history[:len(self.history) - self.history_limit]
            self._emit(Event("step", self.step, self.elapsed, stats))
            if self.step % self.train.eval_every == 0 and self.processes.is_main:
                self._eval_event()

    def learning_rate_factor(self) -> float:
        """1 until the cooldown's first step, then falling linearly to 0.1 at the last step (nanoGPT's floor)."""
        cooldown, steps = self.train.lr_cooldown, self.train.steps
        start = steps - cooldown
        if cooldown <= 0 or self.step < start:
            return 1.0
        return 1.0 - 0.9 * min(1.0, (self.step - start) / cooldown)

    def change_setting(self, name: str, value) -> None:
        """A training setting the next step reads (the caller holds step_lock, so no step is half made). The
        learning rate scales every optimizer's base rate: a GAN's D and G keep their ratio."""
        if name == "lr":
            ratio = value / self.train.lr
            self._base_lrs = [[lr * ratio for lr in base] for base in self._base_lrs]
            self.train.lr = value
            self._set_learning_rates()
        elif name in ("grad_clip", "d_steps"):
            setattr(self.train, name, value)
        else:
            raise ValueError(f"{name} cannot change while a run trains")

    def _set_learning_rates(self) -> None:
        factor = self.learning_rate_factor()
        for opt, base in zip(self.optimizers.values(), self._base_lrs):
            for group, lr in zip(opt.param_groups, base):
                group["lr"] = lr * factor

    def _agree(self, stats: dict[str, float]) -> dict[str, float]:
        """Under torchrun: the step's figures averaged over the processes (so all see the same NaN, and the
        log shows the whole batch), and whether any process was asked to stop or ran out of time."""
        if not self.processes.active:
            return stats
        flags = {"_stop": float(self.stop_event.is_set()), "_out_of_time": float(self.elapsed >= self._budget),
                 "_no_better": float(self._patience_spent)}      # only process 0 validates: the others learn it here
        agreed = self.processes.mean({**stats, **flags})
        self._stop_requested = agreed.pop("_stop") > 0
        self._out_of_time = agreed.pop("_out_of_time") > 0
        self._no_better = agreed.pop("_no_better") > 0
        return agreed

    @property
    def _budget(self) -> float:
        """Seconds of training allowed (--minutes), or infinity."""
        return self.train.max_minutes * 60 if self.train.max_minutes else math.inf

    @property
    def _patience_spent(self) -> bool:
        return 0 < self.train.patience <= self.passes_since_best

    def _should_stop(self) -> str | None:
        if self.processes.active:
            stop, late, no_better = self._stop_requested, self._out_of_time, self._no_better
        else:
            stop, late, no_better = self.stop_event.is_set(), self.elapsed >= self._budget, self._patience_spent
        return "stopped" if stop else "time_budget" if late else "no_better" if no_better else None

    def resume_from(self, state: resume.TrainingState, best_weights: dict[str, torch.Tensor]) -> None:
        """Continue the run `state` was captured from (see seqgen.training.resume)."""
        resume.restore(self, state, best_weights)

    def _eval_event(self) -> None:
        row = self.validate()
        self._emit(Event("eval", self.step, self.elapsed, row, self.preview_samples()))

    @property
    def stop_event(self) -> threading.Event:
        return self.controls.stop_event

    @property
    def pause_event(self) -> threading.Event:
        return self.controls.pause_event

    def loop(self) -> str:
        """Train until the steps are done, the time budget is spent or a stop is asked for; while paused, make
        only the steps requested, one at a time; with `patience`, stop once validation has not improved for that
        many passes. -> "done", "stopped", "time_budget" or "no_better"."""
        controls = self.controls
        while self.step < self.train.steps:
            stopping = self._should_stop()
            if stopping:
                return stopping
            requested = controls.paused
            if requested and not controls.pending_steps:
                controls.wait(0.25)
                continue
            started = time.monotonic()
            with self.step_lock:
                self.run_steps(1, controls.next_part() if requested else None)
            if requested:
                controls.step_done()
            else:
                controls.pace(started)
            if self._bar is not None:
                self._bar.update(1)
                if self.step % 20 == 0:
                    self._bar.set_postfix({k: f"{v:.3g}" for k, v in list(self.history[-1].items())[2:6]})
        return "done"

    def fit(self) -> TrainResult:
        """The whole run: the loop, then the final validation, the best weights kept (early stopping), and the
        state a later `--resume` continues from."""
        train = self.train
        self._emit(Event("start", self.step, self.elapsed))
        if self.progress and self.processes.is_main:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=train.steps, initial=self.step,
                             desc=f"{self.model.cfg.domain} {self.model.cfg.family}", unit="step")
        try:
            status = self.loop()
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        self.last_state = resume.capture(self) if self.processes.is_main else None
        if not self.processes.is_main:
            return TrainResult(status, self.step, self.elapsed, self.history, [], None)
        if not self.validation or self.validation[-1]["step"] != self.step:
            self._eval_event()
        if self._best_state is not None:  # keep the weights that did best on validation (early stopping)
            self.model.load_state_dict(self._best_state)
        self._emit(Event("done", self.step, self.elapsed, {"status": status}))
        return TrainResult(status, self.step, self.elapsed, self.history, self.validation, self.best)

    _bar = None
