"""The demo's future supply: purchase orders due at the distribution centre and the
warehouse (two next week, one in three weeks, one two days late and not received),
lanes between locations with their lead time and cost per unit (the distribution
centre to two stores, the warehouse to Bristol, and between stores), transfers on the
road along two of them (one takes the centre's last black M T-shirts to Oxford
Street), three SKUs that take pre-orders, two web pre-orders for those T-shirts
waiting for next week's purchase order, and the night's transfer proposals along the
lanes (the beanies Bristol and Manchester sold out of) for a manager to decide on
/store/transfers/. What the managers' dashboard shows as incoming, late and
pre-ordered, what the availability timeline answers, and the customer service story
of an order that waits for supply.

Through the ledger and the order service like the rest of the demo, its dates
anchored on the first run's (``network._demo_anchor``): running again records nothing
new and places no order twice."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from catalog.selectors import channels_by_code, skus_by_code
from catalog.services import sku_upsert
from config.access import Actor
from inventory.models import StockBalance, TransferRoute
from inventory.selectors import locations_by_code, movement_queryset
from inventory.services import MovementInput, movements_record
from orders import services as orders
from orders.models import Order
from reconciliation.models import TransferProposal
from reconciliation.services import transfer_proposals_generate

from .network import DEMO, WEB_SHOP, _demo_anchor

# Hours after the anchor (seven days before the first run): the run is at about 168.
FIRST_RUN = 168
DAY = 24

# Lanes (from, to, lead time in hours, cost per unit): a transfer sent without a date
# is due this long after it left; transfer proposals move units along them only.
ROUTES = [
    ("DC-MID", "LON-OXF", 24, "1.10"),
    ("DC-MID", "MAN-MKT", 48, "1.40"),
    ("WH-DAV", "BRS-CAB", 24, "1.20"),
    ("LON-OXF", "BRS-CAB", 24, "0.90"),
    ("LDS-BRG", "MAN-MKT", 12, "0.60"),
    ("MAN-MKT", "LDS-BRG", 12, "0.60"),
]

# SKU -> units that may be promised ahead of supply (pre-orders), across the network.
PRE_ORDER_LIMITS = {"TEE-BLA-M": 40, "HOOD-GRE-M": 15, "JEAN-IND-32": 20}

# (purchase order, SKU, location, units, announced, due: hours after the anchor)
PURCHASE_ORDERS = [
    ("PO-DEMO-1038", "TEE-WHI-M", "DC-MID", 24, 30, FIRST_RUN - 2 * DAY),  # late
    ("PO-DEMO-1041", "TEE-BLA-M", "DC-MID", 60, 90, FIRST_RUN + 5 * DAY),
    ("PO-DEMO-1042", "HOOD-GRE-M", "DC-MID", 30, 90, FIRST_RUN + 6 * DAY),
    ("PO-DEMO-1044", "BEAN-MUS-ONE", "WH-DAV", 50, 110, FIRST_RUN + 4 * DAY),
    ("PO-DEMO-1043", "JEAN-IND-32", "DC-MID", 40, 120, FIRST_RUN + 21 * DAY),
]
# The purchase order the printed summary points at: the pre-orders wait for it.
TRY_PURCHASE_ORDER = ("PO-DEMO-1041", "TEE-BLA-M", "DC-MID")

# (reference, SKU, from, to, units or None for every unit left there, sent at hour)
TRANSFERS = [
    ("TRF-DC-OXF", "TEE-BLA-M", "DC-MID", "LON-OXF", None, FIRST_RUN - 8),
    ("TRF-DC-MAN", "TEE-BLA-L", "DC-MID", "MAN-MKT", 6, FIRST_RUN - 12),
]

# (order number, customer, units of the pre-ordered T-shirt at the centre)
PRE_ORDERS = [
    ("DEMO-PREORDER-1", "Katherine Johnson", 2),
    ("DEMO-PREORDER-2", "Hedy Lamarr", 1),
]


@dataclass
class DemoSupply:
    purchase_orders: int
    transfers: int
    pre_orders: int  # new this run
    proposals: int  # transfer proposals waiting for a manager


def demo_supply_build() -> DemoSupply:
    wms = channels_by_code(codes={"wms"})["wms"]
    anchor = _demo_anchor(wms)
    codes = {row[1] for row in PURCHASE_ORDERS} | {row[1] for row in TRANSFERS}
    skus = skus_by_code(codes=codes | set(PRE_ORDER_LIMITS))
    locations = locations_by_code(
        codes={row[2] for row in PURCHASE_ORDERS}
        | {code for row in TRANSFERS for code in row[2:4]}
        | {code for row in ROUTES for code in row[:2]}
    )
    for code, limit in PRE_ORDER_LIMITS.items():
        sku_upsert(code=code, name=skus[code].name, future_promise_limit=limit)
    for sender, receiver, hours, cost in ROUTES:
        TransferRoute.objects.update_or_create(
            from_location=locations[sender],
            to_location=locations[receiver],
            defaults={"lead_time_hours": hours, "cost_per_unit": Decimal(cost)},
        )

    def at(hours: int) -> datetime:
        return anchor + timedelta(hours=hours)

    events = [
        MovementInput(
            reference=f"DEMO-{reference}",
            type="receipt_expected",
            sku=skus[sku],
            location=locations[location],
            quantity=units,
            occurred_at=at(announced),
            channel=wms,
            expected_at=at(due),
            supply_reference=reference,
        )  # fmt: skip
        for reference, sku, location, units, announced, due in PURCHASE_ORDERS
    ]
    for reference, sku, sender, receiver, units, sent in TRANSFERS:
        if units is None:  # the centre's last units: as many as it has the first time
            units = _on_hand(skus[sku], locations[sender])
        events.append(
            MovementInput(
                reference=f"DEMO-{reference}",
                type="transfer_out",
                sku=skus[sku],
                location=locations[sender],
                quantity=units,
                occurred_at=at(sent),
                channel=wms,
                other_location=locations[receiver],
            )  # fmt: skip
        )
    recorded = set(
        movement_queryset()
        .filter(channel=wms, reference__in=[event.reference for event in events])
        .values_list("reference", flat=True)
    )
    new = [event for event in events if event.reference not in recorded]
    if new:
        movements_record(movements=new, actor=DEMO)
    pre_orders = _pre_orders_place(skus, locations)
    return DemoSupply(
        purchase_orders=len(PURCHASE_ORDERS),
        transfers=len(TRANSFERS),
        pre_orders=pre_orders,
        proposals=_proposals_make(),
    )


def _proposals_make() -> int:
    """What last night's job would have proposed from the stock and rates of sale
    (``demo.reconciliation`` refreshed them), once: seeding again keeps them and any
    decision taken on them."""
    if not TransferProposal.objects.exists():
        transfer_proposals_generate(actor=Actor.system("propose_transfers"))
    return TransferProposal.objects.filter(
        status=TransferProposal.Status.PROPOSED
    ).count()


def _on_hand(sku, location) -> int:
    balance = StockBalance.objects.filter(sku=sku, location=location).first()
    return max(1, balance.on_hand if balance else 0)


def _pre_orders_place(skus, locations) -> int:
    """Web orders for T-shirts the centre has none of: every unit promised from the
    purchase order due next week."""
    web = channels_by_code(codes={"web"})["web"]
    _, sku, location = TRY_PURCHASE_ORDER
    placed = 0
    for reference, name, units in PRE_ORDERS:
        if Order.objects.filter(channel=web, reference=reference).exists():
            continue
        first, last = name.split()
        orders.order_place(
            channel=web,
            reference=reference,
            method="ship",
            customer=orders.Customer(
                name=name, email=f"{first.lower()}.{last.lower()}@example.com"
            ),
            actor=WEB_SHOP,
            lines=[
                orders.OrderLineInput(
                    sku=skus[sku],
                    quantity=units,
                    location=locations[location],
                    allow_future=True,
                )
            ],
        )
        placed += 1
    return placed
