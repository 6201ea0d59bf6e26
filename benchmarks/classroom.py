"""Class mode at the protocol level, on loopback only: what a class of 30 costs the store and the event stream.

    python benchmarks/classroom.py                      # SQLite, Redis (a redis-server on a loopback port), nginx
    python benchmarks/classroom.py --stores sqlite --idle-seconds 600    # the 10-minute memory check

Figures (each bounded in count and time):
1. step change -> 30 students: the teacher's set_state, until each student's stream has the new version and
   the student has read the class's state (what the page's rerun reads first); p50 / p95 / max, errors.
2. 30 answers -> the teacher: 30 students answer at once; from the last answer sent until the teacher's stream
   has said `activity` and answers() holds all 30.
3. 30 idle followers: 30 open student streams (their presence heartbeats included) served by a uvicorn in a
   child process; that process's CPU (utime + stime from /proc) over --idle-seconds, as % of one core, and its
   resident memory at the start and the end.
4. a class run watched by 30 vs 1: a live digits GAN trains in this process while its snapshots are published
   to the store once a second and 1 or 30 watchers read them every 2 s (a student's class-run view); steps/s.

Through nginx (`--stores nginx`), figures 1 and 4 are also measured end to end with Streamlit sessions
(benchmarks/st_client.py). Figure 1: 30 student sessions, each its own browser, join; each reruns its page on
every `version` event of its class stream, as the page's listener does in the browser; the teacher starts a
lesson and presses Next through it; from the press to the new step's banner on each student's page. Figure 4:
the teacher session starts a class and the class run from the Class page, so the run trains in the teacher's
app process, and 1 or 30 student sessions (their own route cookies: they land on both processes) join and
watch it, their class-run fragment rerunning every 2 s as the browser's timer asks; steps/s read from the store.

What this leaves out: the browser's own drawing, and (outside nginx) the Streamlit side of a follower.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from classroom_helpers import EventStream, free_port, redis_server, serve_asgi  # noqa: E402

from seqgen.classroom import Settings, Stage, open_store  # noqa: E402

STUDENTS = 30
CHANGES = 20


def _app(url: str):
    from starlette.applications import Starlette

    from seqgen import classroom
    return Starlette(routes=classroom.routes("", open_store(url)))


def percentile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ------------------------------------------------------------------------------------------------ 1 and 2
def step_changes(url: str, base: str) -> dict:
    store = open_store(url)
    new = store.create_class()
    joined = [store.join(new.code) for _ in range(STUDENTS)]
    latencies, errors, sent = [], [], {}
    ready = threading.Barrier(STUDENTS + 1)

    def student(me):
        try:
            with EventStream(f"{base}/class/events?code={new.code}&student={me.student_id}&following=1",
                             timeout=30) as s:
                first = s.until("version")
                seen = int(first.data)
                ready.wait(30)
                while seen < first_version + CHANGES:
                    event = s.until("version")
                    seen = int(event.data)
                    store.state(new.code)                     # what the follower's rerun reads
                    if seen in sent:
                        latencies.append(time.perf_counter() - sent[seen])
        except Exception as e:  # noqa: BLE001 - counted, shown
            errors.append(repr(e))

    first_version = store.versions(new.code).version
    with ThreadPoolExecutor(STUDENTS) as pool:
        futures = [pool.submit(student, me) for me in joined]
        ready.wait(30)
        for step in range(1, CHANGES + 1):
            t = time.perf_counter()
            state = store.set_state(new.code, new.secret, Stage(page="latent", step=step))
            sent[state.version] = t
            time.sleep(0.5)
        for f in futures:
            f.result(60)
    return {"p50": statistics.median(latencies), "p95": percentile(latencies, 0.95), "max": max(latencies),
            "n": len(latencies), "errors": len(errors)}


def answers_to_teacher(url: str, base: str) -> dict:
    from seqgen.classroom import Question
    store = open_store(url, Settings(answer_burst=3))
    new = store.create_class(Stage(page="latent", question=Question("point", "Where?", answer=(1.4, 0.25))))
    joined = [store.join(new.code) for _ in range(STUDENTS)]
    with EventStream(f"{base}/class/events?code={new.code}&feed=teacher", timeout=30) as teacher:
        teacher.until("activity")
        start = time.perf_counter()
        with ThreadPoolExecutor(STUDENTS) as pool:
            list(pool.map(lambda me: store.answer(new.code, me.student_id, (1.0, 0.2)), joined))
        last_sent = time.perf_counter()
        while True:
            teacher.until("activity")
            if len(store.answers(new.code, new.secret).items) == STUDENTS:
                break
        done = time.perf_counter()
    return {"sending": last_sent - start, "after_last": done - last_sent}


# ------------------------------------------------------------------------------------------------ 3
def _serve_forever(url: str, port: int) -> None:
    import uvicorn
    uvicorn.run(_app(url), host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def idle_followers(url: str, seconds: float) -> dict:
    port = free_port()
    proc = mp.get_context("spawn").Process(target=_serve_forever, args=(url, port), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        store = open_store(url)
        new = store.create_class()
        while True:
            try:
                EventStream(f"{base}/class/events?code={new.code}", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        joined = [store.join(new.code) for _ in range(STUDENTS)]
        streams = [EventStream(f"{base}/class/events?code={new.code}&student={me.student_id}&following=1",
                               timeout=seconds + 60) for me in joined]
        for s in streams:
            s.until("version")
        time.sleep(2)                              # connections settled
        cpu0, rss0 = _cpu_and_rss(proc.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        cpu1, rss1 = _cpu_and_rss(proc.pid)
        elapsed = time.monotonic() - t0
        presence = store.presence(new.code, new.secret)
        for s in streams:
            s.close()
        return {"cpu_pct": 100 * (cpu1 - cpu0) / elapsed, "rss0_mb": rss0 / 2**20, "rss1_mb": rss1 / 2**20,
                "seconds": elapsed, "following": presence.following}
    finally:
        proc.terminate()                           # only the server this benchmark started
        proc.join(10)


# ------------------------------------------------------------------------------------------------ 4
def class_run(url: str, watchers: int, seconds: float) -> float:
    from seqgen.training.live import TrainingRun, get_manager, live_defaults
    from seqgen.ui import class_views

    store = open_store(url)
    new = store.create_class()
    knobs = {**live_defaults("digits", "gan"), "steps": 100_000}
    run = TrainingRun("digits", "gan", knobs, manager=get_manager(), client=f"bench-{watchers}")
    run.start()
    class_views.publish(run, new.code, new.secret)
    stop = threading.Event()

    def watch():
        while not stop.wait(class_views.RUN_POLL_S):
            store.class_runs(new.code)

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(watchers)]
    for t in threads:
        t.start()
    while run.snapshot().step < 20:                 # built and training
        time.sleep(0.2)
    s0, t0 = run.snapshot().step, time.perf_counter()
    time.sleep(seconds)
    s1, t1 = run.snapshot().step, time.perf_counter()
    stop.set()
    run.stop()
    run.join(30)
    store.end_class(new.code, new.secret)
    return (s1 - s0) / (t1 - t0)


async def _teacher_with_class(base: str, on_response=None):
    """A teacher session on the Class page that has started a class; -> (session, class code)."""
    from st_client import Session
    teacher = Session(base, "class", cookies={}, fetch_media=False, on_response=on_response)
    await teacher.open()
    await teacher.set_widget("class_start_btn", trigger_value=True)
    code = next(m.group(1) for _t, text in reversed(teacher.markdown)
                if (m := re.fullmatch(r"# ([A-Z0-9]{6})", text.strip())))
    return teacher, code


async def step_changes_through_app(base: str, students: int, lesson: str = "latent-space") -> dict:
    """Figure 1 end to end: `students` Streamlit sessions (own browsers) join; each listens to the class's
    event stream and reruns its page on every `version` event, as the page's listener does in the browser. The
    teacher starts `lesson` and presses Next through its steps. -> latency from the teacher's press to each
    student's page showing the new step (its banner's "step N of" arriving), p50 / p95 / max, errors."""
    from st_client import Session
    teacher, code = await _teacher_with_class(base)
    sessions, streams = [], []
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(students)
    latencies, errors, per_step = [], 0, []
    try:
        for _ in range(students):
            s = Session(base, "class", f"class={code}", cookies={}, fetch_media=True)
            await s.open()
            await s.set_widget("class_join_btn", trigger_value=True)
            sessions.append(s)
            streams.append(EventStream(f"{base}/class/events?code={code}&following=1", timeout=120))
        await teacher.go_to("lessons")

        async def follow(s, stream, step: int, t0: float) -> float | None:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                await loop.run_in_executor(pool, stream.until, "version")
                await s.rerun()
                shown = [t for t, text in s.markdown if t >= t0 and f"step {step} of" in text]
                if shown:
                    return min(shown) - t0
            return None
        step, steps = 1, 1
        while step <= steps:
            key = f"lesson_start_{lesson}" if step == 1 else "lesson_next"
            t0 = time.perf_counter()
            pressed = asyncio.create_task(teacher.set_widget(key, trigger_value=True))
            got = await asyncio.gather(*(follow(s, st, step, t0) for s, st in zip(sessions, streams)))
            await pressed
            latencies += [g for g in got if g is not None]
            errors += sum(g is None for g in got)
            per_step.append(max((g for g in got if g is not None), default=float("nan")))
            steps = max(int(m.group(1)) for _t, text in teacher.markdown
                        if (m := re.search(r"step \d+ of (\d+)", text)))
            step += 1
            await asyncio.sleep(1)
    finally:
        for stream in streams:
            stream.close()
        pool.shutdown(wait=False, cancel_futures=True)
        for s in [*sessions, teacher]:
            await s.close()
    if not latencies:
        raise RuntimeError(f"no student page showed a step change ({errors} misses)")
    return {"n": len(latencies), "errors": errors, "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95), "max": max(latencies), "slowest_per_step": per_step}


async def class_run_through_app(base: str, store, watchers: int, seconds: float, pids: list[int]) -> dict:
    """Figure 4 through the app: the teacher's session starts a class and its class run (the Class page's
    buttons), `watchers` student sessions join it and watch; -> steps/s over `seconds`, students on the
    teacher's process and on the other, and the CPU-s the app processes (`pids`) and this client spent."""
    from st_client import Session
    upstream: dict[int, str] = {}

    def seen(who: int):
        def on_response(_path, _status, headers):
            found = headers.get("x-seqgen-upstream") or []
            if found:
                upstream[who] = found[0]
        return on_response
    teacher, code = await _teacher_with_class(base, on_response=seen(-1))
    await teacher.set_widget("class_run_start", trigger_value=True)
    students = []
    try:
        for i in range(watchers):
            s = Session(base, "class", f"class={code}", cookies={}, fetch_media=True, on_response=seen(i))
            await s.open()
            await s.set_widget("class_join_btn", trigger_value=True)
            students.append(s)

        def step() -> int:
            runs = store.class_runs(code)
            return runs[-1].step if runs else 0
        end = time.monotonic() + 120
        while step() < 20:                          # built, training and published
            if time.monotonic() > end:
                raise RuntimeError("the class run did not start within 2 minutes")
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)                      # every student's view has drawn the run once
        s0, t0 = step(), time.perf_counter()
        servers0, client0 = sum(_cpu_and_rss(p)[0] for p in pids), sum(os.times()[:2])
        await asyncio.sleep(seconds)
        s1, t1 = step(), time.perf_counter()
        servers1, client1 = sum(_cpu_and_rss(p)[0] for p in pids), sum(os.times()[:2])
        if not all(s.auto_fragments for s in students):
            raise RuntimeError("a student's page has no class-run view polling")
        await teacher.fetch("/_stcore/health")
        for s in students:
            await s.fetch("/_stcore/health")          # the route cookie shows which process serves each
        same = sum(upstream.get(i) == upstream.get(-1) for i in range(watchers))
        return {"steps_per_s": (s1 - s0) / (t1 - t0), "on_teachers": same, "on_other": watchers - same,
                "server_cpu_s": servers1 - servers0, "client_cpu_s": client1 - client0, "seconds": t1 - t0}
    finally:
        await teacher.set_widget("lt_stop", trigger_value=True)
        for s in [*students, teacher]:
            await s.close()


# ------------------------------------------------------------------------------------------------ nginx
def through_nginx(args) -> None:
    """Figures 1-3 through nginx and 2 app processes (`streamlit run app.py` each, scripts/serve.py) sharing the
    SQLite store in their user folder; the streams land on both processes (each request without a route
    cookie gets a random route)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("serve", Path(__file__).resolve().parents[1] / "scripts" / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    sys.modules["serve"] = serve
    spec.loader.exec_module(serve)
    with tempfile.TemporaryDirectory(prefix="seqgen-class-nginx-") as root:
        models = Path(root) / "user_models"
        models.mkdir()
        url = f"sqlite:///{models / '.classroom.sqlite3'}"
        port = serve.free_loopback_ports(1)[0]
        with serve.Deployment(processes=2, port=port, run_dir=Path(root) / "run", user_models=models,
                              max_live_runs=2) as d:
            print(f"== SQLite store through nginx, 2 app processes ({d.url})", flush=True)
            store = open_store(url)
            probe = store.create_class()
            upstreams = set()
            for _ in range(8):
                with EventStream(f"{d.url}/class/events?code={probe.code}", timeout=30) as s:
                    upstreams.add(s.headers.get("x-seqgen-upstream", ""))
            r = step_changes(url, d.url)
            print(f"step change -> {STUDENTS} students: p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
                  f"max {r['max'] * 1000:.0f} ms over {r['n']} deliveries, {r['errors']} errors; streams on "
                  f"{len(upstreams - {''})} processes", flush=True)
            r = answers_to_teacher(url, d.url)
            print(f"{STUDENTS} answers -> teacher: on the teacher's stream and read {r['after_last'] * 1000:.0f} ms "
                  "after the last one", flush=True)
            new = store.create_class()
            joined = [store.join(new.code) for _ in range(STUDENTS)]
            streams = [EventStream(f"{d.url}/class/events?code={new.code}&student={me.student_id}&following=1",
                                   timeout=args.idle_seconds + 60) for me in joined]
            for s in streams:
                s.until("version")
            time.sleep(2)
            pids = [proc.pid for proc, _log in d.children.values()]
            before = [_cpu_and_rss(pid) for pid in pids]
            t0 = time.monotonic()
            time.sleep(args.idle_seconds)
            after = [_cpu_and_rss(pid) for pid in pids]
            elapsed = time.monotonic() - t0
            cpu = sum(a[0] - b[0] for a, b in zip(after, before))
            print(f"{STUDENTS} idle followers: {100 * cpu / elapsed:.2f} % of one core over {elapsed:.0f} s (both app "
                  f"processes and nginx), RSS {sum(b[1] for b in before) / 2**20:.0f} -> "
                  f"{sum(a[1] for a in after) / 2**20:.0f} MB", flush=True)
            for s in streams:
                s.close()
            r = asyncio.run(step_changes_through_app(d.url, STUDENTS))
            print(f"step change -> {STUDENTS} Streamlit student pages (event, rerun, the new step on the page): "
                  f"p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms over "
                  f"{r['n']} deliveries, {r['errors']} errors; the last student's page, step by step: "
                  + ", ".join(f"{v * 1000:.0f}" for v in r["slowest_per_step"]) + " ms", flush=True)
            if args.run_seconds > 0:
                one, many = (asyncio.run(class_run_through_app(d.url, store, n, args.run_seconds, pids))
                             for n in (1, STUDENTS))
                print(f"class run (trained in the teacher's app process): {one['steps_per_s']:.1f} steps/s watched "
                      f"by 1, {many['steps_per_s']:.1f} steps/s watched by {STUDENTS} Streamlit sessions "
                      f"({many['on_teachers']} on the teacher's process, {many['on_other']} on the other) "
                      f"({100 * many['steps_per_s'] / one['steps_per_s']:.0f} %); CPU over the window, app "
                      f"processes with the training: {one['server_cpu_s']:.1f} vs {many['server_cpu_s']:.1f} s, "
                      f"this client's {STUDENTS} sessions {many['client_cpu_s']:.1f} s of {many['seconds']:.0f} s",
                      flush=True)


# ------------------------------------------------------------------------------------------------ main
def bench(name: str, url: str, args) -> None:
    print(f"== {name} store ({url.split('?')[0]})", flush=True)
    with serve_asgi(_app(url)) as base:
        r = step_changes(url, base)
        print(f"step change -> {STUDENTS} students: p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
              f"max {r['max'] * 1000:.0f} ms over {r['n']} deliveries, {r['errors']} errors", flush=True)
        r = answers_to_teacher(url, base)
        print(f"{STUDENTS} answers -> teacher: sent in {r['sending'] * 1000:.0f} ms, on the teacher's stream and "
              f"read {r['after_last'] * 1000:.0f} ms after the last one", flush=True)
    r = idle_followers(url, args.idle_seconds)
    print(f"{STUDENTS} idle followers: {r['cpu_pct']:.2f} % of one core over {r['seconds']:.0f} s, RSS "
          f"{r['rss0_mb']:.1f} -> {r['rss1_mb']:.1f} MB, {r['following']} counted as following", flush=True)
    if args.run_seconds > 0:
        one = class_run(url, 1, args.run_seconds)
        many = class_run(url, STUDENTS, args.run_seconds)
        print(f"class run: {one:.1f} steps/s watched by 1, {many:.1f} steps/s watched by {STUDENTS} "
              f"({100 * many / one:.0f} %)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", default="sqlite,redis,nginx",
                    help="any of sqlite, redis, nginx (SQLite behind nginx with 2 app processes); default all")
    ap.add_argument("--idle-seconds", type=float, default=60.0, help="how long the idle followers are watched")
    ap.add_argument("--run-seconds", type=float, default=20.0, help="training window per watcher count (0: skip)")
    args = ap.parse_args()
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory(prefix="seqgen-class-bench-") as folder:
        if "sqlite" in stores:
            bench("SQLite", f"sqlite:///{folder}/class.sqlite3", args)
        if "redis" in stores:
            with redis_server() as url:
                bench("Redis", url, args)
    if "nginx" in stores:
        through_nginx(args)


if __name__ == "__main__":
    main()
