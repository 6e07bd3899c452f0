"""The app served by gunicorn as shipped, for the stories that need real processes
(read replicas, a database killed, metrics gathered across processes): its commands
run against another database, the server on a free port, and one HTTP call."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

from bench.harness import free_port

ROOT = Path(__file__).resolve().parents[1]


def manage(env: dict, *args: str) -> str:
    """``manage.py <args>`` with ``env`` (another database's URL); its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def http(
    url: str, method: str = "GET", *, body=None, headers: dict | None = None
) -> tuple[int, Message, bytes]:
    """One request (``body`` sent as JSON): the status, headers and body, an error
    status included."""
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


@contextmanager
def gunicorn(env: dict, *, log: str, workers: int = 2) -> Iterator[tuple]:
    """``gunicorn -c config/gunicorn.conf.py config.wsgi`` with ``env``, on a free
    port, logging to test-output/<log>.log; yields (the master process, its port)
    once /healthz answers, and stops it on the way out."""
    port = free_port()
    (ROOT / "test-output").mkdir(exist_ok=True)
    written = ROOT / "test-output" / f"{log}.log"
    with written.open("w") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c", str(ROOT / "config" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers),
                "config.wsgi",
            ],
            cwd=ROOT, env=env, stdout=output, stderr=output,
        )  # fmt: skip
        try:
            wait_until_serving(port, written)
            yield server, port
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_until_serving(port: int, log: Path | str = "its log") -> None:
    for _ in range(300):
        try:
            if http(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start: see {log}")
