"""What the customer is promised: the ready time from the store's cut-off and
preparation time, set through the location API and shown on the order; and what
happens to the store's work when the channel cancels the order."""

from datetime import UTC, datetime, time

import pytest

from config.access import Actor
from inventory.models import Location, TransferRequest
from inventory.selectors import pickup_ready_by
from inventory.services import balances_rebuild
from orders import services as orders
from pickup import services as pickup
from pickup.models import PickupTask
from tests.factories import balance_of, pickup_order, stock


def london_store(**hours) -> Location:
    return Location(time_zone="Europe/London", **hours)


@pytest.mark.parametrize(
    "placed, ready",
    [
        # Before opening: ready the preparation time after opening.
        ("2026-06-10 06:30", "2026-06-10 11:00"),
        # During the day, before the cut-off: the preparation time after placing.
        ("2026-06-10 12:15", "2026-06-10 14:15"),
        # After the cut-off: after the next opening.
        ("2026-06-10 17:30", "2026-06-11 11:00"),
    ],
)
def test_the_ready_time_follows_the_cut_off_and_the_preparation_time(placed, ready):
    store = london_store(
        opens_at=time(9), pickup_cutoff=time(17), pickup_preparation_minutes=120
    )
    local = datetime.fromisoformat(placed + "+01:00")  # London in summer
    promised = pickup_ready_by(location=store, placed_at=local.astimezone(UTC))
    assert promised.astimezone(local.tzinfo) == datetime.fromisoformat(ready + "+01:00")


def test_the_store_hours_are_set_through_the_api_and_shown_on_the_order(api, shop):
    answer = api.put(
        "/api/v1/locations/LON-OXF/",
        {
            "name": "Oxford Street",
            "opens_at": "00:00",
            "pickup_cutoff": "23:59",
            "pickup_preparation_minutes": 45,
            "pickup_hold_days": 3,
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["pickup_hold_days"] == 3
    refused = api.put(
        "/api/v1/locations/LON-OXF/",
        {"name": "Oxford Street", "pickup_hold_days": 0, "pickup_cutoff": "late"},
        format="json",
    )
    assert refused.status_code == 400
    assert {"pickup_hold_days", "pickup_cutoff"} <= set(refused.json())

    shop["oxford"].refresh_from_db()  # as the order API reads it
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)
    shown = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert shown["promised_by"] is not None
    promised = datetime.fromisoformat(shown["promised_by"].replace("Z", "+00:00"))
    assert (promised - order.placed_at).total_seconds() == 45 * 60


def test_the_channel_cancels_and_the_store_stops_and_the_transfer_is_called_off(shop):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    task = pickup_order(shop).pickup_task
    alice = shop["alice"]
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(alice))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(alice))
    line = task.order.lines.get()
    problem = pickup.pickup_line_short(
        task_id=task.pk,
        line_id=line.pk,
        actor=Actor.of_user(alice),
        quantity=1,
        condition="not_found",
    )
    pickup.pickup_problem_source_elsewhere(
        problem_id=problem.pk, actor=Actor.of_user(alice), from_location=shop["camden"]
    )
    assert balance_of(shop["tee"], shop["camden"]).available == 0

    orders.order_cancel(
        order_id=task.order_id,
        lines=None,
        reason="Customer changed their mind",
        actor=Actor(name="token:web-shop", source="web"),
    )

    task.refresh_from_db()
    assert task.status == PickupTask.Status.CANCELLED
    assert task.events.last().actor == "token:web-shop"
    assert TransferRequest.objects.get().status == TransferRequest.Status.CANCELLED
    assert balance_of(shop["tee"], shop["camden"]).available == 1
    assert balances_rebuild() == []  # every balance is still the sum of its ledger
