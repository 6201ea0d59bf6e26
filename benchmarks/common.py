"""Shared helpers for the benchmark scripts: machine description, timing, FLOP accounting.

Import this module BEFORE torch in every benchmark process: it sets OMP_WAIT_POLICY=PASSIVE (busy-waiting
OpenMP threads slow torch several-fold when anything else runs beside it) and puts the
repository root on sys.path so `import seqgen` works when a script is run as `python benchmarks/x.py`.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import contextlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402


# ---------------------------------------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def machine_info() -> dict:
    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "isa": ", ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags)
               or "?",
        "amx": "amx_bf16" in flags,
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "load_average_at_start": load_average(),
    }


# ---------------------------------------------------------------------------------------------- timing
@contextlib.contextmanager
def threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def time_reps(fn, reps: int, warmup: int = 2, min_seconds: float = 0.0) -> list[float]:
    """Seconds per call of fn(), one entry per rep (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    out = []
    t_start = time.perf_counter()
    while len(out) < reps or time.perf_counter() - t_start < min_seconds:
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(seconds: list[float]) -> dict:
    s = sorted(seconds)
    return {"median_s": statistics.median(s), "p95_s": s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))],
            "min_s": s[0], "n": len(s)}


def median(seconds: list[float]) -> float:
    return statistics.median(seconds)


# ---------------------------------------------------------------------------------------------- FLOPs
def rnn_step_flops(cell: str, input_size: int, hidden: int) -> int:
    """Forward matmul FLOPs of one recurrent cell step for one sequence: 2 * G * H * (I + H), G = 4 (LSTM) / 3 (GRU)."""
    gates = 4 if cell == "lstm" else 3
    return 2 * gates * hidden * (input_size + hidden)


def rnn_module_flops(rnn: nn.RNNBase, batch: int, steps: int) -> int:
    """Forward matmul FLOPs of a whole nn.LSTM / nn.GRU call over [batch, steps] (all layers and directions)."""
    cell = "lstm" if isinstance(rnn, nn.LSTM) else "gru"
    dirs = 2 if rnn.bidirectional else 1
    total = 0
    for layer in range(rnn.num_layers):
        inp = rnn.input_size if layer == 0 else rnn.hidden_size * dirs
        total += dirs * rnn_step_flops(cell, inp, rnn.hidden_size)
    return total * batch * steps


class FlopCounter:
    """Counts matmul FLOPs of a model's recurrent layers and linear layers analytically, from the shapes of the
    calls actually made (forward hooks on nn.LSTM / nn.GRU / nn.Linear, and a wrapper around torch.lstm_cell /
    torch.gru_cell for the single-step sampling path). A call made with gradients enabled also costs its
    backward pass, counted as 2x its forward FLOPs (the usual estimate: grads w.r.t. inputs and weights).

        with FlopCounter(model) as fc:
            model.train_step(...)
        fc.recurrent, fc.linear, fc.total   # FLOPs
    """

    def __init__(self, model: nn.Module):
        self.model = model
        self.recurrent = 0
        self.linear = 0
        self.calls: dict[str, int] = {}
        self._handles = []
        self._orig = {}

    def _add(self, kind: str, fwd: int) -> None:
        mult = 3 if torch.is_grad_enabled() else 1
        if kind == "linear":
            self.linear += mult * fwd
        else:
            self.recurrent += mult * fwd
        self.calls[kind] = self.calls.get(kind, 0) + 1

    def __enter__(self):
        for m in self.model.modules():
            if isinstance(m, (nn.LSTM, nn.GRU)):
                def hook(mod, args, out):
                    x = args[0]
                    b, t = (x.shape[0], x.shape[1]) if mod.batch_first else (x.shape[1], x.shape[0])
                    self._add("rnn", rnn_module_flops(mod, b, t))
                self._handles.append(m.register_forward_hook(hook))
            elif isinstance(m, nn.Linear):
                def lhook(mod, args, out):
                    rows = args[0].numel() // args[0].shape[-1]
                    self._add("linear", 2 * rows * mod.in_features * mod.out_features)
                self._handles.append(m.register_forward_hook(lhook))
        for name in ("lstm_cell", "gru_cell"):
            orig = getattr(torch, name)
            self._orig[name] = orig

            def wrapped(inp, state, w_ih, w_hh, *rest, _orig=orig, _name=name):
                b = inp.shape[0]
                self._add(_name, b * 2 * w_ih.shape[0] * (w_ih.shape[1] + w_hh.shape[1]))
                return _orig(inp, state, w_ih, w_hh, *rest)
            setattr(torch, name, wrapped)
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        for name, orig in self._orig.items():
            setattr(torch, name, orig)

    @property
    def total(self) -> int:
        return self.recurrent + self.linear


# ---------------------------------------------------------------------------------------------- naive baseline
def _naive_direction(x, h, c, w_ih, w_hh, b_ih, b_hh, cell: str, reverse: bool):
    """Per-time-step Python loop over one direction of one layer (what nn.LSTMCell tutorials write)."""
    outs = [None] * x.shape[1]
    order = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    for t in order:
        if cell == "lstm":
            h, c = torch.lstm_cell(x[:, t], (h, c), w_ih, w_hh, b_ih, b_hh)
        else:
            h = torch.gru_cell(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outs[t] = h
    return torch.stack(outs, 1), h, c


def naive_recurrent_forward(self, x, state=None):
    """Drop-in replacement for seqgen.models.recurrent.Recurrent.forward: the same maths on the same weights,
    run as a Python loop of LSTMCell/GRUCell steps (teacher-forced, batch_first). Returns (outputs, state)."""
    rnn = self.rnn
    dirs = 2 if rnn.bidirectional else 1
    b = x.shape[0]
    if state is None:
        h0 = x.new_zeros(rnn.num_layers * dirs, b, rnn.hidden_size)
        state = (h0, h0.clone()) if self.cell == "lstm" else h0
    h0, c0 = (state if self.cell == "lstm" else (state, None))
    hs, cs = [], []
    inp = x
    for layer in range(rnn.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            k = layer * dirs + d
            out, h, c = _naive_direction(inp, h0[k], None if c0 is None else c0[k],
                                         getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx),
                                         getattr(rnn, "bias_ih" + sfx), getattr(rnn, "bias_hh" + sfx),
                                         self.cell, reverse=bool(d))
            outs.append(out)
            hs.append(h)
            cs.append(c)
        inp = torch.cat(outs, -1) if dirs == 2 else outs[0]
    new_state = (torch.stack(hs), torch.stack(cs)) if self.cell == "lstm" else torch.stack(hs)
    return inp, new_state


@contextlib.contextmanager
def naive_recurrence():
    """Within this block every seqgen Recurrent layer runs as a per-step cell loop instead of fused nn.LSTM/GRU."""
    from seqgen.models.recurrent import Recurrent
    orig = Recurrent.forward
    Recurrent.forward = naive_recurrent_forward
    try:
        yield
    finally:
        Recurrent.forward = orig


# ---------------------------------------------------------------------------------------------- formatting
def md_table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            if v != v:
                return "n/a"
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return "" if v is None else str(v)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
