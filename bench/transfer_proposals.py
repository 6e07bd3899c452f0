"""The nightly transfer proposals over a chain's whole range, against the one read
the rule comes down to.

A network of ``--stores`` stores and ``--warehouses`` warehouses (scattered over
Great Britain; each store keeps ``WALK_IN`` units of each SKU for walk-ins) selling
``--skus`` SKUs is seeded in SQL, a balance for every SKU at every location:

- lanes (``TransferRoute``): each store to its ``--neighbours`` nearest stores,
  each warehouse to every store and every store back to each warehouse;
- last night's rates of sale (``SalesRate``, 28 days) for 90 % of store
  SKU-locations: a Pareto share per SKU (most sell a few units a month, a few sell
  dozens a week), ±50 % from store to store; warehouses sell nothing;
- stock: ``--surplus`` of the rated store SKU-locations hold 70 to 220 days of
  their rate beyond the walk-in units, ``--short`` hold under 7 days, the rest 10
  to 50 days; of the unrated store SKU-locations a tenth hold a few dead units;
  each warehouse holds stock of ``WAREHOUSE_RANGE`` of the SKUs. The stores' tills
  are the channel a proposal's transfer would be requested under.

Then, in the same run:

  (a) raw SQL: one statement that reads what the rule needs, every row fetched (the
      balances at the lanes' ends of the SKUs some lane's destination sells, with
      their available figure, rate of sale, walk-in units and whether a stock
      conflict is open there): the ceiling;
  (b) ``transfer_proposals_generate`` as the nightly job runs it (the beat task's
      actor), twice: wall time, statements and the time the database spent on them
      (counted by ``connection.execute_wrapper``: ``CaptureQueriesContext`` would
      compose the text of the figures' statement with its two arrays of a million
      ids, which costs more than the statement), proposals written;
  (c) ``transfer_figures`` alone: the read (b) starts with.

Checks (exit 1 if one fails): proposals were made; each has a quantity above 0 and
a lane from its sender to its receiver; no sender gives away its walk-in units or
its ``TRANSFER_SURPLUS_DAYS`` of sales, no receiver gets more than it is short
(both from the balances and rates in SQL, not from the proposals' own figures); the
second run supersedes every proposal of the first and makes the same ones; (c) reads
no more figures than (a) fetched (only the candidates). ``--profile`` prints where a
third run spends its time (cProfile).

    python -m bench.transfer_proposals [--stores 50] [--warehouses 2] [--skus 20000]
        [--neighbours 5] [--surplus 0.04] [--short 0.04] [--repeat 3] [--profile]
"""

import cProfile
import io
import pstats
import random
import sys
import time
from decimal import Decimal

import psycopg

from bench import harness, seed
from bench.rebuild import timed

WALK_IN = 2  # units of each SKU a store keeps for walk-ins
WAREHOUSE_RANGE = 0.3  # the share of the SKUs each warehouse holds
RATE_DAYS = 28
RATED = 0.9  # the share of store SKU-locations with a rate of sale
DEAD_STOCK = 0.1  # of the unrated store SKU-locations: the share holding a few units

# What the rule reads, in one statement: the balances at the lanes' ends of every SKU
# some lane's destination sells, with the available figure (inventory.availability's
# buckets), the rate of sale, the walk-in units and whether the figure is under
# review. Parameter: the open conflict's status.
CEILING = """
    WITH ends AS (
        SELECT from_location_id AS location_id FROM inventory_transferroute
        UNION SELECT to_location_id FROM inventory_transferroute
    ), selling AS (
        SELECT DISTINCT rate.sku_id
        FROM reconciliation_salesrate rate
        WHERE rate.units > 0 AND rate.location_id IN (
            SELECT to_location_id FROM inventory_transferroute)
    )
    SELECT balance.sku_id, balance.location_id,
           {available} AS available,
           rate.units, rate.days, place.walk_in_buffer,
           EXISTS (SELECT 1 FROM inventory_stockconflict conflict
                   WHERE conflict.status = %s AND conflict.sku_id = balance.sku_id
                     AND conflict.location_id = balance.location_id)
    FROM inventory_stockbalance balance
    JOIN ends ON ends.location_id = balance.location_id
    JOIN selling ON selling.sku_id = balance.sku_id
    JOIN inventory_location place
      ON place.id = balance.location_id AND place.is_active
    LEFT JOIN reconciliation_salesrate rate
      ON rate.sku_id = balance.sku_id AND rate.location_id = balance.location_id
     AND rate.units > 0
"""


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_transfers")
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--warehouses", type=int, default=2)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--neighbours", type=int, default=5)
    parser.add_argument("--surplus", type=float, default=0.04)
    parser.add_argument("--short", type=float, default=0.04)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.stores <= args.neighbours or args.surplus + args.short > 1:
        parser.error("need more stores than neighbours, surplus + short <= 1")
    harness.prepare_django(args.database)

    from django.conf import settings
    from django.db import connection

    from config.access import Actor
    from inventory.availability import available_sql
    from inventory.models import StockConflict
    from reconciliation.proposal_selectors import transfer_figures
    from reconciliation.services.proposals import transfer_proposals_generate

    started = time.perf_counter()
    shop, lanes = seeded_network(args)
    seeded = time.perf_counter() - started
    print(
        f"# Transfer proposals: {harness.machine()}; {args.stores} stores and "
        f"{args.warehouses} warehouses × {args.skus:,} SKUs = {shop.pairs:,} "
        f"balances, {lanes} lanes, {counted('reconciliation_salesrate'):,} rates "
        f"of sale; seeded in {seeded:.1f} s; (a) median of {args.repeat}\n"
    )

    statement = CEILING.format(available=available_sql("balance"))
    open_status = StockConflict.Status.OPEN.value
    raw, (fetched, *_) = timed(
        args.repeat, lambda: ceiling(args.database, statement, open_status)
    )
    night = Actor.system("propose_transfers")
    first = generated(lambda: transfer_proposals_generate(actor=night), connection)
    second = generated(lambda: transfer_proposals_generate(actor=night), connection)
    figures_took, (figures, *_) = timed(1, transfer_figures)
    read = sum(len(rows) for rows in figures.by_sku.values())

    rows = [["(a) raw: rates ⋈ balances' available ⋈ lane ends", raw, "", "", 1.0]]
    for label, run in (("first", first), ("second", second)):
        rows.append(
            [
                f"(b) transfer_proposals_generate, {label} run",
                run["seconds"],
                run["queries"],
                run["database"],
                run["seconds"] / raw,
            ]
        )
    rows.append(
        ["(c) transfer_figures alone", figures_took, "", "", figures_took / raw]
    )
    print(
        harness.table(
            ["what", "s", "statements", "of which in the database, s", "÷ (a)"],
            [
                [name, f"{s:.2f}", q, "" if d == "" else f"{d:.2f}", f"{x:.1f}x"]
                for name, s, q, d, x in rows
            ],
        )
    )
    print(
        f"\n(a) fetched {len(fetched):,} rows; (c) read {read:,} figures over "
        f"{len(figures.by_sku):,} SKUs; proposals: {len(first['made']):,}, then "
        f"{len(second['made']):,} ({units(first['made']):,} units)"
    )
    slowest = sorted(first["statements"], key=lambda s: -s[0])[:3]
    for seconds, sql in slowest:
        print(f"  {seconds:6.2f} s  {' '.join(sql.split())[:110]}")

    failures = checks(first["made"], second["made"], settings)
    if read > len(fetched):
        failures.append(
            f"(c) read more figures ({read:,}) than (a) fetched ({len(fetched):,})"
        )
    if args.profile:
        profiled(lambda: transfer_proposals_generate(actor=night))
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


# -- seeding ---------------------------------------------------------------------------


def seeded_network(args) -> tuple[seed.Network, int]:
    """The SKUs, the locations with their lanes, the rates of sale and the balances."""
    from django.db import connection, transaction

    from catalog.models import Channel

    places = args.stores + args.warehouses
    shop = seed.network(skus=args.skus, locations=places, prefix="TP")
    stores, warehouses = (
        shop.location_ids[: args.stores],
        shop.location_ids[args.stores :],
    )
    # The stores' tills: the channel a proposal's transfer is requested under.
    Channel.objects.create(code="tills", name="Store tills", kind="store_pos")
    points = placed(stores, warehouses)
    lanes = laned(stores, warehouses, points, args.neighbours)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.43)")
        cursor.execute(
            """
            CREATE TEMP TABLE tp_plan ON COMMIT DROP AS
            WITH sku AS MATERIALIZED (
                -- Pareto (shape 1.2, from 2 units in 28 days), one draw per SKU.
                SELECT id AS sku_id,
                       least(3000, 2.0 / power(1.0 - random(), 1 / 1.2)) AS weight,
                       random() < %(range)s AS in_warehouse
                FROM catalog_sku WHERE id = ANY(%(skus)s)
            ), place AS MATERIALIZED (
                SELECT id AS location_id, kind = 'store' AS is_store, walk_in_buffer
                FROM inventory_location WHERE id = ANY(%(places)s)
            )
            SELECT sku_id, location_id, is_store, walk_in_buffer AS walk_in,
                   in_warehouse, random() AS ranged, random() AS kind_of,
                   random() AS spread,
                   floor(weight * (0.5 + random()))::bigint AS units
            FROM sku CROSS JOIN place
            """,
            {
                "skus": shop.sku_ids,
                "places": shop.location_ids,
                "range": WAREHOUSE_RANGE,
            },
        )
        cursor.execute(
            """
            INSERT INTO reconciliation_salesrate
                (sku_id, location_id, units, days, computed_at)
            SELECT sku_id, location_id, units, %(days)s, now()
            FROM tp_plan WHERE is_store AND ranged < %(rated)s
            """,
            {"days": RATE_DAYS, "rated": RATED},
        )
        cursor.execute(
            """
            INSERT INTO inventory_stockbalance (
                sku_id, location_id, on_hand, committed, reserved, damaged,
                quality_control, in_transit, incoming, last_count_at,
                last_event_at, updated_at)
            SELECT sku_id, location_id,
                   CASE
                     WHEN NOT is_store THEN
                       CASE WHEN in_warehouse THEN 40 + floor(400 * spread)
                            ELSE 0 END
                     WHEN ranged >= %(rated)s THEN
                       CASE WHEN ranged >= 1 - (1 - %(rated)s) * %(dead)s
                            THEN walk_in + 1 + floor(5 * spread) ELSE 0 END
                     WHEN kind_of < %(surplus)s THEN
                       walk_in + 1 + ceil(units / %(days)s::numeric
                                          * (70 + 150 * spread))
                     WHEN kind_of < %(surplus)s + %(short)s THEN
                       floor(units / %(days)s::numeric * 6.9 * spread)
                     ELSE walk_in + ceil(units / %(days)s::numeric
                                         * (10 + 40 * spread))
                   END,
                   0, 0, 0, 0, 0, 0, NULL, now() - interval '1 day', now()
            FROM tp_plan
            ORDER BY sku_id, location_id
            """,
            {
                "days": RATE_DAYS,
                "rated": RATED,
                "dead": DEAD_STOCK,
                "surplus": args.surplus,
                "short": args.short,
            },
        )
    with connection.cursor() as cursor:
        for table in (
            "inventory_stockbalance",
            "reconciliation_salesrate",
            "inventory_transferroute",
            "inventory_location",
        ):
            cursor.execute(f"ANALYZE {table}")
    return shop, lanes


def placed(stores: list[int], warehouses: list[int]) -> dict[int, tuple[float, float]]:
    """Stores scattered over Great Britain keeping their walk-in units; warehouses in
    the Midlands and the North."""
    from inventory.models import Location

    dice = random.Random(43)
    points = {}
    records = list(Location.objects.filter(pk__in=stores + warehouses))
    for place in records:
        if place.pk in stores:
            place.kind, place.walk_in_buffer = Location.Kind.STORE, WALK_IN
            place.latitude = round(dice.uniform(50.4, 55.8), 6)
            place.longitude = round(dice.uniform(-4.5, 1.5), 6)
        else:
            place.kind, place.walk_in_buffer = Location.Kind.WAREHOUSE, 0
            place.latitude = round(dice.uniform(52.3, 53.9), 6)
            place.longitude = round(dice.uniform(-2.2, -1.0), 6)
        points[place.pk] = (float(place.latitude), float(place.longitude))
    Location.objects.bulk_update(
        records, ["kind", "walk_in_buffer", "latitude", "longitude"]
    )
    return points


def laned(
    stores: list[int],
    warehouses: list[int],
    points: dict[int, tuple[float, float]],
    neighbours: int,
) -> int:
    """Each store to its nearest stores (a day when near, two beyond 150 km), each
    warehouse to every store (two days) and every store back (three)."""
    from inventory.models import TransferRoute
    from orders.routing import haversine_km

    def lane(source, destination, hours, cost):
        return TransferRoute(
            from_location_id=source,
            to_location_id=destination,
            lead_time_hours=hours,
            cost_per_unit=Decimal(cost).quantize(Decimal("0.01")),
        )

    made = []
    for store in stores:
        nearest = sorted(
            (haversine_km(points[store], points[other]), other)
            for other in stores
            if other != store
        )[:neighbours]
        made += [
            lane(store, other, 24 if km < 150 else 48, 0.35 + km / 400)
            for km, other in nearest
        ]
        for warehouse in warehouses:
            made.append(lane(warehouse, store, 48, 0.6))
            made.append(lane(store, warehouse, 72, 0.5))
    return len(TransferRoute.objects.bulk_create(made))


def counted(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


# -- the runs --------------------------------------------------------------------------


def ceiling(database: str, statement: str, open_status: str) -> list[tuple]:
    with psycopg.connect(harness.database_url(database)) as raw:
        return raw.execute(statement, [open_status]).fetchall()


def generated(run, connection) -> dict:
    """One run: its wall time, its statements with the seconds each took, and the
    proposals it made."""
    statements: list[tuple[float, str]] = []

    def count(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - began, sql))

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        made = run()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "queries": len(statements),
        "database": sum(took for took, _ in statements),
        "statements": statements,
        "made": made,
    }


def profiled(run) -> None:
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    print("\n# A third run under cProfile, by own time\n")
    print(out.getvalue())


def units(proposals) -> int:
    return sum(proposal.quantity for proposal in proposals)


# -- checks ----------------------------------------------------------------------------

# Senders that give away more than their spare: available − the walk-in units − their
# surplus days of sales (⌈units × days ÷ window⌉; none when they sold none), summed
# over the run's proposals of each SKU from each location. Parameters: the surplus
# days, the status.
OVER_SPARED = """
    SELECT count(*) FROM (
        SELECT SUM(p.quantity) AS sent, MAX({available}) AS available,
               MAX(place.walk_in_buffer) AS walk_in,
               COALESCE(MAX(ceil(rate.units * %s::numeric / greatest(rate.days, 1))),
                        0) AS kept
        FROM reconciliation_transferproposal p
        JOIN inventory_stockbalance balance
          ON balance.sku_id = p.sku_id AND balance.location_id = p.from_location_id
        JOIN inventory_location place ON place.id = p.from_location_id
        LEFT JOIN reconciliation_salesrate rate
          ON rate.sku_id = p.sku_id AND rate.location_id = p.from_location_id
         AND rate.units > 0
        WHERE p.status = %s
        GROUP BY p.sku_id, p.from_location_id
    ) AS sender
    WHERE sent > available - walk_in - kept
"""
# Receivers sent more than they are short: ⌈units × days ÷ window⌉ − available (what
# is on its way there only lowers the shortage). Parameters: the shortage days, the
# status.
OVER_FILLED = """
    SELECT count(*) FROM (
        SELECT SUM(p.quantity) AS received, MAX({available}) AS available,
               MAX(ceil(rate.units * %s::numeric / greatest(rate.days, 1))) AS need
        FROM reconciliation_transferproposal p
        JOIN inventory_stockbalance balance
          ON balance.sku_id = p.sku_id AND balance.location_id = p.to_location_id
        LEFT JOIN reconciliation_salesrate rate
          ON rate.sku_id = p.sku_id AND rate.location_id = p.to_location_id
         AND rate.units > 0
        WHERE p.status = %s
        GROUP BY p.sku_id, p.to_location_id
    ) AS receiver
    WHERE need IS NULL OR received > need - available
"""


def checks(first: list, second: list, settings) -> list[str]:
    from django.db import connection

    from inventory.availability import available_sql
    from inventory.models import TransferRoute
    from reconciliation.models import TransferProposal

    failures = []
    if not first:
        failures.append("the first run proposed nothing")
    lanes = set(TransferRoute.objects.values_list("from_location_id", "to_location_id"))
    if any(p.quantity <= 0 for p in second):
        failures.append("a proposal of no units")
    if any((p.from_location_id, p.to_location_id) not in lanes for p in second):
        failures.append("a proposal between two locations with no lane")
    proposed = TransferProposal.Status.PROPOSED.value
    available = available_sql("balance")
    with connection.cursor() as cursor:
        cursor.execute(
            OVER_SPARED.format(available=available),
            [settings.TRANSFER_SURPLUS_DAYS, proposed],
        )
        (over_spared,) = cursor.fetchone()
        cursor.execute(
            OVER_FILLED.format(available=available),
            [settings.TRANSFER_SHORTAGE_DAYS, proposed],
        )
        (over_filled,) = cursor.fetchone()
    if over_spared:
        failures.append(
            f"{over_spared} senders give away their walk-in units or their "
            f"{settings.TRANSFER_SURPLUS_DAYS} days of sales"
        )
    if over_filled:
        failures.append(f"{over_filled} receivers get more than they are short")
    superseded = TransferProposal.objects.filter(
        pk__in=[p.pk for p in first], status=TransferProposal.Status.SUPERSEDED
    ).count()
    if superseded != len(first):
        failures.append(f"the second run superseded {superseded} of {len(first)}")
    if TransferProposal.objects.filter(status=proposed).count() != len(second):
        failures.append("proposals still proposed beyond the second run's")

    def made(proposals):
        return sorted(
            (p.sku_id, p.from_location_id, p.to_location_id, p.quantity)
            for p in proposals
        )

    if made(first) != made(second):
        failures.append(
            f"the second run made {len(second)} proposals, not the first's "
            f"{len(first)} again"
        )
    return failures


if __name__ == "__main__":
    sys.exit(main())
