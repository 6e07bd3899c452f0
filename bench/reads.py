"""Reads: a web shop asking for availability and following the change feed, against
the raw read of the same rows.

A chain of ``SKUS`` (1,000) SKUs and ``LOCATIONS`` (200) locations, 9 in 10 of them
stores and the rest warehouses, is seeded in SQL: a receipt in the ledger and a balance
for every SKU at the first store, and for one SKU (the chain SKU) at every location.
So that a read does its real work, a few holds are placed through the service, half of
them then lapsed (``expires_at`` in the past, not yet swept: availability adds their
units back), a few sales beyond the stock open stock conflicts (``under_review``), one
store in ten has never heard from its tills (``delayed``), and the web channel keeps a
safety buffer. Every balance written is a change in the outbox (the database's
triggers), placed in the feed before the clock starts.

Three reads, each by ``--clients`` processes at once (1 and 8) for ``--seconds``,
every client one keep-alive connection to gunicorn with config/gunicorn.conf.py and a
token bound to the ``web`` channel:

  (A) GET /api/v1/availability/?location=<store>&sku=... with 100 SKU codes (the
      parameter repeated; ``page_size=100``, so one page holds them all);
  (B) GET /api/v1/availability/?sku=<chain SKU>&page_size=200: one SKU at every
      location, 200 rows;
  (C) GET /api/v1/availability/changes/?limit=1000: the feed's first page, from the
      beginning;

beside the raw-SQL ceiling measured in the same run, interleaved with it: as many
processes, each one psycopg connection (autocommit) running one prepared statement
that reads the same rows by their ids, already resolved: for (A) and (B) the
balance's ten figures (the eight buckets, ``sequence``, ``last_event_at``) and
``available`` computed, by ``location_id = $1 AND sku_id = ANY($2)`` and the other way
round; for (C) the same 1,000 outbox rows by position. Reads per second, and each
read's median and 95th percentile as its client timed it.

The issue's targets, printed as met or TARGET MISSED (a miss alone is not a failure):
(A) at 8 clients at least 0.25x raw, and its p95 under 10 ms at 1 client; (B) within
the same budget; (C) at 8 clients at least 0.25x raw.

Exits 1 only when a correctness check fails: every answer 200 with every row asked
for; and, read once before timing, every row's figures those of its balance with the
lapsed holds' units added back, ``under_review`` exactly where a conflict is open, and
the feed's page positions 1 to 1,000 with the quantities of the outbox's rows.

With ``--replica``, after those tables, (A) and (C) again with one read replica, in
a child process of its own (``--replica-only``: that part alone), as Django is set up
once per process: a throw-away PostgreSQL primary and one streaming replica of it
(bench/clusters.py; skipped, saying so, without PostgreSQL's server binaries), the
primary migrated and seeded as above, the replica waited for until it has replayed it
all; then gunicorn served twice, one server after the other, on that primary alone
and with the replica beside it (``DATABASE_REPLICA_URLS``, config/replicas.py), each
read timed at ``--clients``: reads/s, median and p95 of each, and their ratio. Both
servers run on the same machine as gunicorn, so the replica adds no CPU: the figures
show the routing's cost and correctness, not a second machine's capacity. It fails
when an answer is not 200 with every row asked for, when the rows answered differ
between the two servers, or when the replica served none of a timed cell's reads (no
statement but its lag check ran there, per its ``pg_stat_activity``).

    python -m bench.reads [--seconds 5] [--clients 1 8] [--replica | --replica-only]
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench import harness, seed

SKUS = 1_000
LOCATIONS = 200
WAREHOUSE_EVERY = 10  # every tenth location is a warehouse, the rest stores
UNHEARD_EVERY = 10  # every tenth store's tills have never reported: "delayed"
READ_SKUS = 100
FEED_PAGE = 1_000
SAFETY_BUFFER = 2  # the web channel's
HOLD_UNITS = 2
PREFIX = "RD"

# The targets.
SHARE_OF_RAW = 0.25
P95_MS = 10.0

ACTOR = "token:seed"
# A receipt in the ledger and the balance it makes for each (SKU, location) pair, in
# one statement, as bench/seed.py fills its ledger; the triggers write the outbox.
STOCK = f"""
    WITH entry AS (
        {seed.LEDGER_INSERT}
        SELECT %(channel)s, %(prefix)s || '-SEED-' || n, 'receipt', sku, location,
               20 + n %% 80, '', %(at)s, %(at)s, 'applied', '', %(actor)s,
               md5(n::text) || md5(n::text), 20 + n %% 80, 0, 0, 0, 0, 0, 0, 0
        FROM unnest(%(skus)s::bigint[], %(locations)s::bigint[]) WITH ORDINALITY
            AS pair(sku, location, n)
        RETURNING sku_id, location_id, on_hand_delta, occurred_at
    )
    INSERT INTO inventory_stockbalance (
        sku_id, location_id, on_hand, committed, reserved, damaged, quality_control,
        in_transit, incoming, last_count_at, last_event_at, updated_at)
    SELECT sku_id, location_id, on_hand_delta, 0, 0, 0, 0, 0, 0, NULL, occurred_at,
           now()
    FROM entry
"""


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_reads")
    parser.add_argument("--seconds", type=float, default=5.0, help="per cell")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--replica",
        action="store_true",
        help="then (A) and (C) on a throw-away primary alone and with one streaming "
        "replica beside it (in a child process: --replica-only)",
    )
    parser.add_argument(
        "--replica-only", action="store_true", help="only that comparison"
    )
    args = parser.parse_args()
    if args.replica_only:
        return replica_main(args)
    status = tables(args)
    if args.replica:
        # Django is set up once per process, here on the local server's database:
        # the throw-away primary is this same script's in a process of its own.
        sys.stdout.flush()
        child = subprocess.run(
            [sys.executable, "-m", "bench.reads", "--replica-only"]
            + ["--seconds", f"{args.seconds:g}", "--clients"]
            + [str(clients) for clients in args.clients],
            cwd=harness.ROOT,
            check=False,
        )
        status = status or child.returncode
    return status


def tables(args) -> int:
    """The reads against raw SQL on the local server (the run without --replica)."""
    harness.prepare_django(args.database)
    started = time.perf_counter()
    chain = Chain.open()
    seeded = time.perf_counter() - started
    reads = chain.reads()
    print(
        f"# Reads: {harness.machine()}; {args.seconds:g} s per cell; seeded in "
        f"{seeded:.1f} s\n\n{chain.summary}\n"
    )

    failures: list[str] = []
    cells: dict[tuple[str, int, str], Cell] = {}
    with harness.served_api(args.database, env=api_environment(args)) as port:
        failures += chain.check_answers(port, reads)
        for read in reads:
            # A served API is warm: every gunicorn process has its connection and
            # its prepared statements before the clock starts.
            harness.run_workers(
                max(args.clients), api_reader(read, port, chain.token), 1.0
            )
            for clients in args.clients:
                for kind, reader in (
                    ("raw", raw_reader(read, args.database)),
                    ("api", api_reader(read, port, chain.token)),
                ):
                    cell = measure(reader, clients, args.seconds)
                    if cell.error:
                        failures.append(
                            f"{read.key} {kind} at {clients} clients: {cell.error}"
                        )
                    cells[read.key, clients, kind] = cell

    headers = [
        "clients",
        "API reads/s",
        "API median ms",
        "API p95 ms",
        "raw reads/s",
        "raw median ms",
        "raw p95 ms",
        "API/raw",
    ]
    _print_tables(reads, cells, args.clients, headers, ("api", "raw"), ("api", "raw"))
    print("The issue's targets (a miss alone is not a failure):")
    for line in targets(cells, args.clients):
        print(f"  {line}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def api_environment(args) -> dict[str, str]:
    """What the served API is given beyond the bench's own settings: nothing (the
    replica's URL is given only in replica_main's second server)."""
    return {}


# -- with one replica (--replica) ------------------------------------------------------

REPLICA_READS = ("A", "C")


def replica_main(args) -> int:
    """(A) and (C) served by gunicorn twice, one server after the other, on a
    throw-away primary seeded as the tables' database is: alone, then with one
    streaming replica beside it (``DATABASE_REPLICA_URLS``). Fails when an answer
    is not 200 with every row asked for, when the rows differ between the two, or
    when the replica served none of a read's timed requests."""
    from bench.clusters import MISSING, primary_and_replica, server_binaries

    if server_binaries() is None:
        print(f"# Reads with one replica: SKIPPED, {MISSING}.")
        return 0
    with primary_and_replica(database=args.database) as clusters:
        harness.prepare_django(args.database, url=clusters.primary_url)
        started = time.perf_counter()
        chain = Chain.open()
        seeded = time.perf_counter() - started
        clusters.wait_caught_up(timeout=120)
        reads = [read for read in chain.reads() if read.key in REPLICA_READS]
        replica_url = clusters.replica_urls[0]
        print(
            f"# Reads with one replica: {harness.machine()}; {args.seconds:g} s per "
            f"cell; a throw-away primary and one streaming replica started in "
            f"{clusters.started_in:.1f} s, seeded as the tables' database in "
            f"{seeded:.1f} s.\n\n"
            f"Both PostgreSQL servers run on this same {os.cpu_count()}-core machine "
            "as gunicorn and its clients, so the replica adds no CPU here: the "
            "figures show what the routing costs and that it answers right, not the "
            "capacity a replica on a machine of its own would add.\n"
        )
        failures: list[str] = []
        cells: dict[tuple[str, int, str], Cell] = {}
        answered: dict[str, dict[str, list]] = {}
        for setup, replicas in (("alone", ""), ("replica", replica_url)):
            environment = {
                "DATABASE_URL": clusters.primary_url,
                "DATABASE_REPLICA_URLS": replicas,
            }
            with harness.served_api(args.database, env=environment) as port:
                failures += [
                    f"{setup}: {failure}"
                    for failure in chain.check_answers(port, reads)
                ]
                answered[setup] = chain.rows_answered(port, reads)
                for read in reads:
                    harness.run_workers(
                        max(args.clients), api_reader(read, port, chain.token), 1.0
                    )
                    for clients in args.clients:
                        reader = api_reader(read, port, chain.token)
                        since = datetime.now(UTC)
                        cell = measure(reader, clients, args.seconds)
                        if cell.error:
                            failures.append(
                                f"{read.key} {setup} at {clients} clients: {cell.error}"
                            )
                        cells[read.key, clients, setup] = cell
                        if setup == "replica":
                            failures += served_by_replica(
                                replica_url, since, read, clients
                            )
    for read in reads:
        if answered["alone"].get(read.key) != answered["replica"].get(read.key):
            failures.append(
                f"({read.key}) the rows answered with the replica differ from the "
                "primary's alone"
            )

    headers = [
        "clients",
        "primary alone reads/s",
        "median ms",
        "p95 ms",
        "with one replica reads/s",
        "median ms",
        "p95 ms",
        "replica/alone",
    ]
    _print_tables(
        reads,
        cells,
        args.clients,
        headers,
        ("alone", "replica"),
        ("replica", "alone"),
        caption=", primary alone and with one replica",
    )
    if not failures:
        print(
            "With the replica configured, every answer was 200 with the same rows as "
            "the primary's alone, and the replica served each read."
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def _print_tables(
    reads, cells, clients_counts, headers, shown, ratio, caption: str = ""
) -> None:
    """A table per read: a row per number of clients, the two kinds of cell in
    ``shown`` side by side and the ratio of ``ratio`` (measured, against)."""
    for read in reads:
        print(f"({read.key}) {read.title}{caption}:\n")
        rows = []
        for clients in clients_counts:
            cell = {kind: cells[read.key, clients, kind] for kind in shown}
            rows.append(
                _side_by_side(
                    clients,
                    *(cell[kind] for kind in shown),
                    measured=cell[ratio[0]],
                    against=cell[ratio[1]],
                )
            )
        print(harness.table(headers, rows))
        print()


def served_by_replica(
    url: str, since: datetime, read: "Read", clients: int
) -> list[str]:
    """Whether the replica served the read just timed: a server process's
    connection to it ran a statement other than its lag check since ``since`` (the
    cell's start). Its connections stay open between requests, each showing its
    last statement, and a lag check comes before a request's reads, never after."""
    with psycopg.connect(url, autocommit=True) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            " AND query_start >= %s AND query NOT LIKE %s",
            (since, "%pg_is_in_recovery%"),
        ).fetchone()
    if count:
        return []
    return [f"({read.key}) at {clients} clients: no read on the replica"]


@dataclass
class Read:
    """One read: the API's path and, for the raw ceiling, a statement and its
    parameters that fetch the same rows. ``marker`` occurs once per row in the API's
    answer, so a client checks the count without parsing the JSON."""

    key: str
    title: str
    path: str
    marker: bytes
    rows: int
    raw_sql: str
    raw_params: tuple


@dataclass
class Cell:
    rate: float = 0.0
    median: float = 0.0
    p95: float = 0.0
    error: str = ""


def _side_by_side(clients: int, left, right, *, measured, against) -> list:
    """A table row: two cells' rate, median and p95, then ``measured``'s rate over
    ``against``'s (the API over raw; with a replica over alone)."""
    return [
        clients,
        left.rate,
        left.median,
        left.p95,
        right.rate,
        right.median,
        right.p95,
        f"{measured.rate / against.rate:.2f}x" if against.rate else "-",
    ]


def targets(cells: dict, clients: list[int]) -> list[str]:
    """The issue's targets, each met or TARGET MISSED: the share of raw at the most
    clients measured (8 by default), the p95 at the fewest (1)."""
    most, fewest = max(clients), min(clients)

    def state(met: bool) -> str:
        return "met" if met else "TARGET MISSED"

    lines = []
    for key, what, p95_too in (
        ("A", f"{READ_SKUS} SKUs at one location", True),
        ("B", f"1 SKU at {LOCATIONS} locations", True),
        ("C", f"change feed, a page of {FEED_PAGE:,}", False),
    ):
        api, raw = cells[key, most, "api"], cells[key, most, "raw"]
        share = api.rate / raw.rate if raw.rate else 0.0
        lines.append(
            f"({key}) {what}: at {most} clients >= {SHARE_OF_RAW:.2f}x raw: "
            f"{api.rate:,.0f}/s of {raw.rate:,.0f}/s = {share:.2f}x: "
            f"{state(share >= SHARE_OF_RAW)}"
        )
        if p95_too:
            p95 = cells[key, fewest, "api"].p95
            lines.append(
                f"({key}) {what}: p95 < {P95_MS:g} ms at {fewest} client(s): "
                f"{p95:.2f} ms: {state(p95 < P95_MS)}"
            )
    return lines


@dataclass
class Chain:
    """The seeded chain, what the read must account for (lapsed holds, open
    conflicts), and a token bound to the web channel."""

    sku_ids: list[int]
    sku_codes: list[str]
    location_ids: list[int]
    location_codes: list[str]
    store: Any = None  # the location read in (A)
    chain_sku: Any = None  # the SKU read in (B)
    token: str = ""
    lapsed: dict[tuple[str, str], int] = field(default_factory=dict)
    conflicts: set[tuple[str, str]] = field(default_factory=set)
    placed: int = 0  # changes in the feed
    summary: str = ""

    @classmethod
    def open(cls) -> "Chain":
        from django.db import connection, transaction
        from django.utils import timezone

        from catalog.models import Channel, Product, Sku
        from config.access import Actor
        from integrations.services import api_token_reissue
        from inventory.models import (
            AvailabilityChange,
            Location,
            MovementType,
            Reservation,
            StockBalance,
            StockConflict,
        )
        from inventory.services import (
            MovementInput,
            ReservationLineInput,
            movements_record,
            reservation_place,
        )
        from sync.services.feed import changes_place

        erp = Channel.objects.create(code="erp", name="ERP", kind="back_office")
        tills = Channel.objects.create(code="pos", name="Tills", kind="store_pos")
        web = Channel.objects.create(
            code="web", name="Web shop", kind="web", safety_buffer=SAFETY_BUFFER
        )
        product = Product.objects.create(code=f"{PREFIX}-P", name="Range")
        skus = Sku.objects.bulk_create(
            Sku(code=f"{PREFIX}-{n:06d}", name=f"Article {n}", product=product)
            for n in range(1, SKUS + 1)
        )
        locations = Location.objects.bulk_create(
            Location(
                code=f"{PREFIX}-L{n:04d}",
                name=f"Site {n}",
                kind="warehouse" if n % WAREHOUSE_EVERY == 0 else "store",
            )
            for n in range(1, LOCATIONS + 1)
        )
        store, chain_sku = locations[0], skus[0]
        chain = cls(
            sku_ids=[sku.pk for sku in skus],
            sku_codes=[sku.code for sku in skus],
            location_ids=[location.pk for location in locations],
            location_codes=[location.code for location in locations],
            store=store,
            chain_sku=chain_sku,
        )
        now = timezone.now()
        # Every SKU at the first store; the chain SKU at every location.
        pairs = [(sku.pk, store.pk) for sku in skus] + [
            (chain_sku.pk, location.pk) for location in locations[1:]
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                STOCK,
                {
                    "channel": erp.pk,
                    "prefix": PREFIX,
                    "actor": ACTOR,
                    "at": now - timedelta(days=1),
                    "skus": [sku for sku, _ in pairs],
                    "locations": [location for _, location in pairs],
                },
            )
        # The tills of most stores reported a minute ago; one in ten never has.
        Location.objects.filter(kind="store").exclude(
            pk__in=[
                location.pk
                for n, location in enumerate(locations, start=1)
                if n % UNHEARD_EVERY == UNHEARD_EVERY // 2
            ]
        ).update(pos_last_event_at=now - timedelta(minutes=1))

        # Holds among the SKUs read at the store (A) and the locations of the
        # chain SKU (B); every other one then lapses, unswept.
        held = [(skus[n], store) for n in range(10, 16)] + [
            (chain_sku, locations[n]) for n in range(2, 8)
        ]
        reservations = []
        for number, (sku, location) in enumerate(held):
            reservation, _ = reservation_place(
                channel=web,
                reference=f"{PREFIX}-HOLD-{number}",
                lines=[ReservationLineInput(sku, location, HOLD_UNITS)],
                actor=Actor(name="token:bench"),
                ttl_seconds=3600,
            )
            reservations.append(reservation)
        lapsing = reservations[::2]
        Reservation.objects.filter(pk__in=[r.pk for r in lapsing]).update(
            expires_at=now - timedelta(minutes=5)
        )
        for number in range(0, len(held), 2):
            sku, location = held[number]
            chain.lapsed[sku.code, location.code] = HOLD_UNITS

        # Sales beyond the stock: open conflicts, "under review".
        short = [(skus[n], store) for n in range(20, 23)] + [
            (chain_sku, locations[n]) for n in (8, 9)
        ]
        on_hand = {
            (balance.sku_id, balance.location_id): balance.on_hand
            for balance in StockBalance.objects.filter(
                location__in=[location for _, location in short],
                sku__in=[sku for sku, _ in short],
            )
        }
        movements_record(
            movements=[
                MovementInput(
                    reference=f"{PREFIX}-SHORT-{number}",
                    type=MovementType.SALE,
                    sku=sku,
                    location=location,
                    quantity=on_hand[sku.pk, location.pk] + 3,
                    occurred_at=timezone.now() - timedelta(seconds=30),
                    channel=tills,
                )
                for number, (sku, location) in enumerate(short)
            ],
            actor=Actor(name="token:bench"),
        )
        chain.conflicts = {
            (conflict.sku.code, conflict.location.code)
            for conflict in StockConflict.objects.filter(
                status=StockConflict.Status.OPEN
            ).select_related("sku", "location")
        }

        # Every change in the feed before the clock starts.
        while changes_place().changes:
            pass
        placed = AvailabilityChange.objects.filter(position__isnull=False).count()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _, chain.token = api_token_reissue(name="bench-reads", channel_code="web")
        chain.placed = placed
        stores = sum(1 for location in locations if location.kind == "store")
        chain.summary = (
            f"{SKUS:,} SKUs, {LOCATIONS} locations ({stores} stores, "
            f"{LOCATIONS - stores} warehouses), {StockBalance.objects.count():,} "
            f"balances; {len(reservations)} active holds ({len(lapsing)} lapsed, "
            f"unswept), {len(chain.conflicts)} open conflicts; {placed:,} changes "
            "in the feed."
        )
        return chain

    def reads(self) -> list[Read]:
        from inventory.availability import available_sql

        figures = (
            "sku_id, location_id, on_hand, committed, picked, reserved, damaged, "
            "quality_control, in_transit, incoming, sequence, last_event_at"
        )
        balances = (
            f"SELECT {figures}, {available_sql('b')} AS available "
            "FROM inventory_stockbalance b WHERE "
        )
        skus = "&".join(f"sku={code}" for code in self.sku_codes[:READ_SKUS])
        return [
            Read(
                key="A",
                title=f"{READ_SKUS} SKUs at one location",
                path=f"/api/v1/availability/?location={self.store.code}&{skus}"
                f"&page_size={READ_SKUS}",
                marker=b'"sku":',
                rows=READ_SKUS,
                raw_sql=balances + "b.location_id = %s AND b.sku_id = ANY(%s)",
                raw_params=(self.store.pk, self.sku_ids[:READ_SKUS]),
            ),
            Read(
                key="B",
                title=f"1 SKU at every location ({LOCATIONS} rows)",
                path=f"/api/v1/availability/?sku={self.chain_sku.code}"
                f"&page_size={LOCATIONS}",
                marker=b'"sku":',
                rows=LOCATIONS,
                raw_sql=balances + "b.sku_id = %s AND b.location_id = ANY(%s)",
                raw_params=(self.chain_sku.pk, self.location_ids),
            ),
            Read(
                key="C",
                title=f"the change feed, a page of {FEED_PAGE:,} from the beginning",
                path=f"/api/v1/availability/changes/?limit={FEED_PAGE}",
                marker=b'"id":"evt_',
                rows=FEED_PAGE,
                raw_sql=(
                    "SELECT id, sku_id, location_id, sequence, on_hand, committed, "
                    "picked, reserved, damaged, quality_control, in_transit, "
                    f"incoming, changed_at, position, {available_sql('c')} "
                    "AS available FROM inventory_availabilitychange c "
                    "WHERE c.position > %s ORDER BY c.position LIMIT %s"
                ),
                raw_params=(0, FEED_PAGE),
            ),
        ]

    # -- correctness ---------------------------------------------------------------

    def check_answers(self, port: int, reads: list[Read]) -> list[str]:
        """Each read once, its answer checked against the tables."""
        client = harness.ApiClient(port, self.token)
        failures = []
        answers = {}
        for read in reads:
            status, body = client.call("GET", read.path)
            if status != 200:
                failures.append(f"({read.key}) answered {status}: {body[:300]!r}")
                continue
            answers[read.key] = json.loads(body)
        if "A" in answers:
            failures += self._check_rows(
                "A",
                answers["A"]["results"],
                {(code, self.store.code) for code in self.sku_codes[:READ_SKUS]},
            )
        if "B" in answers:
            failures += self._check_rows(
                "B",
                answers["B"]["results"],
                {(self.chain_sku.code, code) for code in self.location_codes},
            )
        if "C" in answers:
            failures += self._check_feed(answers["C"])
        return failures

    def rows_answered(self, port: int, reads: list[Read]) -> dict[str, list]:
        """Each read's rows as answered (its results or the feed's changes)."""
        client = harness.ApiClient(port, self.token)
        rows = {}
        for read in reads:
            status, body = client.call("GET", read.path)
            if status == 200:
                answer = json.loads(body)
                rows[read.key] = answer.get("results", answer.get("changes"))
        return rows

    def _check_rows(self, key: str, rows: list[dict], asked: set) -> list[str]:
        from inventory.models import StockBalance
        from inventory.movements import BUCKETS

        balances = {
            (balance.sku.code, balance.location.code): balance
            for balance in StockBalance.objects.select_related("sku", "location")
        }
        answered = {(row["sku"], row["location"]) for row in rows}
        if answered != asked or len(rows) != len(asked):
            return [f"({key}) answered {len(rows)} rows, not the {len(asked)} asked"]
        if not answered & set(self.lapsed) or not answered & self.conflicts:
            return [f"({key}) reads no lapsed hold or no open conflict"]
        failures = []
        for row in rows:
            pair = (row["sku"], row["location"])
            balance, lapsed = balances[pair], self.lapsed.get(pair, 0)
            expected = {bucket: getattr(balance, bucket) for bucket in BUCKETS}
            expected["reserved"] -= lapsed
            expected["available"] = balance.available + lapsed
            expected["available_to_promise"] = max(
                0, balance.available + lapsed - SAFETY_BUFFER
            )
            expected["sequence"] = balance.sequence
            got = {name: row[name] for name in expected}
            if got != expected:
                failures.append(f"({key}) {pair}: answered {got}, expected {expected}")
            if (row["status"] == "under_review") != (pair in self.conflicts):
                failures.append(f"({key}) {pair}: status {row['status']}")
        return failures[:5]

    def _check_feed(self, page: dict) -> list[str]:
        from django.db import connection

        from inventory.movements import BUCKETS

        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.position, s.code, l.code, {', '.join(BUCKETS)} "
                "FROM inventory_availabilitychange c "
                "JOIN catalog_sku s ON s.id = c.sku_id "
                "JOIN inventory_location l ON l.id = c.location_id "
                "WHERE c.position > 0 ORDER BY c.position LIMIT %s",
                [FEED_PAGE],
            )
            stored = cursor.fetchall()
        answered = [
            (
                event["data"]["position"],
                event["data"]["sku"],
                event["data"]["location"],
                *(event["data"]["quantities"][bucket] for bucket in BUCKETS),
            )
            for event in page["changes"]
        ]
        failures = []
        if [row[0] for row in answered] != list(range(1, FEED_PAGE + 1)):
            failures.append(f"(C) the page is not positions 1 to {FEED_PAGE:,}")
        if answered != [tuple(row) for row in stored]:
            failures.append("(C) the page's changes differ from the outbox's rows")
        if not page["has_more"] or self.placed <= FEED_PAGE:
            failures.append(f"(C) the feed holds no more than {FEED_PAGE:,} changes")
        return failures


# -- the workers -------------------------------------------------------------------------


def measure(reader, clients: int, seconds: float) -> Cell:
    reports, _ = harness.run_workers(clients, reader, seconds)
    errors = [report["error"] for report in reports if report.get("error")]
    samples = [sample for report in reports for sample in report.get("samples", [])]
    if not samples:
        return Cell(error=errors[0] if errors else "no read finished")
    elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    return Cell(
        rate=sum(report["reads"] for report in reports) / elapsed,
        median=harness.median(samples),
        p95=harness.percentile(samples, 0.95),
        error=errors[0] if errors else "",
    )


def api_reader(read: Read, port: int, token: str):
    @harness.measured("reads")
    def api(worker, index, deadline, report):
        client = harness.ApiClient(port, token)
        samples = report["samples"] = []
        while time.time() < deadline:
            started = time.perf_counter()
            status, body = client.call("GET", read.path)
            samples.append((time.perf_counter() - started) * 1000)
            if status != 200 or body.count(read.marker) != read.rows:
                raise RuntimeError(f"{status}: {body[:300]!r}")
            report["reads"] += 1

    return api


def raw_reader(read: Read, database: str):
    @harness.measured("reads", raw=True)
    def raw_sql(worker, index, deadline, report):
        samples = report["samples"] = []
        url = harness.database_url(database)
        with psycopg.connect(url, autocommit=True) as connection:
            while time.time() < deadline:
                started = time.perf_counter()
                rows = connection.execute(
                    read.raw_sql, read.raw_params, prepare=True
                ).fetchall()
                samples.append((time.perf_counter() - started) * 1000)
                if len(rows) != read.rows:
                    raise RuntimeError(f"{len(rows)} rows, not {read.rows}")
                report["reads"] += 1

    return raw_sql


if __name__ == "__main__":
    sys.exit(main())
