"""A smoke test of bench/clusters.py: a throw-away primary and its streaming replica,
whose replay a test pauses, resumes and stops. No Django database: only PostgreSQL's
server binaries, skipped without them."""

import time

import psycopg
import pytest

from bench.clusters import MISSING, primary_and_replica, server_binaries

pytestmark = pytest.mark.skipif(server_binaries() is None, reason=MISSING)


def count(url: str) -> int:
    with psycopg.connect(url, connect_timeout=3) as connection:
        return connection.execute("SELECT count(*) FROM note").fetchone()[0]


def test_a_replica_follows_lags_while_paused_and_stops():
    with primary_and_replica() as pg:
        # Started in a few seconds (seen with -s); a generous bound for a busy machine.
        print(f"\nprimary and replica up in {pg.started_in:.2f}s")
        assert pg.started_in < 60
        assert pg.primary_url.endswith("/onestock") and len(pg.replica_urls) == 1
        replica = pg.replica_urls[0]
        with psycopg.connect(pg.primary_url, autocommit=True) as primary:
            primary.execute("CREATE TABLE note (id int PRIMARY KEY)")
            primary.execute("INSERT INTO note VALUES (1)")
            pg.wait_caught_up()
            assert count(replica) == 1
            assert pg.replay_lag_seconds() < 1

            pg.pause_replay()
            primary.execute("INSERT INTO note VALUES (2)")
            time.sleep(1.1)
            assert count(replica) == 1
            assert pg.replay_lag_seconds() > 1
            with pytest.raises(TimeoutError):
                pg.wait_caught_up(timeout=0.2)

            pg.resume_replay()
            pg.wait_caught_up()
            assert count(replica) == 2
            assert pg.replay_lag_seconds() < 1

            pg.stop_replica()
            with pytest.raises(psycopg.OperationalError):
                count(replica)
            # What it missed while down is kept for it (its replication slot).
            primary.execute("INSERT INTO note VALUES (3)")
            pg.start_replica()
            pg.wait_caught_up()
            assert count(replica) == 3
            with psycopg.connect(replica) as standby:
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    standby.execute("INSERT INTO note VALUES (4)")
        folder = pg.folder
    assert not folder.exists()


def test_replicas_pause_one_at_a_time():
    with primary_and_replica(replicas=2, database="routing") as pg:
        print(f"\nprimary and two replicas up in {pg.started_in:.2f}s")
        with psycopg.connect(pg.primary_url, autocommit=True) as primary:
            primary.execute("CREATE TABLE note (id int)")
            pg.wait_caught_up(1)
            pg.pause_replay(1)
            primary.execute("INSERT INTO note VALUES (1)")
            pg.wait_caught_up(0)
            assert [count(url) for url in pg.replica_urls] == [1, 0]
            pg.resume_replay(1)
            pg.wait_caught_up(1)
            assert count(pg.replica_urls[1]) == 1
