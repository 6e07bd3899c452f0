"""A promise stored at the calendar's edge (year 1, year 9999: written before the API
held dates to its window, or by hand) still shows on every pickup screen of the
store, in UTC and marked so, instead of breaking the screen for everyone there."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from orders.models import Order
from pickup.models import PickupTask
from tests.factories import StaffFactory, pickup_order, stock

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=StaffFactory.PASSWORD)
    return client


@pytest.mark.parametrize(
    "moment, zone, day, hour",
    [
        # Los Angeles is behind UTC: year 1 there would be year 0.
        (datetime(1, 1, 1, tzinfo=UTC), "America/Los_Angeles", "Mon 1 Jan", "00:00"),
        # Tokyo is ahead: the last minute of 9999 there would be year 10000.
        (
            datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
            "Asia/Tokyo",
            "Fri 31 Dec",
            "23:59",
        ),
    ],
)
def test_a_promise_at_the_calendars_edge_still_shows_on_every_pickup_screen(
    shop, moment, zone, day, hour
):
    store = shop["oxford"]
    store.time_zone = zone
    store.save(update_fields=["time_zone"])
    stock(shop["tee"], store, 1)
    order = pickup_order(shop, "WEB-4001")
    Order.objects.filter(pk=order.pk).update(promised_by=moment)
    PickupTask.objects.filter(order=order).update(due_at=moment, expires_at=moment)
    task = order.pickup_task
    alice = signed_in(shop["alice"])

    for url, headers in [
        ("/store/", {}),
        ("/store/", HTMX),
        (f"/store/tasks/{task.pk}/", {}),
        ("/store/problems/", {}),
    ]:
        response = alice.get(url, **headers)
        assert response.status_code == 200, url
    page = alice.get(f"/store/tasks/{task.pk}/").content.decode()
    assert f"due {day} {hour} UTC" in page
    assert f"held until {day} {hour} UTC" in page
    weekday = day.split()[0]
    assert f"Due {weekday} {hour} UTC" in alice.get("/store/").content.decode()


def test_a_promise_within_the_calendar_shows_in_the_stores_own_time(shop):
    store = shop["oxford"]
    store.time_zone = "Asia/Tokyo"
    store.save(update_fields=["time_zone"])
    stock(shop["tee"], store, 1)
    order = pickup_order(shop, "WEB-4002")
    PickupTask.objects.filter(order=order).update(
        due_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    )
    page = signed_in(shop["alice"]).get("/store/").content.decode()
    assert "Due Mon 18:30" in page and "UTC" not in page
