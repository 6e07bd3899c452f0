"""The packing bench without a browser: what each store sees, refusals answered on
the bench with what was typed kept and nothing written, decisions and "Shipped"
coming back to the bench with their result."""

import pytest

from config.access import Actor
from orders import services as orders
from orders.models import Order, OrderEvent, PackingProblem
from orders.services.packing import packing_report_short
from tests.factories import LocationFactory, StaffFactory, balance_of, stock

pytestmark = pytest.mark.django_db
WEB_SHOP = Actor(name="token:web-shop", source="web")


def shipped_order(shop, reference="WEB-9001", at=None, quantity=1):
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=shop["tee"], quantity=quantity, location=at)],
        delivery=orders.Delivery(
            address="1 Upper Street", city="London", postal_code="N1 0PN",
            country="GB", latitude=51.5362, longitude=-0.1033,
        ),
    )  # fmt: skip
    return order


def signed_in(client, user):
    client.force_login(user)
    return client


def written():
    return (
        OrderEvent.objects.count(),
        PackingProblem.objects.count(),
        Order.objects.count(),
    )


def test_each_packer_sees_the_orders_to_pack_at_their_own_location(shop, client):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    shipped_order(shop, "WEB-9001", at=shop["oxford"])
    shipped_order(shop, "WEB-9002", at=shop["camden"])
    stock(shop["polo"], shop["oxford"], 1)
    orders.order_place(
        channel=shop["web"], reference="WEB-9003", method="pickup",
        customer=orders.Customer(name="Ada Byron"), actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=shop["polo"], quantity=1)],
        pickup_location=shop["oxford"],
    )  # fmt: skip
    page = signed_in(client, shop["alice"]).get("/store/packing/")
    assert page.status_code == 200
    assert b"WEB-9001" in page.content
    assert b"WEB-9002" not in page.content  # Camden's
    assert b"WEB-9003" not in page.content  # collected: the pickup task's
    warehouse = LocationFactory(code="DC-NORTH", name="DC North", kind="warehouse")
    dave = StaffFactory.at(warehouse, username="dave")
    page = signed_in(client, dave).get("/store/packing/")
    assert b"Packing bench \xc2\xb7 DC North" in page.content
    assert b"Nothing to pack here just now." in page.content


def test_a_refused_report_comes_back_on_the_bench_and_writes_nothing(shop, client):
    stock(shop["tee"], shop["oxford"], 1)
    shipped_order(shop)
    signed_in(client, shop["alice"])
    before = written()
    answer = client.post(
        "/store/packing/report/",
        {
            "location": "LON-OXF",
            "order": "WEB-9001",
            "item": "TEE-BLK-M",
            "quantity": "2",
            "condition": "not_found",
            "note": "Looked twice",
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "1 unit of TEE-BLK-M on the shelf to report short; asked 2." in html
    assert 'value="Looked twice"' in html  # what was typed is kept
    assert written() == before
    answer = client.post(
        "/store/packing/report/",
        {"location": "LON-OXF", "order": "WEB-9001", "item": "TEE-BLK-M",
         "quantity": "many", "condition": "not_found"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "Enter a whole number." in answer.content.decode()
    assert written() == before


def test_a_location_the_packer_does_not_work_at_is_not_found(shop, client):
    stock(shop["tee"], shop["oxford"], 1)
    order = shipped_order(shop)
    problem = packing_report_short(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        quantity=1,
        condition="damaged",
        actor=Actor.of_user(shop["alice"]),
    )
    signed_in(client, shop["carol"])  # Camden's
    before = written()
    for url, body in (
        ("/store/packing/report/", {"order": "WEB-9001", "item": "TEE-BLK-M"}),
        (f"/store/packing/problems/{problem.pk}/cancel/", {}),
        (f"/store/packing/orders/{order.pk}/ship/", {}),
    ):
        assert client.post(url, {"location": "LON-OXF", **body}).status_code == 404
        assert client.post(url, {"location": "LON-CAM", **body}).status_code in (
            404,
            400,  # the report form: no such order to pack at Camden
        )
    assert written() == before


def test_decisions_and_shipped_from_the_bench(shop, client):
    """WEB-9001's second tee is damaged and nobody else has one: shipping it later
    is refused on the bench, cancelling it is done, and the one left is shipped."""
    stock(shop["tee"], shop["oxford"], 2)
    order = shipped_order(shop, quantity=2)
    problem = packing_report_short(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        quantity=1,
        condition="damaged",
        actor=Actor.of_user(shop["alice"]),
    )
    signed_in(client, shop["alice"])
    bench = client.get("/store/packing/", {"focus": f"problem-{problem.pk}"})
    assert b"autofocus>1 \xc3\x97 Tee black M damaged" in bench.content

    refused = client.post(
        f"/store/packing/problems/{problem.pk}/ship-later/", {"location": "LON-OXF"}
    )
    assert refused.status_code == 409
    assert "No location can ship 1 × TEE-BLK-M" in refused.content.decode()

    done = client.post(
        f"/store/packing/problems/{problem.pk}/cancel/",
        {"location": "LON-OXF"},
        follow=True,
    )
    assert "1 × Tee black M: cancelled." in done.content.decode()
    problem.refresh_from_db()
    assert problem.resolution == "cancel"

    shipped = client.post(
        f"/store/packing/orders/{order.pk}/ship/", {"location": "LON-OXF"}, follow=True
    )
    assert "Order WEB-9001: 1 unit shipped from LON-OXF." in shipped.content.decode()
    order.refresh_from_db()
    assert order.status == "shipped"
    oxford = balance_of(shop["tee"], shop["oxford"])
    assert (oxford.on_hand, oxford.damaged, oxford.committed) == (1, 1, 0)


def test_support_reads_packing_problems_in_the_back_office(shop, client):
    from django.contrib.auth import get_user_model

    stock(shop["tee"], shop["oxford"], 1)
    order = shipped_order(shop)
    packing_report_short(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        quantity=1,
        condition="not_found",
        actor=Actor.of_user(shop["alice"]),
    )
    admin = get_user_model().objects.create_superuser("root", password="pw-123456!")
    client.force_login(admin)
    listing = client.get("/admin/orders/packingproblem/")
    assert listing.status_code == 200
    assert b"WEB-9001" in listing.content
    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    assert b"Packing problem" in page.content
