"""Throw-away PostgreSQL clusters for tests and benches of read-replica routing.

    from bench.clusters import primary_and_replica, server_binaries

    with primary_and_replica(replicas=1) as pg:
        pg.primary_url       # postgres://postgres@127.0.0.1:PORT/onestock, trust auth
        pg.replica_urls[0]   # a hot standby streaming from it, the same database
        pg.pause_replay()    # the replica stops applying WAL: reads there go stale
        pg.replay_lag_seconds(), pg.resume_replay(), pg.wait_caught_up()
        pg.stop_replica(), pg.start_replica()

One primary (initdb) and N streaming replicas (pg_basebackup -R, a replication slot
each) in a fresh folder under /tmp, on free TCP ports of 127.0.0.1, fsync off: a few
seconds to start. Everything is stopped (pg_ctl -m immediate) and the folder removed
on the way out, failures included. Only PostgreSQL's server binaries are needed
(server_binaries()), not the machine's running server.

Pitfalls handled here:
- initdb and pg_ctl refuse to run as root: as root, every binary runs as the
  ``postgres`` system user (subprocess's user=), which then owns the folder.
- A Unix socket's path is limited to about 107 bytes: the folder is /tmp/pgXXXXXXXX,
  never under a long $TMPDIR, and holds every server's socket (named by its port).
- A free port is found by binding port 0 and letting it go: another process may take
  it first, so a server that cannot bind its port is started again on another.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

NEEDED = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
MISSING = "PostgreSQL server binaries (initdb, pg_basebackup) not found"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "fsync": "off",
    "shared_buffers": "16MB",
    "max_connections": "60",
}
HBA = """\
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""
LAG = """SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
END::float8"""


def server_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl, pg_basebackup and postgres, or None:
    $PG_BINDIR, pg_config --bindir, Debian's /usr/lib/postgresql/*/bin (newest
    first), then $PATH."""
    found = [os.environ.get("PG_BINDIR")]
    if pg_config := shutil.which("pg_config"):
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        found.append(bindir.stdout.strip())
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    versions = [p for p in debian if p.parent.name.replace(".", "").isdigit()]
    found += sorted(versions, key=lambda p: float(p.parent.name), reverse=True)
    found.append(os.path.dirname(shutil.which("initdb") or ""))
    for folder in filter(None, found):
        if all(os.access(Path(folder) / name, os.X_OK) for name in NEEDED):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one(url: str, query, params: tuple = ()):
    """The first column of the first row (None when no row), on a fresh connection."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        cursor = connection.execute(query, params)
        row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None


class Clusters:
    """The running primary and replicas (made by primary_and_replica()). A replica is
    named by its index in replica_urls, 0 by default; its folder, cluster_name,
    application_name and replication slot are all ``replica<index>``."""

    def __init__(self, folder: Path, binaries: Path, database: str):
        self.folder, self.binaries, self.database = folder, binaries, database
        self.primary_url = ""
        self.replica_urls: list[str] = []
        self.started_in = 0.0  # seconds taken to start them all and see them stream
        self.ports: list[int] = []  # the primary's, then each replica's
        # As root, PostgreSQL's binaries run as its system user (they refuse root).
        self._user = "postgres" if os.geteuid() == 0 else None

    def _run(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        """One of the binaries; its arguments split on spaces (none in our paths)."""
        name, *args = command.split()
        done = subprocess.run(
            [str(self.binaries / name), *args], cwd=self.folder, capture_output=True,
            text=True, timeout=120, user=self._user, group=self._user,
            extra_groups=[] if self._user else None,
        )  # fmt: skip
        if check and done.returncode:
            raise RuntimeError(f"{command} failed:\n{done.stderr}")
        return done

    def _pg_ctl_start(self, name: str) -> str:
        """Starts folder/name, logging to folder/name.log; what went wrong or ''."""
        log = self.folder / f"{name}.log"
        done = self._run(
            f"pg_ctl start -w -t 60 -D {self.folder / name} -l {log}", False
        )
        if done.returncode == 0:
            return ""
        return log.read_text()[-3000:] if log.exists() else done.stderr

    def _url(self, port: int, database: str = "") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database or self.database}"

    def _start_new(self, name: str, settings: dict[str, str]) -> str:
        """Appends the settings and a free port to its postgresql.conf (the last one
        wins), starts it and returns its URL; on a port taken, again on another."""
        for _ in range(3):
            port = _free_port()
            more = {
                **settings,
                "port": port,
                "unix_socket_directories": f"'{self.folder}'",
            }
            with (self.folder / name / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in more.items())
            if not (failed := self._pg_ctl_start(name)):
                self.ports.append(port)
                return self._url(port)
            if "could not bind" not in failed and "already in use" not in failed:
                break
        raise RuntimeError(f"{name} did not start:\n{failed}")

    def _start_all(self, replicas: int) -> None:
        primary = self.folder / "primary"
        self._run(
            f"initdb -D {primary} -U postgres --auth=trust -E UTF8 --no-locale --no-sync"
        )
        (primary / "pg_hba.conf").write_text(HBA)
        self.primary_url = self._start_new(
            "primary", {**SETTINGS, "cluster_name": "'primary'"}
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
        _one(self._url(self.ports[0], "postgres"), create)
        for index in range(replicas):
            name = f"replica{index}"
            self._run(
                f"pg_basebackup -h 127.0.0.1 -p {self.ports[0]} -U postgres -R -X stream "
                f"-c fast -C -S {name} --no-sync -D {self.folder / name}"
            )
            self.replica_urls.append(
                self._start_new(name, {"cluster_name": f"'{name}'"})
            )
            self._wait_streaming(index)

    def _wait_streaming(self, index: int, timeout: float = 30) -> None:
        """Until the replica answers, in recovery, and the primary sees it streaming."""
        name, deadline = f"replica{index}", time.monotonic() + timeout
        state = "SELECT state FROM pg_stat_replication WHERE application_name = %s"
        while True:
            try:
                if _one(self.replica_urls[index], "SELECT pg_is_in_recovery()") and (
                    _one(self.primary_url, state, (name,)) == "streaming"
                ):
                    return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not streaming after {timeout}s: {name}.log")
            time.sleep(0.05)

    def _stop_all(self) -> None:
        """Every server with a postmaster.pid, replicas first, at once (-m immediate)."""
        for pid_file in sorted(self.folder.glob("*/postmaster.pid"), reverse=True):
            self._run(f"pg_ctl stop -m immediate -D {pid_file.parent}", check=False)

    def kill_primary(self) -> None:
        """The primary dies as in a crash: SIGKILL to the postmaster and every
        process it started, nothing flushed, no shutdown checkpoint."""
        postmaster = int(
            (self.folder / "primary" / "postmaster.pid").read_text().split()[0]
        )
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
        ).stdout.split()
        for pid in [postmaster, *map(int, children)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def start_primary(self, timeout: float = 60) -> None:
        """Starts the primary again on its port after a crash (it recovers from its
        WAL first); returns once it answers."""
        deadline = time.monotonic() + timeout
        while failed := self._pg_ctl_start("primary"):
            # Until the killed processes are gone and their shared memory with them.
            if time.monotonic() > deadline:
                raise RuntimeError(f"primary did not start again:\n{failed}")
            time.sleep(0.5)

    def pause_replay(self, index: int = 0) -> None:
        """The replica keeps receiving WAL but stops applying it: its reads go stale."""
        _one(self.replica_urls[index], "SELECT pg_wal_replay_pause()")

    def resume_replay(self, index: int = 0) -> None:
        _one(self.replica_urls[index], "SELECT pg_wal_replay_resume()")

    def stop_replica(self, index: int = 0) -> None:
        """pg_ctl stop -m fast: connecting to it fails until start_replica()."""
        self._run(f"pg_ctl stop -w -m fast -D {self.folder / f'replica{index}'}")

    def start_replica(self, index: int = 0) -> None:
        """Starts it again on its port; returns once it streams (its slot on the
        primary kept the WAL it missed)."""
        if failed := self._pg_ctl_start(f"replica{index}"):
            raise RuntimeError(f"replica{index} did not start:\n{failed}")
        self._wait_streaming(index)

    def wait_caught_up(self, index: int = 0, timeout: float = 10) -> None:
        """Until the replica has replayed up to the primary's current WAL position
        (all committed so far); TimeoutError otherwise, as while replay is paused."""
        target = _one(self.primary_url, "SELECT pg_current_wal_lsn()::text")
        replayed = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        deadline = time.monotonic() + timeout
        while not _one(self.replica_urls[index], replayed, (target,)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica{index} not at {target} after {timeout}s")
            time.sleep(0.01)

    def replay_lag_seconds(self, index: int = 0) -> float:
        """0 when the replica has applied all it received, else the age of the last
        transaction it applied (which grows while its replay is paused)."""
        return _one(self.replica_urls[index], LAG)


@contextmanager
def primary_and_replica(
    *, replicas: int = 1, database: str = "onestock"
) -> Iterator[Clusters]:
    """A primary with ``database`` created, and ``replicas`` streaming replicas of it
    (made after, so they have it too); all stopped and deleted on the way out.
    RuntimeError(MISSING) without the server binaries: skip on server_binaries()."""
    if (binaries := server_binaries()) is None:
        raise RuntimeError(MISSING)
    began = time.monotonic()
    # Short, for the sockets' paths (/tmp/pgXXXXXXXX/.s.PGSQL.PORT), without spaces.
    folder = Path(
        tempfile.mkdtemp(prefix="pg", dir="/tmp" if os.path.isdir("/tmp") else None)
    )
    clusters = Clusters(folder, binaries, database)
    try:
        if clusters._user:  # KeyError as root on a machine without a postgres user
            owner = pwd.getpwnam(clusters._user)
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        clusters._start_all(replicas)
        clusters.started_in = time.monotonic() - began
        yield clusters
    finally:
        clusters._stop_all()
        shutil.rmtree(folder, ignore_errors=True)
