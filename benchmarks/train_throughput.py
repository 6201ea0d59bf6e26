"""Does `train` use the whole machine? Examples per second of one preset's training, several ways, in one run.

    python benchmarks/train_throughput.py                        # digits-vae, 3 interleaved rounds, ~4 min
    python benchmarks/train_throughput.py --preset fashion-vae --rounds 2 --steps 150 --json out.json

Configurations, each in a fresh process (the OpenMP wait policy is read once, when torch loads), one step
being one global batch of the preset's batch_size, in float32 unless the name says bf16:

- `1 thread`: torch.set_num_threads(1), the reference every ratio divides by;
- `1 thread, glibc trimming`: the same without seqgen.training.memory.keep_freed_memory(), which every other
  seqgen row calls as the train command does;
- `2 threads, passive`: OMP_WAIT_POLICY=PASSIVE (what the app, live training and tests use);
- `2 threads, active`: OMP_WAIT_POLICY=ACTIVE, what `python -m seqgen train` picks on its own (seqgen/__main__.py);
- `torchrun 2 x 1 thread`: `torchrun --nproc_per_node=2`, each process training on half of every batch, the
  averages going through shared memory (gradient_exchange auto, as `python -m seqgen train` does);
- `torchrun 2 x 1 thread, gloo`: the same with gradient_exchange backend, gloo's all_reduce over loopback TCP;
- `torchrun 2 x 1 thread, 2x batch`: the same with each process taking a whole preset batch (global batch doubled);
- `1 thread, bf16` / `torchrun 2 x 1 thread, bf16`: the same under bfloat16 autocast (`--bf16 on`; on a CPU
  with no bfloat16 instructions that falls back to float32, and the JSON's "bf16" says so);
- `Keras, 1 thread` / `Keras, 2 threads` / `Keras, 2 threads, mixed_bfloat16`: with `--keras-python PYTHON`
  (an interpreter that has TensorFlow), the same model in Keras 3 (benchmarks/keras_peer.py, digits-vae only),
  for the comparison with a peer; the last with Keras's own mixed precision.

The configurations are interleaved round by round (A B C D E, A B C D E, ...), because the machine's other
work changes every absolute figure; each row reports the median over rounds of the per-round steady-state rate
(the first `--warmup` steps of every process are not timed), its ratio to the 1-thread median, and the median
of its per-round ratios to the 1-thread run of the same round (the steadier figure when the load drifts).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CONFIGS = {
    "1 thread": dict(threads=1, policy="PASSIVE", procs=1, batch_factor=1),
    "1 thread, glibc trimming": dict(threads=1, policy="PASSIVE", procs=1, batch_factor=1, keep_memory=False),
    "2 threads, passive": dict(threads=2, policy="PASSIVE", procs=1, batch_factor=1),
    "2 threads, active": dict(threads=2, policy="ACTIVE", procs=1, batch_factor=1),
    "torchrun 2 x 1 thread": dict(threads=1, policy="PASSIVE", procs=2, batch_factor=1),
    "torchrun 2 x 1 thread, gloo": dict(threads=1, policy="PASSIVE", procs=2, batch_factor=1, exchange="backend"),
    "torchrun 2 x 1 thread, 2x batch": dict(threads=1, policy="PASSIVE", procs=2, batch_factor=2),
    "1 thread, bf16": dict(threads=1, policy="PASSIVE", procs=1, batch_factor=1, bf16="on"),
    "torchrun 2 x 1 thread, bf16": dict(threads=1, policy="PASSIVE", procs=2, batch_factor=1, bf16="on"),
}
KERAS = {"Keras, 1 thread": (1, "float32"), "Keras, 2 threads": (2, "float32"),
         "Keras, 2 threads, mixed_bfloat16": (2, "mixed_bfloat16")}


def worker(preset: str, steps: int, warmup: int, batch_factor: int, exchange: str, bf16: str, keep_memory: bool,
           out: Path) -> None:
    """Run inside each measured process: time `steps` steps after `warmup`, process 0 writes the result."""
    sys.path.insert(0, str(REPO))
    import torch

    import seqgen  # noqa: F401 -- before torch, for the wait policy
    from seqgen.domains import get_domain
    from seqgen.models import build_model
    from seqgen.presets import configure
    from seqgen.training import Trainer, seed_everything
    from seqgen.training.distributed import Processes
    from seqgen.training.memory import keep_freed_memory

    if keep_memory:
        keep_freed_memory()  # as the train command does
    processes = Processes.from_environment()
    model_cfg, train_cfg, _ = configure(preset, None, None, {}, {})
    train_cfg.batch_size *= batch_factor
    train_cfg.gradient_exchange = exchange
    train_cfg.bf16 = bf16
    train_cfg.eval_every = 10**9
    processes.join(torch.device("cpu"))
    seed_everything(train_cfg.seed)
    trainer = Trainer(build_model(model_cfg), get_domain(model_cfg.domain), train_cfg, device="cpu",
                      processes=processes)
    trainer.run_steps(warmup)
    t0 = time.perf_counter()
    trainer.run_steps(steps)
    seconds = time.perf_counter() - t0
    if processes.is_main:
        out.write_text(json.dumps({"seconds": seconds, "steps": steps, "batch": train_cfg.batch_size,
                                   "threads": torch.get_num_threads(),
                                   "bf16": trainer.bf16,
                                   "policy": os.environ.get("OMP_WAIT_POLICY")}))
    processes.leave()


def with_rates(result: dict) -> dict:
    result["examples_per_s"] = result["steps"] * result["batch"] / result["seconds"]
    result["ms_per_step"] = 1000 * result["seconds"] / result["steps"]
    return result


def measure_keras(name: str, python: str, steps: int, warmup: int) -> dict:
    threads, precision = KERAS[name]
    cmd = [python, str(HERE / "keras_peer.py"), "--threads", str(threads), "--precision", precision,
           "--steps", str(steps), "--warmup", str(warmup)]
    done = subprocess.run(cmd, cwd=REPO, timeout=900, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return with_rates(result)


def measure(name: str, preset: str, steps: int, warmup: int, keras_python: str | None = None) -> dict:
    if name in KERAS:
        return measure_keras(name, keras_python, steps, warmup)
    cfg = CONFIGS[name]
    env = {**os.environ, "OMP_WAIT_POLICY": cfg["policy"], "OMP_NUM_THREADS": str(cfg["threads"])}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        args = [__file__, "--worker", "--preset", preset, "--steps", str(steps), "--warmup", str(warmup),
                "--batch-factor", str(cfg["batch_factor"]), "--exchange", cfg.get("exchange", "auto"),
                "--bf16", cfg.get("bf16", "off"),
                *([] if cfg.get("keep_memory", True) else ["--trim-memory"]), "--out", str(out)]
        if cfg["procs"] > 1:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc_per_node", str(cfg["procs"]), *args]
        else:
            cmd = [sys.executable, *args]
        done = subprocess.run(cmd, env=env, cwd=REPO, timeout=900, capture_output=True, text=True)
        if done.returncode or not out.exists():
            raise SystemExit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads(out.read_text())
    return with_rates(result)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="digits-vae")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200, help="timed steps per process and round")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--only", nargs="*", choices=[*CONFIGS, *KERAS], help="a subset of the configurations")
    ap.add_argument("--keras-python", help="a Python interpreter with TensorFlow: adds the Keras rows")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch-factor", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--exchange", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--bf16", default="off", help=argparse.SUPPRESS)
    ap.add_argument("--trim-memory", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.preset, args.steps, args.warmup, args.batch_factor, args.exchange, args.bf16,
               not args.trim_memory, args.out)
        return 0
    names = args.only or [*CONFIGS, *(KERAS if args.keras_python else ())]
    if any(n in KERAS for n in names) and (not args.keras_python or args.preset != "digits-vae"):
        ap.error("the Keras rows need --keras-python and the digits-vae preset")
    load_before = open("/proc/loadavg").read().split()[:3]
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names:
            runs[n].append(measure(n, args.preset, args.steps, args.warmup, args.keras_python))
            print(f"round {r + 1} {n:34} {runs[n][-1]['ms_per_step']:7.1f} ms/step "
                  f"{runs[n][-1]['examples_per_s']:7.0f} ex/s", file=sys.stderr, flush=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    rows = []
    print(f"\n{args.preset}, {os.cpu_count()} cores, load average {' '.join(load_before)} -> {' '.join(load_after)}")
    reference = runs.get("1 thread", runs[names[0]])
    base = statistics.median(x["examples_per_s"] for x in reference)
    print("| configuration | global batch | ms/step (median) | examples/s (median) | vs 1 thread | "
          "vs 1 thread, same round (median) |\n|---|---|---|---|---|---|")
    for n in names:
        eps = statistics.median(x["examples_per_s"] for x in runs[n])
        ms = statistics.median(x["ms_per_step"] for x in runs[n])
        same_round = statistics.median(x["examples_per_s"] / r["examples_per_s"] for x, r in zip(runs[n], reference))
        rows.append({"configuration": n, "batch": runs[n][0]["batch"], "ms_per_step": ms, "examples_per_s": eps,
                     "ratio": eps / base, "ratio_same_round": same_round, "rounds": runs[n]})
        print(f"| {n} | {runs[n][0]['batch']} | {ms:.1f} | {eps:.0f} | {eps / base:.2f}x | {same_round:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"preset": args.preset, "load": [load_before, load_after], "rows": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
