"""A retail network with a long ledger behind it, made in set-based SQL so a million
entries take seconds: the benchmarks' starting point, never the demo's.

The entries are what a chain's systems send every day: each (SKU, location) opens with
a receipt, then sales of one unit with a restock every third entry, so on-hand never
goes below zero. The balances are brought up to date in the same transaction, so
``rebuild_balances`` finds nothing to repair.
"""

from dataclasses import dataclass

from django.db import connection, transaction

SEED_ACTOR = "token:seed"


@dataclass
class Network:
    prefix: str
    channel_id: int
    sku_ids: list[int]
    location_ids: list[int]
    sku_codes: list[str]
    location_codes: list[str]
    entries: int = 0  # ledger entries written by fill_ledger so far

    @property
    def pairs(self) -> int:
        return len(self.sku_ids) * len(self.location_ids)


def network(*, skus: int, locations: int, prefix: str = "NET") -> Network:
    """``skus`` SKUs of one product, ``locations`` warehouses, and the WMS channel."""
    from catalog.models import Channel, Product, Sku
    from inventory.models import Location

    channel, _ = Channel.objects.get_or_create(
        code="wms", defaults={"name": "Warehouse system", "kind": "wms"}
    )
    product = Product.objects.create(code=f"{prefix}-P", name="Seeded range")
    made_skus = Sku.objects.bulk_create(
        Sku(code=f"{prefix}-{n:06d}", name=f"Article {n}", product=product)
        for n in range(skus)
    )
    made_locations = Location.objects.bulk_create(
        Location(code=f"{prefix}-L{n:04d}", name=f"Site {n}", kind="warehouse")
        for n in range(locations)
    )
    return Network(
        prefix=prefix,
        channel_id=channel.pk,
        sku_ids=[sku.pk for sku in made_skus],
        location_ids=[location.pk for location in made_locations],
        sku_codes=[sku.code for sku in made_skus],
        location_codes=[location.code for location in made_locations],
    )


# The head of a seeded ledger entry's insert: every column written, in this order.
LEDGER_INSERT = """INSERT INTO inventory_stockmovement (
    channel_id, reference, type, sku_id, location_id, quantity,
    reason, occurred_at, recorded_at, status, status_reason, actor,
    payload_digest, on_hand_delta, committed_delta, reserved_delta,
    damaged_delta, quality_control_delta, in_transit_delta,
    incoming_delta, other_location_in_transit_delta)"""


@transaction.atomic
def fill_ledger(shop: Network, *, entries: int) -> None:
    """Append ``entries`` more entries to the network's ledger, spread evenly over
    its (SKU, location) pairs, and add them to the balances."""
    first, last = shop.entries, shop.entries + entries
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH entry AS (
                {LEDGER_INSERT}
                SELECT %(channel)s, %(prefix)s || '-SEED-' || i, kind, sku, location,
                       quantity, '', at, at, 'applied', '', %(actor)s,
                       md5(i::text) || md5(i::text), delta, 0, 0, 0, 0, 0, 0, 0
                FROM (
                    SELECT i,
                        (%(skus)s::bigint[])[1 + (i %% %(pairs)s) / %(locations)s]
                            AS sku,
                        (%(places)s::bigint[])[1 + (i %% %(pairs)s) %% %(locations)s]
                            AS location,
                        CASE WHEN i < %(pairs)s THEN 'receipt'
                             WHEN i %% 3 = 0 THEN 'receipt' ELSE 'sale' END AS kind,
                        CASE WHEN i < %(pairs)s THEN 1000
                             WHEN i %% 3 = 0 THEN 2 ELSE 1 END AS quantity,
                        CASE WHEN i < %(pairs)s THEN 1000
                             WHEN i %% 3 = 0 THEN 2 ELSE -1 END AS delta,
                        now() - interval '30 days'
                            + (i - %(last)s) * interval '1 millisecond' AS at
                    FROM generate_series(%(first)s, %(last)s - 1) AS i
                ) AS seeded
                RETURNING sku_id, location_id, on_hand_delta, occurred_at
            )
            INSERT INTO inventory_stockbalance (
                sku_id, location_id, on_hand, committed, reserved, damaged,
                quality_control, in_transit, incoming, last_count_at, last_event_at,
                updated_at)
            SELECT sku_id, location_id, SUM(on_hand_delta), 0, 0, 0, 0, 0, 0, NULL,
                   MAX(occurred_at), now()
            FROM entry GROUP BY sku_id, location_id
            ON CONFLICT (sku_id, location_id) DO UPDATE SET
                on_hand = inventory_stockbalance.on_hand + EXCLUDED.on_hand,
                last_event_at = GREATEST(
                    inventory_stockbalance.last_event_at, EXCLUDED.last_event_at),
                updated_at = EXCLUDED.updated_at
            """,
            {
                "channel": shop.channel_id,
                "prefix": shop.prefix,
                "actor": SEED_ACTOR,
                "skus": shop.sku_ids,
                "places": shop.location_ids,
                "pairs": shop.pairs,
                "locations": len(shop.location_ids),
                "first": first,
                "last": last,
            },
        )
    shop.entries = last


def analyse() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_stockmovement")
        cursor.execute("ANALYZE inventory_stockbalance")
