"""Every kind of exception raised by its real cause on the shop floor, raised once per
cause however often the cause repeats, and settled where it arose."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.models import MovementType, StockBalance, StockConflict
from orders.models import ReturnToStockTask
from pickup import services as pickup
from reconciliation.models import ExceptionCase, ExceptionEvent
from reconciliation.services import Raised, exception_raise
from reconciliation.services.checks import ledger_drift_check
from returns.services import (
    Purchase,
    ReturnLineInput,
    return_inspection_start,
    return_line_grade,
    return_receive_at_counter,
    returns_flag_overdue,
)
from tests.factories import (
    ChannelFactory,
    StockEvents,
    delivered_order,
    pickup_order,
    ready_for_collection,
    reported_short,
    stock,
)


def open_cases(kind):
    return list(ExceptionCase.objects.filter(kind=kind, status="open"))


def till_sale(shop, quantity=1):
    till = ChannelFactory(code="oxf-till", kind="store_pos")
    return StockEvents.post(
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=quantity,
        channel=till,
    )


def test_the_last_tee_sold_at_the_till_and_promised_online_is_one_case(shop):
    stock(shop["tee"], shop["oxford"], 1)
    pickup_order(shop)  # the web shop promised the last tee
    till_sale(shop)  # and the till sold it a minute later

    (case,) = open_cases("oversell_conflict")
    assert (case.sku, case.location) == (shop["tee"], shop["oxford"])
    assert "1 promised unit not on hand" in case.title
    assert case.facts["promised"] == 1 and case.facts["on_hand"] == 0
    assert case.stock_conflict.status == StockConflict.Status.OPEN

    stock(shop["tee"], shop["oxford"], 1)
    till_sale(shop)  # the same shortage again: the same case, brought up to date
    (again,) = open_cases("oversell_conflict")
    assert again.pk == case.pk and again.times_raised == 2
    assert list(again.events.values_list("kind", flat=True)) == [
        "raised",
        "raised_again",
    ]


def test_an_item_not_found_at_picking_is_a_case_at_the_store(shop):
    stock(shop["tee"], shop["oxford"], 2)
    task = pickup_order(shop).pickup_task
    reported_short(shop, task, condition="not_found")

    (case,) = open_cases("item_not_found")
    assert case.location == shop["oxford"] and case.sku == shop["tee"]
    assert "not found for order WEB-2001" in case.title
    assert case.link == f"/store/tasks/{task.pk}/"


def test_damaged_at_picking_is_not_a_records_problem(shop):
    stock(shop["tee"], shop["oxford"], 2)
    reported_short(shop, pickup_order(shop).pickup_task, condition="damaged")
    assert not open_cases("item_not_found")


def test_an_undecided_problem_is_raised_once_and_settles_when_decided(shop):
    stock(shop["tee"], shop["oxford"], 2)
    task = pickup_order(shop).pickup_task
    problem = reported_short(shop, task)
    late = timezone.now() + timedelta(minutes=31)
    pickup.pickup_problems_escalate(now=late)
    pickup.pickup_problems_escalate(now=late)
    (case,) = open_cases("pickup_undecided")
    assert "undecided for 30 min" in case.title

    pickup.pickup_problem_cancel(
        problem_id=problem.pk, actor=Actor.of_user(shop["alice"])
    )
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("resolved", "settled_at_source")
    assert "cancelled, customer told" in case.resolution_note


def test_an_expired_pickup_waits_until_its_units_are_back_on_the_shelf(shop):
    stock(shop["tee"], shop["oxford"], 2)
    task = pickup_order(shop).pickup_task
    ready_for_collection(shop, task)
    pickup.pickup_tasks_expire(now=task.expires_at + timedelta(minutes=1))

    (case,) = open_cases("pickup_expired")
    assert "not collected in" in case.title and case.location == shop["oxford"]

    (put_back,) = ReturnToStockTask.objects.all()
    pickup.return_to_stock_put_away(
        task_id=put_back.pk, actor=Actor.of_user(shop["bob"])
    )
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_by == "user:bob"


def test_a_return_waiting_too_long_settles_when_graded(shop, settings):
    settings.RETURNS_INSPECTION_TARGET_HOURS = 48
    order = delivered_order(shop)
    found = return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="defective")],
        actor=Actor.of_user(shop["alice"]),
    )
    returns_flag_overdue(now=timezone.now() + timedelta(hours=49))
    (case,) = open_cases("return_overdue")
    assert "1 unit waiting for inspection over 48 h" in case.title

    return_inspection_start(return_id=found.pk, actor=Actor.of_user(shop["alice"]))
    line = found.lines.get()
    return_line_grade(
        return_id=found.pk,
        line_id=line.pk,
        grade="resellable",
        quantity=1,
        shelf_location="A1",
        actor=Actor.of_user(shop["alice"]),
    )
    case.refresh_from_db()
    assert case.status == "resolved"


def test_a_balance_written_outside_the_ledger_is_drift(shop):
    stock(shop["tee"], shop["oxford"], 3)
    StockBalance.objects.filter(sku=shop["tee"]).update(on_hand=7)

    assert ledger_drift_check() == 1
    (case,) = open_cases("ledger_drift")
    assert "on_hand held 7, the ledger says 3" in case.detail
    assert StockBalance.objects.get(sku=shop["tee"]).on_hand == 3  # repaired
    assert ledger_drift_check() == 0  # nothing drifts now


def test_a_later_issue_raises_through_the_same_function(shop):
    for _ in range(2):
        exception_raise(
            raised=Raised(
                kind="webhook_failing",
                key="webhook:erp",
                title="ERP webhook failing for 1 h",
            )
        )
    (case,) = open_cases("webhook_failing")
    assert case.times_raised == 2 and case.location is None


def test_an_unknown_kind_is_a_programming_error(db):
    with pytest.raises(ValueError):
        exception_raise(raised=Raised(kind="gremlins", key="x", title="x"))
    assert not ExceptionEvent.objects.exists()
