"""The demo's returns at Oxford Street: web-shop orders shipped from the warehouse and
come back, one in every state a store meets (announced and on its way, waiting for
inspection, graded and ready to close) plus a till purchase returned by receipt.
Each goes through the order and returns services, once."""

from django.contrib.auth import get_user_model
from django.db.models import F

from catalog.selectors import channels_by_code
from config.access import Actor
from inventory.models import StockBalance
from inventory.selectors import locations_by_code
from orders import services as orders
from orders.models import Order
from returns import services as returns
from returns.models import Return

from .network import WEB_SHOP

# (order, customer, what happens to its return)
RETURNED_ORDERS = [
    ("DEMO-SHIPPED-1", "Ada Byron", "waiting"),
    ("DEMO-SHIPPED-2", "Grace Hopper", "announced"),
    ("DEMO-SHIPPED-3", "Alan Turing", "graded"),
]
TILL_RECEIPT = "DEMO-TILL-0042"


def demo_returns_build() -> int:
    """Returns how many returns are new."""
    channels = channels_by_code(codes={"web", "pos"})
    places = locations_by_code(codes={"LON-OXF", "WH-DAV"})
    store, warehouse = places["LON-OXF"], places["WH-DAV"]
    sam = Actor.of_user(get_user_model().objects.get(username="sam"))
    skus = [
        balance.sku
        for balance in StockBalance.objects.filter(
            location=warehouse, on_hand__gt=F("committed") + 5
        )
        .select_related("sku")
        .order_by("sku__code")[:4]
    ]
    made = 0
    for n, (reference, name, stage) in enumerate(RETURNED_ORDERS):
        if Order.objects.filter(channel=channels["web"], reference=reference).exists():
            continue
        order = _shipped(
            channels["web"], reference, name, skus[n % len(skus)], warehouse
        )
        line = order.lines.get()
        kept = returns.ReturnLineInput(
            sku=line.sku,
            quantity=1,
            reason=("wrong_size", "defective", "changed_mind")[n],
        )
        purchase = returns.Purchase(channel=order.channel, order=order)
        if stage == "announced":
            returns.return_announce(
                reference=f"RMA-{reference}",
                purchase=purchase,
                location=store,
                lines=[kept],
                actor=WEB_SHOP,
            )
        else:
            found = returns.return_receive_at_counter(
                purchase=purchase, location=store, lines=[kept], actor=sam
            )
            if stage == "graded":
                returns.return_line_grade(
                    return_id=found.pk,
                    line_id=found.lines.get().pk,
                    grade="resellable",
                    quantity=1,
                    shelf_location="Rail 2",
                    condition="Unworn, tags on",
                    actor=sam,
                )
        made += 1
    if not Return.objects.filter(till_receipt=TILL_RECEIPT).exists():
        returns.return_receive_at_counter(
            purchase=returns.Purchase(
                channel=channels["pos"], till_receipt=TILL_RECEIPT
            ),
            location=store,
            lines=[
                returns.ReturnLineInput(sku=skus[-1], quantity=1, reason="defective")
            ],
            actor=sam,
        )
        made += 1
    return made


def _shipped(channel, reference, name, sku, warehouse) -> Order:
    first, last = name.split()
    actor = WEB_SHOP
    order, _ = orders.order_place(
        channel=channel,
        reference=reference,
        method="ship",
        customer=orders.Customer(
            name=name, email=f"{first.lower()}.{last.lower()}@example.com"
        ),
        actor=actor,
        lines=[orders.OrderLineInput(sku=sku, quantity=2, location=warehouse)],
    )
    return orders.order_ship(order_id=order.pk, lines=None, actor=actor)
