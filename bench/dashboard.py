"""The managers' dashboard at 200,000 balances, against the grouped query it comes
down to.

A network of ``--skus`` × ``--locations`` balances (2,000 × 100 by default) with
``--entries`` ledger entries (2 million: receipts, then sales) is seeded in SQL, then
timed, each the median of ``--repeat`` runs:

  (a) raw SQL: the units sold per SKU and location in the period, joined to their
      balances, through psycopg, every row fetched: the ceiling of the heaviest figure;
  (b) each figure of ``reconciliation.dashboard`` as the page asks for it (days of
      supply read the nightly ``SalesRate``, whose refresh is timed too);
  (c) the whole page, ``GET /store/dashboard/`` for a manager (every location), and
      for one store, rendered by Django's test client;
  (d) the largest CSV export, days of supply (every row).

Checks (exit 1 if one fails): days of supply covers every balance that sold, the
CSV has a line per such balance, and the page answers 200.

    python -m bench.dashboard [--skus 2000] [--locations 100] [--entries 2000000]
"""

import csv
import io
import os
import time
from datetime import timedelta

import psycopg

from bench import harness, seed
from bench.rebuild import timed

SOLD_AND_BALANCES = """
    SELECT m.sku_id, m.location_id, SUM(m.quantity), MAX(b.on_hand)
    FROM inventory_stockmovement m
    JOIN inventory_stockbalance b
      ON b.sku_id = m.sku_id AND b.location_id = m.location_id
    WHERE m.type IN ('sale', 'fulfil', 'fulfil_picked') AND m.status = 'applied'
      AND m.occurred_at >= %s AND m.occurred_at < %s
    GROUP BY m.sku_id, m.location_id
"""


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_dashboard")
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Pages are rendered in this process, with no collectstatic behind them.
    os.environ["DJANGO_STATIC_MANIFEST"] = "0"
    # The seeded sales lie about 30 days back: rates over 35 days hold them all.
    os.environ["SALES_RATE_DAYS"] = "35"
    harness.prepare_django(args.database)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from inventory.models import Location
    from reconciliation import dashboard, losses
    from reconciliation.models import ExceptionCase
    from reconciliation.services.rates import sales_rates_refresh

    started = time.perf_counter()
    shop = seed.network(skus=args.skus, locations=args.locations)
    seed.fill_ledger(shop, entries=args.entries)
    seed.analyse()
    seeded = time.perf_counter() - started
    # The seeded entries lie about 30 days back: a period of 35 days holds them all.
    until = timezone.localdate()
    period = dashboard.Period(since=until - timedelta(days=34), until=until)
    start, end = period.bounds()
    locations = list(Location.objects.order_by("code"))
    print(
        f"# Dashboard: {harness.machine()}; {shop.pairs:,} balances, "
        f"{shop.entries:,} entries, seeded in {seeded:.1f} s; median of "
        f"{args.repeat} runs\n"
    )

    failures: list[str] = []
    raw, (fetched, *_) = timed(args.repeat, lambda: ceiling(args.database, start, end))
    # The nightly job whose figures the page's days of supply read.
    refresh, _ = timed(1, sales_rates_refresh)
    figures = {
        "days of supply (first 25)": lambda: dashboard.days_of_supply(
            locations=locations, limit=25
        ),
        "sell-through": lambda: dashboard.sell_through(
            period=period, locations=locations
        ),
        "cancellations by location": lambda: dashboard.cancellations_by_location(
            period=period, locations=locations
        ),
        "cancellations by SKU": lambda: dashboard.cancellations_by_sku(
            period=period, locations=locations, limit=25
        ),
        "conflicts per week": lambda: dashboard.conflicts_per_week(
            period=period, locations=locations
        ),
        "open exceptions": lambda: dashboard.open_exceptions(
            visible=ExceptionCase.objects.all(), locations=locations, everywhere=True
        ),
        "accuracy": lambda: dashboard.accuracy(period=period, locations=locations),
        "stock lost (shrink)": lambda: losses.shrink(
            period=period, locations=locations
        ),
        "sales lost": lambda: losses.lost_sales(
            period=period, locations=locations, everywhere=True
        ),
        "at risk now": lambda: losses.at_risk(
            locations=locations, rate_days=settings.SALES_RATE_DAYS, limit=25
        ),
    }
    rows = [
        ["(a) raw: sold per balance, joined", f"{raw * 1000:.0f}", "1.0x"],
        [
            "nightly: sales_rates_refresh",
            f"{refresh * 1000:.0f}",
            f"{refresh / raw:.1f}x",
        ],
    ]
    for name, figure in figures.items():
        seconds, answers = timed(args.repeat, figure)
        rows.append([f"(b) {name}", f"{seconds * 1000:.0f}", f"{seconds / raw:.1f}x"])
        if name.startswith("days of supply") and answers[0][0].total != len(fetched):
            failures.append("days of supply did not cover every balance that sold")

    setup_test_environment()
    manager = get_user_model().objects.create_user(username="bench-manager")
    manager.user_permissions.add(
        Permission.objects.get(codename="act_at_every_location")
    )
    client = Client()
    client.force_login(manager)
    query = {"since": period.since.isoformat(), "until": period.until.isoformat()}
    for label, extra in (
        ("(c) the page, every location", {}),
        ("(c) the page, one store", {"location": locations[0].code}),
        ("(d) CSV of days of supply, every row", {"export": "days_of_supply"}),
    ):
        seconds, answers = timed(
            args.repeat,
            lambda extra=extra: client.get("/store/dashboard/", query | extra),
        )
        rows.append([label, f"{seconds * 1000:.0f}", f"{seconds / raw:.1f}x"])
        if answers[0].status_code != 200:
            failures.append(f"{label} answered {answers[0].status_code}")
        if "export" in extra:
            lines = list(csv.reader(io.StringIO(answers[0].content.decode())))
            if len(lines) - 1 != len(fetched):
                failures.append("the CSV did not have a line per balance that sold")
    print(harness.table(["what", "ms", "÷ (a)"], rows))
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def ceiling(database: str, start, end) -> list[tuple]:
    with psycopg.connect(harness.database_url(database)) as raw:
        return raw.execute(SOLD_AND_BALANCES, [start, end]).fetchall()


if __name__ == "__main__":
    raise SystemExit(main())
