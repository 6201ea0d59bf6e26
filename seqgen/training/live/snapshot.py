"""What a UI reads of a live run: immutable snapshots, and the downsampled loss series inside them."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

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
    stopping: bool = False             # a Stop was pressed and the run has not ended yet (it ends after its step)
    changes: tuple = ()                # (step, knob name, old value, new value) for each knob changed mid-run
    diagnostics: Any = None            # the latest live.diagnostics.Diagnostics (None before the first check)
    slow_motion: bool = False          # one step a second, each drawn
    last_figures: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))  # latest step's own

    @property
    def shown_status(self) -> str:
        """The status a UI shows: 'stopping' from the Stop press until the run has ended."""
        return "stopping" if self.stopping else self.status

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
        for col in self.cols.values():   # keys missing from this bucket (e.g. "mle" after warm-up)
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
