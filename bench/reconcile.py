"""The nightly reconciliation over a long ledger and a store's stock snapshot, against
the grouped sum it comes down to.

A network of ``--entries`` ledger entries over ``--balances`` balances (ten million
over 200,000 by default: 2,000 SKUs at 100 locations) is seeded in SQL, with one
complete snapshot from a store POS channel of ``--snapshot-rows`` rows read from the
balances, ``--disagree`` of them 5 units above the ledger; then ``--tamper`` balances
are changed behind the ledger's back. Then, in the same run:

  (a) raw SQL: the grouped SUM of every bucket's delta over the ledger (bench.rebuild's
      statement), through psycopg, every row fetched: the ledger step's ceiling;
  (b) the reconciliation as the nightly job runs it (``reconciliation_run_start``,
      then ``reconciliation_run_perform``), its wall time split where the run leaves
      the ledger phase: the ledger step (drift, one set-based statement) and the
      snapshot steps; meanwhile another connection writes a balance every 20 ms, as
      a posting would, and the longest write is reported (stock must keep moving).

The run must finish, name exactly the balances tampered with and the disagreeing rows,
open a case for each (past ``SNAPSHOT_CASES_MAX``, one case sums up the rest), and leave
nothing for ``balances_rebuild(repair=False)`` to find; a second run must find no drift
and compare no snapshot. Exits 1 only when such a correctness check fails. The target:
the whole run in under 5 minutes. The snapshot tolerance is 1 unit and 0 % for the
bench: the default 2 % of the seeded ~1,000 units on hand would let 5 units pass.

    python -m bench.reconcile [--entries 10000000] [--balances 200000]
        [--snapshot-rows 100000] [--disagree 50] [--tamper 100] [--repeat 1]
"""

import os
import sys
import threading
import time
from contextlib import contextmanager

import psycopg

from bench import harness, seed
from bench.rebuild import grouped_sum, tamper, timed

LOCATIONS = 100
CHUNK_ENTRIES = 1_000_000  # ledger entries seeded per transaction
DISAGREE_BY = 5  # units the disagreeing snapshot rows hold above the ledger
TARGET_SECONDS = 300
CHANNEL = "pos"


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_reconcile")
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--balances", type=int, default=200_000)
    parser.add_argument("--snapshot-rows", type=int, default=100_000)
    parser.add_argument("--disagree", type=int, default=50)
    parser.add_argument("--tamper", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="runs of (a)")
    args = parser.parse_args()
    if not args.disagree <= args.snapshot_rows <= args.balances <= args.entries:
        parser.error("need disagree <= snapshot rows <= balances <= entries")
    os.environ["SNAPSHOT_TOLERANCE_UNITS"] = "1"
    os.environ["SNAPSHOT_TOLERANCE_PERCENT"] = "0"
    harness.prepare_django(args.database)

    from django.conf import settings

    from inventory.services import balances_rebuild

    started = time.perf_counter()
    shop = seeded_network(args.entries, args.balances)
    snapshot_rows, disagreeing = seeded_snapshot(args.snapshot_rows, args.disagree)
    tampered = {(sku, where) for _, sku, where, _ in tamper(args.tamper)}
    seeded = time.perf_counter() - started
    print(
        f"# Reconcile: {harness.machine()}; {shop.entries:,} entries over "
        f"{shop.pairs:,} balances, a {snapshot_rows:,}-row snapshot from a store POS "
        f"({len(disagreeing)} rows {DISAGREE_BY} units off), {len(tampered)} balances "
        f"tampered with; seeded in {seeded:.1f} s\n"
    )

    raw, _ = timed(args.repeat, lambda: grouped_sum(args.database))
    with writes_probed(args.database) as waits:
        first = reconciliation_timed()
    longest_write = max(waits, default=0.0)
    second = reconciliation_timed()
    left = balances_rebuild(repair=False)

    failures = first_run_failures(
        first["run"], args, snapshot_rows, tampered, disagreeing, settings
    )
    if left:
        failures.append(
            f"balances_rebuild(repair=False) found {len(left)} after the run"
        )
    again = second["run"]
    if again.status != "finished" or again.drift_found or again.snapshots_compared:
        failures.append(
            f"the second run was {again.status} with {again.drift_found} drift and "
            f"{again.snapshots_compared} snapshots compared, not finished, 0 and 0"
        )

    headers = [
        "entries",
        "balances",
        "snapshot rows",
        "seed s",
        "(a) raw grouped sum s",
        "(b) ledger step s",
        "b ledger/a",
        "longest stock write s",
        "(b) snapshot step s",
        "(b) total s",
        "second run s",
        "total under 5 minutes",
    ]
    rows = [
        [
            shop.entries,
            shop.pairs,
            snapshot_rows,
            seeded,
            raw,
            first["ledger"],
            f"{first['ledger'] / raw:.1f}x",
            longest_write,
            first["snapshots"],
            first["total"],
            second["total"],
            "yes" if first["total"] < TARGET_SECONDS else "no",
        ]
    ]
    print(harness.table(headers, rows))
    print(
        f"\n{len(waits)} stock writes during the first run, the longest "
        f"{longest_write:.3f} s. The second run (nothing to "
        f"repair, no snapshot) took {second['total']:.2f} s, its ledger step "
        f"{second['ledger']:.2f} s."
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


# -- seeding ---------------------------------------------------------------------------


def seeded_network(entries: int, balances: int) -> seed.Network:
    """``balances`` SKU-locations (up to 100 locations) and ``entries`` entries spread
    evenly over them, a million per transaction."""
    locations = min(LOCATIONS, balances)
    shop = seed.network(skus=max(1, balances // locations), locations=locations)
    while shop.entries < entries:
        seed.fill_ledger(shop, entries=min(CHUNK_ENTRIES, entries - shop.entries))
        print(f"seeded {shop.entries:,} of {entries:,} entries", file=sys.stderr)
    seed.analyse()
    return shop


def seeded_snapshot(count: int, disagree: int) -> tuple[int, set[tuple[int, int]]]:
    """A complete snapshot from a store POS channel, taken now, of ``count`` balances
    picked across the network: each row the balance's on-hand, ``disagree`` of them
    DISAGREE_BY more. Answers the rows written and the (SKU, location) ids that
    disagree."""
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Channel
    from inventory.models import StockBalance
    from reconciliation.models import StockSnapshot, StockSnapshotRow

    channel = Channel.objects.create(
        code=CHANNEL, name="Store tills", kind=Channel.Kind.STORE_POS
    )
    now = timezone.now()
    snapshot = StockSnapshot.objects.create(
        channel=channel,
        snapshot_id="bench-pos-1",
        taken_at=now,
        page_count=1,
        pages_received=1,
        rows_received=count,
        status=StockSnapshot.Status.COMPLETE,
        received_by="bench",
        created_at=now,
        completed_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {StockSnapshotRow._meta.db_table}
                (snapshot_id, sku_id, location_id, on_hand)
            SELECT %(snapshot)s, sku_id, location_id,
                   on_hand + CASE WHEN pick <= %(disagree)s THEN %(by)s ELSE 0 END
            FROM (
                SELECT sku_id, location_id, on_hand,
                       row_number() OVER (ORDER BY md5('pos' || id)) AS pick
                FROM {StockBalance._meta.db_table}
            ) AS picked
            WHERE pick <= %(count)s
            ORDER BY sku_id, location_id
            """,
            {
                "snapshot": snapshot.pk,
                "disagree": disagree,
                "by": DISAGREE_BY,
                "count": count,
            },
        )
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {StockSnapshotRow._meta.db_table}")
        cursor.execute(
            f"""
            SELECT r.sku_id, r.location_id
            FROM {StockSnapshotRow._meta.db_table} AS r
            JOIN {StockBalance._meta.db_table} AS b
              ON b.sku_id = r.sku_id AND b.location_id = r.location_id
            WHERE r.snapshot_id = %s AND r.on_hand <> b.on_hand
            """,
            [snapshot.pk],
        )
        return written, set(cursor.fetchall())


# -- the run ---------------------------------------------------------------------------


def reconciliation_timed() -> dict:
    """One reconciliation as the nightly job runs it: the run, its wall time, and the
    time until it left the ledger phase (the progress callback sees each committed
    step)."""
    from config.access import Actor
    from reconciliation.models import ReconciliationRun
    from reconciliation.services.runs import (
        reconciliation_run_perform,
        reconciliation_run_start,
    )

    ledger_done: list[float] = []

    def progress(run: ReconciliationRun) -> None:
        if not ledger_done and run.phase != ReconciliationRun.Phase.LEDGER:
            ledger_done.append(time.perf_counter())

    started = time.perf_counter()
    run = reconciliation_run_start(trigger="command", actor=Actor(name="bench"))
    run = reconciliation_run_perform(run_id=run.pk, progress=progress)
    finished = time.perf_counter()
    left_ledger = ledger_done[0] if ledger_done else finished
    return {
        "run": run,
        "total": finished - started,
        "ledger": left_ledger - started,
        "snapshots": finished - left_ledger,
    }


@contextmanager
def writes_probed(database: str, every: float = 0.02):
    """Yields a list that, on leaving, holds the seconds each stock write took while
    the run went on: from a connection of its own, every ``every`` s, one balance
    updated and committed, as a posting would (a write the run blocks waits that
    long)."""
    waits: list[float] = []
    stop = threading.Event()

    def write() -> None:
        with psycopg.connect(harness.database_url(database), autocommit=True) as conn:
            (probe,) = conn.execute(
                "SELECT max(id) FROM inventory_stockbalance"
            ).fetchone()
            while not stop.is_set():
                began = time.perf_counter()
                conn.execute(
                    "UPDATE inventory_stockbalance SET updated_at = now() "
                    "WHERE id = %s",
                    [probe],
                )
                waits.append(time.perf_counter() - began)
                time.sleep(every)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield waits
    finally:
        stop.set()
        writer.join()


# -- checks ----------------------------------------------------------------------------


def first_run_failures(
    run, args, snapshot_rows: int, tampered, disagreeing, settings
) -> list[str]:
    from catalog.models import Sku
    from inventory.models import Location
    from reconciliation.models import ExceptionCase, ExceptionKind

    failures = []
    if run.status != "finished":
        failures.append(f"the run is {run.status}: {run.error}")
    expected = {
        "drift_found": len(tampered),
        "snapshots_compared": 1,
        "snapshot_rows_checked": snapshot_rows,
        "disagreements_found": len(disagreeing),
    }
    for field, value in expected.items():
        if getattr(run, field) != value:
            failures.append(f"run.{field} is {getattr(run, field)}, not {value}")
    if len(tampered) != args.tamper or len(disagreeing) != args.disagree:
        failures.append(
            f"seeded {len(tampered)} tampered and {len(disagreeing)} disagreeing, "
            f"not {args.tamper} and {args.disagree}"
        )

    skus = dict(Sku.objects.values_list("pk", "code"))
    places = dict(Location.objects.values_list("pk", "code"))
    open_cases = ExceptionCase.objects.filter(status=ExceptionCase.Status.OPEN)
    drift_keys = set(
        open_cases.filter(kind=ExceptionKind.LEDGER_DRIFT).values_list("key", flat=True)
    )
    if drift_keys != {f"drift:{skus[s]}@{places[p]}" for s, p in tampered}:
        failures.append(
            f"{len(drift_keys)} open ledger_drift cases, not one for each of the "
            f"{len(tampered)} balances tampered with"
        )
    prefix = f"snapshot:{CHANNEL}:"
    snapshot_keys = set(
        open_cases.filter(kind=ExceptionKind.SNAPSHOT_DISAGREEMENT).values_list(
            "key", flat=True
        )
    )
    limit = settings.SNAPSHOT_CASES_MAX
    many = {f"{prefix}many"} if len(disagreeing) > limit else set()
    rows = snapshot_keys - many
    if (
        len(rows) != min(len(disagreeing), limit)
        or not rows <= {f"{prefix}{skus[s]}@{places[p]}" for s, p in disagreeing}
        or not many <= snapshot_keys
    ):
        failures.append(
            f"{len(snapshot_keys)} open snapshot_disagreement cases, not "
            f"{min(len(disagreeing), limit) + len(many)} for the disagreeing rows"
        )
    return failures


if __name__ == "__main__":
    sys.exit(main())
