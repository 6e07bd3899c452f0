"""Bulk ingest and availability reads against a long ledger.

A POS fleet comes back after an outage: each store's tills send their backlog to
POST /api/v1/movements/ in batches of 1,000 (mostly sales, some receipts, a few
adjustments with a reason), into a ledger that already holds ``--entries`` entries.
Movements per second through the API (gunicorn with config/gunicorn.conf.py), with 1
poster and with several stores posting at once, beside the raw-SQL ceiling measured in
the same run: the same kind of rows as one multi-row INSERT ... ON CONFLICT DO NOTHING
plus one grouped balance UPDATE per batch, through psycopg. One batch is then sent
again: every line must come back ``duplicate`` and nothing may change.

Availability: GET /api/v1/availability/ for 100 SKUs at one location, median and p95
over ``--reads`` requests, with 1 thousand ledger entries and again with ``--entries``:
reads never sum the ledger, so the two should be the same.

Exits 1 only when a correctness check fails: every created line is in the ledger once,
the balances agree with the ledger (``balances_rebuild(repair=False)``), the resent
batch changed nothing, and every read answered 100 rows.

    python -m bench.ingest [--entries 1000000] [--seconds 10] [--posters 1 2 4]
                           [--allocation 2]

``--allocation N`` protects N units of each of the 100 SKUs read at every store for a
marketplace: the reads (for the tills' channel) then work out the protections in
force (issue 40's "with a protected allocation in place").
"""

import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench import harness, seed

BATCH = 1_000
SKUS = 10_000
STORES = 10  # so the first thousand entries already cover the 100 SKUs read
READ_SKUS = 100
URL = "/api/v1/movements/"


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_ingest")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per ingest cell")
    parser.add_argument(
        "--batches",
        type=int,
        default=0,
        help="stop each poster after this many batches (0: run for --seconds)",
    )
    parser.add_argument("--posters", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument(
        "--allocation", type=int, default=0, help="units protected for a marketplace"
    )
    args = parser.parse_args()
    harness.prepare_django(args.database)
    fleet = Fleet.open()
    protected = fleet.protect(args.allocation) if args.allocation else "none"
    print(f"# Ingest and availability: {harness.machine()}; protected: {protected}\n")

    failures: list[str] = []
    reads: dict[int, list[float]] = {}
    ingest: dict[tuple[str, int], float] = {}
    seed.fill_ledger(fleet.shop, entries=1_000)
    seed.analyse()
    with harness.served_api(args.database) as port:
        reads[fleet.shop.entries] = fleet.read(port, args.reads, failures)
        seed.fill_ledger(fleet.shop, entries=args.entries - fleet.shop.entries)
        seed.analyse()
        reads[fleet.shop.entries] = fleet.read(port, args.reads, failures)
        for posters in args.posters:
            ingest["raw", posters] = fleet.ingest(
                raw_poster(fleet), posters, args.seconds, args.batches, failures
            )
            ingest["api", posters] = fleet.ingest(
                api_poster(fleet, port), posters, args.seconds, args.batches, failures
            )
        failures += fleet.resend(port)
    failures += fleet.check_books()

    print(f"Ledger: {fleet.shop.entries:,} entries before ingest, {fleet.summary}\n")
    rows = []
    for posters in args.posters:
        raw, api = ingest["raw", posters], ingest["api", posters]
        rows.append([posters, raw, api, f"{api / raw:.0%}"])
    print("Ingest, batches of 1,000 movements:\n")
    print(harness.table(["posters", "raw SQL/s", "API/s", "API/raw"], rows))
    print(f"\nAvailability of {READ_SKUS} SKUs at one location ({args.reads} reads):\n")
    print(
        harness.table(
            ["ledger entries", "median ms", "p95 ms"],
            [
                [entries, harness.median(samples), harness.percentile(samples, 0.95)]
                for entries, samples in reads.items()
            ],
        )
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


class Fleet:
    """The seeded network's sites as stores, their tills (a ``store_pos`` channel and
    a token bound to it), and what the posters wrote."""

    @classmethod
    def open(cls) -> "Fleet":
        from catalog.models import Channel
        from integrations.services import api_token_reissue
        from inventory.models import Location

        fleet = cls()
        fleet.shop = seed.network(skus=SKUS, locations=STORES, prefix="ING")
        Location.objects.filter(pk__in=fleet.shop.location_ids).update(kind="store")
        fleet.channel = Channel.objects.create(
            code="pos", name="Store tills", kind="store_pos"
        )
        _, fleet.token = api_token_reissue(name="till-fleet", channel_code="pos")
        fleet.run = 0
        fleet.created = 0  # lines the API answered created
        fleet.raw_rows = 0  # rows the raw SQL inserted
        fleet.first_batch: list[dict] | None = None
        fleet.summary = ""
        return fleet

    def protect(self, units: int) -> str:
        """Units of each SKU read protected at every store for a marketplace."""
        from catalog.models import Channel
        from inventory.models import Allocation

        marketplace = Channel.objects.create(
            code="marketplace", name="Marketplace", kind="marketplace"
        )
        Allocation.objects.bulk_create(
            Allocation(channel=marketplace, sku_id=sku, location_id=place, units=units)
            for sku in self.shop.sku_ids[:READ_SKUS]
            for place in self.shop.location_ids
        )
        return f"{units} units of {READ_SKUS} SKUs at each store, for a marketplace"

    # -- availability --------------------------------------------------------------

    def read(self, port: int, count: int, failures: list[str]) -> list[float]:
        client = harness.ApiClient(port, self.token)
        skus = "&".join(f"sku={code}" for code in self.shop.sku_codes[:READ_SKUS])
        path = (
            f"/api/v1/availability/?{skus}&location={self.shop.location_codes[0]}"
            f"&page_size={READ_SKUS}"
        )
        samples = []
        for number in range(count + 10):
            started = time.perf_counter()
            status, body = client.call("GET", path)
            elapsed = (time.perf_counter() - started) * 1000
            if number >= 10:  # the first few warm the worker processes up
                samples.append(elapsed)
            rows = json.loads(body)["results"] if status == 200 else []
            if len(rows) != READ_SKUS or not all(row["on_hand"] > 0 for row in rows):
                failures.append(f"availability read answered {status}: {body[:200]!r}")
                break
        return samples

    # -- ingest ----------------------------------------------------------------------

    def ingest(self, poster, posters: int, seconds: float, batches: int, failures):
        self.run += 1
        poster.run = self.run
        poster.batches = batches
        poster.posters = posters
        reports, _ = harness.run_workers(posters, poster, seconds)
        errors = [report["error"] for report in reports if report.get("error")]
        if errors:
            failures.append(f"{poster.__name__} with {posters} posters: {errors[0]}")
        moved = sum(report["lines"] for report in reports)
        if poster.raw:
            self.raw_rows += moved
        else:
            self.created += moved
            if self.first_batch is None:
                self.first_batch = reports[0]["first_batch"]
        elapsed = max(r["finished"] for r in reports) - min(
            r["started"] for r in reports
        )
        return moved / elapsed

    def resend(self, port: int) -> list[str]:
        """The first batch the API took, sent again: all duplicate, nothing changes."""
        from inventory.models import StockMovement

        before = self._books()
        entries = StockMovement.objects.count()
        client = harness.ApiClient(port, self.token)
        started = time.perf_counter()
        status, body = client.call("POST", URL, self.first_batch)
        elapsed = time.perf_counter() - started
        failures = []
        statuses = {line["status"] for line in json.loads(body)["results"]}
        if status != 200 or statuses != {"duplicate"}:
            failures.append(f"resend answered {status} with {statuses}")
        if StockMovement.objects.count() != entries or self._books() != before:
            failures.append("the resent batch changed the ledger or the balances")
        print(
            f"Resent one batch of {len(self.first_batch):,}: {status}, "
            f"{', '.join(sorted(statuses))}, {elapsed * 1000:.0f} ms; "
            f"ledger and balances unchanged: {not failures}.\n"
        )
        return failures

    def _books(self) -> tuple:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT md5(string_agg(concat_ws(',', id, on_hand, committed, reserved,"
                " damaged, quality_control, in_transit, incoming, last_count_at,"
                " last_event_at), ';' ORDER BY id)) FROM inventory_stockbalance"
            )
            return cursor.fetchone()

    def check_books(self) -> list[str]:
        from inventory.models import Location, StockMovement
        from inventory.services import balances_rebuild

        failures = []
        api_entries = StockMovement.objects.filter(
            channel=self.channel, reference__startswith="API-"
        ).count()
        raw_entries = StockMovement.objects.filter(
            channel=self.channel, reference__startswith="RAW-"
        ).count()
        if api_entries != self.created:
            failures.append(f"API: {self.created:,} created, {api_entries:,} in ledger")
        if raw_entries != self.raw_rows:
            failures.append(f"raw: {self.raw_rows:,} inserted, {raw_entries:,} stored")
        differences = balances_rebuild(repair=False)
        if differences:
            failures.append(
                f"{len(differences)} balance(s) disagree with the ledger, e.g. "
                f"{differences[0]}"
            )
        heard = Location.objects.filter(
            pk__in=self.shop.location_ids, pos_last_event_at__isnull=False
        ).count()
        if self.created and heard == 0:
            failures.append("no store's last till event moved")
        self.summary = (
            f"{self.created:,} movements created through the API, {self.raw_rows:,} "
            f"rows by raw SQL; balances agree with the ledger: {not differences}"
        )
        return failures


def backlog(fleet: Fleet, rng: random.Random, store: int, prefix: str, start: int):
    """One store's till backlog of 1,000 events: 88% sales of 1-2 units, 10% receipts,
    2% adjustments with a reason, over the SKUs it sells, during the outage."""
    outage = datetime.now(UTC) - timedelta(hours=2)
    location = fleet.shop.location_codes[store]
    lines = []
    for number in range(start, start + BATCH):
        draw = rng.random()
        line = {
            "reference": f"{prefix}-{location}-{number}",
            "type": "sale",
            "sku": rng.choice(fleet.shop.sku_codes),
            "location": location,
            "quantity": rng.randint(1, 2),
            "occurred_at": (outage + timedelta(milliseconds=number)).isoformat(),
        }
        if draw > 0.98:
            line.update(
                type="adjustment",
                quantity=rng.choice([-1, 1]),
                reason=rng.choice(["shrinkage", "found on the shop floor"]),
            )
        elif draw > 0.88:
            line.update(type="receipt", quantity=rng.randint(6, 24))
        lines.append(line)
    return lines


def _batches(poster, fleet: Fleet, index: int, deadline: float, prefix: str):
    """Batches for poster ``index``: its own stores (each store's tills send their own
    backlog), in turn, until the deadline or the count."""
    rng = random.Random(f"{prefix}-{poster.run}-{index}")
    number = 0
    while time.time() < deadline and (
        not poster.batches or number < poster.batches * BATCH
    ):
        own = range(index % STORES, STORES, min(poster.posters, STORES))
        store = own[(number // BATCH) % len(own)]
        yield backlog(fleet, rng, store, f"{prefix}{poster.run}.{index}", number)
        number += BATCH


def api_poster(fleet: Fleet, port: int):
    @harness.measured("lines", "batches")
    def api(poster, index, deadline, report):
        client = harness.ApiClient(port, fleet.token)
        for lines in _batches(poster, fleet, index, deadline, "API-"):
            status, body = client.call("POST", URL, lines)
            results = json.loads(body)["results"] if status == 200 else None
            if not results or any(line["status"] != "created" for line in results):
                raise RuntimeError(f"{status}: {body[:300]!r}")
            if "first_batch" not in report:
                report["first_batch"] = lines
            report["lines"] += len(results)
            report["batches"] += 1

    return api


RAW_COLUMNS = (
    "channel_id, reference, type, sku_id, location_id, quantity, reason, occurred_at, "
    "recorded_at, status, status_reason, actor, payload_digest, on_hand_delta, "
    "committed_delta, reserved_delta, damaged_delta, quality_control_delta, "
    "in_transit_delta, incoming_delta, other_location_in_transit_delta"
)
RAW_ROW = (
    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, now(), 'applied', '', 'raw', ${}, ${}, "
    "0, 0, 0, 0, 0, 0, 0)"
)
RAW_FIELDS = RAW_ROW.count("$")
# PostgreSQL's own $n placeholders (psycopg's RawCursor), prepared once: psycopg would
# otherwise parse a 10,000-placeholder query in Python on every batch.
RAW_BATCH = (
    "WITH entry AS (INSERT INTO inventory_stockmovement ("
    + RAW_COLUMNS
    + ") VALUES "
    + ", ".join(
        RAW_ROW.format(*range(row * RAW_FIELDS + 1, (row + 1) * RAW_FIELDS + 1))
        for row in range(BATCH)
    )
    + " ON CONFLICT (channel_id, reference) DO NOTHING"
    " RETURNING sku_id, location_id, on_hand_delta, occurred_at), "
    "moved AS (INSERT INTO inventory_stockbalance AS b (sku_id, location_id, on_hand, "
    "committed, reserved, damaged, quality_control, in_transit, incoming, "
    "last_event_at, updated_at) "
    "SELECT sku_id, location_id, SUM(on_hand_delta), 0, 0, 0, 0, 0, 0, "
    "MAX(occurred_at), now() FROM entry GROUP BY sku_id, location_id "
    "ORDER BY sku_id, location_id "
    "ON CONFLICT (sku_id, location_id) DO UPDATE SET "
    "on_hand = b.on_hand + EXCLUDED.on_hand, "
    "last_event_at = GREATEST(b.last_event_at, EXCLUDED.last_event_at), "
    "updated_at = EXCLUDED.updated_at) "
    "SELECT count(*) FROM entry"
)


def raw_poster(fleet: Fleet):
    """The database's ceiling for the same rows: codes already resolved, no checks,
    one statement per batch in its own transaction."""
    sku_ids = dict(zip(fleet.shop.sku_codes, fleet.shop.sku_ids, strict=True))
    location_ids = dict(
        zip(fleet.shop.location_codes, fleet.shop.location_ids, strict=True)
    )

    @harness.measured("lines", "batches", raw=True)
    def raw_sql(poster, index, deadline, report):
        from django.conf import settings

        url = harness.database_url(settings.DATABASES["default"]["NAME"])
        with psycopg.connect(url, cursor_factory=psycopg.RawCursor) as connection:
            for lines in _batches(poster, fleet, index, deadline, "RAW-"):
                params: list = []
                for line in lines:
                    delta = (
                        -line["quantity"]
                        if line["type"] == "sale"
                        else line["quantity"]
                    )
                    params += [
                        fleet.channel.pk,
                        line["reference"],
                        line["type"],
                        sku_ids[line["sku"]],
                        location_ids[line["location"]],
                        line["quantity"],
                        line.get("reason", ""),
                        line["occurred_at"],
                        hashlib.sha256(line["reference"].encode()).hexdigest(),
                        delta,
                    ]
                with connection.transaction():
                    (inserted,) = connection.execute(
                        RAW_BATCH, params, prepare=True
                    ).fetchone()
                report["lines"] += inserted
                report["batches"] += 1

    return raw_sql


if __name__ == "__main__":
    sys.exit(main())
