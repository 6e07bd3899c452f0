"""Routing a 10-line order over 200 locations, against reading its stock in raw SQL.

A network of ``--locations`` locations (scattered over Great Britain, a third of them
stores shipping from store, with capacities, costs and walk-in buffers) and
``--lines`` SKUs with stock at most of them is seeded, then timed, each the median
and 95th percentile of ``--repeat`` runs:

  (a) raw SQL: the availability of every SKU at every location (one SELECT through
      psycopg, every row fetched): the floor for reading the snapshot at all;
  (b) ``orders.routing.route`` alone, on a snapshot built once: the pure decision,
      every candidate scored or ruled out with its reason (target: well under 50 ms);
  (c) the whole decision as placing an order makes it:
      ``orders.selectors.routing_candidates`` (availability for the channel, orders
      taken today) and then ``route``.

    python -m bench.routing [--locations 200] [--lines 10] [--repeat 50]
"""

import random
import time

import psycopg

from bench import harness, seed

SNAPSHOT_SQL = """
    SELECT sku_id, location_id,
           on_hand - committed - picked - reserved - damaged - quality_control
    FROM inventory_stockbalance
    WHERE sku_id = ANY(%s) AND location_id = ANY(%s)
"""


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_routing")
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    harness.prepare_django(args.database)

    from django.utils import timezone

    from catalog.models import Channel, Sku
    from inventory.models import Location
    from orders import selectors
    from orders.models import Method
    from orders.routing import RoutingLine, route

    shop = seed.network(skus=args.lines, locations=args.locations, prefix="RT")
    scatter(shop.location_ids)
    seed.fill_ledger(shop, entries=shop.pairs * 2)
    seed.analyse()
    channel = Channel.objects.create(code="web", name="Web shop", kind="web")
    skus = list(Sku.objects.filter(pk__in=shop.sku_ids).order_by("pk"))
    lines = [RoutingLine(sku.pk, sku.code, 1 + n % 3) for n, sku in enumerate(skus)]
    customer = (51.5362, -0.1033)
    now = timezone.now()
    print(
        f"# Routing: {harness.machine()}; {args.lines} lines over "
        f"{Location.objects.count()} locations; {args.repeat} runs each\n"
    )

    def raw():
        with psycopg.connect(harness.database_url(args.database)) as conn:
            started = time.perf_counter()
            conn.execute(SNAPSHOT_SQL, (shop.sku_ids, shop.location_ids)).fetchall()
            return time.perf_counter() - started

    def whole():
        started = time.perf_counter()
        candidates = selectors.routing_candidates(
            channel=channel, skus=skus, method=Method.SHIP, now=now
        )
        route(lines=lines, candidates=candidates, destination=customer)
        return time.perf_counter() - started

    snapshot = selectors.routing_candidates(
        channel=channel, skus=skus, method=Method.SHIP, now=now
    )

    def pure():
        started = time.perf_counter()
        decision = route(lines=lines, candidates=snapshot, destination=customer)
        elapsed = time.perf_counter() - started
        assert len(decision.verdicts) == len(snapshot)
        return elapsed

    results = {}
    for name, run in (("a", raw), ("b", pure), ("c", whole)):
        run()  # warm
        samples = [run() * 1000 for _ in range(args.repeat)]
        results[name] = (harness.median(samples), harness.percentile(samples, 0.95))
    decision = route(lines=lines, candidates=snapshot, destination=customer)
    rows = [
        [
            label,
            f"{results[key][0]:.2f}",
            f"{results[key][1]:.2f}",
            f"{results[key][0] / results['a'][0]:.1f}x",
        ]
        for key, label in (
            ("a", "(a) raw SQL snapshot read"),
            ("b", "(b) route() alone"),
            ("c", "(c) snapshot + route()"),
        )
    ]
    print(harness.table(["", "median ms", "p95 ms", "vs a"], rows))
    print(f"\nDecision: {decision.reason}")
    return 0 if results["b"][0] < 50 else 1


def scatter(location_ids: list[int]) -> None:
    """Spread the seeded sites over Great Britain with what routing weighs."""
    from inventory.models import Location

    dice = random.Random(13)
    places = Location.objects.filter(pk__in=location_ids)
    for n, place in enumerate(places):
        place.latitude = round(dice.uniform(50.4, 55.8), 6)
        place.longitude = round(dice.uniform(-4.5, 1.5), 6)
        if n % 3 == 0:
            place.kind = "store"
            place.ship_from_store_enabled = n % 2 == 0
            place.walk_in_buffer = 2
        place.shipping_cost = round(dice.uniform(2, 9), 2)
        place.daily_order_capacity = dice.choice([None, 20, 80])
        place.service_radius_km = dice.choice([None, 150, 400])
    Location.objects.bulk_update(
        places,
        [
            "latitude",
            "longitude",
            "kind",
            "ship_from_store_enabled",
            "walk_in_buffer",
            "shipping_cost",
            "daily_order_capacity",
            "service_radius_km",
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
