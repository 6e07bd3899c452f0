"""A manager reads purchase orders and transfers on their way in the back-office
(their timeline and the pre-orders waiting for them) without changing them, and sets
how long a transfer takes from the distribution centre to a store."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.access import Actor
from inventory.models import Supply, TransferRoute
from inventory.services import ReservationLineInput, reservation_place
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, purchase_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = get_user_model().objects.create_superuser("manager", password="pw-123456!")
    client.force_login(user)
    return client


@pytest.fixture
def a_purchase_order():
    dc = LocationFactory(code="DC-MAN", kind="warehouse")
    tee = SkuFactory(code="TEE", future_promise_limit=10)
    due = timezone.now() + timedelta(days=7)
    supply = purchase_order(tee, dc, 40, due=due, reference="PO-2024-117")
    reservation_place(
        channel=ChannelFactory(code="web"),
        reference="CART-PRE-9",
        lines=[ReservationLineInput(tee, dc, 3)],
        actor=Actor(name="token:web-shop", source="web"),
        allow_future=True,
    )
    return supply


def test_a_manager_finds_a_purchase_order_and_reads_its_timeline(
    manager, a_purchase_order
):
    listing = manager.get(
        "/admin/inventory/supply/",
        {"status__exact": "open", "kind__exact": "purchase", "q": "PO-2024-117"},
    )
    assert listing.status_code == 200
    assert "PO-2024-117" in listing.content.decode()
    assert (
        "PO-2024-117" in manager.get("/admin/inventory/supply/?q=TEE").content.decode()
    )

    page = manager.get(f"/admin/inventory/supply/{a_purchase_order.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "supply_announce" in text  # its timeline, inline
    assert "Checkout hold line" in text  # the pre-order waiting for it
    assert 'name="quantity"' not in text  # read, not edited
    assert manager.get("/admin/inventory/supply/add/").status_code == 403
    manager.post(
        f"/admin/inventory/supply/{a_purchase_order.pk}/change/", {"quantity": 1}
    )
    assert Supply.objects.get(pk=a_purchase_order.pk).quantity == 40


def test_a_manager_sets_a_route_lead_time_through_the_admin_form(manager):
    dc = LocationFactory(code="DC-MAN", kind="warehouse")
    store = LocationFactory(code="LON-OXF")
    assert manager.get("/admin/inventory/transferroute/add/").status_code == 200
    saved = manager.post(
        "/admin/inventory/transferroute/add/",
        {"from_location": dc.pk, "to_location": store.pk, "lead_time_hours": 36},
    )
    assert saved.status_code == 302
    route = TransferRoute.objects.get()
    assert (route.from_location, route.to_location, route.lead_time_hours) == (
        dc,
        store,
        36,
    )
    listing = manager.get("/admin/inventory/transferroute/")
    assert listing.status_code == 200
    assert "DC-MAN" in listing.content.decode()
