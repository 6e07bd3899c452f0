"""A million rows of opening stock imported from one CSV file, end to end, against the
database's own ceiling for the same rows.

A network of ``--skus`` × ``--locations`` (10,000 × 100 by default: a million pairs,
none with stock yet) is seeded in bulk (``bench/seed.py``), and a CSV file of
``sku,location,quantity`` with one row per pair is written. Then, in turn:

  (a) raw SQL: COPY of the file into a bare table, then one INSERT … SELECT into a
      table shaped like the ledger (its columns and indexes, no foreign keys, no
      triggers), the codes turned into ids by a join: the database's ceiling (its
      tables dropped again before (b));
  (b) ``imports.services.import_job_create`` + ``import_job_run``, as
      ``POST /api/v1/imports/`` and its worker run it: every row parsed and checked
      (codes, numbers, one row per pair, no stock history), then written page by
      page (``IMPORT_PAGE_ROWS``), each page a transaction that writes the ledger
      entries, the balances and the availability outbox.

Then the ledger must hold one receipt per row, the balances the file's units, and a
rebuild (``balances_rebuild(repair=False)``) must find nothing to repair. Exits 1
only when such a check fails; whether (b) took less than ``--target`` seconds is
printed.

    python -m bench.imports [--skus 10000] [--locations 100] [--target 60]
"""

import os
import random
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import harness, seed

RAW_LEDGER = "bench_raw_ledger"
RAW_ROWS = "bench_raw_rows"


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_imports")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--target", type=float, default=60.0)
    args = parser.parse_args()
    # No broker for the job's kick: it stays queued, and this process runs it.
    os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    harness.prepare_django(args.database)

    from django.conf import settings

    from config.access import Actor
    from imports.models import ImportJob
    from imports.services import import_job_create, import_job_run
    from inventory.models import StockBalance, StockMovement
    from inventory.services import balances_rebuild

    started = time.perf_counter()
    shop = seed.network(skus=args.skus, locations=args.locations, prefix="IMP")
    seed.analyse()
    rows = shop.pairs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opening-stock.csv"
        units = write_file(path, shop)
        content = path.read_bytes()
        seeded = time.perf_counter() - started
        print(
            f"# Imports: {harness.machine()}; {rows:,} opening-stock rows "
            f"({len(content) / 2**20:.0f} MiB of CSV) over {len(shop.sku_ids):,} SKUs "
            f"× {len(shop.location_ids):,} locations, seeded in {seeded:.1f} s; "
            f"pages of {settings.IMPORT_PAGE_ROWS:,} rows\n"
        )
        raw = raw_ceiling(args.database, path)

    failures: list[str] = []
    started = time.perf_counter()
    job, created = import_job_create(
        kind="opening_stock",
        content=content,
        file_name="opening-stock.csv",
        created_by=Actor(name="user:bench", source="back-office"),
    )
    queued = time.perf_counter() - started
    job = import_job_run(job_id=job.pk)
    total = time.perf_counter() - started

    if not created or job.status != ImportJob.Status.DONE:
        failures.append(f"the job ended {job.status}: {job.message or job.errors[:3]}")
    if job.rows_written != rows:
        failures.append(f"{job.rows_written:,} rows written of {rows:,}")
    entries = StockMovement.objects.filter(type="receipt").count()
    if entries != rows:
        failures.append(f"{entries:,} ledger entries for {rows:,} rows")
    on_hand = sum(StockBalance.objects.values_list("on_hand", flat=True).iterator())
    if on_hand != units:
        failures.append(f"the balances hold {on_hand:,} units, the file {units:,}")
    checked = time.perf_counter()
    differences = balances_rebuild(repair=False)
    rebuilt = time.perf_counter() - checked
    if differences:
        failures.append(f"a rebuild found {len(differences):,} differences")

    moments = dict(job.events.values_list("action", "at"))
    checking = (
        moments["import_job_write"] - moments["import_job_check"]
    ).total_seconds()
    writing = (moments["import_job_done"] - moments["import_job_write"]).total_seconds()
    headers = [
        "rows",
        "(b) create s",
        "check pass s",
        "write pass s",
        "(b) create + run s",
        "rows/s",
        "(a) raw COPY + INSERT s",
        "b/a",
    ]
    print(
        harness.table(
            headers,
            [
                [
                    rows,
                    queued,
                    checking,
                    writing,
                    total,
                    int(rows / total),
                    raw,
                    f"{total / raw:.1f}x",
                ]
            ],
        )
    )
    print(
        f"\nA rebuild of the {entries:,} entries found "
        f"{len(differences)} differences ({rebuilt:.1f} s)."
    )
    verdict = "met" if total <= args.target else "NOT met"
    print(f"The target, under {args.target:.0f} s end to end: {verdict}.")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def write_file(path: Path, shop: seed.Network) -> int:
    """One row per (SKU, location), 1 to 40 units (a row of 0 posts nothing: every
    row here is a receipt); answers the units in all."""
    rng = random.Random(44)
    units = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("sku,location,quantity\n")
        for sku in shop.sku_codes:
            lines = []
            for location in shop.location_codes:
                quantity = rng.randrange(1, 41)
                units += quantity
                lines.append(f"{sku},{location},{quantity}\n")
            out.write("".join(lines))
    return units


def raw_ceiling(database: str, path: Path) -> float:
    """Seconds for the same rows straight into a ledger-shaped table: COPY into a bare
    table, then one INSERT … SELECT joining the codes to their ids. The tables are
    dropped after, so (b) starts from the same database."""
    with psycopg.connect(harness.database_url(database)) as raw:
        raw.execute(
            f"CREATE TABLE {RAW_LEDGER} (LIKE inventory_stockmovement INCLUDING ALL)"
        )
        raw.execute(
            f"CREATE TABLE {RAW_ROWS} (line bigserial, sku text, location text, "
            "quantity bigint)"
        )
        raw.commit()
        started = time.perf_counter()
        with raw.cursor() as cursor:
            with (
                cursor.copy(
                    f"COPY {RAW_ROWS} (sku, location, quantity) FROM STDIN "
                    "(FORMAT csv, HEADER true)"
                ) as copy,
                path.open("rb") as source,
            ):
                while block := source.read(1 << 20):
                    copy.write(block)
            cursor.execute(
                f"""
                INSERT INTO {RAW_LEDGER} (
                    channel_id, reference, type, sku_id, location_id, quantity,
                    reason, supply_reference, occurred_at, recorded_at, status,
                    status_reason, actor, payload_digest, on_hand_delta,
                    committed_delta, picked_delta, reserved_delta, damaged_delta,
                    quality_control_delta, in_transit_delta, incoming_delta,
                    other_location_in_transit_delta)
                SELECT 1, 'raw:' || r.line, 'receipt', sku.id, location.id,
                       r.quantity, 'Opening stock', '', now(), now(), 'applied', '',
                       'user:bench', md5(r.line::text) || md5(r.line::text),
                       r.quantity, 0, 0, 0, 0, 0, 0, 0, 0
                FROM {RAW_ROWS} AS r
                JOIN catalog_sku AS sku ON sku.code = r.sku
                JOIN inventory_location AS location ON location.code = r.location
                """
            )
        raw.commit()
        seconds = time.perf_counter() - started
        raw.execute(f"DROP TABLE {RAW_LEDGER}, {RAW_ROWS}")
        raw.commit()
    return seconds


if __name__ == "__main__":
    sys.exit(main())
