"""A manager reads the ledger in the back-office but cannot change it."""

import pytest
from django.contrib.auth import get_user_model

from inventory.models import Reservation, StockConflict, StockMovement
from tests.factories import (
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = get_user_model().objects.create_superuser("manager", password="pw-123456!")
    client.force_login(user)
    return client


@pytest.fixture
def a_bad_sale():
    """A till sells a tee the web had promised: one conflict."""
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE-BLK-M")
    web = ChannelFactory(code="web")
    pos = ChannelFactory(code="pos", kind="store_pos")
    StockEvents.post("receipt", sku=tee, location=store, quantity=1)
    StockEvents.post("commit", sku=tee, location=store, quantity=1, channel=web)
    return StockEvents.post("sale", sku=tee, location=store, quantity=1, channel=pos)


def test_the_ledger_is_listed_filterable_and_read_only(manager, a_bad_sale):
    entry = a_bad_sale.movement
    listing = manager.get(
        "/admin/inventory/stockmovement/",
        {
            "type__exact": "sale",
            "status__exact": "applied",
            "sku__id__exact": entry.sku_id,
        },
    )
    assert listing.status_code == 200
    assert entry.reference in listing.content.decode()
    for path in ("add/", f"{entry.pk}/delete/"):
        assert manager.get(f"/admin/inventory/stockmovement/{path}").status_code == 403
    detail = manager.get(f"/admin/inventory/stockmovement/{entry.pk}/change/")
    assert detail.status_code == 200
    assert 'name="quantity"' not in detail.content.decode()
    manager.post(f"/admin/inventory/stockmovement/{entry.pk}/change/", {"quantity": 99})
    assert StockMovement.objects.get(pk=entry.pk).quantity == 1


def test_the_admin_shows_conflicts_read_only_they_are_worked_in_the_queue(
    manager, a_bad_sale
):
    conflict = StockConflict.objects.get()
    listing = manager.get("/admin/inventory/stockconflict/", {"status__exact": "open"})
    assert listing.status_code == 200
    assert "TEE-BLK-M" in listing.content.decode()
    manager.post(
        "/admin/inventory/stockconflict/",
        {"action": "resolve", "_selected_action": [conflict.pk]},
    )
    conflict.refresh_from_db()
    assert conflict.status == "open"  # resolved with its exception case, not here


def test_a_manager_reads_a_hold_and_releases_it_from_the_back_office(manager):
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE-BLK-M")
    StockEvents.post("receipt", sku=tee, location=store, quantity=2)
    held = Holds.place(channel=ChannelFactory(code="web"), lines=[(tee, store, 2)])
    page = manager.get(f"/admin/inventory/reservation/{held.pk}/change/")
    assert page.status_code == 200
    assert "TEE-BLK-M" in page.content.decode()
    listing = manager.post(
        "/admin/inventory/reservation/",
        {"action": "release", "_selected_action": [held.pk]},
        follow=True,
    )
    assert "Released 1 hold(s)." in listing.content.decode()
    again = manager.post(
        "/admin/inventory/reservation/",
        {"action": "release", "_selected_action": [held.pk]},
        follow=True,
    )
    assert "it is released" in again.content.decode()
    held.refresh_from_db()
    assert held.status == Reservation.Status.RELEASED
    assert held.events.last().actor == "user:manager"


def test_the_status_filter_shows_a_lapsed_hold_as_expired_before_any_sweep(manager):
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE-BLK-M")
    StockEvents.post("receipt", sku=tee, location=store, quantity=2)
    held = Holds.place(
        channel=ChannelFactory(code="web"), lines=[(tee, store, 1)], reference="CART-7"
    )

    def listed(status):
        page = manager.get("/admin/inventory/reservation/", {"status": status})
        return "CART-7" in page.content.decode()

    assert (listed("active"), listed("expired")) == (True, False)
    Reservation.objects.filter(pk=held.pk).update(expires_at=held.created_at)
    assert (listed("active"), listed("expired")) == (False, True)
