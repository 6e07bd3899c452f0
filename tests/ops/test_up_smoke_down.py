"""The whole system started as it runs (`make up`: gunicorn with the shipped config, a
Celery worker, beat, on this machine's PostgreSQL and Redis), the acceptance stories
run against it over HTTP (`make smoke`), and everything stopped (`make down`): no
process of it left, its port free.

Its own database (made by `up`, dropped here), port, queue and run folder, so it never
meets `make up`'s system nor another test's worker. About a minute and a half: beat's
expiry sweep runs every minute. Skipped, saying so, only when gunicorn or Redis cannot
be found."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from bench.harness import free_port
from ops.up import (
    DEFAULT_BROKER_URL,
    gunicorn_path,
    is_alive,
    port_is_free,
    processes_marked,
)

ROOT = Path(__file__).resolve().parents[2]


def ops(*args: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def said(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def nothing_listens_on(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def broker():
    import redis

    if gunicorn_path() is None:
        pytest.skip("gunicorn not found (make install): the system cannot be served")
    url = os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis cannot be reached at {url} ({error}): no worker can run")
    return redis.Redis.from_url(url)


@pytest.fixture
def system(tmp_path, broker):
    """Where `up` is to run: its settings; afterwards, whatever happened, it is
    stopped, anything of it left is killed by pid, its database dropped and its
    queue's keys deleted from Redis."""
    name = f"onestock_ops_up_{secrets.token_hex(4)}"
    database = settings.DATABASES["default"]
    server = (
        f"postgres://{database['USER']}"
        + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
        + f"@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    )
    run_dir = tmp_path / "run"
    queue = f"onestock-up-test-{secrets.token_hex(4)}"
    port = free_port()
    env = {
        **os.environ,
        "UP_RUN_DIR": str(run_dir),
        "UP_DATABASE_URL": f"{server}/{name}",
        "UP_PORT": str(port),
        "UP_QUEUE": queue,
        "UP_TIMEOUT": "120",
    }
    try:
        yield {"env": env, "run_dir": run_dir, "port": port, "queue": queue}
    finally:
        if run_dir.exists():
            ops("ops.up", "down", env=env, timeout=180)
        for pid in processes_marked(str(run_dir.resolve())):
            os.kill(pid, signal.SIGKILL)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
        for key in broker.scan_iter(match=f"*{queue}*"):
            broker.delete(key)


def test_make_up_runs_the_stories_and_make_down_leaves_nothing(system):
    env, run_dir, port = system["env"], system["run_dir"], system["port"]
    started = time.monotonic()

    # A run that died without `down` left its pid files: `up` clears them.
    run_dir.mkdir()
    (run_dir / "state.json").write_text(
        json.dumps({"processes": [{"name": "gunicorn", "pid": 1, "start": -1}]})
    )
    (run_dir / "gunicorn.pid").write_text("1\n")

    up = ops("ops.up", "up", env=env, timeout=300)
    assert up.returncode == 0, said(up)
    assert "Removing stale run state" in up.stdout
    assert f"http://127.0.0.1:{port}/" in up.stdout
    state = json.loads((run_dir / "state.json").read_text())
    assert [record["name"] for record in state["processes"]] == [
        "gunicorn",
        "worker",
        "beat",
    ]
    assert state["queue"] == system["queue"]
    for record in state["processes"]:
        assert (run_dir / f"{record['name']}.pid").read_text().strip() == str(
            record["pid"]
        )
    # Static files are collected into the run's folder, never the checkout's, which
    # other runs and the tests' servers may be reading.
    assert (run_dir / "static" / "staticfiles.json").exists()
    marker = str(run_dir.resolve())
    # gunicorn's master and its 2 workers, the worker and its pool, beat.
    assert len(processes_marked(marker)) >= 5

    again = ops("ops.up", "up", env=env, timeout=60)
    assert again.returncode == 1, said(again)
    assert "Already running" in again.stderr

    smoke = ops("ops.smoke", "--run-dir", str(run_dir), env=env, timeout=400)
    assert smoke.returncode == 0, said(smoke) + _logs(run_dir)
    for story in (
        "hold placed",
        "order placed",
        "webhook delivered by the worker",
        "hold expired by beat",
    ):
        assert f"ok  {story}" in smoke.stdout, said(smoke)

    down = ops("ops.up", "down", env=env, timeout=180)
    assert down.returncode == 0, said(down)
    assert "Stopped gunicorn" in down.stdout
    assert processes_marked(marker) == []
    for record in state["processes"]:
        assert not is_alive(record)
    assert nothing_listens_on(port)
    assert port_is_free(port)
    assert not (run_dir / "state.json").exists()
    assert not list(run_dir.glob("*.pid"))

    twice = ops("ops.up", "down", env=env, timeout=60)
    assert twice.returncode == 0, said(twice)
    assert "Nothing was running" in twice.stdout
    print(f"up, smoke and down in {time.monotonic() - started:.0f} s")


def _logs(run_dir: Path) -> str:
    parts = []
    for log in sorted((run_dir / "logs").glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-30:]
        parts.append(f"\n--- {log.name} ---\n" + "\n".join(lines))
    return "".join(parts)
