"""What every benchmark shares: a database of its own, a served API, workers in
separate processes, and printing a table.

Benchmarks run against PostgreSQL on this machine, in a database named
``onestock_bench`` (``--database`` to change it) that is dropped and migrated afresh at
the start, so a run never sees the test suite's data or an earlier run's. Figures are
always printed beside the raw-SQL ceiling measured in the same run.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
SECRET_KEY = "bench-only-secret-key-not-for-serving-anything-real-000000000"


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", default="onestock_bench")
    return parser


def database_url(name: str) -> str:
    return f"{SERVER}/{name}"


def prepare_django(database: str, *, fresh: bool = True) -> None:
    """Point Django at the bench database (recreated when ``fresh``) and migrate it."""
    import psycopg

    if fresh:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(
        DATABASE_URL=database_url(database),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, PostgreSQL {version}, "
        f"Python {platform.python_version()}"
    )


# -- workers ---------------------------------------------------------------------------


def _worker(target, index, ready, begin_at, seconds, results):
    ready.wait()
    time.sleep(max(0.0, begin_at.value - time.time()))
    results.put(target(index, begin_at.value + seconds))


def run_workers(
    count: int, target: Callable[[int, float], dict], seconds: float
) -> tuple[list[dict], float]:
    """Run ``target(worker_index, deadline)`` in ``count`` processes at once, each until
    the deadline, and return what each reported and the wall time. Processes, not
    threads: Django and psycopg per worker, as gunicorn or Celery would run them."""
    from django.db import connections

    connections.close_all()  # children open their own
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(count + 1)
    begin_at = context.Value("d", 0.0)
    results = context.Queue()
    workers = [
        context.Process(
            target=_worker, args=(target, i, ready, begin_at, seconds, results)
        )
        for i in range(count)
    ]
    for process in workers:
        process.start()
    # Every worker is forked and waiting before the clock starts.
    begin_at.value = time.time() + 0.5
    ready.wait()
    reports = [results.get(timeout=seconds + 300) for _ in workers]
    for process in workers:
        process.join()
    return reports, time.time() - begin_at.value


def measured(*counters: str, raw: bool = False):
    """Turn ``loop(worker, index, deadline, report)`` into a worker for run_workers:
    its ``counters`` start at zero, its start and finish times are noted, and an
    exception is reported to the parent rather than lost in a child process. ``raw``
    marks the raw-SQL ceiling's workers."""

    def wrap(loop):
        def worker(index: int, deadline: float) -> dict:
            report = dict.fromkeys(counters, 0) | {"started": time.time()}
            try:
                loop(worker, index, deadline, report)
            except Exception as error:  # the parent stops and says so
                report["error"] = repr(error)
            report["finished"] = time.time()
            return report

        worker.raw = raw
        worker.__name__ = loop.__name__
        return worker

    return wrap


# -- the API, served as it would be shipped ---------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_api(database: str):
    """gunicorn with the project's own config (config/gunicorn.conf.py), debug off."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_STATIC_MANIFEST": "0",
    }
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "bench" / "gunicorn.log", "w"),  # noqa: SIM115
    )
    try:
        _wait_until_up(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit("gunicorn did not start: see bench/gunicorn.log")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/schema/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer in 20 s")


class ApiClient:
    """One keep-alive connection, as an integration's HTTP client would hold."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
        }
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body)
        for attempt in range(2):
            try:
                self.connection.request(method, path, payload, self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, OSError):
                # The server closed an idle keep-alive connection: open another.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
                if attempt:
                    raise
        raise AssertionError("unreachable")


# -- printing ---------------------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
