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


def prepare_django(
    database: str, *, fresh: bool = True, url: str | None = None
) -> None:
    """Point Django at the bench database (recreated when ``fresh``) and migrate it.
    ``url``: a database elsewhere instead, such as a throw-away cluster's
    (bench/clusters.py), already created: migrated as it is, never dropped."""
    import psycopg

    if fresh and url is None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(
        DATABASE_URL=url or database_url(database),
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
def served_api(database: str, *, env: dict[str, str] | None = None):
    """gunicorn with the project's own config (config/gunicorn.conf.py), debug off.
    ``env``: more settings for the server's environment (e.g. a replica's URL), over
    this process's own and the bench's."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_STATIC_MANIFEST": "0",
        **(env or {}),
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
    """One keep-alive connection, as an integration's HTTP client would hold.

    HTTP/1.1 written and read by hand. The load runs on the same two cores as the
    server it measures, so it must cost little: http.client parses every answer's
    headers with the email package, about 360 µs of CPU a request, more than a tenth
    of what the server itself spends on a hold (docs/performance.md). This sends each
    request in one write and reads only the status, the body's framing and the body,
    as the raw-SQL workers' psycopg does for theirs."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.fixed_headers = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.socket: socket.socket | None = None
        self.unread = b""

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        request = (
            f"{method} {path} HTTP/1.1\r\n{self.fixed_headers}"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        for attempt in range(2):
            try:
                if self.socket is None:
                    self.socket = socket.create_connection(
                        ("127.0.0.1", self.port), timeout=60
                    )
                    self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.socket.sendall(request)
                return self._answer()
            except OSError:
                # The server closed an idle keep-alive connection: open another.
                self._close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _answer(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.unread:
            self._receive()
        head, self.unread = self.unread.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            body = self._chunks()
        else:
            body = self._exactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection") == b"close":
            self._close()
        return status, body

    def _chunks(self) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.unread:
                self._receive()
            size_line, self.unread = self.unread.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            parts.append(self._exactly(size))
            self._exactly(2)  # the CRLF after each chunk
            if size == 0:
                return b"".join(parts)

    def _exactly(self, size: int) -> bytes:
        while len(self.unread) < size:
            self._receive()
        taken, self.unread = self.unread[:size], self.unread[size:]
        return taken

    def _receive(self) -> None:
        received = self.socket.recv(1 << 16)
        if not received:
            raise ConnectionResetError("the server closed the connection")
        self.unread += received

    def _close(self) -> None:
        if self.socket is not None:
            self.socket.close()
        self.socket = None
        self.unread = b""


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
