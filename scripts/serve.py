#!/usr/bin/env python3
"""Serve seqgen from several Streamlit processes behind nginx, every browser kept on one process.

    python scripts/serve.py --processes 2 --port 8501                       # http://127.0.0.1:8501
    python scripts/serve.py --processes 4 --address 0.0.0.0 --user-models /srv/seqgen/user_models   # class LAN

It renders deploy/nginx/seqgen.conf.template into the run folder, starts N `streamlit run app.py` processes on
free loopback ports (all saving trained models to one folder, all sharing one table of --max-live-runs training
slots and their queue, in the run folder), waits
until each answers /_stcore/health, starts nginx on --address:--port and prints the URL. An app process
that dies is started again on its port (nginx sends its students to the others meanwhile); nginx exiting,
or app processes dying more than 5 times in 5 minutes, stops everything, as Ctrl-C or SIGTERM do.
docs/SERVING.md explains each piece.
"""
from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "deploy" / "nginx" / "seqgen.conf.template"
STREAMLIT_DEFAULT_UPLOAD_MB = 200   # what Streamlit allows when .streamlit/config.toml says nothing
UPLOAD_FRAMING_KIB = 64             # multipart boundary and part headers around the largest allowed file
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0
# An app process that dies is started again on its port; one that keeps dying is a fault to report instead.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_S = 300.0
# nginx reads these paths unquoted (and expands $ in some): refuse anything else rather than escape it.
SAFE_PATH = re.compile(r"^[\w./+,:@-]+$")
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
PR_SET_PDEATHSIG = 1


class ServeError(RuntimeError):
    """Something the operator can fix; main() prints the message on one line."""


# ------------------------------------------------------------------------------------------------ pieces
def free_loopback_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (all held open together while asking, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def max_body_kib(app_dir: Path) -> int:
    """nginx's client_max_body_size: Streamlit's server.maxUploadSize (MB) plus the multipart framing."""
    path = app_dir / ".streamlit" / "config.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        megabytes = int(config.get("server", {}).get("maxUploadSize", STREAMLIT_DEFAULT_UPLOAD_MB))
    except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as e:
        raise ServeError(f"cannot read server.maxUploadSize from {path}: {e}") from None
    return megabytes * 1024 + UPLOAD_FRAMING_KIB


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def listen_directive(address: str, port: int) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ServeError(f"--address {address!r} is not an IP address (127.0.0.1, 0.0.0.0, ::1, ...)") from None
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def render_config(template: str, run_dir: Path, listen: str, app_ports: list[int], body_kib: int) -> str:
    values = {"RUN_DIR": str(run_dir), "LISTEN": listen, "MAX_BODY": f"{body_kib}k",
              "UPSTREAM_SERVERS": "\n".join(f"        server 127.0.0.1:{p};" for p in app_ports)}
    unknown = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if unknown:
        raise ServeError(f"{TEMPLATE.name} has placeholders serve.py does not fill: {', '.join(unknown)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def find_nginx(explicit: str | None) -> str:
    # Debian puts nginx in /usr/sbin, which is not on an ordinary user's PATH.
    found = shutil.which(explicit) if explicit else shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not found:
        raise ServeError(f"{explicit or 'nginx'} not found: install it with `apt-get install nginx` "
                         "(or pass --nginx PATH)")
    return found


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def tail_of(path: Path) -> str:
    try:
        return last_line(path.read_text(encoding="utf-8", errors="replace")[-4000:])
    except OSError:
        return "(no log)"


def app_command(port: int, extra: list[str]) -> list[str]:
    # No file watcher: a server does not edit its own code, and N watchers would each poll the tree.
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", *extra]


def die_with_parent() -> None:
    """Run in each child before exec: SIGTERM when serve.py dies, even by SIGKILL, so nothing is orphaned
    (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def accepting(address: str, port: int) -> bool:
    host = "127.0.0.1" if address == "0.0.0.0" else "::1" if address == "::" else address
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------------------ the deployment
@dataclass
class Deployment:
    """N app processes and nginx; a context manager (start on enter, stop on exit, also on errors)."""
    processes: int = 2
    address: str = "127.0.0.1"
    port: int = 8501
    run_dir: Path | None = None
    user_models: Path | None = None
    max_live_runs: int | None = None
    app_dir: Path = REPO
    nginx: str | None = None
    streamlit_args: list[str] = field(default_factory=list)
    app_ports: list[int] = field(default_factory=list, init=False)
    live_runs: int = field(default=0, init=False)       # training slots of the whole deployment
    children: dict[str, tuple[subprocess.Popen, Path]] = field(default_factory=dict, init=False)
    restarts: list[tuple[float, str]] = field(default_factory=list, init=False)   # (when, which app process)
    app_commands: dict[str, tuple[list[str], str, dict]] = field(default_factory=dict, init=False)

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.address, self.address)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        nginx = find_nginx(self.nginx)
        self.live_runs = self.max_live_runs or usable_cores()   # the cores these processes may run on
        listen = listen_directive(self.address, self.port)
        if accepting(self.address, self.port):
            raise ServeError(f"port {self.port} on {self.address} is already in use (another server?): "
                             "stop that one or pick another --port")
        conf = self._write_config(listen)
        self._check_config(nginx, conf)
        for port in self.app_ports:
            name = f"app process on port {port}"
            self.app_commands[name] = (app_command(port, self.streamlit_args), f"app-{port}.log",
                                       {"cwd": self.app_dir, "env": self._app_env()})
            self._spawn_app(name)
        self._wait_for("app processes", lambda: all(healthy(p) for p in self.app_ports))
        self._spawn("nginx", [*self._nginx_base(nginx, conf), "-g", "daemon off;"], "nginx.out")
        self._wait_for("nginx", lambda: accepting(self.address, self.port))

    def _write_config(self, listen: str) -> Path:
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix=f"seqgen-serve-{self.port}-"))
        self.run_dir = self.run_dir.resolve()
        if not SAFE_PATH.match(str(self.run_dir)):
            raise ServeError(f"run folder {self.run_dir} has characters nginx would misread: use letters, "
                             "digits and ./_-+,:@ only")
        for sub in ("logs", "temp"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        self.app_ports = free_loopback_ports(self.processes)
        text = render_config(TEMPLATE.read_text(encoding="utf-8"), self.run_dir, listen, self.app_ports,
                             max_body_kib(self.app_dir))
        conf = self.run_dir / "nginx.conf"
        conf.write_text(text, encoding="utf-8")
        return conf

    def _nginx_base(self, nginx: str, conf: Path) -> list[str]:
        # -e: nginx opens its error log before reading the config; the compiled-in one needs root.
        return [nginx, "-p", f"{self.run_dir}/", "-e", str(self.run_dir / "logs" / "error.log"), "-c", str(conf)]

    def _check_config(self, nginx: str, conf: Path) -> None:
        done = subprocess.run([*self._nginx_base(nginx, conf), "-t", "-q"], capture_output=True, text=True,
                              timeout=30)
        if done.returncode != 0:
            raise ServeError(f"nginx rejected {conf}: {last_line(done.stderr)}")

    def _app_env(self) -> dict[str, str]:
        # behind nginx every connection comes from loopback: the app reads a browser's address from the last
        # X-Forwarded-For entry, the one nginx saw (seqgen.ui.live: new browser ids per address). Every process
        # asks one slot table before it trains (seqgen.training.live.slots), so the cap and the queue are the
        # deployment's, whichever process a browser landed on.
        env = {**os.environ, "SEQGEN_MAX_RUNS": str(self.live_runs), "SEQGEN_BEHIND_PROXY": "1",
               "SEQGEN_LIVE_SLOTS": str(self.run_dir / "live-slots.sqlite3")}
        if self.user_models is not None:
            folder = self.user_models.resolve()
            folder.mkdir(parents=True, exist_ok=True)
            env["SEQGEN_USER_MODELS"] = str(folder)
        return env

    def _spawn(self, name: str, cmd: list[str], log_name: str, **kw) -> None:
        log = self.run_dir / "logs" / log_name
        with open(log, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent, **kw)
        self.children[name] = (proc, log)

    def _spawn_app(self, name: str) -> None:
        cmd, log_name, kw = self.app_commands[name]
        self._spawn(name, cmd, log_name, **kw)

    def _wait_for(self, what: str, ready, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            self.check_children(restart=False)
            if time.monotonic() > deadline:
                raise ServeError(f"{what} did not answer within {timeout:g} s (logs in {self.run_dir}/logs)")
            time.sleep(0.2)

    def pids(self) -> dict[str, int]:
        """Each child's name (nginx, app process on port P) -> its pid (nginx: the master)."""
        return {name: proc.pid for name, (proc, _) in self.children.items()}

    def check_children(self, restart: bool = True) -> None:
        """Start again an app process that exited (restart=True), on its own port: nginx sends its students to
        the other processes meanwhile, and their browsers reconnect. ServeError when nginx exited, when an app
        process exits while starting, or when app processes died more than RESTARTS_ALLOWED times within
        RESTART_WINDOW_S (a fault a restart does not cure), with the last line of the log."""
        for name, (proc, log) in list(self.children.items()):
            if proc.poll() is None:
                continue
            if name == "nginx":
                log = self.run_dir / "logs" / "error.log"
            now = time.monotonic()
            self.restarts = [(t, n) for t, n in self.restarts if now - t < RESTART_WINDOW_S]
            if not restart or name == "nginx" or len(self.restarts) >= RESTARTS_ALLOWED:
                raise ServeError(f"{name} exited with code {proc.returncode}: {tail_of(log)} (log: {log})")
            self.restarts.append((now, name))
            print(f"serve.py: {name} exited with code {proc.returncode} ({tail_of(log)}); starting it again",
                  file=sys.stderr, flush=True)
            self._spawn_app(name)

    def wait(self, poll_s: float = 0.5) -> None:
        """Block until nginx exits or an app process keeps dying (ServeError), or the caller is interrupted;
        app processes that exit are started again."""
        while True:
            self.check_children()
            time.sleep(poll_s)

    def stop(self) -> None:
        """nginx first (no new requests), then the apps; SIGKILL whatever is still there after the timeout."""
        for _, (proc, _) in reversed(list(self.children.items())):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc, _ in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.children.clear()


# ------------------------------------------------------------------------------------------------ command line
class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def port_number(text: str) -> int:
    value = positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1-65535)")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    ap = OneLineParser(prog="serve.py", description=__doc__.splitlines()[0],
                       epilog="Recipe, sticky sessions and the training cap: docs/SERVING.md")
    ap.add_argument("--processes", metavar="N", type=positive, default=usable_cores(),
                    help="Streamlit processes (default: the CPU cores it may use)")
    ap.add_argument("--port", metavar="PORT", type=port_number, default=8501, help="nginx's port (default 8501)")
    ap.add_argument("--address", metavar="ADDR", default="127.0.0.1",
                    help="nginx's address (default 127.0.0.1; 0.0.0.0 serves the whole LAN)")
    ap.add_argument("--user-models", metavar="DIR", type=Path, help="one folder all processes save trained models to "
                    "(default: SEQGEN_USER_MODELS, else user_models/ in the app folder)")
    ap.add_argument("--run-dir", metavar="DIR", type=Path, help="config, pid, temp and logs (default: a new folder in /tmp)")
    ap.add_argument("--max-live-runs", metavar="TOTAL", type=positive,
                    help="live training runs at once across all processes, with one queue for the rest "
                         "(default: the CPU cores it may use)")
    ap.add_argument("--nginx", metavar="PATH", help="the nginx binary (default: nginx on PATH or in /usr/sbin)")
    ap.add_argument("--app-dir", type=Path, default=REPO, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGHUP too: a closed terminal must stop nginx, which would take a SIGHUP of its own as "reload".
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    deployment = Deployment(args.processes, args.address, args.port, args.run_dir, args.user_models,
                            args.max_live_runs, args.app_dir, args.nginx)
    try:
        with deployment:
            ports = ", ".join(map(str, deployment.app_ports))
            lan = " and this machine's LAN addresses (hostname -I)" if args.address in ("0.0.0.0", "::") else ""
            print(f"seqgen is at {deployment.url}{lan} ({args.processes} processes on 127.0.0.1 ports {ports}; "
                  f"{deployment.live_runs} live-training slots in all; logs in {deployment.run_dir}/logs). "
                  "Ctrl-C stops it.", flush=True)
            deployment.wait()
    except (ServeError, OSError) as e:
        print(f"serve.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("serve.py: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
