"""The managers' dashboard's transfers (reads only): the transfer proposals made in
the period (``proposal_models.TransferProposal``) and what became of them, per lane
(sending and receiving location), where either end is one of the locations asked for.

- Proposed: every proposal made in the period; "replaced" are those a later run
  superseded before anyone decided (a shortage proposed again each night counts each
  night).
- Waiting, approved (with the units and their cost at the lane's cost per unit),
  rejected.
- Received: approved proposals whose transfer arrived, and its units.
- The effect: the units expected to be saved from running out (of the approved:
  units that would otherwise be short within ``TRANSFER_SHORTAGE_DAYS``), and the
  units of received transfers the destination has sold since they arrived (till
  sales and fulfilled orders of the SKU there since ``received_at``, at most the
  units received: what sold beyond them would have sold from its own stock).

One grouped query, whatever the number of proposals: each received transfer's sales
are one probe of the ledger's (sku, location, occurred_at) index.
"""

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least

from inventory.models import Location, StockMovement, TransferRequest
from inventory.movements import SOLD, SOLD_STATUSES

from .dashboard import Period, Table
from .proposal_models import TransferProposal

Status = TransferProposal.Status
RECEIVED = Q(transfer__status=TransferRequest.Status.RECEIVED)
APPROVED = Q(status=Status.APPROVED)

COLUMNS = [
    ("from", "From"),
    ("from_name", "From (name)"),
    ("to", "To"),
    ("to_name", "To (name)"),
    ("proposed", "Proposed"),
    ("replaced", "Replaced undecided"),
    ("waiting", "Waiting"),
    ("approved", "Approved"),
    ("approved_units", "Units approved"),
    ("cost", "Cost"),
    ("rejected", "Rejected"),
    ("received", "Received"),
    ("received_units", "Units received"),
    ("saved", "Units saved (expected)"),
    ("sold", "Sold there since arrival"),
]
FIGURES = [key for key, _ in COLUMNS[4:]]


def transfers(*, period: Period, locations: list[Location]) -> tuple[Table, dict]:
    """The table, per lane, the most units approved first; and the totals."""
    table = Table("transfers", "Transfers", COLUMNS, money=("cost",))
    totals = {key: 0 for key in FIGURES}
    if not locations:
        return table, totals
    start, end = period.bounds()
    sold = (
        StockMovement.objects.filter(
            sku_id=OuterRef("sku_id"),
            location_id=OuterRef("to_location_id"),
            type__in=SOLD,
            status__in=SOLD_STATUSES,
            occurred_at__gte=OuterRef("transfer__received_at"),
        )
        .order_by()
        .values("sku_id")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    rows = (
        TransferProposal.objects.filter(proposed_at__gte=start, proposed_at__lt=end)
        .filter(Q(from_location__in=locations) | Q(to_location__in=locations))
        .values(
            "from_location__code",
            "from_location__name",
            "to_location__code",
            "to_location__name",
        )
        .annotate(
            proposed=Count("id"),
            replaced=Count("id", filter=Q(status=Status.SUPERSEDED)),
            waiting=Count("id", filter=Q(status=Status.PROPOSED)),
            approved=Count("id", filter=APPROVED),
            approved_units=Sum("approved_quantity", filter=APPROVED),
            cost=Sum("cost", filter=APPROVED),
            rejected=Count("id", filter=Q(status=Status.REJECTED)),
            received=Count("id", filter=RECEIVED),
            received_units=Sum("transfer__quantity", filter=RECEIVED),
            saved=Sum("expected_units_saved", filter=APPROVED),
            sold=Sum(
                Least(
                    F("transfer__quantity"),
                    Coalesce(Subquery(sold, output_field=IntegerField()), Value(0)),
                ),
                filter=RECEIVED,
            ),
        )
        .order_by()
    )
    for row in rows:
        figures = {key: row[key] or 0 for key in FIGURES}
        table.rows.append(
            {
                "from": row["from_location__code"],
                "from_name": row["from_location__name"],
                "to": row["to_location__code"],
                "to_name": row["to_location__name"],
                **figures,
            }
        )
        for key in FIGURES:
            totals[key] += figures[key]
    # Sorted here, where no approval reads 0, not null (which sorts first).
    table.rows.sort(key=lambda r: (-r["approved_units"], -r["proposed"], r["from"]))
    table.total = len(table.rows)
    return table, totals
