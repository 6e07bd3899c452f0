"""A flash sale: many buyers reserve one unit each of one SKU at one location.

Reservations per second under 1, 8 and 64 concurrent workers (processes), for

  (a) raw SQL: the conditional UPDATE on the hot balance row, through psycopg, one
      statement per reservation (autocommit): the database's own ceiling;
  (b) the checkout's service in-process, as the API calls it:
      inventory.services.reservation_place_by_codes (the one fast path), then
      reservation_place when it steps aside;
  (c) POST /api/v1/reservations/ served by gunicorn with config/gunicorn.conf.py,
      each worker holding one keep-alive connection.

Prints b/a and c/a, and c at 64 workers against c at 8. Exits 1 only when a
correctness check fails: every unit held must be in the balance and in the ledger,
units held + units left = units at start, and no reservation beyond the stock.

    python -m bench.hot_sku [--seconds 5] [--workers 1 8 64] [--allocation 4]

``--allocation N`` protects N units of the hot SKU at the warehouse for a marketplace:
every web hold then reads the protections in force and keeps off them (issue 40's
"with a protected allocation in place").

``--kit`` sells a kit of two components beside the plain SKU, in the same run
(``bench/hot_kit.py`` says what it measures and checks).
"""

import sys
import time

import psycopg

from bench import harness

STOCK = 10_000_000  # enough never to sell out while measuring
TTL_SECONDS = 3600  # nothing lapses during a run
LAST_UNITS = 50  # the sell-out check: this many units, 64 buyers
CONDITIONAL_UPDATE = (
    "UPDATE inventory_stockbalance SET reserved = reserved + 1 "
    "WHERE id = %s AND on_hand - committed - picked - reserved - damaged - quality_control >= 1"
)


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument(
        "--allocation", type=int, default=0, help="units protected for a marketplace"
    )
    parser.add_argument(
        "--kit", action="store_true", help="a two-component kit beside the plain SKU"
    )
    args = parser.parse_args()
    if args.kit:
        from bench import hot_kit

        return hot_kit.run(args)
    harness.prepare_django(args.database)
    shop = Shop.open(stock=STOCK)
    protected = shop.protect(args.allocation) if args.allocation else "none"
    print(
        f"# Hot SKU: {harness.machine()}; {args.seconds:g} s per cell; "
        f"protected: {protected}\n"
    )

    rates: dict[tuple[str, int], float] = {}
    failures: list[str] = []
    for workers in args.workers:
        rates["raw", workers] = shop.measure(raw_reserver(shop), workers, args.seconds)
        rates["service", workers] = shop.measure(
            service_reserver(shop, f"s{workers}"), workers, args.seconds
        )
    with harness.served_api(args.database) as port:
        # A served API is warm: every worker process has its connection and its
        # prepared statements before the clock starts (the holds still count below).
        shop.measure(api_reserver(shop, port, "warm"), 64, 2.0)
        for workers in args.workers:
            rates["api", workers] = shop.measure(
                api_reserver(shop, port, f"c{workers}"), workers, args.seconds
            )
        failures += shop.check_books()
        failures += sell_out(port)

    rows = []
    for workers in args.workers:
        raw = rates["raw", workers]
        rows.append(
            [
                workers,
                raw,
                rates["service", workers],
                rates["api", workers],
                f"{rates['service', workers] / raw:.0%}",
                f"{rates['api', workers] / raw:.0%}",
            ]
        )
    headers = ["workers", "(a) raw SQL/s", "(b) services/s", "(c) API/s", "b/a", "c/a"]
    print(harness.table(headers, rows))
    if ("api", 8) in rates and ("api", 64) in rates:
        print(
            f"\n(c) at 64 workers is {rates['api', 64] / rates['api', 8]:.0%} "
            "of (c) at 8."
        )
    print(f"\nBooks: {shop.summary}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


class Shop:
    """One SKU at one warehouse with plenty of stock (for b and c), and a balance row
    of its own for the raw UPDATE, so the raw run never touches the ledger's books."""

    @classmethod
    def open(cls, *, stock: int, prefix: str = "HOT") -> "Shop":
        from datetime import timedelta

        from django.utils import timezone

        from catalog.models import Channel, Product, Sku
        from config.access import Actor
        from integrations.services import api_token_reissue
        from inventory.models import Location, MovementType, StockBalance
        from inventory.services import MovementInput, movements_record

        shop = cls()
        shop.channel, _ = Channel.objects.get_or_create(
            code="web",
            defaults={"name": "Web shop", "kind": "web", "safety_buffer": 0},
        )
        product, _ = Product.objects.get_or_create(
            code=f"{prefix}-P", defaults={"name": "Flash sale"}
        )
        shop.sku = Sku.objects.create(code=f"{prefix}-1", name="Hot", product=product)
        raw_sku = Sku.objects.create(code=f"{prefix}-RAW", name="Raw", product=product)
        shop.location = Location.objects.create(
            code=f"{prefix}-WH", name="Warehouse", kind="warehouse"
        )
        movements_record(
            movements=[
                MovementInput(
                    reference=f"{prefix}-RECEIPT",
                    type=MovementType.RECEIPT,
                    sku=shop.sku,
                    location=shop.location,
                    quantity=stock,
                    occurred_at=timezone.now() - timedelta(minutes=1),
                    channel=shop.channel,
                )
            ],
            actor=Actor(name="token:bench"),
        )
        shop.raw_balance = StockBalance.objects.create(
            sku=raw_sku, location=shop.location, on_hand=stock
        )
        shop.stock = stock
        _, shop.token = api_token_reissue(name=f"bench-{prefix}", channel_code="web")
        shop.held = 0
        shop.raw_held = 0
        shop.summary = ""
        return shop

    def protect(self, units: int) -> str:
        """Units of the hot SKU protected for a marketplace: the web's holds keep
        off them."""
        from catalog.models import Channel
        from inventory.models import Allocation

        marketplace, _ = Channel.objects.get_or_create(
            code="marketplace",
            defaults={"name": "Marketplace", "kind": "marketplace"},
        )
        Allocation.objects.create(
            channel=marketplace, sku=self.sku, location=self.location, units=units
        )
        return f"{units} units for the marketplace"

    def measure(self, reserver, workers: int, seconds: float) -> float:
        reports, _ = harness.run_workers(workers, reserver, seconds)
        self.last_reports = reports  # for a caller's own counters
        held = sum(report["ok"] for report in reports)
        if reserver.raw:
            self.raw_held += held
        else:
            self.held += held
        errors = [report["error"] for report in reports if report.get("error")]
        if errors:
            raise SystemExit(f"{reserver.__name__} failed: {errors[0]}")
        elapsed = max(report["finished"] for report in reports) - min(
            report["started"] for report in reports
        )
        return held / elapsed

    def check_books(self) -> list[str]:
        """Units held + units left = units at start, in the balance and the ledger."""
        from django.db.models import Sum

        from inventory.models import (
            Reservation,
            ReservationLine,
            StockBalance,
            StockMovement,
        )

        failures = []
        balance = StockBalance.objects.get(sku=self.sku, location=self.location)
        in_lines = ReservationLine.objects.filter(
            sku=self.sku, reservation__status=Reservation.Status.ACTIVE
        ).aggregate(units=Sum("quantity"))["units"]
        in_ledger = StockMovement.objects.filter(
            sku=self.sku, location=self.location
        ).aggregate(units=Sum("reserved_delta"))["units"]
        if not balance.reserved == in_lines == in_ledger == self.held:
            failures.append(
                f"held {self.held}, balance {balance.reserved}, lines {in_lines}, "
                f"ledger {in_ledger}"
            )
        if balance.reserved + balance.available != self.stock:
            failures.append(
                f"held {balance.reserved} + left {balance.available} != {self.stock}"
            )
        raw = StockBalance.objects.get(pk=self.raw_balance.pk)
        if raw.reserved != self.raw_held or raw.reserved + raw.available != self.stock:
            failures.append(f"raw: held {self.raw_held}, balance {raw.reserved}")
        self.summary = (
            f"services and API held {self.held:,} of {self.stock:,} (left "
            f"{balance.available:,}); raw SQL held {self.raw_held:,}"
        )
        return failures


def raw_reserver(shop: Shop):
    @harness.measured("ok", "refused", raw=True)
    def raw_sql(worker, index, deadline, report):
        from django.conf import settings

        database = settings.DATABASES["default"]
        url = f"{harness.SERVER}/{database['NAME']}"
        with psycopg.connect(url, autocommit=True) as connection:
            while time.time() < deadline:
                cursor = connection.execute(
                    CONDITIONAL_UPDATE, (shop.raw_balance.pk,), prepare=True
                )
                report["ok" if cursor.rowcount == 1 else "refused"] += 1

    return raw_sql


def service_reserver(shop: Shop, run: str):
    @harness.measured("ok", "refused")
    def services(worker, index, deadline, report):
        from config.access import Actor
        from inventory.errors import InsufficientStock
        from inventory.services import (
            ReservationLineInput,
            reservation_place,
            reservation_place_by_codes,
        )

        # As the API's checkout does: the one fast path first, the general service
        # when it steps aside (the last units, or a lapsed hold to give back).
        line = ReservationLineInput(shop.sku, shop.location, 1)
        codes = [(shop.sku.code, shop.location.code, 1)]
        number = 0
        while time.time() < deadline:
            number += 1
            reference = f"{run}-{index}-{number}"
            placed = reservation_place_by_codes(
                channel_code=shop.channel.code,
                reference=reference,
                lines=codes,
                actor=Actor(name="token:bench"),
                ttl_seconds=TTL_SECONDS,
            )
            if placed is not None:
                report["ok"] += 1
                continue
            try:
                reservation_place(
                    channel=shop.channel,
                    reference=reference,
                    lines=[line],
                    actor=Actor(name="token:bench"),
                    ttl_seconds=TTL_SECONDS,
                )
                report["ok"] += 1
            except InsufficientStock:
                report["refused"] += 1

    return services


def api_reserver(shop: Shop, port: int, run: str):
    @harness.measured("ok", "refused")
    def api(worker, index, deadline, report):
        client = harness.ApiClient(port, shop.token)
        number = 0
        while time.time() < deadline:
            number += 1
            status, body = client.call(
                "POST",
                "/api/v1/reservations/",
                {
                    "reference": f"{run}-{index}-{number}",
                    "ttl_seconds": TTL_SECONDS,
                    "lines": [
                        {
                            "sku": shop.sku.code,
                            "location": shop.location.code,
                            "quantity": 1,
                        }
                    ],
                },
            )
            if status == 201:
                report["ok"] += 1
            elif status == 409:
                report["refused"] += 1
            else:
                raise RuntimeError(f"{status}: {body[:300]!r}")

    return api


def sell_out(port: int) -> list[str]:
    """The last units: 64 buyers through the API for 50 units; exactly 50 held."""
    shop = Shop.open(stock=LAST_UNITS, prefix="LAST")
    reports, _ = harness.run_workers(64, api_reserver(shop, port, "last"), 3.0)
    shop.held = sum(report["ok"] for report in reports)
    failures = shop.check_books()
    if shop.held != LAST_UNITS:
        failures.append(f"sell-out: {shop.held} held of {LAST_UNITS} units")
    print(
        f"Sell-out: 64 buyers, {LAST_UNITS} units: {shop.held} held, "
        f"{sum(r['refused'] for r in reports):,} refused."
    )
    return failures


if __name__ == "__main__":
    sys.exit(main())
