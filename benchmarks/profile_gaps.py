"""Profiles behind the speed targets this machine misses (issue 6: "the gap stated with the profile that
explains it"). Prints three small tables; run on a quiet machine:

    python benchmarks/profile_gaps.py

1. `import seqgen` < 2 s: `python -X importtime -c "import seqgen"`, cumulative time by top-level package.
2. Training step >= 50 % of the fp32 peak (digits-vae, digits-gan miss it): torch.profiler over 20 steps at
   1 thread, self time grouped into recurrent kernels, other matmuls, element-wise work, optimiser.
3. Decode one melody z <= 5 ms: torch.profiler over 50 decodes, per-step op counts and mean cost.
"""
from __future__ import annotations

import collections
import subprocess
import sys

import common  # noqa: F401  (sets OMP_WAIT_POLICY and sys.path before torch)
import torch
from common import ROOT, md_table, threads
from torch.profiler import ProfilerActivity, profile


def import_profile() -> str:
    """What `import seqgen` spends its time on: torch, numpy and seqgen's own modules."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import seqgen"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stderr
    cumulative, own, total = {}, 0, 1
    for line in out.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|")
        name = name.strip()
        cumulative.setdefault(name, int(cum_us))   # the first (outermost) import of each module
        if name == "seqgen":
            total = int(cum_us)
        if name.split(".")[0] == "seqgen":
            own += int(self_us)
    rows = [[f"`import {n}` (and everything it imports)", cumulative.get(n, 0) / 1e6,
             f"{cumulative.get(n, 0) / total:.0%}"] for n in ("torch", "numpy")]
    rows.append(["seqgen's own modules (self time)", own / 1e6, f"{own / total:.0%}"])
    rows.append(["`import seqgen` in all", total / 1e6, "100%"])
    return md_table(["part of `import seqgen`", "seconds", "share"], rows)


GROUPS = (("recurrent kernels (LSTM fwd/bwd)", ("lstm", "rnn", "gru")),
          ("other matmuls (linear layers, their grads)", ("addmm", "mm", "bmm", "matmul", "linear")),
          ("optimiser (Adam) and grad clipping", ("_foreach", "adam", "norm", "clip")),
          ("element-wise, losses, copies, the rest", ()))


def step_profile(name: str, steps: int = 20) -> tuple[list, float]:
    from seqgen import get_domain
    from seqgen.models import build_model
    from seqgen.presets import configure
    mc, tc, p = configure(name)
    torch.manual_seed(0)
    model = build_model(mc).train()
    x, y = get_domain(p.domain).dataset("train")
    x, y = x[: tc.batch_size], y[: tc.batch_size] if y is not None else None
    opts = model.configure_optimizers(tc)
    step = 10 ** 9 if mc.family == "gan" else 0
    for _ in range(3):
        model.train_step(x, y, step, opts, tc)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            model.train_step(x, y, step, opts, tc)
    self_us = collections.Counter()
    for ev in prof.key_averages():
        key = ev.key.lower()
        group = next((g for g, words in GROUPS if any(w in key for w in words)), GROUPS[-1][0])
        self_us[group] += ev.self_cpu_time_total
    total = sum(self_us.values())
    return [[g, self_us[g] / steps / 1e3, f"{self_us[g] / total:.0%}"] for g, _ in GROUPS], total / steps / 1e3


def decode_profile(name: str = "melodies-vae", reps: int = 50) -> str:
    from seqgen.checkpoints import load
    model = load(name).model.eval()
    z = torch.tensor([[0.3, -0.7]])
    with torch.inference_mode():
        for _ in range(10):
            model.decode(z)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(reps):
                model.decode(z)
    steps = reps * model.cfg.seq_len
    evs = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:8]
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    rows = [[e.key, e.count / steps, e.self_cpu_time_total / e.count, e.self_cpu_time_total / steps]
            for e in evs]
    rows.append(["all ops (profiler adds its own overhead)", "", "", total / steps])
    return (md_table(["op", "calls per step", "µs per call (self)", "µs per step (self)"], rows)
            + f"\n\n{model.cfg.seq_len} sequential steps per melody, batch 1, {model.cfg.cell} {model.cfg.hidden}.")


def main() -> None:
    print("## 1. import seqgen\n")
    print(import_profile())
    with threads(1):
        for name in ("digits-vae", "digits-gan", "names-vae"):
            rows, ms = step_profile(name)
            print(f"\n## 2. one training step of {name} (1 thread): {ms:.1f} ms of op self time\n")
            print(md_table(["where the time goes", "ms per step", "share"], rows))
        print("\n## 3. decode one melody z (1 thread, inference_mode)\n")
        print(decode_profile())


if __name__ == "__main__":
    main()
