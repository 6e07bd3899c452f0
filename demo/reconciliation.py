"""The demo's reconciliation and dashboard: the tills' end-of-day stock file for
Oxford Street, sent through the snapshot service the API uses, three of its figures
off (a sale the tills never sent, a delivery they booked twice), and one nightly run
already made, so the runs page, its report and the snapshot cases have something to
show; two web orders with a line cancelled each, so the cancellation rate has one;
and last night's rates of sale. Once."""

from django.utils import timezone

from catalog.models import Sku
from catalog.selectors import channel_get
from config.access import Actor
from inventory.models import StockBalance
from inventory.selectors import locations_by_code
from orders import services as orders
from reconciliation.models import ReconciliationRun, StockSnapshot
from reconciliation.services.rates import sales_rates_refresh
from reconciliation.services.runs import (
    reconciliation_run_perform,
    reconciliation_run_start,
)
from reconciliation.services.snapshots import SnapshotFigure, snapshot_page_receive

from .network import WEB_SHOP

SNAPSHOT_ID = "DEMO-EOD-LON-OXF"
# (row index, units the tills' figure is off by)
OFF_BY = ((0, -3), (4, +6), (9, -2))


def demo_reconciliation_build() -> int:
    """Returns how many disagreements the demo's run found (0 when already built)."""
    sales_rates_refresh()  # what the night would have done, for the dashboard
    if StockSnapshot.objects.filter(snapshot_id=SNAPSHOT_ID).exists():
        return 0
    oxford = locations_by_code(codes={"LON-OXF"})["LON-OXF"]
    balances = list(StockBalance.objects.filter(location=oxford).order_by("sku__code"))
    off = dict(OFF_BY)
    figures = [
        SnapshotFigure(
            sku_id=balance.sku_id,
            location_id=oxford.pk,
            on_hand=max(0, balance.on_hand + off.get(index, 0)),
        )
        for index, balance in enumerate(balances)
    ]
    snapshot_page_receive(
        channel=channel_get(code="pos"),
        snapshot_id=SNAPSHOT_ID,
        taken_at=timezone.now(),
        page=1,
        page_count=1,
        figures=figures,
        actor=Actor(name="token:demo-tills"),
    )
    _cancellations()
    run = reconciliation_run_start(
        trigger=ReconciliationRun.Trigger.NIGHTLY, actor=Actor.system("reconciliation")
    )
    return reconciliation_run_perform(run_id=run.pk).disagreements_found


def _cancellations() -> None:
    """Two shipped web orders of two lines, one line of each cancelled, through the
    order services (routing chooses where they ship from)."""
    web = channel_get(code="web")
    plenty = list(
        StockBalance.objects.filter(on_hand__gte=20)
        .order_by("sku__code")
        .values_list("sku_id", flat=True)
        .distinct()[:4]
    )
    skus = Sku.objects.in_bulk(plenty)
    actor = WEB_SHOP
    for n, reason in enumerate(("customer changed their mind", "wrong size ordered")):
        order, _ = orders.order_place(
            channel=web,
            reference=f"WEB-DEMO-CANCEL-{n + 1}",
            method="ship",
            customer=orders.Customer(name="Grace Hopper", email="grace@example.com"),
            actor=actor,
            lines=[
                orders.OrderLineInput(sku=skus[sku_id], quantity=1)
                for sku_id in plenty[n * 2 : n * 2 + 2]
            ],
            delivery=orders.Delivery(
                address="1 Piccadilly",
                city="Manchester",
                postal_code="M1 1AE",
                country="GB",
                latitude=53.4808,
                longitude=-2.2426,
            ),
        )
        line = order.lines.order_by("pk").first()
        orders.order_cancel(
            order_id=order.pk,
            lines=[orders.LineQuantity(line_id=line.pk, quantity=1)],
            reason=reason,
            actor=actor,
        )
