"""A small trading day through the real system, and the report's arithmetic checked
against the records themselves: every order fulfilled, cancelled or still open; no
unit counted twice; oversells equal to the exception records of their kind."""

from datetime import UTC, datetime

import pytest
from django.db.models import Sum

from inventory.models import StockConflict, StockMovement
from orders.models import Order, OrderLine
from reconciliation.models import ExceptionCase, ExceptionEvent, ExceptionKind
from simulation.config import DayConfig, Policy
from simulation.services import simulation_day

pytestmark = pytest.mark.django_db(transaction=True)

TINY = DayConfig(
    seed=7,
    stores=2,
    skus=25,
    hours=3,
    till_sales_per_store_hour=16,
    online_shoppers_per_hour=40,
    store_days_of_cover=0.6,
    pos_duplicate_rate=0.1,
    opens_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
)


def test_a_tiny_day_adds_up():
    report = simulation_day(config=TINY, policy=Policy())
    figures = report.figures

    assert figures["orders_placed"] == Order.objects.count() > 0
    # Every order ends the day fulfilled, cancelled or still open, and only one.
    assert (
        figures["orders_fulfilled"]
        + figures["orders_cancelled"]
        + figures["orders_open"]
        == figures["orders_placed"]
    )
    # Every unit ordered is counted once.
    units = OrderLine.objects.aggregate(
        ordered=Sum("quantity"),
        fulfilled=Sum("fulfilled_quantity"),
        cancelled=Sum("cancelled_quantity"),
    )
    assert figures["units_ordered"] == units["ordered"]
    assert figures["units_fulfilled"] == units["fulfilled"]
    assert (
        units["fulfilled"] + units["cancelled"] + figures["units_open"]
        == units["ordered"]
    )
    # A till event sent twice is one sale in the ledger.
    till_units = StockMovement.objects.filter(
        channel__code="pos", type="sale"
    ).aggregate(units=Sum("quantity"))["units"]
    assert figures["pos_duplicates"] > 0
    assert till_units == figures["walk_in_units_sold"]
    assert figures["ledger_drift"] == 0
    assert report.passed, [c for c in report.checks if not c.passed]


def test_tills_that_report_at_night_oversell_and_every_oversell_is_a_case():
    report = simulation_day(config=TINY, policy=Policy(buffer="0", pos_sync="nightly"))
    figures = report.figures

    conflicts = StockConflict.objects.count()
    assert conflicts > 0, "a day of silent tills should promise a sold unit"
    assert figures["oversell_conflicts"] == conflicts
    raisings = ExceptionEvent.objects.filter(
        case__kind=ExceptionKind.OVERSELL_CONFLICT,
        kind__in=(ExceptionEvent.Kind.RAISED, ExceptionEvent.Kind.RAISED_AGAIN),
    ).count()
    assert raisings == conflicts
    assert report.exceptions[ExceptionKind.OVERSELL_CONFLICT] == (
        ExceptionCase.objects.filter(kind=ExceptionKind.OVERSELL_CONFLICT).count()
    )
    assert (
        0
        < figures["oversold_units"]
        <= sum(c.shortfall for c in StockConflict.objects.all())
    )
    assert report.passed, [c for c in report.checks if not c.passed]
