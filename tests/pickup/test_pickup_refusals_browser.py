"""A picker on a phone gets every refusal where they are: under the field to put
right, on the screen, with the focus in it; a scan before the task takes scans
presses nothing; a search for a substitute is reached from the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from config.access import Actor
from pickup import services as pickup
from tests.conftest import axe_clean, no_sideways_scroll, scan, sign_in_by_keyboard
from tests.factories import pickup_order, stock
from tests.pickup.test_pickup_browser import tab_to

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_at(page, task) -> None:
    """Alice signs in with the keyboard and opens the task."""
    sign_in_by_keyboard(page, "alice")
    page.goto(f"/store/tasks/{task.pk}/")


def as_a_scanner(page, code: str) -> None:
    """A scanner's burst through the real keyboard; the page is told this stand-in
    scanner may be slow (a loaded test machine spaces Playwright's keys apart)."""
    page.evaluate("document.body.dataset.scanGapMs = '2000'")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_a_scan_before_the_order_is_claimed_presses_nothing(shop, phone):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop, "WEB-7001", lines=[(shop["tee"], 1)]).pickup_task
    page = phone
    signed_in_at(page, task)
    claim = page.get_by_role("button", name="Claim this order")
    expect(claim).to_be_focused()

    as_a_scanner(page, "5012345678900")
    said = page.locator("[data-scan-refused]")
    expect(said).to_have_text(
        "Scanned 5012345678900: nothing was done. "
        "Claim this order, then Start picking, then scan."
    )
    expect(said).to_be_in_viewport()
    page.shot("scan-on-claim")
    task.refresh_from_db()
    assert task.status == "new" and task.claimed_by is None  # not claimed by a scan

    page.keyboard.press("Enter")  # the picker's own Enter claims it
    expect(page.get_by_role("button", name="Start picking")).to_be_focused()
    task.refresh_from_db()
    assert task.claimed_by == shop["alice"]


def test_refusals_land_where_the_picker_is(shop, phone):
    oxford = shop["oxford"]
    for sku, units in ((shop["tee"], 3), (shop["hoodie"], 2), (shop["polo"], 1)):
        stock(sku, oxford, units)
    order = pickup_order(
        shop,
        "WEB-7002",
        lines=[(shop["tee"], 2), (shop["hoodie"], 1), (shop["polo"], 1)],
        name="Grace Hopper",
    )
    task = order.pickup_task
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    page = phone
    signed_in_at(page, task)
    expect(page.get_by_label("Scan an item")).to_be_focused()

    # Nine of a line of two reported missing: refused under Units, on the screen,
    # the nine kept and selected, said once.
    tab_to(page, "Report an item not found")
    page.keyboard.press("Enter")
    tab_to(page, "Units")
    page.keyboard.press("Control+a")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    units = page.get_by_label("Units")
    expect(units).to_be_focused()
    expect(units).to_have_attribute("aria-invalid", "true")
    expect(units).to_have_value("9")
    refusal = page.locator("#report-quantity-error")
    expect(refusal).to_have_text("2 units of this line can be reported short; asked 9.")
    expect(refusal).to_be_in_viewport()
    expect(page.get_by_text("asked 9")).to_have_count(1)
    axe_clean(page)
    page.shot("report-refused")
    page.keyboard.type("1")  # replaces the selected nine
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan an item")).to_be_focused()  # two lines still to pick
    problem = task.problems.get()

    # A search for a substitute in two words; Enter goes to what it found. The page
    # settles first: its scan field takes the focus once loaded, which may come
    # after the first check of it above.
    page.wait_for_load_state("networkidle")
    tab_to(page, "Or find another item")
    expect(page.get_by_label("Or find another item")).to_be_focused()
    page.keyboard.type("hood gre")
    page.keyboard.press("Enter")
    found = page.get_by_label(re.compile("Hoodie green L"))
    expect(found).to_be_focused()
    page.keyboard.press("Space")
    expect(found).to_be_checked()

    # Recorded with no answer from the customer, while lines are still to pick: the
    # message is over the answer, the focus on it, the item found still chosen.
    tab_to(page, "Record the answer")
    page.keyboard.press("Enter")
    accepted = page.locator(f"#sub-{problem.pk}-accepted")
    expect(accepted).to_be_focused()
    answer_refused = page.locator(f"#sub-{problem.pk}-answer-error")
    expect(answer_refused).to_have_text("Record the customer's answer.")
    expect(answer_refused).to_be_in_viewport()
    expect(page.get_by_label(re.compile("Hoodie green L"))).to_be_checked()
    no_sideways_scroll(page)
    page.shot("answer-refused")

    # Half an address and Enter: nothing to confirm yet; each field still empty is
    # named under it, the focus on the first, what was typed kept.
    tab_to(page, "Address")
    page.keyboard.type("1 Main Street")
    page.keyboard.press("Enter")
    city = page.get_by_label("City")
    expect(city).to_be_focused()
    expect(city).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#ship-{problem.pk}-city-error")).to_have_text(
        "Enter the city to deliver to."
    )
    expect(page.locator(f"#ship-{problem.pk}-city-error")).to_be_in_viewport()
    expect(page.locator(f"#ship-{problem.pk}-postcode-error")).to_have_text(
        "Enter the postcode to deliver to."
    )
    expect(page.get_by_label("Address")).to_have_value("1 Main Street")
    expect(page.locator("dialog[open]")).to_have_count(0)
    problem.refresh_from_db()
    assert problem.status == "open"
    page.shot("address-half")

    # The queue names the problem to decide in a finger's target.
    page.goto("/store/")
    link = page.get_by_role("link", name="1 Problem to decide")
    expect(link).to_be_visible()
    assert link.bounding_box()["height"] >= 44


def test_a_half_hand_over_asks_for_what_is_missing(shop, phone):
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop, "WEB-7003", lines=[(shop["tee"], 1)], name="Ada King")
    task = order.pickup_task
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="TEE-BLK-M")
    pickup.pickup_task_mark_ready(task_id=task.pk, actor=alice, hold_slot="B3")
    page = phone
    signed_in_at(page, task)
    expect(page.get_by_label("Collection code")).to_be_focused()

    # No code: the order number scanned from the customer's email, then Enter.
    tab_to(page, "Order number")
    scan(page, "WEB-7003")
    name = page.get_by_label("Customer name")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    missing = page.locator("#customer_name-error")
    expect(missing).to_have_text("Enter the name on the order too.")
    expect(missing).to_be_in_viewport()
    expect(page.get_by_label("Order number")).to_have_value("WEB-7003")
    page.shot("name-asked")
    page.keyboard.type("ada king")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    task.refresh_from_db()
    assert task.status == "collected"


def test_a_scan_on_the_queue_finds_the_order_it_names(shop, phone):
    """The focus on one order's link, the customer's order barcode scanned: the
    link is not followed; the queue's search finds the order scanned."""
    stock(shop["tee"], shop["oxford"], 2)
    pickup_order(shop, "WEB-7101", lines=[(shop["tee"], 1)])
    pickup_order(shop, "WEB-7102", lines=[(shop["tee"], 1)], name="Ada King")
    page = phone
    sign_in_by_keyboard(page, "alice")
    page.get_by_role("link", name=re.compile("WEB-7101")).focus()

    as_a_scanner(page, "WEB-7102")
    expect(page.get_by_role("heading", name="Found for “WEB-7102”")).to_be_visible()
    found = page.locator("section.card").get_by_role(
        "link", name=re.compile("WEB-7102")
    )
    expect(found).to_be_visible()
    assert "/store/tasks/" not in page.url  # the focused link was not followed
    page.shot("found-by-scan")
