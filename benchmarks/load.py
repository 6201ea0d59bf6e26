"""A class on one server: N protocol-level sessions (benchmarks/st_client.py) against `streamlit run app.py`.

    python benchmarks/load.py [--json out.json]        # the table, ~12 min
    python benchmarks/load.py --quick                  # smoke run, ~1.5 min
    python benchmarks/load.py --sessions 30 --train 0 --seconds 300 --only class   # long run: memory
    python benchmarks/load.py --sessions 30 --train 0 --only mixed --per-role     # each role's own CPU cost
    python benchmarks/load.py --sessions 30 --train --only mixed --per-role --roles music   # one role alone
    python benchmarks/load.py --server-arg=--runner.postScriptGC=true ...          # Streamlit's default, A/B

Everything goes to 127.0.0.1 only: the script starts its own server on a free loopback port (from the
repository, or `--app-dir`), and every session and request is bounded in count and time (`--seconds`
of steady traffic after `--ramp` seconds of arrivals, one request in flight per session, per-request
timeouts). Needs only what Streamlit installs (`websockets`, its protobufs); `pip install py-spy` for
`--profile`, which records the server with `py-spy record` during the steady phase of every configuration.

Each configuration starts a fresh server, warms it up with one session per role (what the teacher does
before the class: every model and cache is loaded), optionally starts live training runs from sessions
on the Live training page (`--train 2`: two digits VAEs, the page's defaults; `--gan`: the second one a
digits GAN; polled as a browser polls them),
then lets N sessions arrive, spread evenly over `--ramp` seconds. Sessions take these roles in turn:

- classic: the latent explorer with the classic sliders; one slider move per second, every fifth a click
  on the map. Latency: the move is sent -> the decoded image is fetched over HTTP (as a browser does).
- pad: the latent explorer's drag pad; a release (z sent back, as the pad does on release and at most every
  3 s while sweeping) every 3 s. Latency: release -> the address bar update (page_info_changed).
- noise: Noise -> image; a new seed per second. Latency: -> both images fetched.
- text: Text; "New batch" or a newly typed name, alternately, once per second. Latency: -> the run finished.
- music: Music; "New melody" or a new tempo, alternately, once per second. Latency: -> the melody's sound
  fetched (a player loads its sound when it appears).

The pad's sessions also fetch the in-browser runtime and the decoder once, on arrival, as a browser does on
its first use of the pad (`Accept-Encoding: br, gzip`, as a browser asks).
`--per-role` runs each role alone, with the same number of sessions, so each role's server CPU per
interaction stands on its own.

`--only class` runs just the pad classroom figure: N sessions that all sweep the pad.

Reported per configuration: errors (exceptions, st.error, timeouts, HTTP failures), answered interactions
and p50 / p95 / max latency per role and over all, first page load (connect -> first run finished and
its images fetched) p50 / p95 / max, server CPU per interaction (utime + stime of the server process
over the steady phase, without the live-training threads, which name themselves "seqgen-run..."), the
cores it kept busy (the pages' and the training threads' CPU-s per second of the steady phase), the
training threads' steps/s, and the server's memory (VmRSS at the start and end of the steady phase, its
maximum, and, in a steady phase of a minute or more, after its first minute).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from st_client import Session  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
ROLES = ("classic", "pad", "noise", "text", "music")
NAMES = ("Maria", "Oliver", "Amelia", "Noah", "Zoe", "Liam", "Ava", "Ethan", "Mila", "Lucas", "Ivy", "Felix")
PERIOD = {"classic": 1.0, "pad": 3.0, "noise": 1.0, "text": 1.0, "music": 1.0}
PAGE = {"classic": ("latent", "model=digits-vae&z=0.00,0.00"), "pad": ("latent", "model=digits-vae&z=0.00,0.00"),
        "noise": ("noise", ""), "text": ("text", ""), "music": ("music", ""), "train": ("training", "")}
TEMPOS = range(60, 165, 5)          # the Music page's tempo slider (bpm)
RSS_CURVE_EVERY_S = 30.0          # the memory curve's spacing over the steady phase
BROWSER_ENCODINGS = {"Accept-Encoding": "gzip, deflate, br"}


@functools.cache
def pad_first_use_paths(model: str = "digits-vae") -> tuple[str, ...]:
    """What the pad fetches the first time a browser opens it: the runtime's files and the model's decoder, at
    the addresses the app gives them (content-hashed, so cached for good after)."""
    sys.path.insert(0, str(REPO))
    from seqgen.ui.latent_pad import published_name, runtime_urls  # the app's own addresses (imports torch)
    decoder = published_name((REPO / "checkpoints" / model / "decoder.onnx").read_bytes())
    return (*runtime_urls("/").values(), f"/app/static/decoders/{decoder}")


# ------------------------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(app_dir: Path, extra: list[str]):
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *extra]
    log = open(f"/tmp/seqgen-load-{port}.log", "w")
    # every simulated student comes from 127.0.0.1; in a real class each has an address or a seat of their own
    env = {**os.environ, "SEQGEN_NEW_BROWSERS_PER_ADDRESS": os.environ.get("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "10000")}
    proc = subprocess.Popen(cmd, cwd=app_dir, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the server did not start (see {log.name})")
            time.sleep(0.3)
        yield proc.pid, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _stat_cpu(path: Path) -> float:
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def cpu(*pids: int) -> tuple[float, float]:
    """(CPU-s of the whole server processes, CPU-s of their live-training threads), summed over `pids`."""
    total = train = 0.0
    for pid in pids:
        total += _stat_cpu(Path(f"/proc/{pid}/stat"))
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                if (task / "comm").read_text().startswith("seqgen-run"):
                    train += _stat_cpu(task / "stat")
            except OSError:
                pass
    return total, train


def _minute(rss: dict) -> str:
    """The table's words for the memory after the first minute (nothing for a steady phase under a minute)."""
    return "" if rss.get("after_first_minute") is None else f", {rss['after_first_minute']} after 1 min"


def threads(*pids: int) -> int:
    """Threads of the server processes, summed (each process's /proc/<pid>/task)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{pid}/task"))
    return total


def rss_mib(*pids: int) -> float:
    total = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


# ------------------------------------------------------------------------------------------------ roles
class Stats:
    def __init__(self):
        self.lat: dict[str, list[float]] = {r: [] for r in ROLES}
        self.first: list[float] = []
        self.errors: list[str] = []

    def run(self, role: str, run, latency: float | None) -> None:
        if run.errors:
            self.errors.extend(f"{role}: {e}" for e in run.errors)
        elif latency is not None:
            self.lat[role].append(latency)
        else:
            self.errors.append(f"{role}: no answer")


async def prepare(session: Session, role: str, rng: random.Random) -> None:
    """What a student does once on arrival before the measured interactions begin."""
    if role == "classic":
        run = await session.set_widget("le_classic", bool_value=True)
        if run.errors:
            raise RuntimeError(f"classic toggle: {run.errors}")
    elif role == "pad":
        for path in pad_first_use_paths():
            r = await session.fetch(path, headers=BROWSER_ENCODINGS)
            if r.status != 200:
                raise RuntimeError(f"pad first use: GET {path}: HTTP {r.status}")


async def interact(session: Session, role: str, i: int, rng: random.Random):
    """One interaction of `role` -> (run, latency in s or None)."""
    if role == "classic":
        if i % 5 == 4:
            x, y = (round(rng.randint(-16, 16) * 0.25, 2) for _ in range(2))
            sel = {"selection": {"points": [{"curve_number": 0, "point_number": 0, "point_index": 0, "x": x, "y": y}],
                                 "point_indices": [0], "box": [], "lasso": []}}
            run = await session.set_widget("le_map", string_value=json.dumps(sel))
        else:
            key = "le_z0" if i % 2 else "le_z1"
            run = await session.set_widget(key, double_array_value=[round(rng.randint(-60, 60) * 0.05, 2)])
        end = run.first_media or run.finished
    elif role == "pad":
        z = [round(rng.uniform(-3, 3), 2), round(rng.uniform(-3, 3), 2)]
        run = await session.set_widget("le_pad", json_value={"z": z})
        end = run.url or run.finished
    elif role == "noise":
        run = await session.set_widget("ni_seed", double_value=rng.randint(1, 999_999))
        end = run.finished if not run.images else max(run.first_media or run.finished, run.finished)
    elif role == "music":
        if i % 2:
            run = await session.set_widget("mu_tempo", double_array_value=[float(rng.choice(TEMPOS))])
        else:
            run = await session.set_widget("mu_new", trigger_value=True)
        end = run.first_media if run.audio else run.finished
    else:
        if i % 2:
            run = await session.set_widget("tx_name", string_value=rng.choice(NAMES) + rng.choice("aeiouny"))
        else:
            run = await session.set_widget("tx_new", trigger_value=True)
        end = run.finished
    return run, (None if end is None else end - run.sent)


async def student(base: str, role: str, arrive: float, t_end: float, stats: Stats, seed: int,
                  cookies: bool = False) -> None:
    """cookies=True: an own cookie jar and the page load first, as a browser does (a cookie-routing proxy)."""
    rng = random.Random(seed)
    await asyncio.sleep(max(0.0, arrive - time.perf_counter()))
    page, query = PAGE[role]
    s = Session(base, page, query, cookies={} if cookies else None)
    try:
        if cookies:
            await s.fetch("/")
        run = await s.open()
        if run.errors or run.finished is None:
            stats.errors.extend(f"{role} first load: {e}" for e in run.errors or ["no answer"])
            return
        stats.first.append((run.first_media and max(run.first_media, run.finished) or run.finished) - run.sent)
        await prepare(s, role, rng)
        nxt = time.perf_counter() + rng.uniform(0, PERIOD[role])
        i = 0
        while True:
            await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
            if time.perf_counter() >= t_end:
                break
            run, latency = await interact(s, role, i, rng)
            stats.run(role, run, latency)
            i += 1
            nxt = max(nxt + PERIOD[role], time.perf_counter())
        stats.errors.extend(f"{role}: {e}" for e in s.errors)
    except Exception as e:  # noqa: BLE001 - counted, never hidden
        stats.errors.append(f"{role}: {type(e).__name__}: {e}")
    finally:
        await s.close()


async def start_training(base: str, n: int, gan: bool = False, cookies: bool = False,
                         steps: int | None = None) -> list[Session]:
    """n sessions on the Live training page, each pressing Start with the page's defaults (a digits VAE),
    or, with gan=True, every second one a digits GAN. cookies=True: each a browser of its own, as student().
    steps: the run's length instead of the page's (a long soak outlasts the default's 3,000 steps)."""
    out = []
    for k in range(n):
        s = Session(base, *PAGE["train"], cookies={} if cookies else None)
        if cookies:
            await s.fetch("/")
        run = await s.open()
        if run.errors:
            raise RuntimeError(f"live page: {run.errors}")
        family = "vae"
        if gan and k % 2:
            fam = s.proto("lt_family")
            await s.set_widget("lt_family", string_value=next(o for o in fam.options if "GAN" in o.upper()))
            family = "gan"
        if steps:
            await s.set_widget(f"lt_k_digits_{family}_steps", int_value=steps)
        run = await s.set_widget("lt_start", trigger_value=True)
        if run.errors:
            raise RuntimeError(f"Start: {run.errors}")
        out.append(s)
    return out


def steps_per_s(session: Session, t0: float, t1: float) -> float | None:
    pts = []
    for t, text in session.texts:
        if t0 <= t <= t1 and text.startswith("step "):
            try:
                pts.append((t, int(text.split()[1].split("/")[0].replace(",", ""))))
            except ValueError:
                pass
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


# ------------------------------------------------------------------------------------------------ one configuration
async def warm_up(base: str, roles) -> None:
    rng = random.Random(0)
    for role in roles:
        s = Session(base, *PAGE[role])
        run = await s.open(timeout=120)
        if run.errors:
            raise RuntimeError(f"warm-up {role}: {run.errors}")
        await prepare(s, role, rng)
        for i in range(2):
            await interact(s, role, i, rng)
        await s.close()


async def configuration(base: str, pids: list[int], n: int, train: int, roles, ramp: float, seconds: float,
                        profile: Path | None, gan: bool = False, warm_bases: list[str] | None = None,
                        cookies: bool = False, train_steps: int | None = None) -> dict:
    """pids: the server processes whose CPU and memory count; warm_bases: where to warm up (default base);
    train_steps: the live runs' length (default: the page's)."""
    for warm_base in warm_bases or [base]:
        await warm_up(warm_base, sorted(set(roles)))
    threads_warm = threads(*pids)
    trainers = await start_training(base, train, gan, cookies, train_steps) if train else []
    if trainers:
        await asyncio.sleep(3)            # past the runs' setup, into steady training
    stats = Stats()
    t_start = time.perf_counter()
    t_steady = t_start + ramp
    t_end = t_steady + seconds
    tasks = [asyncio.create_task(student(base, roles[i % len(roles)], t_start + ramp * i / max(1, n), t_end, stats,
                                         seed=1000 + i, cookies=cookies)) for i in range(n)]
    await asyncio.sleep(max(0.0, t_steady - time.perf_counter()))
    # the steady phase: every session has arrived (or is loading)
    cpu0, train0 = cpu(*pids)
    rss0 = rss_mib(*pids)
    counts0 = {r: len(v) for r, v in stats.lat.items()}
    spy = None
    if profile is not None:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pids[0]), "--duration", str(int(seconds)), "--rate", "50",
                                "--format", "speedscope", "--output", str(profile), "--nonblocking", "--threads"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rss_max, rss_minute, rss_curve = rss0, None, [(0, round(rss0))]
    while time.perf_counter() < t_end:
        await asyncio.sleep(1.0)
        now = rss_mib(*pids)
        rss_max = max(rss_max, now)
        since = time.perf_counter() - t_steady
        if since >= rss_curve[-1][0] + RSS_CURVE_EVERY_S:
            rss_curve.append((round(since), round(now)))
        if rss_minute is None and time.perf_counter() - t_steady >= 60:
            rss_minute = now                 # a long run's memory is judged against this, its first minute done
    cpu1, train1 = cpu(*pids)
    rss1 = rss_mib(*pids)
    threads_busy = threads(*pids)
    answered = sum(len(v) - counts0[r] for r, v in stats.lat.items())
    rates = [steps_per_s(s, t_steady, t_end) for s in trainers]
    await asyncio.gather(*tasks)
    for s in trainers:
        stats.errors.extend(f"live page: {e}" for e in s.errors)
        with contextlib.suppress(Exception):
            await s.set_widget("lt_stop", trigger_value=True, timeout=20)
        await s.close()
    if spy is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(30)
    app_cpu = (cpu1 - cpu0) - (train1 - train0)
    out = {"sessions": n, "train_runs": train, "roles": sorted(set(roles)), "ramp_s": ramp, "steady_s": seconds,
           "errors": len(stats.errors), "error_samples": stats.errors[:10],
           "answered": sum(len(v) for v in stats.lat.values()), "answered_steady": answered,
           "first_load_s": summary(stats.first),
           "latency_s": {r: summary(v) for r, v in stats.lat.items() if v},
           "all_latency_s": summary([x for v in stats.lat.values() for x in v]),
           "server_cpu_s": round(app_cpu, 2), "server_cpu_per_interaction_s": round(app_cpu / max(1, answered), 4),
           "train_cpu_s": round(train1 - train0, 2), "train_steps_per_s": [None if r is None else round(r, 2) for r in rates],
           "rss_mib": {"start": round(rss0), "end": round(rss1), "max": round(rss_max),
                       "after_first_minute": None if rss_minute is None else round(rss_minute)},
           "rss_curve_mib": rss_curve + [(round(time.perf_counter() - t_steady), round(rss1))],
           "threads": {"after_warm_up": threads_warm, "steady_end": threads_busy},
           "load_average": os.getloadavg()}
    return out


def summary(xs):
    if not xs:
        return None
    return {"n": len(xs), "p50": round(statistics.median(xs), 3), "p95": round(pct(xs, 95), 3), "max": round(max(xs), 3)}


# ------------------------------------------------------------------------------------------------ report
def fmt(s, k):
    return "–" if not s else f"{s[k]:.2f}"


def table(rows: list[dict]) -> str:
    head = ("| config | errors | answered | p50 / p95 / max (s) | "
            + "".join(f"{role} p95 | " for role in ROLES)
            + "first load p50 / max (s) | CPU-s / interaction | cores busy (pages + training) | "
            "RSS start → end (max) MiB | training steps/s | load avg |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        a, lat = r["all_latency_s"], r["latency_s"]
        steps = ", ".join("–" if v is None else f"{v:.1f}" for v in r["train_steps_per_s"]) or "–"
        lines.append(
            f"| {r['label']} | {r['errors']} | {r['answered']} | {fmt(a, 'p50')} / {fmt(a, 'p95')} / {fmt(a, 'max')} | "
            + "".join(f"{fmt(lat.get(role), 'p95')} | " for role in ROLES)
            + f"{fmt(r['first_load_s'], 'p50')} / {fmt(r['first_load_s'], 'max')} | "
            f"{r['server_cpu_per_interaction_s']:.3f} | "
            f"{r['server_cpu_s'] / r['steady_s']:.2f} + {r['train_cpu_s'] / r['steady_s']:.2f} | "
            f"{r['rss_mib']['start']} → {r['rss_mib']['end']} "
            f"({r['rss_mib']['max']}{_minute(r['rss_mib'])}) | {steps} | {' '.join(f'{x:.1f}' for x in r['load_average'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="*", default=[10, 20, 30])
    ap.add_argument("--train", type=int, nargs="*", default=[0, 2], help="live training runs per configuration")
    ap.add_argument("--seconds", type=float, default=45.0, help="steady phase per configuration")
    ap.add_argument("--ramp", type=float, default=10.0, help="the sessions arrive spread over this many seconds")
    ap.add_argument("--gan", action="store_true", help="every second live run trains a digits GAN")
    ap.add_argument("--only", choices=["mixed", "class"], help="only the mixed configurations, or only the pad class")
    ap.add_argument("--per-role", action="store_true",
                    help="also each role alone, at the largest --sessions, without live runs: its CPU per interaction")
    ap.add_argument("--roles", nargs="+", choices=ROLES, default=list(ROLES), help="the roles --per-role runs")
    ap.add_argument("--class-sessions", type=int, default=30)
    ap.add_argument("--class-seconds", type=float, default=60.0)
    ap.add_argument("--server-arg", action="append", default=[], help="extra `streamlit run` option (repeatable)")
    ap.add_argument("--app-dir", type=Path, default=REPO)
    ap.add_argument("--profile", type=Path, help="folder for one py-spy speedscope profile per configuration")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--quick", action="store_true", help="3 sessions, 2 live runs, 10 s: a smoke test")
    args = ap.parse_args(argv)
    plan = []
    if args.quick:
        plan = [("mixed", 4, 2, 2.0, 10.0), ("class", 3, 0, 1.0, 8.0)]
    else:
        if args.only != "class":
            plan += [("mixed", n, t, args.ramp, args.seconds) for t in args.train for n in args.sessions]
        if args.per_role:
            plan += [(f"role:{role}", max(args.sessions), 0, args.ramp, args.seconds) for role in args.roles]
        if args.only != "mixed":
            plan.append(("class", args.class_sessions, 0, args.ramp, args.class_seconds))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"load average at start: {os.getloadavg()}; server options: {args.server_arg or 'none'}", flush=True)
    for kind, n, train, ramp, seconds in plan:
        only = kind.removeprefix("role:")        # "role:<name>": that role alone
        roles = ROLES if kind == "mixed" else ("pad",) if kind == "class" else (only,)
        label = (f"{n}{' + ' + str(train) + ' live runs' if train else ''}"
                 + {"mixed": "", "class": " pad class"}.get(kind, f" {only} only"))
        prof = args.profile / f"{label.replace(' ', '_')}.json" if args.profile else None
        with server(args.app_dir, args.server_arg) as (pid, base):
            row = asyncio.run(configuration(base, [pid], n, train, roles, ramp, seconds, prof, args.gan))
        row["label"], row["kind"] = label, kind
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "error_samples"}), flush=True)
        if row["error_samples"]:
            print("  errors:", row["error_samples"][:5], flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"server_args": args.server_arg, "rows": rows}, indent=1))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
