"""The day's numbers, read back from the system's own records (orders, the ledger,
conflicts, exception cases, pickup tasks, counts, transfer proposals and transfers)
beside what the simulated people met on the floor, and the checks that the
arithmetic holds: every order fulfilled, cancelled or still open; no unit counted
twice; oversells equal to the exception records of their kind; every unit sent
between locations received or still on the road; a transfer's cost its units times
its lane's."""

import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Sum

from inventory.models import (
    MovementType,
    StockBalance,
    StockConflict,
    StockMovement,
    TransferRequest,
    TransferRoute,
)
from inventory.services import balances_rebuild
from orders.models import Order, OrderLine
from pickup.models import PickupTask
from reconciliation.models import (
    ExceptionCase,
    ExceptionEvent,
    ExceptionKind,
    TransferProposal,
)
from reconciliation.selectors import record_accuracy

from .network import ONLINE_CHANNELS
from .outcome import DayResult


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class LocationRow:
    code: str
    name: str
    orders: int
    stock_cancelled_orders: int
    stock_cancelled_units: int
    not_found_units: int
    oversold_units: int

    @property
    def cancellation_rate(self) -> float | None:
        return self.stock_cancelled_orders / self.orders if self.orders else None


@dataclass
class DayReport:
    policy: str
    seed: int
    figures: dict[str, float | int | None]
    exceptions: dict[str, int]
    locations: list[LocationRow]
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


# How the table names the online channels, in its per-channel rows.
CHANNEL_NAMES = {
    "web": "the web shop",
    "app": "the app",
    "marketplace": "the marketplace",
}


def _by_channel(key: str, label: str, kind: str) -> list[tuple[str, str, str, str]]:
    """A figure's rows for each online channel: what a protection for one channel
    costs the others shows here."""
    return [
        (f"{key}_{channel}", f"  … {label} {CHANNEL_NAMES[channel]}", kind, "low")
        for channel in ONLINE_CHANNELS
    ]


# The figures in the order the table shows them: key, label, format, and which way is
# better ("low", "high", or "" where neither is).
FIGURES = [
    ("online_shoppers", "Online shoppers", "int", ""),
    ("orders_placed", "Orders placed", "int", "high"),
    ("units_ordered", "Units ordered", "int", "high"),
    ("orders_fulfilled", "Orders fulfilled", "int", "high"),
    ("orders_cancelled", "Orders cancelled", "int", "low"),
    ("orders_open", "Orders still open at night", "int", ""),
    ("oversold_units", "Oversells: units promised that were not there", "int", "low"),
    ("oversell_conflicts", "Oversell conflicts recorded", "int", "low"),
    ("stock_cancelled_orders", "Orders with units cancelled for stock", "int", "low"),
    ("stock_cancelled_units", "Units cancelled for stock", "int", "low"),
    ("customer_cancelled_units", "Units cancelled by customers", "int", ""),
    ("rerouted_units", "Units re-routed at packing (no sale lost)", "int", ""),
    ("stock_cancellation_rate", "Cancellation rate caused by stock", "pct", "low"),
    *_by_channel("stock_cancellation_rate", "of orders from", "pct"),
    ("refused_units", "Units refused to online shoppers", "int", "low"),
    *_by_channel("refused_units", "refused to", "int"),
    ("buffer_refused_units", "… refused by buffers or protections alone", "int", "low"),
    (
        "lost_sales_units",
        "Lost sales from buffers and protections (refused, units were there)",
        "int",
        "low",
    ),
    *_by_channel("lost_sales_units", "lost by", "int"),
    ("walk_in_units_sold", "Units sold at the tills", "int", ""),
    ("walk_in_units_missed", "Walk-in units wanted, shelf empty", "int", "low"),
    (
        "lost_sales_all_units",
        "Lost sales, every cause (refused online + walk-in shelf empty)",
        "int",
        "low",
    ),
    ("transfers_proposed", "Transfers proposed", "int", ""),
    ("transfers_approved", "Transfers approved", "int", ""),
    ("transfer_units_sent", "Units sent between locations", "int", ""),
    ("transfer_units_received", "… received by close", "int", ""),
    ("transfer_units_in_transit", "… still on the road at night", "int", ""),
    ("transfer_cost", "Transfer cost (units × the lane's cost a unit)", "money", "low"),
    ("pickup_orders", "Pickup orders", "int", ""),
    ("pickup_ready_on_time", "Pickups due today ready on time", "pct", "high"),
    ("pickup_not_ready", "Pickups due today not ready by close", "int", "low"),
    ("not_found_units", "Units not found at picking", "int", "low"),
    ("ira_after_counts", "IRA of tonight's counts (first count)", "pct", "high"),
    ("true_accuracy_before", "Records right before counts (truth)", "pct", "high"),
    ("true_accuracy_after", "Records right after counts (truth)", "pct", "high"),
    ("exceptions_raised", "Exceptions raised", "int", "low"),
    ("pos_events_late", "Till events later than 15 min", "int", "low"),
    ("pos_lag_p95_s", "Till event lag, 95th percentile (s)", "int", "low"),
    ("pos_duplicates", "Till events sent twice (kept once)", "int", ""),
    ("pos_out_of_order", "Till events that arrived out of order", "int", ""),
    ("ledger_drift", "Balances differing from the ledger", "int", "low"),
]


def day_report(result: DayResult) -> DayReport:
    tallies = result.tallies
    lines = OrderLine.objects.all()
    orders = Order.objects.all()
    units = lines.aggregate(
        ordered=Sum("quantity"),
        fulfilled=Sum("fulfilled_quantity"),
        cancelled=Sum("cancelled_quantity"),
    )
    ordered_units = units["ordered"] or 0
    fulfilled_units = units["fulfilled"] or 0
    cancelled_units = units["cancelled"] or 0
    open_units = sum(line.open_quantity for line in lines.only(*_QUANTITIES))
    verdicts = Counter(_verdict(order) for order in orders.prefetch_related("lines"))

    conflicts = StockConflict.objects.select_related("movement")
    oversold_by_location: Counter = Counter()
    for conflict in conflicts:
        oversold_by_location[conflict.location_id] += _oversold(conflict)
    oversold = sum(oversold_by_location.values())
    oversell_raisings = ExceptionEvent.objects.filter(
        case__kind=ExceptionKind.OVERSELL_CONFLICT,
        kind__in=(ExceptionEvent.Kind.RAISED, ExceptionEvent.Kind.RAISED_AGAIN),
    ).count()
    exceptions = dict(
        Counter(ExceptionCase.objects.values_list("kind", flat=True)).most_common()
    )

    # Pickups promised for today, less those whose every unit was cancelled: a
    # pickup placed after the cut-off is promised for tomorrow, not late tonight.
    pickups = PickupTask.objects.exclude(order__status=Order.Status.CANCELLED)
    due = pickups.filter(due_at__lte=result.closes)
    on_time = due.filter(ready_at__lte=F("due_at")).count()
    not_ready = due.filter(ready_at__isnull=True).count()

    locations = list(result.network.locations)
    accuracy = record_accuracy(
        start=result.closes.date(), end=result.closes.date(), locations=locations
    ).at(None, None)

    lags = tallies.pos_lag_seconds
    refused = tallies.refusals
    figures = {
        "online_shoppers": sum(
            tallies.shoppers[channel] for channel in ("web", "app", "marketplace")
        ),
        "orders_placed": orders.count(),
        "units_ordered": ordered_units,
        "orders_fulfilled": verdicts["fulfilled"],
        "orders_cancelled": verdicts["cancelled"],
        "orders_open": verdicts["open"],
        "units_fulfilled": fulfilled_units,
        "units_cancelled": cancelled_units,
        "units_open": open_units,
        "oversold_units": oversold,
        "oversell_conflicts": conflicts.count(),
        "oversell_raisings": oversell_raisings,
        "stock_cancelled_orders": len(tallies.stock_cancelled_orders),
        "stock_cancelled_units": sum(tallies.stock_cancelled.values()),
        "customer_cancelled_units": tallies.customer_cancelled_units,
        "rerouted_units": tallies.rerouted_units,
        "stock_cancellation_rate": _share(
            len(tallies.stock_cancelled_orders), orders.count()
        ),
        "refused_units": sum(r.units for r in refused),
        "buffer_refused_units": sum(r.units for r in refused if r.by_buffer),
        "lost_sales_units": sum(
            r.units for r in refused if r.by_buffer and r.physically_there
        ),
        **_channel_figures(refused, tallies.stock_cancelled_orders),
        "walk_in_units_sold": tallies.walk_in_units_sold,
        "walk_in_units_missed": tallies.walk_in_units_wanted
        - tallies.walk_in_units_sold,
        "lost_sales_all_units": sum(r.units for r in refused)
        + tallies.walk_in_units_wanted
        - tallies.walk_in_units_sold,
        **_transfer_figures(),
        "transfer_approvals_refused": tallies.transfer_approvals_refused,
        "pickup_orders": pickups.count(),
        "pickup_ready_on_time": _share(on_time, due.count()),
        "pickup_not_ready": not_ready,
        "not_found_units": sum(tallies.not_found.values()),
        "ira_after_counts": accuracy.percent / 100
        if accuracy.percent is not None
        else None,
        "true_accuracy_before": tallies.accuracy_before_counts,
        "true_accuracy_after": tallies.accuracy_after_counts,
        "exceptions_raised": sum(exceptions.values()),
        "pos_events_late": sum(lag > 900 for lag in lags),
        "pos_lag_p95_s": round(_percentile(lags, 95)) if lags else None,
        "pos_duplicates": tallies.pos_events["duplicate"],
        "pos_out_of_order": tallies.pos_events["out of order"],
        "ledger_drift": len(balances_rebuild(repair=False)),
        "counted_lines": tallies.counted_lines,
    }
    report = DayReport(
        policy=result.policy.label,
        seed=result.config.seed,
        figures=figures,
        exceptions=exceptions,
        locations=_location_rows(result, oversold_by_location),
    )
    report.checks = _checks(result, report, verdicts)
    return report


_QUANTITIES = ("quantity", "cancelled_quantity", "fulfilled_quantity")


def _transfer_figures() -> dict:
    """The proposals made and approved, the units sent, received and still on the
    road (the receivers' in-transit bucket), and what the approved ones cost."""
    proposals = TransferProposal.objects.all()
    approved = proposals.filter(status=TransferProposal.Status.APPROVED)
    transfers = TransferRequest.objects.all()
    Status = TransferRequest.Status
    return {
        "transfers_proposed": proposals.count(),
        "transfers_approved": approved.count(),
        "transfer_units_sent": _units(
            transfers.filter(status__in=(Status.DISPATCHED, Status.RECEIVED))
        ),
        "transfer_units_received": _units(transfers.filter(status=Status.RECEIVED)),
        "transfer_units_in_transit": StockBalance.objects.aggregate(
            units=Sum("in_transit")
        )["units"]
        or 0,
        "transfer_cost": approved.aggregate(cost=Sum("cost"))["cost"] or Decimal(0),
    }


def _units(transfers) -> int:
    return transfers.aggregate(units=Sum("quantity"))["units"] or 0


def _lane_costs() -> Decimal:
    """Each approved proposal's transfer: its units times its lane's cost a unit."""
    lanes = {
        (lane.from_location_id, lane.to_location_id): lane.cost_per_unit
        for lane in TransferRoute.objects.all()
    }
    return sum(
        (
            quantity * lanes[(sender, receiver)]
            for quantity, sender, receiver in TransferRequest.objects.filter(
                pk__in=TransferProposal.objects.filter(
                    status=TransferProposal.Status.APPROVED
                ).values("transfer_id")
            ).values_list("quantity", "from_location_id", "to_location_id")
        ),
        Decimal(0),
    )


def _channel_figures(refused: list, stock_cancelled_orders: set) -> dict:
    """Per online channel: units refused, units lost to buffers and protections, and
    the share of its orders with units cancelled for stock (the rate a marketplace
    judges a seller by)."""
    channel_of = dict(Order.objects.values_list("pk", "channel__code"))
    placed = Counter(channel_of.values())
    cancelled = Counter(channel_of[pk] for pk in stock_cancelled_orders)
    figures = {}
    for channel in ONLINE_CHANNELS:
        mine = [r for r in refused if r.channel == channel]
        figures[f"refused_units_{channel}"] = sum(r.units for r in mine)
        figures[f"lost_sales_units_{channel}"] = sum(
            r.units for r in mine if r.by_buffer and r.physically_there
        )
        figures[f"stock_cancellation_rate_{channel}"] = _share(
            cancelled[channel], placed[channel]
        )
    return figures


def _verdict(order: Order) -> str:
    """Every order is one of three at night: fulfilled (every unit gone to the
    customer or cancelled, at least one gone), cancelled (every unit cancelled), or
    still open (units still to go)."""
    rows = list(order.lines.all())
    if any(line.open_quantity for line in rows):
        return "open"
    if any(line.fulfilled_quantity for line in rows):
        return "fulfilled"
    return "cancelled"


def _oversold(conflict: StockConflict) -> int:
    """The units this entry promised away that were not there: how far it took
    availability below zero, not counting what was below zero already."""
    entry = conflict.movement
    drop = -(
        entry.on_hand_delta
        - entry.committed_delta
        - entry.picked_delta
        - entry.reserved_delta
        - entry.damaged_delta
        - entry.quality_control_delta
    )
    return max(0, min(conflict.shortfall, drop))


def _location_rows(result: DayResult, oversold: Counter) -> list[LocationRow]:
    tallies = result.tallies
    placed = Counter(
        code
        for _, code in OrderLine.objects.values_list(
            "order_id", "location__code"
        ).distinct()
    )
    cancelled_orders: Counter = Counter(
        code
        for order_id, code in OrderLine.objects.filter(
            order_id__in=tallies.stock_cancelled_orders
        )
        .values_list("order_id", "location__code")
        .distinct()
    )
    return [
        LocationRow(
            code=location.code,
            name=location.name,
            orders=placed[location.code],
            stock_cancelled_orders=cancelled_orders[location.code],
            stock_cancelled_units=tallies.stock_cancelled[location.code],
            not_found_units=tallies.not_found[location.code],
            oversold_units=oversold[location.pk],
        )
        for location in result.network.locations
    ]


def _checks(result: DayResult, report: DayReport, verdicts: Counter) -> list[Check]:
    f = report.figures
    floor = result.floor
    till_units = (
        StockMovement.objects.filter(channel__code="pos", type="sale").aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )
    handed = floor.went_out["collected by customers"] + floor.went_out["shipped"]
    transfer_out = (
        StockMovement.objects.filter(type=MovementType.TRANSFER_OUT).aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )
    lane_costs = _lane_costs()
    return [
        Check(
            "Every order fulfilled, cancelled or still open",
            sum(verdicts.values()) == f["orders_placed"],
            f"{f['orders_fulfilled']} + {f['orders_cancelled']} + {f['orders_open']} "
            f"= {f['orders_placed']} orders",
        ),
        Check(
            "Every unit ordered fulfilled, cancelled or still open, once",
            f["units_fulfilled"] + f["units_cancelled"] + f["units_open"]
            == f["units_ordered"],
            f"{f['units_fulfilled']} + {f['units_cancelled']} + {f['units_open']} "
            f"= {f['units_ordered']} units",
        ),
        Check(
            "Units handed to customers counted once (records and floor agree)",
            f["units_fulfilled"] == handed,
            f"{f['units_fulfilled']} fulfilled in the records, {handed} on the floor",
        ),
        Check(
            "Till units counted once (duplicates and late events included)",
            till_units == f["walk_in_units_sold"],
            f"{till_units} in the ledger, {f['walk_in_units_sold']} sold",
        ),
        Check(
            "Every cancelled unit has one cause (stock, the customer, a re-route)",
            f["stock_cancelled_units"]
            + f["customer_cancelled_units"]
            + f["rerouted_units"]
            == f["units_cancelled"],
            f"{f['stock_cancelled_units']} for stock + "
            f"{f['customer_cancelled_units']} by customers + "
            f"{f['rerouted_units']} re-routed = "
            f"{f['units_cancelled']} cancelled",
        ),
        Check(
            "Oversells equal the oversell exception records",
            f["oversell_conflicts"] == f["oversell_raisings"],
            f"{f['oversell_conflicts']} conflicts, {f['oversell_raisings']} times "
            "an oversell case was raised",
        ),
        Check(
            "The floor's books balance (units in = units out + units here)",
            floor.balanced(),
            f"{sum(floor.came_in.values())} in, {sum(floor.went_out.values())} out",
        ),
        Check(
            "Every unit sent between locations received or still on the road",
            f["transfer_units_sent"]
            == f["transfer_units_received"] + f["transfer_units_in_transit"]
            and transfer_out == f["transfer_units_sent"],
            f"{f['transfer_units_sent']} sent ({transfer_out} out in the ledger) = "
            f"{f['transfer_units_received']} received + "
            f"{f['transfer_units_in_transit']} in transit",
        ),
        Check(
            "Transfer cost = units × the lane's cost a unit",
            f["transfer_cost"] == lane_costs,
            f"{f['transfer_cost']:.2f} on the approved proposals, "
            f"{lane_costs:.2f} from their transfers and lanes",
        ),
        Check(
            "Balances agree with the ledger",
            f["ledger_drift"] == 0,
            f"{f['ledger_drift']} balances differ",
        ),
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]
