"""The flash sale on a kit (``python -m bench.hot_sku --kit``): many buyers hold one
kit each, a kit of two components (HOT-BODY x1 + HOT-LENS x1, each stocked at the
warehouse), while the plain hot SKU is measured beside it in the same run.

Kits held per second under each worker count, for

  (a) raw SQL: both components' conditional UPDATEs in one transaction, in (SKU,
      location) order, autocommit off (a transaction a kit): the database's ceiling
      for a hold of two rows;
  (b) the checkout's service in-process, as the API calls it: the fast path first
      (``reservation_place_by_codes``: a kit has no balance, so it steps aside every
      time), then ``reservation_place``, which takes the kit apart; and
      ``reservation_place`` alone, for the kit and for the plain SKU, to show what
      the fast path's try costs a kit and what taking a kit apart costs the general
      path;
  (c) POST /api/v1/reservations/ on gunicorn, a kit line in each cart;

and hot_sku's three figures for the plain SKU, cell by cell beside the kit's.

Exits 1 only when a correctness check fails: the plain SKU's books and sell-out as
hot_sku checks them; every kit held took exactly one unit of each component (each
component's reserved units, active hold lines and ledger entries all equal the kits
held, the hold's kit rows too, and nothing is held or written under the kit's own
SKU); and 64 buyers for kits of 50 bodies and 40 lenses hold exactly 40 kits: never
more than the scarcer component allows.
"""

import json
import time

import psycopg

from bench import harness
from bench.hot_sku import (
    CONDITIONAL_UPDATE,
    LAST_UNITS,
    STOCK,
    Shop,
    api_reserver,
    raw_reserver,
    sell_out,
    service_reserver,
)

PARTS = ("BODY", "LENS")  # one of each per kit
SCARCE_BY = 10  # the sell-out's lenses: this many fewer than its bodies


def run(args) -> int:
    harness.prepare_django(args.database)
    plain = Shop.open(stock=STOCK)
    kit = KitShop.open(stock=STOCK)
    print(
        f"# Hot SKU, a kit beside a plain SKU: {harness.machine()}; {args.seconds:g} s "
        f"per cell; kit {kit.sku.code} = {kit.made_of}\n"
    )

    rates: dict[tuple[str, str, int], float] = {}
    aside: dict[int, tuple[int, float, float]] = {}
    failures: list[str] = []
    # The kit's holds take references of their own ("k…"): both sell on the web.
    for workers in args.workers:
        # Plain and kit cell by cell, so both meet the same machine.
        rates["plain", "raw", workers] = plain.measure(
            raw_reserver(plain), workers, args.seconds
        )
        rates["kit", "raw", workers] = kit.measure(
            raw_kit_reserver(kit), workers, args.seconds
        )
        rates["plain", "service", workers] = plain.measure(
            service_reserver(plain, f"s{workers}"), workers, args.seconds
        )
        rates["kit", "service", workers] = kit.measure(
            service_reserver(kit, f"ks{workers}"), workers, args.seconds
        )
        aside[workers] = _tries(kit.last_reports)
        rates["kit", "general", workers] = kit.measure(
            service_reserver(kit, f"kg{workers}", fast_path=False),
            workers,
            args.seconds,
        )
        rates["plain", "general", workers] = plain.measure(
            service_reserver(plain, f"g{workers}", fast_path=False),
            workers,
            args.seconds,
        )
    with harness.served_api(args.database) as port:
        # Warm, as hot_sku warms it; the kit's own queries too.
        plain.measure(api_reserver(plain, port, "warm"), 64, 2.0)
        kit.measure(api_reserver(kit, port, "kwarm"), 64, 1.0)
        for workers in args.workers:
            rates["plain", "api", workers] = plain.measure(
                api_reserver(plain, port, f"c{workers}"), workers, args.seconds
            )
            rates["kit", "api", workers] = kit.measure(
                api_reserver(kit, port, f"kc{workers}"), workers, args.seconds
            )
        failures += plain.check_books()
        failures += kit.check_books()
        failures += sell_out(port)
        failures += kit_sell_out(port)

    print(_tables(rates, aside, args.workers))
    print(f"\nBooks, plain: {plain.summary}\nBooks, kit: {kit.summary}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def _tables(rates: dict, aside: dict, worker_counts) -> str:
    def rate(kind, path, workers):
        return rates[kind, path, workers]

    figures, ratios, tries = [], [], []
    for workers in worker_counts:
        figures.append(
            [workers]
            + [
                rate(kind, path, workers)
                for path in ("raw", "service", "api")
                for kind in ("kit", "plain")
            ]
        )
        ratios.append(
            [workers]
            + [
                f"{rate(kind, path, workers) / rate(kind, 'raw', workers):.0%}"
                for path in ("service", "api")
                for kind in ("kit", "plain")
            ]
            + [
                f"{rate('kit', path, workers) / rate('plain', path, workers):.0%}"
                for path in ("raw", "service", "api")
            ]
        )
        count, seconds, busy = aside[workers]
        kit_general, plain_general = (
            rate(kind, "general", workers) for kind in ("kit", "plain")
        )
        tries.append(
            [
                workers,
                rate("kit", "service", workers),
                kit_general,
                plain_general,
                f"{kit_general / plain_general:.0%}",
                f"{seconds / count * 1000:.2f}" if count else "-",
                f"{seconds / busy:.0%}" if busy else "-",
            ]
        )
    parts = [
        "Holds per second (a kit hold takes one unit of each component):\n",
        harness.table(
            [
                "workers",
                "(a) kit raw/s",
                "(a) plain raw/s",
                "(b) kit services/s",
                "(b) plain services/s",
                "(c) kit API/s",
                "(c) plain API/s",
            ],
            figures,
        ),
        "\nAgainst the ceilings, and the kit against the plain SKU:\n",
        harness.table(
            [
                "workers",
                "kit b/a",
                "plain b/a",
                "kit c/a",
                "plain c/a",
                "kit/plain a",
                "kit/plain b",
                "kit/plain c",
            ],
            ratios,
        ),
        "\nThe general path alone (reservation_place, no fast path's try first), and "
        "what the fast path's try costs a kit cart (it steps aside every time):\n",
        harness.table(
            [
                "workers",
                "(b) kit, try first/s",
                "(b) kit, general only/s",
                "(b) plain, general only/s",
                "kit/plain general",
                "ms a kit's try",
                "of the kit workers' time",
            ],
            tries,
        ),
    ]
    if all(("kit", "api", workers) in rates for workers in (8, 64)):
        parts.append(
            f"\n(c) kit at 64 workers is "
            f"{rates['kit', 'api', 64] / rates['kit', 'api', 8]:.0%} of (c) kit at 8."
        )
    return "\n".join(parts)


def _tries(reports: list[dict]) -> tuple[int, float, float]:
    """The fast path's tries that stepped aside in one cell: how many, their
    seconds, and the workers' busy seconds."""
    return (
        sum(report["aside"] for report in reports),
        sum(report["aside_seconds"] for report in reports),
        sum(report["finished"] - report["started"] for report in reports),
    )


class KitShop(Shop):
    """A kit of one of each ``PARTS`` at one warehouse, each part stocked, and a
    balance row of its own per part for the raw transaction, which never touches the
    ledger's books. ``sku`` is the kit, so hot_sku's service and API buyers ask for
    it as they ask for the plain SKU."""

    @classmethod
    def open(
        cls, *, stock: int, prefix: str = "HOT", scarce: int | None = None
    ) -> "KitShop":
        """``scarce``: the last part's units, when fewer than ``stock``."""
        from datetime import timedelta

        from django.utils import timezone

        from catalog.models import Channel, Product, Sku
        from catalog.services import sku_upsert
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
        shop.location, _ = Location.objects.get_or_create(
            code=f"{prefix}-WH", defaults={"name": "Warehouse", "kind": "warehouse"}
        )
        shop.stocks = [stock] * (len(PARTS) - 1) + [stock if scarce is None else scarce]
        shop.parts = [
            Sku.objects.create(code=f"{prefix}-{part}", name=part, product=product)
            for part in PARTS
        ]
        made, _ = sku_upsert(
            code=f"{prefix}-KIT",
            name="Kit",
            product=product,
            components=[(part, 1) for part in shop.parts],
        )
        shop.sku = Sku.objects.get(pk=made.pk)  # is_kit as the kit service left it
        if not shop.sku.is_kit:
            raise SystemExit(f"{shop.sku.code} did not become a kit")
        shop.made_of = " + ".join(f"{part.code} x1" for part in shop.parts)
        movements_record(
            movements=[
                MovementInput(
                    reference=f"{prefix}-RECEIPT-{part.code}",
                    type=MovementType.RECEIPT,
                    sku=part,
                    location=shop.location,
                    quantity=units,
                    occurred_at=timezone.now() - timedelta(minutes=1),
                    channel=shop.channel,
                )
                for part, units in zip(shop.parts, shop.stocks, strict=True)
            ],
            actor=Actor(name="token:bench"),
        )
        raw_skus = [
            Sku.objects.create(code=f"{prefix}-RAW-{part}", name=part, product=product)
            for part in PARTS
        ]
        shop.raw_balances = sorted(
            (
                StockBalance.objects.create(
                    sku=raw_sku, location=shop.location, on_hand=units
                )
                for raw_sku, units in zip(raw_skus, shop.stocks, strict=True)
            ),
            key=lambda balance: (balance.sku_id, balance.location_id),
        )
        shop.stock = min(shop.stocks)  # kits the shelf can make
        _, shop.token = api_token_reissue(
            name=f"bench-{prefix}-KIT", channel_code="web"
        )
        shop.held = 0
        shop.raw_held = 0
        shop.summary = ""
        return shop

    def check_books(self) -> list[str]:
        """Every kit held took one unit of each part: each part's reserved units,
        active hold lines and ledger entries equal the kits held, and so do the holds'
        kit rows; units held + units left = units at start; nothing under the kit's
        own SKU."""
        from django.db.models import Count, Sum

        from inventory.models import (
            Reservation,
            ReservationKit,
            ReservationLine,
            StockBalance,
            StockMovement,
        )

        failures = []
        left = []
        active = Reservation.Status.ACTIVE
        for part, stock, raw_balance in zip(
            self.parts, self.stocks, self.raw_balances, strict=True
        ):
            balance = StockBalance.objects.get(sku=part, location=self.location)
            in_lines = ReservationLine.objects.filter(
                sku=part, location=self.location, reservation__status=active
            ).aggregate(units=Sum("quantity"))["units"]
            in_ledger = StockMovement.objects.filter(
                sku=part, location=self.location
            ).aggregate(units=Sum("reserved_delta"))["units"]
            if not balance.reserved == in_lines == in_ledger == self.held:
                failures.append(
                    f"{part.code}: kits held {self.held}, balance {balance.reserved}, "
                    f"lines {in_lines}, ledger {in_ledger}"
                )
            if balance.reserved + balance.available != stock:
                failures.append(
                    f"{part.code}: held {balance.reserved} + left "
                    f"{balance.available} != {stock}"
                )
            left.append(f"{part.code} {balance.available:,}")
            raw = StockBalance.objects.get(pk=raw_balance.pk)
            if raw.reserved != self.raw_held or raw.reserved + raw.available != stock:
                failures.append(
                    f"raw {part.code}: kits held {self.raw_held}, "
                    f"balance {raw.reserved}"
                )
        kits = ReservationKit.objects.filter(
            sku=self.sku, location=self.location, reservation__status=active
        ).aggregate(kits=Sum("quantity"), holds=Count("id"))
        if not kits["kits"] == kits["holds"] == self.held:
            failures.append(
                f"kit rows: {kits['kits']} kits on {kits['holds']} holds, "
                f"{self.held} held"
            )
        one_kit = sorted((part.code, 1) for part in self.parts)
        made_of = {
            json.dumps(sorted((part["sku"], part["quantity"]) for part in components))
            for components in ReservationKit.objects.filter(sku=self.sku)
            .values_list("components", flat=True)
            .distinct()
        }
        if made_of - {json.dumps(one_kit)}:
            failures.append(f"a kit held as {sorted(made_of)}, not {one_kit}")
        if (
            ReservationLine.objects.filter(sku=self.sku).exists()
            or StockMovement.objects.filter(sku=self.sku).exists()
            or StockBalance.objects.filter(sku=self.sku).exists()
        ):
            failures.append(f"units held or written under the kit {self.sku.code}")
        self.summary = (
            f"services and API held {self.held:,} kits (left {', '.join(left)}); "
            f"raw SQL held {self.raw_held:,}"
        )
        return failures


def raw_kit_reserver(shop: KitShop):
    @harness.measured("ok", "refused", raw=True)
    def raw_sql_kit(worker, index, deadline, report):
        from django.conf import settings

        database = settings.DATABASES["default"]
        url = f"{harness.SERVER}/{database['NAME']}"
        rows = [balance.pk for balance in shop.raw_balances]  # (SKU, location) order
        # Autocommit off: both rows in one transaction, a transaction a kit.
        with psycopg.connect(url) as connection:
            while time.time() < deadline:
                taken = all(
                    connection.execute(
                        CONDITIONAL_UPDATE, (row,), prepare=True
                    ).rowcount
                    == 1
                    for row in rows
                )
                if taken:
                    connection.commit()
                    report["ok"] += 1
                else:
                    connection.rollback()
                    report["refused"] += 1

    return raw_sql_kit


def kit_sell_out(port: int) -> list[str]:
    """The last kits: 64 buyers through the API for kits of LAST_UNITS bodies and
    SCARCE_BY fewer lenses; exactly as many kits held as there are lenses."""
    scarce = LAST_UNITS - SCARCE_BY
    shop = KitShop.open(stock=LAST_UNITS, prefix="LASTK", scarce=scarce)
    reports, _ = harness.run_workers(64, api_reserver(shop, port, "lastk"), 3.0)
    shop.held = sum(report["ok"] for report in reports)
    failures = shop.check_books()
    if shop.held != scarce:
        failures.append(
            f"kit sell-out: {shop.held} kits held of {scarce} (the scarcer part)"
        )
    print(
        f"Kit sell-out: 64 buyers, kits of {LAST_UNITS} bodies and {scarce} lenses: "
        f"{shop.held} held, {sum(r['refused'] for r in reports):,} refused."
    )
    return failures
