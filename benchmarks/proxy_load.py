"""A class through nginx (scripts/serve.py): the classroom mix of benchmarks/load.py, 1 process vs 2.

    python benchmarks/proxy_load.py --json benchmarks/results/proxy_load.json   # ladder 10/20/30/40, ~10 min
    python benchmarks/proxy_load.py --quick                                     # smoke run, ~1.5 min

Everything stays on 127.0.0.1 and is bounded (at most MAX_SESSIONS sessions, --seconds of steady traffic,
load.py's per-request timeouts). Each configuration starts a fresh deployment (nginx and N `streamlit run
app.py` on free loopback ports, user models in a temporary folder), warms every process up directly (one
session per role, as load.py does), then lets the sessions arrive through nginx over --ramp seconds. Each
session is a browser of its own: a cookie jar, the page load (nginx sets its route), then the WebSocket and
the media on that route. Roles, interactions and latencies are load.py's. Server CPU is utime + stime of
every app process and of nginx (master and workers) over the steady phase. The process counts alternate
inside each rung of the ladder (1 then 2, then 2 then 1, ...), so a change in the machine's load lands on both.

Capacity at the target: the largest rung, climbing the ladder until the first miss, whose interactions have
p95 <= 1 s (P95_TARGET_S) with no errors and whose first page loads all finish within 5 s (benchmarks/README.md's
targets); the gain is that capacity with the most processes over the capacity with the fewest.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "scripts"))

import load  # noqa: E402
import serve  # noqa: E402

P95_TARGET_S = 1.0
P95_TRAINING_TARGET_S = 1.5        # beside live training runs
MIN_STEPS_PER_S = 4.0              # each live run, meanwhile
FIRST_LOAD_TARGET_S = 5.0
MAX_SESSIONS = 60
MAX_PROCESSES = 4
MAX_TRAINING_RUNS = 2              # serve.py lets a 2-core machine run two (one per usable core)
STREAM = re.compile(r'"GET /_stcore/stream [^"]*" 101 .* upstream=(\S+) route=(\S+)')


def temp_entries() -> set[str]:
    """The names in the temporary folder: a session's leftover files would show up as new ones."""
    return set(os.listdir(tempfile.gettempdir()))


def nginx_workers(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def sessions_per_process(access_log: Path) -> list[int]:
    """How many browsers (distinct routes that opened a WebSocket) each process got, largest first."""
    routes: dict[str, set[str]] = {}
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = STREAM.search(line)
        if m:
            routes.setdefault(m.group(1), set()).add(m.group(2))
    return sorted((len(r) for r in routes.values()), reverse=True)


def measure(processes: int, n: int, train: int, args) -> dict:
    # every simulated browser comes from 127.0.0.1, where a real class has an address or a seat for each: without
    # this, the app would make the second trainer wait its turn as a private window of the first (load.py too)
    os.environ.setdefault("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "10000")
    with tempfile.TemporaryDirectory(prefix="seqgen-proxy-load-") as tmp:
        port = serve.free_loopback_ports(1)[0]
        with serve.Deployment(processes=processes, port=port, run_dir=Path(tmp) / "run",
                              user_models=Path(tmp) / "user_models", app_dir=args.app_dir) as d:
            pids = list(d.pids().values())
            pids += nginx_workers(d.pids()["nginx"])
            direct = [f"http://127.0.0.1:{p}" for p in d.app_ports]
            temp_before = temp_entries()
            row = asyncio.run(load.configuration(d.url, pids, n, train, load.ROLES, args.ramp, args.seconds, None,
                                                 warm_bases=direct, cookies=True, train_steps=args.train_steps))
            if args.linger:
                # every session has closed and every run was stopped: what is left after the idle timeout
                time.sleep(args.linger)
                row["threads"]["after_linger"] = load.threads(*pids)
                row["linger_s"] = args.linger
                row["temp_entries_left"] = sorted(temp_entries() - temp_before)
        row["split"] = sessions_per_process(Path(tmp) / "run" / "logs" / "access.log")
    row["processes"] = processes
    row["label"] = f"{n} × {processes}" + (f" + {train} live run{'s' if train > 1 else ''}" if train else "")
    return row


def within_target(row: dict) -> bool:
    """No errors, first loads within FIRST_LOAD_TARGET_S, and interactions within P95_TARGET_S at p95, or
    P95_TRAINING_TARGET_S beside live runs, which must then each make at least MIN_STEPS_PER_S."""
    lat, first = row["all_latency_s"], row["first_load_s"]
    training = row.get("train_runs", 0) > 0
    steps = row.get("train_steps_per_s") or []
    return (row["errors"] == 0 and lat is not None
            and lat["p95"] <= (P95_TRAINING_TARGET_S if training else P95_TARGET_S)
            and first is not None and first["max"] <= FIRST_LOAD_TARGET_S
            and all(r is not None and r >= MIN_STEPS_PER_S for r in steps))


def capacity(rows: list[dict], processes: int) -> int:
    """The largest session count served within the target, climbing the ladder until the first miss."""
    best = 0
    for row in sorted((r for r in rows if r["processes"] == processes and not r.get("train_runs")),
                      key=lambda r: r["sessions"]):
        if not within_target(row):
            break
        best = row["sessions"]
    return best


def steps_text(row: dict) -> str:
    return ", ".join("–" if x is None else f"{x:.1f}" for x in row.get("train_steps_per_s") or []) or "–"


def table(rows: list[dict]) -> str:
    head = ("| sessions × processes | errors | answered | p50 / p95 / max (s) | first load p50 / max (s) | "
            "server CPU-s (apps + nginx) | CPU-s / interaction | sessions per process | RSS end MiB | "
            "training steps/s | within target | load avg |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in sorted(rows, key=lambda r: (r["sessions"], r.get("train_runs", 0), r["processes"])):
        a, f = r["all_latency_s"], r["first_load_s"]
        lines.append(
            f"| {r['label']} | {r['errors']} | {r['answered']} | {load.fmt(a, 'p50')} / {load.fmt(a, 'p95')} / "
            f"{load.fmt(a, 'max')} | {load.fmt(f, 'p50')} / {load.fmt(f, 'max')} | {r['server_cpu_s']:.1f} | "
            f"{r['server_cpu_per_interaction_s']:.3f} | {' / '.join(map(str, r['split'])) or '–'} | "
            f"{r['rss_mib']['end']} | {steps_text(r)} | "
            f"{'yes' if within_target(r) else 'no'} | "
            f"{' '.join(f'{x:.1f}' for x in r['load_average'])} |")
    return "\n".join(lines)


def gain_line(rows: list[dict], counts: list[int], ladder: list[int]) -> str:
    caps = {p: capacity(rows, p) for p in counts}
    parts = [f"{p} process{'es' if p > 1 else ''}: {'≥ ' if c == max(ladder) else ''}{c} sessions"
             for p, c in caps.items()]
    low, high, top = caps[min(counts)], caps[max(counts)], max(ladder)
    if not low:
        gain = "– (the fewest processes met the target at no rung)"
    elif low == top:
        gain = "– (every count met the target at every rung: climb higher)"
    else:
        gain = f"{'≥ ' if high == top else ''}{high / low:.2f}×"
    return (f"capacity at p95 ≤ {P95_TARGET_S:g} s (no errors, first load ≤ {FIRST_LOAD_TARGET_S:g} s): "
            f"{'; '.join(parts)}; gain {gain}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ladder", type=int, nargs="+", default=[10, 20, 30, 40], help="session counts")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="process counts to compare")
    ap.add_argument("--train", type=int, nargs="+", default=[0],
                    help="live training runs beside the class, per rung (each count in turn; the capacity counts 0)")
    ap.add_argument("--train-steps", type=int, help="the live runs' length (default: the page's 3,000 steps, about "
                                                     "10 minutes at 5 steps/s; a longer soak needs more)")
    ap.add_argument("--seconds", type=float, default=30.0, help="steady phase per configuration")
    ap.add_argument("--ramp", type=float, default=10.0, help="the sessions arrive spread over this many seconds")
    ap.add_argument("--linger", type=float, default=0.0,
                    help="after each configuration, wait this long (the runs' idle timeout is 120 s) and count the "
                         "threads and temporary files still there")
    ap.add_argument("--app-dir", type=Path, default=REPO)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--quick", action="store_true", help="4 and 8 sessions, 8 s steady: a smoke test")
    args = ap.parse_args(argv)
    if args.quick:
        args.ladder, args.seconds, args.ramp = [4, 8], 8.0, 2.0
    if not all(1 <= n <= MAX_SESSIONS for n in args.ladder):
        ap.error(f"--ladder: session counts from 1 to {MAX_SESSIONS}")
    if not all(1 <= p <= MAX_PROCESSES for p in args.processes):
        ap.error(f"--processes: from 1 to {MAX_PROCESSES}")
    if not all(0 <= t <= MAX_TRAINING_RUNS for t in args.train):
        ap.error(f"--train: from 0 to {MAX_TRAINING_RUNS} live runs")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    counts = sorted(set(args.processes))
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    for rung, n in enumerate(sorted(set(args.ladder))):
        for processes, train in [(p, t) for p in (counts if rung % 2 == 0 else counts[::-1]) for t in args.train]:
            try:
                row = measure(processes, n, train, args)
            except serve.ServeError as e:
                print(f"proxy_load.py: {e}", file=sys.stderr)
                return 1
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "error_samples"}), flush=True)
            if row["error_samples"]:
                print("  errors:", row["error_samples"][:5], flush=True)
    summary = gain_line(rows, counts, sorted(set(args.ladder))) if 0 in args.train else ""
    print()
    print(table(rows))
    print()
    print(summary)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "capacity": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
