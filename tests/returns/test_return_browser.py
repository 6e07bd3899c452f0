"""The returns counter and inspection bench in a real browser (Debian's Chromium
driven by Playwright, tablet size); every step saved under
test-output/screenshots/<test>/ for a person to look at."""

import re
from itertools import pairwise

import pytest
from playwright.sync_api import expect

from config.access import Actor
from returns.models import Return
from tests.conftest import axe_clean, go_to, no_sideways_scroll, scan, sign_in
from tests.factories import ChannelFactory, balance_of, delivered_order


def selected_whole(field) -> bool:
    """The field's text is all selected: the next scan replaces it."""
    return field.evaluate(
        "f => f === document.activeElement && f.value.length > 0"
        " && f.selectionStart === 0 && f.selectionEnd === f.value.length"
    )


def seen_in_tab_order(page, *selectors: str) -> None:
    """Each field, in the order Tab takes them (the page's), is drawn after the one
    before: to its right on the same line, or below it."""
    boxes = [page.locator(selector).bounding_box() for selector in selectors]
    for (before, a), (after, b) in pairwise(zip(selectors, boxes, strict=True)):
        below = b["y"] >= a["y"] + a["height"] - 1
        same_line = b["y"] < a["y"] + a["height"] and a["y"] < b["y"] + b["height"]
        right = b["x"] >= a["x"] + a["width"] - 1
        assert below or (same_line and right), (
            f"Tab goes from {before} {a} to {after} {b}, drawn before it"
        )


@pytest.mark.django_db(transaction=True)
def test_receive_a_web_order_at_the_counter_and_grade_it(shop, tablet):
    delivered_order(
        shop,
        "WEB-6001",
        lines=[(shop["tee"], 2), (shop["hoodie"], 1)],
        name="Ada Byron",
    )
    page = tablet

    sign_in(page, "alice")
    go_to(page, "Returns")
    expect(page.get_by_role("heading", name=re.compile("Returns"))).to_be_visible()
    page.get_by_label("Find the purchase").fill("WEB-6001")
    page.get_by_role("button", name="Find").click()
    result = page.locator("#found").get_by_role("link", name=re.compile("WEB-6001"))
    expect(result).to_be_visible()
    page.shot("found-the-order")
    result.click()

    expect(
        page.get_by_role("heading", name="Return from order WEB-6001")
    ).to_be_visible()
    units = page.get_by_label("Units of TEE-BLK-M returning")
    units.fill("3")
    page.get_by_label("Reason for TEE-BLK-M", exact=True).select_option("wrong_size")
    page.get_by_role("button", name="Receive into quality control").click()
    # The form itself stops more than can come back; the server says so too
    # (test_return_screens) when a browser does not.
    assert units.evaluate("input => input.validity.rangeOverflow")
    page.shot("more-than-bought-stopped")
    assert not Return.objects.exists()

    page.get_by_label("Units of TEE-BLK-M returning").fill("1")
    page.get_by_role("button", name="Receive into quality control").click()
    expect(page.get_by_role("status")).to_contain_text("received into quality control")
    page.shot("received")
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 1
    assert balance_of(shop["tee"], shop["oxford"]).available == 0

    page.get_by_label("Resellable: back on the shelf").check()
    page.get_by_role("button", name="Grade").click()
    expect(page.get_by_role("alert")).to_contain_text("Say where you put it")
    page.shot("shelf-needed")
    assert balance_of(shop["tee"], shop["oxford"]).available == 0

    page.get_by_label("Resellable: back on the shelf").check()
    page.get_by_label(re.compile("Shelf or bin")).fill("Rail 4")
    page.get_by_label("Condition").fill("Tags on, unworn")
    page.get_by_role("button", name="Grade").click()
    expect(page.locator(".task-head")).to_contain_text("Graded")
    expect(page.locator("p.graded")).to_contain_text("on Rail 4")
    page.shot("graded")
    assert balance_of(shop["tee"], shop["oxford"]).available == 1

    page.get_by_label("Refund or exchange reference").fill("REF-99")
    page.get_by_role("button", name="Close the return").click()
    expect(page.locator("#confirm")).to_be_visible()  # a closed return stays closed
    page.locator("#confirm-yes").click()
    expect(page.locator(".task-head")).to_contain_text("Closed")
    page.shot("closed")


@pytest.mark.django_db(transaction=True)
def test_the_manager_reads_return_rates(shop, tablet):
    from returns.services import Purchase, ReturnLineInput, return_receive_at_counter

    order = delivered_order(shop, lines=[(shop["tee"], 4), (shop["hoodie"], 2)])
    return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[
            ReturnLineInput(sku=shop["tee"], quantity=1, reason="wrong_size"),
            ReturnLineInput(sku=shop["hoodie"], quantity=1, reason="defective"),
        ],
        actor=Actor.of_user(shop["alice"]),
    )
    page = tablet

    sign_in(page, "maria")
    go_to(page, "Returns insight")
    expect(page.get_by_role("heading", name="Returns insight")).to_be_visible()
    expect(page.locator("table.rates")).to_contain_text("33.3 %")
    page.shot("by-channel")
    page.get_by_label("By", exact=True).select_option("sku")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.rates")).to_contain_text("50.0 %")
    page.shot("by-sku")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("return-rates-by-sku")


@pytest.mark.parametrize("screen", ["phone", "till_pc"])
@pytest.mark.django_db(transaction=True)
def test_a_till_return_by_keyboard_and_scanner_alone(shop, screen, request):
    """A customer brings back two tees and a hoodie bought at the till. Everything
    after signing in is keys and scans: the receipt is forgotten at first, the
    screen says so by the field and keeps the items; then the return is received
    and graded, a write-off asked before it is done."""
    ChannelFactory(code="pos-oxf", name="Oxford tills", kind="store_pos")
    page = request.getfixturevalue(screen)
    sign_in(page, "alice")
    page.goto("/store/returns/")
    expect(page.get_by_label("Find the purchase")).to_be_focused()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("returns-home")

    page.keyboard.press("Tab")  # Find
    page.keyboard.press("Tab")  # the till receipt link
    expect(
        page.get_by_role("link", name=re.compile("Return by the receipt"))
    ).to_be_focused()
    page.keyboard.press("Enter")

    receipt = page.get_by_label("Receipt number")
    expect(receipt).to_be_focused()
    axe_clean(page)
    no_sideways_scroll(page)
    page.keyboard.press("Enter")  # a scanner's stray Enter: on to the items
    expect(page.get_by_label("Item 1", exact=True)).to_be_focused()
    scan(page, "5012345678900")
    expect(page.get_by_label("Item 2", exact=True)).to_be_focused()
    expect(page.locator("#sku-1-said")).to_contain_text("Tee black M")
    scan(page, "5012345678900")  # the second tee: one more on its row
    expect(page.get_by_label("Item 2", exact=True)).to_have_value("")
    expect(page.locator("#quantity-1")).to_have_value("2")
    expect(page.get_by_role("status")).to_contain_text("TEE-BLK-M: 2 coming back")
    scan(page, "HOOD-GRE-L")
    expect(page.get_by_label("Item 3", exact=True)).to_be_focused()
    scan(page, "NOPE-1")  # a label that is no item: said on its row, kept selected
    expect(page.locator("#sku-3-said")).to_contain_text("No item 'NOPE-1'")
    third = page.get_by_label("Item 3", exact=True)
    expect(third).to_be_focused()
    expect(third).to_have_attribute("aria-invalid", "true")
    assert selected_whole(third)
    scan(page, "POLO-BLU-M")  # the next scan replaces it
    expect(third).to_have_value("POLO-BLU-M")
    expect(page.locator("#sku-3-said")).to_contain_text("Polo blue M")
    expect(third).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Item 4", exact=True)).to_be_focused()
    page.keyboard.press("Shift+Tab")  # Item 3's other reason
    page.keyboard.press("Shift+Tab")  # its reason
    page.keyboard.press("Shift+Tab")  # its units
    page.keyboard.press("Shift+Tab")  # Item 3
    expect(third).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.press("Shift+Tab")  # Item 2's other reason
    page.keyboard.press("Shift+Tab")  # Item 2's reason
    page.keyboard.type("def")
    for _ in range(4):  # units, Item 2, Item 1's other reason, Item 1's reason
        page.keyboard.press("Shift+Tab")
    page.keyboard.type("wrong s")
    expect(page.locator("#reason-1")).to_have_value("wrong_size")
    expect(page.locator("#reason-2")).to_have_value("defective")
    assert not Return.objects.exists()  # no Enter sent the form
    # Tab takes a row's fields in the order they are seen, on a phone as on a till.
    seen_in_tab_order(page, "#sku-1", "#quantity-1", "#reason-1", "#reason_text-1")
    page.shot("items-scanned")

    page.keyboard.press("Control+Enter")  # the deliberate send
    expect(receipt).to_be_focused()
    expect(receipt).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#till_receipt-said")).to_have_text(
        "Scan or type the receipt number."
    )
    expect(page.locator("#sku-1")).to_have_value("5012345678900")
    expect(page.locator("#quantity-1")).to_have_value("2")
    expect(page.locator("#sku-2")).to_have_value("HOOD-GRE-L")
    expect(page.locator("#reason-2")).to_have_value("defective")
    assert not Return.objects.exists()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("receipt-missing")

    scan(page, "0042-1187")
    expect(page.get_by_label("Item 3", exact=True)).to_be_focused()
    page.keyboard.press("Control+Enter")

    expect(page.locator("#return h1")).to_contain_text("Waiting for inspection")
    found = Return.objects.get()
    expect(page.locator("#return h1")).to_contain_text(f"Return {found.reference}")
    expect(page.locator("#messages")).to_contain_text(
        "3 units received into quality control"
    )
    tee, hoodie = found.lines.order_by("id")
    expect(page.locator(f"#grade-{tee.pk}")).to_be_focused()
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 2
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("received")

    page.keyboard.press("Space")  # Resellable: back on the shelf
    page.keyboard.press("Tab")  # Units
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Tab")  # Shelf or bin: its label scanned
    scan(page, "RAIL-4")
    said = page.locator("#return [data-said]")
    expect(said).to_contain_text(
        "Graded 2 × TEE-BLK-M: Resellable: back on the shelf, on RAIL-4."
    )
    expect(page.locator(f"#grade-{hoodie.pk}")).to_be_focused()
    assert balance_of(shop["tee"], shop["oxford"]).available == 2
    page.shot("tees-graded")

    page.keyboard.press("ArrowDown")  # Damaged: kept, not for sale
    page.keyboard.press("ArrowDown")  # Return to vendor
    page.keyboard.press("ArrowDown")  # Destroy
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Condition
    page.keyboard.type("Seam torn")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("Destroy 1 × HOOD-GRE-L?")
    page.shot("write-off-asked")
    page.keyboard.press("Escape")  # go back: nothing written off
    expect(page.locator("#confirm")).to_be_hidden()
    assert hoodie.inspections.count() == 0
    expect(page.locator(f"#grade-button-{hoodie.pk}")).to_be_focused()
    expect(page.locator(f"#grade-button-{hoodie.pk}")).to_have_class("danger")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.locator(".task-head")).to_contain_text("Graded, to close")
    expect(page.get_by_label("Refund or exchange reference")).to_be_focused()
    assert balance_of(shop["hoodie"], shop["oxford"]).quality_control == 0
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("all-graded")
    scan(page, "REF-77")
    expect(page.locator("#confirm")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".task-head")).to_contain_text("Closed")
    expect(page.locator(".timeline")).to_contain_text("Alice")
    expect(page.locator(".timeline")).not_to_contain_text("user:alice")
    page.shot("closed")


@pytest.mark.django_db(transaction=True)
def test_a_web_order_comes_back_by_scans_on_a_phone_and_the_queue_follows(
    shop, phone, api
):
    """The order is found by its number, each item counted by a scan, a missing
    reason said by its field; the queue shows a colleague's return without a
    reload and without touching what is typed; a parcel short of what was
    announced is asked before it is received."""
    order = delivered_order(
        shop, "WEB-6001", lines=[(shop["tee"], 2), (shop["hoodie"], 1)]
    )
    tee_line = order.lines.get(sku=shop["tee"])
    page = phone
    sign_in(page, "alice")
    page.goto("/store/returns/")
    finder = page.get_by_label("Find the purchase")
    scan(page, "NOPE-99999")  # a label that finds nothing: kept, selected
    expect(page.locator("#found")).to_contain_text("No delivered order matches")
    expect(finder).to_have_value("NOPE-99999")
    assert selected_whole(finder)
    scan(page, "WEB-6001")  # the order's barcode, replacing it
    result = page.locator("#found").get_by_role("link", name=re.compile("WEB-6001"))
    expect(result).to_be_visible()
    expect(finder).to_have_value("WEB-6001")
    page.keyboard.press("Tab")  # Find
    page.keyboard.press("Tab")  # the purchase found
    expect(result).to_be_focused()
    page.keyboard.press("Enter")

    field = page.get_by_label("Scan an item coming back")
    expect(field).to_be_focused()
    said = page.locator("#scan-said")
    expect(said).to_have_attribute("role", "status")
    scan(page, "5012345678900")
    expect(said).to_have_text("TEE-BLK-M: 1 returning. Say why on its line.")
    expect(field).to_have_value("")
    scan(page, "POLO-BLU-M")
    # Refused: said beside the field, the code kept there, marked and selected.
    expect(said).to_have_text("POLO-BLU-M is not on this order.")
    expect(field).to_have_value("POLO-BLU-M")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert selected_whole(field)
    page.shot("not-on-the-order")
    scan(page, "5012345678900")  # replaces the refused code; lands, clears the mark
    expect(said).to_have_text("TEE-BLK-M: 2 returning. Say why on its line.")
    expect(field).to_have_value("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    scan(page, "5012345678900")
    expect(said).to_have_text("Only 2 of TEE-BLK-M can come back.")
    expect(field).to_have_value("5012345678900")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert selected_whole(field)
    expect(page.locator(f"#quantity-{tee_line.pk}")).to_have_value("2")
    seen_in_tab_order(page, f"#quantity-{tee_line.pk}", f"#reason-{tee_line.pk}")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("scanned")
    page.keyboard.press("Control+Enter")

    reason = page.locator(f"#reason-{tee_line.pk}")
    expect(reason).to_be_focused()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#quantity-{tee_line.pk}")).to_have_value("2")
    expect(page.locator(".order-line.invalid")).to_contain_text("Choose a reason.")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("reason-missing")
    page.keyboard.type("wrong s")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#return h1")).to_contain_text("Waiting for inspection")

    # The queue, while a colleague receives another return at the counter.
    page.goto("/store/returns/")
    # A person types once the screen is up with the focus in the search (autofocus
    # lands at the first frame, which may come a moment after "load").
    expect(page.get_by_label("Find the purchase")).to_be_focused()
    page.keyboard.type("Grace")  # typed, not yet searched for long
    from returns.services import Purchase, ReturnLineInput, return_receive_at_counter

    other = delivered_order(shop, "WEB-6002", lines=[(shop["polo"], 1)])
    received = return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=other),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["polo"], quantity=1, reason="defective")],
        actor=Actor.of_user(shop["bob"]),
    )
    expect(page.locator("#queue")).to_contain_text(received.reference, timeout=15_000)
    expect(page.get_by_label("Find the purchase")).to_have_value("Grace")
    expect(page.get_by_label("Find the purchase")).to_be_focused()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("queue-followed")

    api.post(
        "/api/v1/returns/",
        {
            "reference": "RMA-9",
            "channel": "web",
            "order": "WEB-6001",
            "location": "LON-OXF",
            "lines": [{"sku": "HOOD-GRE-L", "quantity": 1, "reason": "wrong_size"}],
        },
        format="json",
    )
    announced = Return.objects.get(reference="RMA-9")
    page.goto(f"/store/returns/{announced.pk}/")
    parcel = page.get_by_label("Units of HOOD-GRE-L in the parcel")
    expect(parcel).to_be_focused()
    axe_clean(page)
    no_sideways_scroll(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    page.keyboard.press("Enter")  # Enter alone sends nothing
    assert Return.objects.get(pk=announced.pk).status == "expected"
    page.keyboard.press("Control+Enter")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("1 unit not in the parcel")
    page.shot("short-parcel-asked")
    page.keyboard.press("Escape")
    assert Return.objects.get(pk=announced.pk).status == "expected"
