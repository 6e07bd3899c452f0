"""The packing bench as a busy store uses it: an order too far down the bench to be
shown, two channels using the same order number, a scanner's double Enter, a
"Shipped" sent while units still wait for a decision, and a bench full of kits."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.access import Actor
from inventory.models import StockMovement
from orders import selectors
from orders import services as orders
from orders.models import OrderEvent, OrderLine, PackingProblem
from orders.services.packing import packing_report_short
from reconciliation.models import ExceptionCase
from tests.factories import ChannelFactory, balance_of, kit, stock

pytestmark = pytest.mark.django_db
WEB_SHOP = Actor(name="token:web-shop", source="web")
ISLINGTON = orders.Delivery(
    address="1 Upper Street", city="London", postal_code="N1 0PN",
    country="GB", latitude=51.5362, longitude=-0.1033,
)  # fmt: skip


def shipped_order(
    shop, reference="WEB-9001", *, sku=None, quantity=1, channel=None, also=()
):
    """An order shipped from Oxford Street: ``quantity`` of ``sku`` (a tee), and
    one of each SKU ``also``."""
    lines = [(sku or shop["tee"], quantity), *((other, 1) for other in also)]
    order, _ = orders.order_place(
        channel=channel or shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[
            orders.OrderLineInput(sku=item, quantity=units, location=shop["oxford"])
            for item, units in lines
        ],
        delivery=ISLINGTON,
    )
    return order


def written():
    return (
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        OrderLine.objects.count(),
        PackingProblem.objects.count(),
        ExceptionCase.objects.count(),
    )


def bench(client, **query):
    page = client.get("/store/packing/", {"location": "LON-OXF", **query})
    assert page.status_code == 200
    return page.content.decode()


def hidden(html, name, form_action=None):
    """The value of a form's hidden field, as the browser would send it (None when
    the form has none)."""
    if form_action is not None:
        html = html[html.index(f'action="{form_action}"') :]
        html = html[: html.index("</form>")]
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else None


def report(client, html, **fields):
    """The bench's report form sent from the page ``html``, its hidden fields too."""
    key = hidden(html, "request_reference", "/store/packing/report/")
    body = {
        "location": "LON-OXF",
        "quantity": "1",
        "condition": "not_found",
        **({"request_reference": key} if key is not None else {}),
        **fields,
    }
    return client.post("/store/packing/report/", body)


def test_an_order_below_the_benchs_first_page_can_be_reported(
    shop, client, monkeypatch
):
    """Oxford Street has more orders to pack than the bench shows: WEB-9002, not
    shown, is reported short by its number all the same."""
    monkeypatch.setattr(selectors, "BENCH_SIZE", 1)
    stock(shop["tee"], shop["oxford"], 2)
    shipped_order(shop, "WEB-9001")
    later = shipped_order(shop, "WEB-9002")
    client.force_login(shop["alice"])
    html = bench(client)
    assert "WEB-9002" not in html
    answer = report(client, html, order="web-9002", item="TEE-BLK-M")
    assert answer.status_code == 302, answer.content.decode()
    problem = PackingProblem.objects.get()
    assert problem.order == later


def test_two_channels_with_the_same_order_number_are_told_apart(shop, client):
    """The web shop and the app both sent an order WEB-9001 to Oxford Street. Typed
    by its number, the bench asks which (nothing written); from the order's own
    "Report a short" link it is that one."""
    app = ChannelFactory(code="app", kind="app", safety_buffer=0)
    stock(shop["tee"], shop["oxford"], 2)
    shipped_order(shop, "WEB-9001")
    apps = shipped_order(shop, "WEB-9001", channel=app)
    client.force_login(shop["alice"])
    html = bench(client)
    before = written()
    asked = report(client, html, order="WEB-9001", item="TEE-BLK-M")
    assert asked.status_code == 400
    assert (
        "Channels app and web each have an order WEB-9001 to pack here: use the "
        "Report a short link on the one you mean." in asked.content.decode()
    )
    assert written() == before

    assert f"order=WEB-9001&amp;order_id={apps.pk}#report" in html
    linked = bench(client, order="WEB-9001", order_id=str(apps.pk))
    assert hidden(linked, "order_id", "/store/packing/report/") == str(apps.pk)
    answer = report(
        client, linked, order="WEB-9001", order_id=str(apps.pk), item="TEE-BLK-M"
    )
    assert answer.status_code == 302, answer.content.decode()
    assert PackingProblem.objects.get().order == apps


def test_a_double_enter_reports_the_short_once(shop, client):
    """Alice's scanner sends the report twice (Enter, Enter): the tee is taken off
    on-hand once, one problem, one case."""
    stock(shop["tee"], shop["oxford"], 2)
    shipped_order(shop, quantity=2)
    client.force_login(shop["alice"])
    html = bench(client)
    assert hidden(html, "request_reference", "/store/packing/report/")
    first = report(client, html, order="WEB-9001", item="TEE-BLK-M")
    after_first = written()
    second = report(client, html, order="WEB-9001", item="TEE-BLK-M")
    assert (first.status_code, second.status_code) == (302, 302)
    assert written() == after_first
    assert PackingProblem.objects.count() == 1
    assert ExceptionCase.objects.filter(kind="item_not_found").count() == 1
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1
    # A new page, a new key: another tee missing is another report.
    report(client, bench(client), order="WEB-9001", item="TEE-BLK-M")
    assert PackingProblem.objects.count() == 2


def test_a_double_enter_on_a_decision_decides_once(shop, client):
    stock(shop["tee"], shop["oxford"], 1)
    order = shipped_order(shop)
    problem = packing_report_short(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        quantity=1,
        condition="damaged",
        actor=Actor.of_user(shop["alice"]),
    )
    client.force_login(shop["alice"])
    url = f"/store/packing/problems/{problem.pk}/cancel/"
    key = hidden(bench(client), "request_reference", url)
    assert key
    body = {"location": "LON-OXF", "request_reference": key}
    assert client.post(url, body).status_code == 302
    after_first = written()
    again = client.post(url, body, follow=True)
    assert again.status_code == 200
    assert "1 × Tee black M: cancelled." in again.content.decode()
    assert written() == after_first


def test_shipped_is_refused_while_units_wait_for_a_decision(shop, client):
    """WEB-9001 is a tee and a hoodie; the tee is damaged and nobody else has one.
    "Shipped" sent anyway (an old page, a second tab) is refused on the bench: the
    hoodie does not leave alone, which would leave the order unable to take the
    tee's substitute."""
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["hoodie"], shop["oxford"], 1)
    order = shipped_order(shop, also=[shop["hoodie"]])
    problem = packing_report_short(
        order_id=order.pk,
        line_id=order.lines.get(sku=shop["tee"]).pk,
        quantity=1,
        condition="damaged",
        actor=Actor.of_user(shop["alice"]),
    )
    assert problem.status == "open"
    client.force_login(shop["alice"])
    before = written()
    refused = client.post(
        f"/store/packing/orders/{order.pk}/ship/", {"location": "LON-OXF"}
    )
    assert refused.status_code == 409
    html = refused.content.decode()
    assert (
        "Order WEB-9001: 1 unit short at LON-OXF still waiting for a decision. "
        "Decide about them first; nothing was shipped." in html
    )
    assert 'role="alert" tabindex="-1" autofocus' in html
    assert written() == before
    order.refresh_from_db()
    assert order.status == "allocated"
    assert balance_of(shop["hoodie"], shop["oxford"]).committed == 1


def test_the_bench_reads_its_kit_problems_in_a_fixed_number_of_queries(shop, client):
    """Kits short at Oxford Street wait for a decision; the bench shows each with
    whether its channel splits kits. Three of them cost what one does."""
    pair = kit("TEE-PAIR", (shop["tee"], 2))
    stock(shop["tee"], shop["oxford"], 6)
    alice = Actor.of_user(shop["alice"])

    def kit_short(reference):
        order = shipped_order(shop, reference, sku=pair)
        packing_report_short(
            order_id=order.pk,
            line_id=order.lines.get().pk,
            quantity=1,
            condition="damaged",
            actor=alice,
        )

    client.force_login(shop["alice"])
    kit_short("WEB-9101")
    bench(client)  # the session and the user's stores, read once
    with CaptureQueriesContext(connection) as one:
        assert "Part of TEE-PAIR" in bench(client)
    kit_short("WEB-9102")
    kit_short("WEB-9103")
    with CaptureQueriesContext(connection) as three:
        assert bench(client).count("Part of TEE-PAIR") == 3
    assert len(three) == len(one)
