"""The demo runs on SQLite (``make demo``), every other test on PostgreSQL. Code written
for one database or the other (the ``connection.vendor`` branches, the triggers of
inventory/sql/sqlite/) is reached on SQLite by the stories marked ``sqlite_too``: here
they run again, on a SQLite database, in a pytest of their own, and any failure there
fails this test.

A story is marked when it reaches such code: posting to the ledger and its triggers,
the rebuild, the sources' health, the change feed, webhooks, sales rates, the
catalogue's look-up by codes, a checkout's general path, seeding the demo. Stories
that need what only PostgreSQL has (threads on their own connections, advisory locks
between processes, a Celery worker in another process, query counts of PostgreSQL's
statements) are not."""

import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from tests.conftest import ROOT, SQLITE_RUN

MARK = "sqlite_too"


def marked_files() -> list[str]:
    """Only the files with marked stories are collected: the run stays short."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("test_*.py")
        if path != Path(__file__) and f"mark.{MARK}" in path.read_text()
    )


def test_the_stories_marked_sqlite_too_pass_on_sqlite(tmp_path):
    files = marked_files()
    assert files, f"no story is marked {MARK}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'stories.sqlite3'}",
        SQLITE_RUN: "1",
    }
    # In this process, whatever the outer run spreads over workers.
    workers = ["-n", "0"] if find_spec("xdist") else []
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "tests.demo.sqlite_plugin", "-m", MARK, *workers, *files,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert re.search(r"\d+ passed", output), output[-2000:]
