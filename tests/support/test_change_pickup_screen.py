"""The customer-service form that moves a pickup to another store, as a plain form
post: what a store's own staff see after moving an order away from their store, and
the refusals said under the field with nothing changed."""

import pytest

from orders.models import Order
from tests.factories import StaffFactory, pickup_order, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client, shop):
    client.login(username="alice", password=StaffFactory.PASSWORD)
    return client


def change(client, order, code):
    return client.post(
        f"/store/support/orders/{order.pk}/pickup-store/",
        {"pickup_location": code},
        follow=True,
    )


def test_an_order_moved_away_from_the_agent_s_store_is_said_to_be_out_of_reach(
    shop, alice
):
    """Alice works at Oxford Street only: once Ada's order is Camden's, its page is
    not hers to see; she lands on the find page, told where it went."""
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    order = pickup_order(shop)

    page = change(alice, order, "LON-CAM")

    assert page.redirect_chain[-1][0] == "/store/support/"
    said = page.content.decode()
    assert "Camden hands the order over now" in said
    assert "It is Camden&#x27;s order now, out of your stores." in said
    assert Order.objects.get(pk=order.pk).pickup_location == shop["camden"]


@pytest.mark.parametrize(
    "code, said",
    [
        ("", "Choose the store the customer will collect at."),
        ("LON-NOPE", "There is no store &#x27;LON-NOPE&#x27;."),
        ("LON-OXF", "The order is collected at Oxford Street already"),
    ],
)
def test_a_refused_store_is_said_under_the_field_and_nothing_moves(
    shop, alice, code, said
):
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)
    events = order.events.count()

    page = change(alice, order, code)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="pickup_location-error"' in html and said in html
    assert 'aria-invalid="true" autofocus' in html
    assert Order.objects.get(pk=order.pk).pickup_location == shop["oxford"]
    assert order.events.count() == events


def test_another_store_s_order_cannot_be_moved(shop, client):
    """Carol works at Camden: Ada's Oxford Street order is not found for her."""
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)
    client.login(username="carol", password=StaffFactory.PASSWORD)

    page = client.post(
        f"/store/support/orders/{order.pk}/pickup-store/",
        {"pickup_location": "LON-CAM"},
    )

    assert page.status_code == 404
    assert Order.objects.get(pk=order.pk).pickup_location == shop["oxford"]


def test_the_story_tells_items_on_their_way_then_arrived(shop, client):
    """Camden had no tee: the story says Ada's comes from Oxford Street, and then
    that it arrived, never that it is missing."""
    from config.access import Actor
    from inventory.models import TransferRequest, TransferRoute
    from pickup import services as pickup

    TransferRoute.objects.create(
        from_location=shop["oxford"], to_location=shop["camden"], lead_time_hours=24
    )
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)
    client.force_login(shop["maria"])
    change(client, order, "LON-CAM")

    text = " ".join(
        client.get(f"/store/support/orders/{order.pk}/").content.decode().split()
    )
    assert "Pickup store changed from Oxford Street to Camden" in text
    assert "1 × Tee black M (TEE-BLK-M): 1 on its way from Oxford Street" in text
    assert "On its way from Oxford Street" in text  # the item's state
    assert "Missing" not in text

    transfer = TransferRequest.objects.get()
    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["alice"])
    )
    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["carol"])
    )
    text = " ".join(
        client.get(f"/store/support/orders/{order.pk}/").content.decode().split()
    )
    assert "Arrived from Oxford Street: 1 × Tee black M" in text
    assert "Missing items set aside again" not in text
    assert "Decided about the missing items" not in text
