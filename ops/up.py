"""The whole system on this machine, processes only: ``make up`` / ``make down``.

    python -m ops.up up        # migrate, collectstatic, then gunicorn, a worker, beat
    python -m ops.up status    # what runs, where
    python -m ops.up down      # stop it all (idempotent)

What starts, each in a process group of its own, its output in ``<run>/logs/``:

- **gunicorn** with the shipped config (``config/gunicorn.conf.py``), bound to
  127.0.0.1:``UP_PORT``, ``UP_WORKERS`` processes;
- **a Celery worker** listening on ``UP_QUEUE`` only;
- **Celery beat** with the database scheduler (the jobs the migrations registered).

Every job goes to ``UP_QUEUE`` (``CELERY_TASK_DEFAULT_QUEUE``, ``SYNC_QUEUE`` and
``RECONCILIATION_QUEUE`` all name it), so this system never takes another's tasks on
the same Redis, nor another its own. Settings (environment, or the options):

    UP_RUN_DIR       run state: pid files, state.json, logs/, the secret key (.run/)
    UP_DATABASE_URL  postgres://postgres@127.0.0.1:5432/onestock_up (made if missing)
    UP_PORT          8080
    UP_QUEUE         onestock-up
    UP_WORKERS       gunicorn processes (2: this machine's two cores)
    UP_TIMEOUT       seconds to wait for /readyz and the worker (90)

Everything else (``CELERY_BROKER_URL``, ``DATABASE_REPLICA_URLS``, ``LOG_FORMAT``,
``DJANGO_SECRET_KEY``...) is passed through from the environment. Every process carries
``ONESTOCK_UP_RUN=<run folder>`` in its environment: ``down`` finds by it whatever of
this run is left (a gunicorn worker whose master died, say) and stops it by its pid.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
MARKER = "ONESTOCK_UP_RUN"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/onestock_up"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
# Stopped in this order: no new requests, then no new jobs, then the jobs in hand.
NAMES = ("gunicorn", "beat", "worker")
STOP_GRACE_SECONDS = 40  # gunicorn gives its workers 30 s (graceful_timeout)


class Refused(Exception):
    """Up or down cannot go on; the message says why, for a person."""


@dataclass
class Config:
    run_dir: Path
    database_url: str
    port: int
    queue: str
    workers: int
    timeout: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def marker(self) -> str:
        return str(self.run_dir)


def config_from(args: argparse.Namespace) -> Config:
    env = os.environ
    run_dir = Path(args.run_dir or env.get("UP_RUN_DIR") or ROOT / ".run")
    return Config(
        run_dir=run_dir.expanduser().resolve(),
        database_url=args.database_url
        or env.get("UP_DATABASE_URL")
        or DEFAULT_DATABASE_URL,
        port=int(args.port or env.get("UP_PORT") or 8080),
        queue=args.queue or env.get("UP_QUEUE") or "onestock-up",
        workers=int(args.workers or env.get("UP_WORKERS") or 2),
        timeout=float(args.timeout or env.get("UP_TIMEOUT") or 90),
    )


# Processes: identified by pid and start time, so a pid reused after a reboot is
# never taken for ours.


def start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished; its parent has not reaped it yet
        return None
    return int(fields[19])


def is_alive(record: dict) -> bool:
    return start_ticks(record["pid"]) == record["start"]


def processes_marked(marker: str) -> list[int]:
    """Every live process started for this run folder (itself or any descendant)."""
    wanted = f"{MARKER}={marker}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if (b"\0" + environ).find(b"\0" + wanted) >= 0 and start_ticks(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def send(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wait_gone(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return True
        time.sleep(0.2)
    return not check()


# Run state: state.json (the truth) and a plain <name>.pid beside it for people.


def read_state(config: Config) -> dict | None:
    try:
        return json.loads(config.state_file.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        return {"processes": []}


def write_state(config: Config, state: dict) -> None:
    temporary = config.state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.chmod(0o600)  # it holds the database URL
    temporary.replace(config.state_file)
    for record in state["processes"]:
        (config.run_dir / f"{record['name']}.pid").write_text(f"{record['pid']}\n")


def forget_state(config: Config) -> None:
    config.state_file.unlink(missing_ok=True)
    for name in NAMES:
        (config.run_dir / f"{name}.pid").unlink(missing_ok=True)


def running(config: Config) -> list[int]:
    state = read_state(config) or {"processes": []}
    alive = {record["pid"] for record in state["processes"] if is_alive(record)}
    return sorted(alive | set(processes_marked(config.marker)))


@contextlib.contextmanager
def locked(config: Config):
    """One up or down at a time on a run folder."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    with open(config.run_dir / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(
                f"Another `up` or `down` is at work on {config.run_dir}; try again."
            ) from None
        yield


# Before starting: what the system needs is there.


def gunicorn_path() -> str | None:
    beside = Path(sys.executable).parent / "gunicorn"
    return str(beside) if beside.exists() else shutil.which("gunicorn")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_redis(broker_url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=3).ping()
    except Exception as error:  # noqa: BLE001 (any failure: say so, in one line)
        raise Refused(f"Redis cannot be reached at {broker_url}: {error}") from None


def ensure_database(database_url: str) -> bool:
    """Create the database when it is missing; True when it was made."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise Refused(f"UP_DATABASE_URL must be PostgreSQL, not {parts.scheme!r}.")
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return not exists
    except psycopg.OperationalError as error:
        where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        raise Refused(f"PostgreSQL cannot be reached at {where}: {error}") from None


def secret_key(config: Config) -> str:
    """DJANGO_SECRET_KEY from the environment, else one made for this run folder and
    kept there (sign-ins survive a restart)."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    kept = config.run_dir / "secret_key"
    if not kept.exists():
        kept.touch(mode=0o600)
        kept.write_text(secrets.token_urlsafe(50))
    return kept.read_text().strip()


def environment(config: Config) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": config.database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret_key(config),
        # Plain HTTP on this machine: no TLS proxy in front to carry secure cookies.
        "DJANGO_SECURE_COOKIES": "0",
        # The one setting that differs from production: the smoke's webhook receiver
        # listens on 127.0.0.1, which production refuses as a target.
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": config.queue,
        "SYNC_QUEUE": config.queue,
        "RECONCILIATION_QUEUE": config.queue,
        "PROMETHEUS_MULTIPROC_DIR": str(config.run_dir / "prometheus"),
        # Collected into the run's own folder: a run never rewrites files that a
        # server of another checkout's run (or the tests) is reading.
        "DJANGO_STATIC_ROOT": os.environ.get("DJANGO_STATIC_ROOT")
        or str(config.run_dir / "static"),
        "PYTHONUNBUFFERED": "1",
        MARKER: config.marker,
    }


def commands(config: Config, gunicorn: str) -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return {
        "gunicorn": [
            gunicorn, "-c", str(ROOT / "config" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{config.port}",
            "--workers", str(config.workers),
            "config.wsgi",
        ],
        # Its node name is the queue's, so control messages reach it alone.
        "worker": [
            *celery, "worker", "-Q", config.queue,
            "--hostname", f"{config.queue}@%h", "--loglevel=INFO",
        ],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }  # fmt: skip


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty)"


def print_tails(config: Config, names=("setup", *NAMES)) -> None:
    for name in names:
        path = config.logs / f"{name}.log"
        if path.exists():
            print(f"\n--- the end of {path} ---\n{tail(path)}", file=sys.stderr)


def run_setup(config: Config, env: dict[str, str], *args: str) -> None:
    with open(config.logs / "setup.log", "a") as log:
        log.write(f"\n$ manage.py {' '.join(args)}\n")
        log.flush()
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if done.returncode:
        print_tails(config, ("setup",))
        raise Refused(f"`manage.py {' '.join(args)}` failed (logs/setup.log).")


def get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def readiness(config: Config) -> str:
    """/readyz's verdict in a few words: its status, and the checks not ok."""
    try:
        with urllib.request.urlopen(config.url + "readyz", timeout=5) as answer:
            body = json.loads(answer.read())
    except (OSError, ValueError) as error:
        return f"could not be read: {error}"
    checks = body.get("checks") or {}
    if not isinstance(checks, dict):
        checks = {}
    behind = [name for name, check in checks.items() if check.get("status") != "ok"]
    return body.get("status", "?") + (f" ({', '.join(behind)})" if behind else "")


def log_says(path: Path, words: str) -> bool:
    try:
        return words in path.read_text(errors="replace")
    except FileNotFoundError:
        return False


def wait_until_ready(config: Config, started: dict[str, subprocess.Popen]) -> None:
    """/readyz answers 200, the worker is ready and beat has started, in time; a
    process that exits meanwhile fails at once."""
    waiting = {
        "gunicorn": lambda: get_status(config.url + "readyz") == 200,
        "worker": lambda: log_says(config.logs / "worker.log", " ready."),
        "beat": lambda: log_says(config.logs / "beat.log", "beat: Starting"),
    }
    deadline = time.monotonic() + config.timeout
    while waiting:
        for name, process in started.items():
            if process.poll() is not None:
                raise Refused(
                    f"{name} exited with status {process.returncode} while starting "
                    f"(logs/{name}.log)."
                )
        for name in [name for name, ready in waiting.items() if ready()]:
            del waiting[name]
        if waiting and time.monotonic() > deadline:
            late = ", ".join(sorted(waiting))
            raise Refused(f"Not ready within {config.timeout:.0f} s: {late}.")
        if waiting:
            time.sleep(0.5)


def up(config: Config) -> None:
    with locked(config):
        pids = running(config)
        if pids:
            state = read_state(config) or {}
            raise Refused(
                f"Already running at {state.get('url', '?')} (processes "
                f"{', '.join(map(str, pids))}): `make down` first."
            )
        if read_state(config) is not None:
            print(f"Removing stale run state in {config.run_dir} (nothing of it runs).")
            forget_state(config)

        gunicorn = gunicorn_path()
        if gunicorn is None:
            raise Refused("gunicorn not found: run `make install`.")
        if not port_is_free(config.port):
            raise Refused(f"Port {config.port} is taken: choose another with UP_PORT.")
        check_redis(os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL))
        config.logs.mkdir(parents=True, exist_ok=True)
        (config.logs / "setup.log").write_text("")
        env = environment(config)
        if ensure_database(config.database_url):
            print(f"Created database {urlsplit(config.database_url).path.lstrip('/')}.")
        print("Migrating and collecting static files (logs/setup.log)...")
        # One-off commands: their metrics are not the served system's.
        setup_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        run_setup(config, setup_env, "migrate", "--no-input")
        run_setup(config, setup_env, "collectstatic", "--no-input")
        metrics = Path(env["PROMETHEUS_MULTIPROC_DIR"])
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)

        state = {
            "url": config.url,
            "port": config.port,
            "queue": config.queue,
            "database_url": config.database_url,
            "replica_urls": os.environ.get("DATABASE_REPLICA_URLS", ""),
            "run_dir": str(config.run_dir),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "processes": [],
        }
        started: dict[str, subprocess.Popen] = {}
        try:
            for name, argv in commands(config, gunicorn).items():
                with open(config.logs / f"{name}.log", "w") as log:
                    process = subprocess.Popen(
                        argv,
                        cwd=ROOT,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group
                    )
                started[name] = process
                state["processes"].append(
                    {
                        "name": name,
                        "pid": process.pid,
                        "start": start_ticks(process.pid),
                        "argv": argv,
                    }
                )
                write_state(config, state)
            print("Started gunicorn, a Celery worker and beat; waiting for /readyz...")
            wait_until_ready(config, started)
        except BaseException as error:
            print_tails(config, NAMES)
            print("\nStopping what was started.", file=sys.stderr)
            stop(config)
            if isinstance(error, Refused | KeyboardInterrupt):
                raise Refused(str(error) or "Interrupted.") from None
            raise

    print(
        f"\nOne stock is up at {config.url} (debug off, as in production).\n"
        f"  /readyz {readiness(config)}\n"
        f"  gunicorn pid {started['gunicorn'].pid} ({config.workers} workers), "
        f"worker pid {started['worker'].pid} and beat pid {started['beat'].pid} "
        f"on queue {config.queue!r}\n"
        f"  database {config.database_url}"
        + (f", replicas {state['replica_urls']}" if state["replica_urls"] else "")
        + f"\n  logs  {config.logs}/{{gunicorn,worker,beat,setup}}.log\n"
        f"  pids  {config.run_dir}/{{gunicorn,worker,beat}}.pid, state.json\n"
        "  try   make smoke\n"
        "  stop  make down"
    )


def stop(config: Config) -> list[str]:
    """Stop every process of the run: SIGTERM to each main process in turn (gunicorn
    and Celery shut down gracefully), SIGKILL after the grace; then anything left
    that carries the run's marker. Forget the run's state. Names what it stopped."""
    state = read_state(config) or {"processes": []}
    stopped = []
    records = sorted(
        state["processes"],
        key=lambda record: (
            NAMES.index(record["name"]) if record["name"] in NAMES else len(NAMES)
        ),
    )
    for record in records:
        if not is_alive(record):
            continue
        send(record["pid"], signal.SIGTERM)
        if not wait_gone(lambda record=record: is_alive(record), STOP_GRACE_SECONDS):
            print(
                f"{record['name']} did not stop in {STOP_GRACE_SECONDS} s: killing it."
            )
            send(record["pid"], signal.SIGKILL)
            wait_gone(lambda record=record: is_alive(record), 5)
        stopped.append(f"{record['name']} (pid {record['pid']})")
    # Children left behind (a gunicorn worker or a pool process whose parent was
    # killed): found by the marker, stopped by pid.
    leftovers = processes_marked(config.marker)
    for pid in leftovers:
        send(pid, signal.SIGTERM)
    if leftovers and not wait_gone(lambda: processes_marked(config.marker), 5):
        for pid in processes_marked(config.marker):
            send(pid, signal.SIGKILL)
        wait_gone(lambda: processes_marked(config.marker), 5)
    stopped += [f"pid {pid}" for pid in leftovers]
    left = processes_marked(config.marker)
    if left:
        raise Refused(f"Could not stop processes {', '.join(map(str, left))}.")
    forget_state(config)
    return stopped


def down(config: Config) -> None:
    if not config.run_dir.exists():
        print(f"Nothing to stop: no {config.run_dir}.")
        return
    with locked(config):
        stopped = stop(config)
    print(f"Stopped {', '.join(stopped)}." if stopped else "Nothing was running.")


def status(config: Config) -> int:
    state = read_state(config)
    pids = running(config) if config.run_dir.exists() else []
    if not pids:
        print(
            "Not running."
            + (" (stale run state: `make down` clears it)" if state else "")
        )
        return 1
    print(f"Running at {state.get('url', '?') if state else '?'}:")
    for record in (state or {}).get("processes", []):
        alive = "up" if is_alive(record) else "DOWN"
        print(f"  {record['name']:<9} pid {record['pid']:<8} {alive}")
    print(f"  logs in {config.logs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.up", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--run-dir")
    parser.add_argument("--database-url")
    parser.add_argument("--port", type=int)
    parser.add_argument("--queue")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--timeout", type=float)
    args = parser.parse_args(argv)
    config = config_from(args)
    try:
        if args.action == "up":
            up(config)
        elif args.action == "down":
            down(config)
        else:
            return status(config)
    except Refused as refusal:
        print(f"{args.action}: {refusal}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{args.action}: interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
