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
  units of received transfers the destination sold from their arrival to the
  period's end (``_SOLD_SQL``).

Sold, shared out: the sales (till sales and fulfilled orders) of a SKU at a store
are credited to the transfers proposals sent there, first in, first out, each sale
to the earliest arrived transfer with units left, never to one not yet arrived;
what sold while none had units left came from the store's own stock. Two transfers
of 10 arriving on days 1 and 2, and 15 sold after day 2: 10 and 5, 15 in all. In
closed form, with the transfers in arrival order, q their units, R(i) the units of
the first i, S(i) the units sold from the i-th's arrival to the period's end: the
first i sold C(i) = min(R(i), min over j ≤ i of R(j−1) + S(j)) (the queue's
Lindley recursion: sales before a later arrival cannot reach it), and the i-th
sold C(i) − C(i−1). Window functions over the proposals' received transfers of
each SKU-location, earlier periods' included (their units sell first).

Two statements whatever the number of proposals: the grouped counts, and the sales
shared out (each received transfer's sales one probe of the ledger's (sku,
location, occurred_at) index).
"""

from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, Sum

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
    rows = (
        TransferProposal.objects.filter(proposed_at__gte=start, proposed_at__lt=end)
        .filter(Q(from_location__in=locations) | Q(to_location__in=locations))
        .values(
            "from_location_id",
            "to_location_id",
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
        )
        .order_by()
    )
    sold = _sold(start, end, locations)
    for row in rows:
        lane = (row["from_location_id"], row["to_location_id"])
        figures = {key: row.get(key) or 0 for key in FIGURES}
        figures["sold"] = sold.get(lane, 0)
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


# The units of the proposals' received transfers sold, per lane, of the proposals
# made in the period from or to the locations asked for (see the module's docstring).
# Portable SQL (PostgreSQL and the demo's SQLite): CASE for the lesser of two.
_SOLD_SQL = """
WITH chosen AS (
    SELECT p.id, p.sku_id, p.to_location_id, p.transfer_id FROM {proposals} p
    WHERE p.proposed_at >= %s AND p.proposed_at < %s
      AND (p.from_location_id IN ({places}) OR p.to_location_id IN ({places}))
), wanted AS (
    SELECT DISTINCT sku_id, to_location_id FROM chosen WHERE transfer_id IS NOT NULL
), arrived AS (
    SELECT p.id, p.sku_id, p.from_location_id, p.to_location_id, t.id AS transfer_id,
           t.received_at,
           SUM(t.quantity) OVER (
               PARTITION BY p.sku_id, p.to_location_id ORDER BY t.received_at, t.id
               ROWS UNBOUNDED PRECEDING
           ) AS through,
           t.quantity,
           (SELECT COALESCE(SUM(m.quantity), 0) FROM {movements} m
            WHERE m.sku_id = p.sku_id AND m.location_id = p.to_location_id
              AND m.type IN ({sold_types}) AND m.status IN ({sold_statuses})
              AND m.occurred_at >= t.received_at AND m.occurred_at < %s) AS sold_after
    FROM {proposals} p
    JOIN {transfers} t ON t.id = p.transfer_id
    JOIN wanted w ON w.sku_id = p.sku_id AND w.to_location_id = p.to_location_id
    WHERE t.status = %s AND t.received_at < %s
), reached AS (
    SELECT arrived.*, MIN(through - quantity + sold_after) OVER (
               PARTITION BY sku_id, to_location_id ORDER BY received_at, transfer_id
               ROWS UNBOUNDED PRECEDING
           ) AS reach
    FROM arrived
), credited AS (
    SELECT reached.*, CASE WHEN reach < through THEN reach ELSE through END AS upto
    FROM reached
), shares AS (
    SELECT id, from_location_id, to_location_id,
           upto - COALESCE(LAG(upto) OVER (
               PARTITION BY sku_id, to_location_id ORDER BY received_at, transfer_id
           ), 0) AS sold
    FROM credited
)
SELECT from_location_id, to_location_id, SUM(sold) FROM shares
WHERE id IN (SELECT id FROM chosen)
GROUP BY from_location_id, to_location_id
"""


def _sold(
    start: datetime, end: datetime, locations: list[Location]
) -> dict[tuple[int, int], int]:
    """Per lane (from id, to id): the units its received transfers sold by ``end``."""
    places = [location.pk for location in locations]
    sql = _SOLD_SQL.format(
        proposals=TransferProposal._meta.db_table,
        transfers=TransferRequest._meta.db_table,
        movements=StockMovement._meta.db_table,
        places=", ".join(["%s"] * len(places)),
        sold_types=", ".join(["%s"] * len(SOLD)),
        sold_statuses=", ".join(["%s"] * len(SOLD_STATUSES)),
    )
    moment = connection.ops.adapt_datetimefield_value
    arguments = [
        moment(start),
        moment(end),
        *places,
        *places,
        *SOLD,
        *SOLD_STATUSES,
        moment(end),
        TransferRequest.Status.RECEIVED.value,
        moment(end),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return {(sender, receiver): int(units) for sender, receiver, units in cursor}
