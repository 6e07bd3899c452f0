"""The pickup screens in a real browser: Debian's Chromium driven by Playwright, at
a tablet's size, against a live server on the test database. Each screen is saved
under test-output/screenshots/<test>/ for a person to look at.

These run wherever the suite runs (``make test`` installs Chromium when missing):
a machine without it fails here rather than skipping."""

import re

import pytest
from playwright.sync_api import expect

from inventory.models import TransferRequest
from pickup.models import PickupTask
from tests.conftest import sign_in
from tests.factories import StaffFactory, balance_of, pickup_order, stock


@pytest.mark.django_db(transaction=True)
def test_a_picker_takes_an_order_from_the_queue_to_the_customer(shop, tablet):
    stock(shop["tee"], shop["oxford"], 2)
    stock(shop["hoodie"], shop["oxford"], 1)
    order = pickup_order(
        shop, "WEB-5001", lines=[(shop["tee"], 1), (shop["hoodie"], 1)]
    )
    task = order.pickup_task
    page = tablet

    sign_in(page, "alice")
    expect(page.locator(".topbar")).to_contain_text("Alice")
    expect(page.locator(".topbar")).to_contain_text("Oxford Street")
    assert page.evaluate("typeof window.htmx") == "object"  # served from static/
    page.shot("queue")

    page.get_by_role("link", name=re.compile("WEB-5001")).click()
    page.get_by_role("button", name="Claim this order").click()
    expect(page.get_by_role("status")).to_have_text("Claimed: it is yours to pick.")
    page.get_by_role("button", name="Start picking").click()
    expect(page.get_by_role("button", name="Pick 1").first).to_be_visible()
    page.shot("picking")

    page.get_by_label("Scan or type the SKU").first.fill(
        "5012345678900"
    )  # the tee's barcode
    page.get_by_role("button", name="Pick 1").first.click()
    expect(page.get_by_role("status")).to_have_text("Picked into the hold area.")
    page.get_by_label("Scan or type the SKU").fill("HOOD-GRE-L")
    page.get_by_role("button", name="Pick 1").click()
    expect(page.get_by_label("Hold shelf or bin")).to_be_visible()
    page.shot("picked")

    page.get_by_label("Hold shelf or bin").fill("B3")
    page.get_by_role("button", name="Ready: tell the customer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Ready: the customer has been told."
    )
    page.shot("ready")

    page.get_by_label("Collection code").fill(
        "999999" if task.collection_code != "999999" else "111111"
    )
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This code does not match the order's."
    )
    page.shot("wrong-code")
    page.get_by_label("Collection code").fill(task.collection_code)
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("status")).to_have_text("Handed over.")
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_text("Nothing more to do: closed.")).to_be_visible()
    page.shot("closed")

    task.refresh_from_db()
    assert task.status == PickupTask.Status.CLOSED
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1
    assert task.notices.get().kind == "ready"


@pytest.mark.django_db(transaction=True)
def test_an_item_not_found_is_sourced_from_another_branch(shop, tablet):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 4)
    task = pickup_order(shop, "WEB-5002").pickup_task
    page = tablet

    sign_in(page, "bob")
    page.get_by_role("link", name=re.compile("WEB-5002")).click()
    page.get_by_role("button", name="Claim this order").click()
    page.get_by_role("button", name="Start picking").click()
    page.get_by_text("Not found or damaged?").click()
    page.get_by_label("What happened").select_option("not_found")
    page.shot("reporting")
    page.get_by_role("button", name="Report").click()
    expect(
        page.get_by_role("heading", name=re.compile("1 × TEE-BLK-M not found"))
    ).to_be_visible()
    page.shot("problem")

    page.get_by_label("Branch").select_option("LON-CAM")
    page.get_by_role("button", name="Request transfer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Transfer requested from the other branch."
    )
    expect(
        page.get_by_text("Waiting for a transfer from another branch.")
    ).to_be_visible()
    page.shot("on-hold")

    task.refresh_from_db()
    assert task.status == PickupTask.Status.ON_HOLD
    transfer = TransferRequest.objects.get()
    assert (transfer.from_location, transfer.status) == (shop["camden"], "requested")
    assert balance_of(shop["tee"], shop["camden"]).committed == 1
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 0  # the missing unit


def tab_to(page, name: str, most: int = 60) -> None:
    """Press Tab until the focus is on the control named ``name``, as a person at a
    scanner's keyboard does; fails if it never comes."""
    wanted = re.compile(name)
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const el = document.activeElement;"
            " return (el.labels && el.labels[0] ? el.labels[0].innerText : '')"
            " + ' ' + (el.innerText || el.value || el.getAttribute('aria-label') || ''); }"
        )
        if wanted.search(focused):
            return
    raise AssertionError(f"Tab never reached {name!r}")


@pytest.mark.django_db(transaction=True)
def test_a_manager_switches_store_and_picks_with_the_keyboard_only(shop, tablet):
    """No mouse: the store switch by arrow keys (its script, not an inline handler,
    submits it under the Content-Security-Policy), each button reached by Tab and
    pressed with Enter, each code typed as a scanner types it, then Enter."""
    stock(shop["tee"], shop["oxford"], 1)
    pickup_order(shop, "WEB-5101", lines=[(shop["tee"], 1)])
    page = tablet
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto("/store/")
    page.get_by_label("Username").focus()
    page.keyboard.type("maria")
    page.keyboard.press("Tab")
    page.keyboard.type(StaffFactory.PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Pickup queue"))).to_be_visible()

    # Maria sees Camden first (stores by code); the order waits at Oxford Street.
    expect(page.locator("#store")).to_have_value("LON-CAM")
    expect(page.get_by_role("link", name=re.compile("WEB-5101"))).to_have_count(0)
    tab_to(page, "Store")
    page.keyboard.press("End")  # the list's last store: Oxford Street
    expect(page.locator("#store")).to_have_value("LON-OXF")
    expect(page.get_by_role("link", name=re.compile("WEB-5101"))).to_be_visible()
    page.shot("oxford-by-keyboard")

    tab_to(page, "WEB-5101")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Claim this order")).to_be_visible()
    tab_to(page, "Claim this order")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Claimed: it is yours to pick.")
    tab_to(page, "Start picking")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan or type the SKU")).to_be_visible()
    tab_to(page, "Scan or type the SKU")
    page.keyboard.type("5012345678900")  # the scanner: the tee's barcode, then Enter
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Picked into the hold area.")
    page.shot("picked-by-keyboard")

    assert refused == []
