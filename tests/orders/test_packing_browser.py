"""The packing bench in a real browser (Debian's Chromium driven by Playwright,
against a live server on the test database), driven by the keyboard alone: a
packer with a scanner types a code and Enter, and Tab and Space and Enter for the
rest. Each screen is saved under test-output/screenshots/<test>/."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from config.access import Actor
from orders import services as orders
from orders.models import PackingProblem
from reconciliation.models import ExceptionCase
from tests.conftest import (
    axe_clean,
    go_to,
    no_sideways_scroll,
    sign_in_by_keyboard,
)
from tests.factories import LocationFactory, balance_of, stock

WEB_SHOP = Actor(name="token:web-shop", source="web")


def shipped_order(shop, reference):
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=shop["tee"], quantity=1)],
        delivery=orders.Delivery(
            address="1 Upper Street",
            city="London",
            postal_code="N1 0PN",
            country="GB",
            latitude=51.5362,
            longitude=-0.1033,
        ),
    )
    return order


def warehouse():
    return LocationFactory(
        code="DC-NORTH",
        name="DC North",
        kind="distribution_centre",
        latitude=Decimal("52.4862"),
        longitude=Decimal("-1.8904"),
    )


def focused_label(page) -> str:
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return (el.labels && el.labels[0] ? el.labels[0].innerText : '')"
        " + ' ' + (el.innerText || el.value || ''); }"
    )


@pytest.mark.django_db(transaction=True)
def test_a_packer_reports_a_unit_not_found_by_keyboard_and_it_is_rerouted(shop, tablet):
    """Alice cannot find the tee for WEB-8001: she scans the packing slip, then the
    tee's label, Enter. The shelf is corrected, a case opens, and the warehouse
    sends the tee instead. A code that is not on the order is refused under the
    field, the focus kept there."""
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], warehouse(), 2)
    order = shipped_order(shop, "WEB-8001")
    page = tablet

    sign_in_by_keyboard(page, "alice")
    page.goto("/store/packing/")
    expect(
        page.get_by_role("heading", name=re.compile("Packing bench"))
    ).to_be_visible()
    expect(page.get_by_label("Order number")).to_be_focused()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Tee black M")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("bench")

    page.keyboard.type("WEB-8001", delay=8)
    page.keyboard.press("Tab")
    page.keyboard.type("POLO-BLU-M", delay=8)
    page.keyboard.press("Enter")
    expect(page.locator("#report-item-error")).to_have_text(
        "POLO-BLU-M is not on order WEB-8001 at LON-OXF."
    )
    # Named in the message, not kept in the field: the next scan goes in clean.
    expect(page.get_by_label("Item code")).to_be_focused()
    expect(page.get_by_label("Item code")).to_have_value("")
    expect(page.get_by_label("Order number")).to_have_value("WEB-8001")
    assert not PackingProblem.objects.exists()
    page.shot("refused")

    page.keyboard.type("5012345678900", delay=8)  # the tee's barcode, scanned
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "1 × Tee black M not found: recorded, the stock corrected. Re-routed to "
        "DC-NORTH: it ships from there."
    )
    expect(page.get_by_label("Order number")).to_be_focused()
    page.shot("rerouted")

    problem = PackingProblem.objects.get()
    assert problem.resolution == "rerouted"
    assert problem.rerouted_line.location.code == "DC-NORTH"
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 0
    assert ExceptionCase.objects.get().key == f"packing_problem:{problem.pk}"
    # Oxford Street has nothing left of it to pack.
    expect(page.locator(f"#order-{order.pk}")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_nobody_else_has_it_and_the_customer_accepts_a_substitute(shop, tablet):
    """Nobody else has the tee: the problem waits on the bench with its three
    decisions, the focus on it. Alice takes the customer's answer on the phone:
    the polo instead, reached by Tab, typed, chosen with Space, sent with Enter."""
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["polo"], shop["oxford"], 1)
    order = shipped_order(shop, "WEB-8002")
    page = tablet

    sign_in_by_keyboard(page, "alice")
    go_to(page, "Packing bench")  # under the header's More
    expect(page.get_by_label("Order number")).to_be_focused()
    page.keyboard.type("WEB-8002", delay=8)
    page.keyboard.press("Tab")
    page.keyboard.type("TEE-BLK-M", delay=8)
    page.keyboard.press("Tab")
    page.keyboard.type("1")  # the units: 1 replaces 1
    page.keyboard.press("Tab")  # what happened: not found, chosen already
    page.keyboard.press("ArrowRight")  # damaged
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name=re.compile("1 × Tee black M damaged"))
    expect(heading).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text(
        "No other location can send them: decide below."
    )
    axe_clean(page)
    page.shot("problem")

    for _ in range(30):
        page.keyboard.press("Tab")
        if "Item offered" in focused_label(page):
            break
    page.keyboard.type("POLO-BLU-M", delay=8)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # accepted
    page.keyboard.press("Tab")
    assert "Record the answer" in focused_label(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "1 × Tee black M: substitute POLO-BLU-M offered, customer accepted."
    )
    page.shot("decided")

    problem = PackingProblem.objects.get()
    assert (problem.resolution, problem.customer_answer) == ("substitute", "accepted")
    assert [(x.sku.code, x.open_quantity) for x in order.lines.all()] == [
        ("TEE-BLK-M", 0),
        ("POLO-BLU-M", 1),
    ]
    assert balance_of(shop["tee"], shop["oxford"]).damaged == 1
    assert not ExceptionCase.objects.exists()  # damaged: a known fact
