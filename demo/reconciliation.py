"""The demo's reconciliation: the tills' end-of-day stock file for Oxford Street,
sent through the snapshot service the API uses, three of its figures off (a sale the
tills never sent, a delivery they booked twice), and one nightly run already made, so
the runs page, its report and the snapshot cases have something to show. Once."""

from django.utils import timezone

from catalog.selectors import channel_get
from inventory.models import StockBalance
from inventory.selectors import locations_by_code
from reconciliation.models import ReconciliationRun, StockSnapshot
from reconciliation.services.rates import sales_rates_refresh
from reconciliation.services.runs import (
    reconciliation_run_perform,
    reconciliation_run_start,
)
from reconciliation.services.snapshots import SnapshotFigure, snapshot_page_receive

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
        actor="token:demo-tills",
    )
    run = reconciliation_run_start(
        trigger=ReconciliationRun.Trigger.NIGHTLY, actor="job:nightly"
    )
    return reconciliation_run_perform(run_id=run.pk).disagreements_found
