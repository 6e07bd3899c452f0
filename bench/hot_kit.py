"""The flash sale on a kit (``python -m bench.hot_sku --kit``): many buyers hold one
kit each, a kit of two components (HOT-BODY x1 + HOT-LENS x1, each stocked at the
warehouse), while the plain hot SKU is measured beside it in the same run.

Kits held per second under each worker count, for

  (a) raw SQL: both components' conditional UPDATEs in one transaction, in (SKU,
      location) order, autocommit off (a transaction a kit): the plain transaction
      for a hold of two rows, three round trips with both rows locked until the
      commit's flush (the service's one call lets them go before it, so at many
      workers it can pass this figure);
  (b) the checkout's service in-process, as the API calls it: the fast path first
      (``reservation_place_by_codes``, which takes a kit this process has read apart
      and sends its components' lines with the kit to the one server call), then
      ``reservation_place`` when it steps aside; and ``reservation_place`` alone (the
      general path), for the kit and for the plain SKU, for comparison;
  (c) POST /api/v1/reservations/ on gunicorn, a kit line in each cart;

and hot_sku's three figures for the plain SKU, cell by cell beside the kit's.

A process knows a kit only once its general path has held one (``inventory.services.
kits``: the first kit cart in a process steps aside). So in (b) every worker first
places one hold off the clock, its warm-up (for the kit: by the general path, which
teaches the process the kit; for the plain SKU, its connection and statements), and
the clock starts once every worker has; each hold says which path placed it (the
fast path returns the hold, or None when it steps aside), and the share the fast
path placed is printed. gunicorn's workers learn the kit in the API's warm-up.
Warm-up holds count in the books, not in the rates.

Exits 1 only when a correctness check fails: the plain SKU's books and sell-out as
hot_sku checks them; every kit held took exactly one unit of each component (each
component's reserved units, active hold lines, holds and ledger entries all equal
the kits held; every such hold has one kit row naming the kit at the warehouse, one
kit, its components ``[{"sku_id", "sku", "quantity"}]`` exactly the kit's parts x1;
nothing held or written under the kit's own SKU); and 64 buyers for kits of 50
bodies and 40 lenses hold exactly 40 kits: never more than the scarcer component
allows.
"""

import json
import multiprocessing
import time

import psycopg

from bench import harness
from bench.hot_sku import (
    CONDITIONAL_UPDATE,
    LAST_UNITS,
    STOCK,
    TTL_SECONDS,
    Shop,
    api_reserver,
    raw_reserver,
    sell_out,
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
    paths: dict[tuple[str, str, int], dict[str, int]] = {}
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
        for kind, shop, run_name in (("plain", plain, "s"), ("kit", kit, "ks")):
            rates[kind, "service", workers], paths[kind, "service", workers] = _warmed(
                shop,
                checkout_reserver(shop, f"{run_name}{workers}", workers, args.seconds),
                workers,
                args.seconds,
            )
        for kind, shop, run_name in (("kit", kit, "kg"), ("plain", plain, "g")):
            rates[kind, "general", workers], paths[kind, "general", workers] = _warmed(
                shop,
                checkout_reserver(
                    shop,
                    f"{run_name}{workers}",
                    workers,
                    args.seconds,
                    fast_path=False,
                ),
                workers,
                args.seconds,
            )
    with harness.served_api(args.database) as port:
        # Warm, as hot_sku warms it; the kit's too, so that each gunicorn worker's
        # first kit cart (by the general path) has taught it the kit.
        plain.measure(api_reserver(plain, port, "warm"), 64, 2.0)
        kit.measure(api_reserver(kit, port, "kwarm"), 64, 2.0)
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

    print(_tables(rates, paths, args.workers))
    print(f"\nBooks, plain: {plain.summary}\nBooks, kit: {kit.summary}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def _warmed(
    shop: Shop, reserver, workers: int, seconds: float
) -> tuple[float, dict[str, int]]:
    """A cell of ``checkout_reserver``: its clocked rate, and how many holds each
    path placed, warm-ups apart (which count in the books, not in the rate)."""
    rate = shop.measure(reserver, workers, seconds)
    counts = {
        counter: sum(report[counter] for report in shop.last_reports)
        for counter in ("ok", "fast", "warm", "warm_fast")
    }
    shop.held += counts["warm"]
    return rate, counts


def checkout_reserver(
    shop: Shop, run: str, workers: int, seconds: float, *, fast_path: bool = True
):
    """The checkout's service in-process, as the API calls it: the fast path first,
    ``reservation_place`` when it steps aside; ``fast_path`` False, the general path
    alone. Each worker first places one hold off the clock (its warm-up), then waits
    for every other worker's; its clock starts then and runs ``seconds`` (run_workers'
    own deadline is left unused: it was set before the warm-up). Counted: ``ok``,
    the clocked holds, and ``fast``, those the fast path placed; ``warm`` and
    ``warm_fast``, the same for the warm-up."""
    warmed = multiprocessing.get_context("fork").Barrier(workers)

    @harness.measured("ok", "refused", "fast", "warm", "warm_fast")
    def checkout(worker, index, deadline, report):
        from config.access import Actor
        from inventory.errors import InsufficientStock
        from inventory.services import (
            ReservationLineInput,
            reservation_place,
            reservation_place_by_codes,
        )

        line = ReservationLineInput(shop.sku, shop.location, 1)
        codes = [(shop.sku.code, shop.location.code, 1)]

        def hold(number: int) -> str | None:
            """The path that placed the hold ("fast" or "general"), None if short."""
            reference = f"{run}-{index}-{number}"
            if fast_path:
                placed = reservation_place_by_codes(
                    channel_code=shop.channel.code,
                    reference=reference,
                    lines=codes,
                    actor=Actor(name="token:bench"),
                    ttl_seconds=TTL_SECONDS,
                )
                if placed is not None:
                    return "fast"
            try:
                reservation_place(
                    channel=shop.channel,
                    reference=reference,
                    lines=[line],
                    actor=Actor(name="token:bench"),
                    ttl_seconds=TTL_SECONDS,
                )
            except InsufficientStock:
                return None
            return "general"

        try:
            path = hold(0)
        except BaseException:
            warmed.abort()  # the other workers stop waiting, and say so
            raise
        report["warm"] += path is not None
        report["warm_fast"] += path == "fast"
        warmed.wait(timeout=300)
        report["started"] = time.time()
        deadline = report["started"] + seconds
        number = 0
        while time.time() < deadline:
            number += 1
            path = hold(number)
            if path is None:
                report["refused"] += 1
                continue
            report["ok"] += 1
            report["fast"] += path == "fast"

    return checkout


def _tables(rates: dict, paths: dict, worker_counts) -> str:
    def rate(kind, path, workers):
        return rates[kind, path, workers]

    figures, ratios, shares = [], [], []
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
        kit_paths, plain_paths = (
            paths[kind, "service", workers] for kind in ("kit", "plain")
        )
        kit_general, plain_general = (
            rate(kind, "general", workers) for kind in ("kit", "plain")
        )
        shares.append(
            [
                workers,
                f"{kit_paths['fast']:,} of {kit_paths['ok']:,}",
                f"{plain_paths['fast']:,} of {plain_paths['ok']:,}",
                f"{kit_paths['warm'] - kit_paths['warm_fast']} of {kit_paths['warm']}",
                kit_general,
                plain_general,
                f"{kit_general / plain_general:.0%}",
                f"{rate('kit', 'service', workers) / kit_general:.0%}",
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
        "\nWhich path placed (b)'s holds (the fast path returns the hold, or None when "
        "it steps aside), the workers' warm-ups that stepped aside (a process's first "
        "kit cart), and the general path alone (reservation_place):\n",
        harness.table(
            [
                "workers",
                "(b) kit holds, fast path",
                "(b) plain holds, fast path",
                "kit warm-ups aside",
                "(b) kit, general only/s",
                "(b) plain, general only/s",
                "kit/plain general",
                "kit b/general",
            ],
            shares,
        ),
    ]
    if all(("kit", "api", workers) in rates for workers in (8, 64)):
        parts.append(
            f"\n(c) kit at 64 workers is "
            f"{rates['kit', 'api', 64] / rates['kit', 'api', 8]:.0%} of (c) kit at 8."
        )
    return "\n".join(parts)


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
        active hold lines, holds and ledger entries equal the kits held; every such
        hold has one kit row, naming the kit at the warehouse, one kit, made of
        ``[{"sku_id", "sku", "quantity"}]`` exactly the parts x1 (whichever path
        wrote it); units held + units left = units at start; nothing under the kit's
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
            lines = ReservationLine.objects.filter(
                sku=part, location=self.location, reservation__status=active
            ).aggregate(
                units=Sum("quantity"), holds=Count("reservation", distinct=True)
            )
            in_ledger = StockMovement.objects.filter(
                sku=part, location=self.location
            ).aggregate(units=Sum("reserved_delta"))["units"]
            if not (
                balance.reserved
                == lines["units"]
                == lines["holds"]
                == in_ledger
                == self.held
            ):
                failures.append(
                    f"{part.code}: kits held {self.held}, balance {balance.reserved}, "
                    f"lines {lines['units']} on {lines['holds']} holds, "
                    f"ledger {in_ledger}"
                )
            if balance.reserved + balance.available != stock:
                failures.append(
                    f"{part.code}: held {balance.reserved} + left "
                    f"{balance.available} != {stock}"
                )
            without_kit = (
                Reservation.objects.filter(
                    status=active, lines__sku=part, lines__location=self.location
                )
                .exclude(kits__sku=self.sku)
                .count()
            )
            if without_kit:
                failures.append(
                    f"{without_kit} holds of {part.code} without a kit row for "
                    f"{self.sku.code}"
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
        ).aggregate(
            kits=Sum("quantity"),
            rows=Count("id"),
            holds=Count("reservation", distinct=True),
        )
        if not kits["kits"] == kits["rows"] == kits["holds"] == self.held:
            failures.append(
                f"kit rows: {kits['kits']} kits in {kits['rows']} rows on "
                f"{kits['holds']} holds, {self.held} held"
            )
        elsewhere = (
            ReservationKit.objects.filter(sku=self.sku)
            .exclude(location=self.location, quantity=1)
            .count()
        )
        if elsewhere:
            failures.append(f"{elsewhere} kit rows not of one kit at the warehouse")
        one_kit = [
            {"sku_id": part.pk, "sku": part.code, "quantity": 1} for part in self.parts
        ]
        # order_by(): the model's ordering by id would make every row distinct.
        for components in (
            ReservationKit.objects.filter(sku=self.sku)
            .order_by()
            .values_list("components", flat=True)
            .distinct()
        ):
            if _canonical(components) != _canonical(one_kit):
                rows = ReservationKit.objects.filter(
                    sku=self.sku, components=components
                ).count()
                failures.append(
                    f"{rows} kit rows made of {json.dumps(components)}, not "
                    f"{json.dumps(one_kit)}"
                )
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


def _canonical(components) -> list[str] | None:
    """A kit row's components in an order of their own (the contract names the keys
    and values, not the order); None when not a list of objects."""
    if not (
        isinstance(components, list) and all(isinstance(p, dict) for p in components)
    ):
        return None
    return sorted(json.dumps(part, sort_keys=True) for part in components)


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
