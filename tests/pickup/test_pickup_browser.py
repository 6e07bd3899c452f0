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
from tests.conftest import (
    axe_clean,
    no_sideways_scroll,
    scan,
    sign_in,
    sign_in_by_keyboard,
)
from tests.factories import SkuFactory, balance_of, pickup_order, stock


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
    expect(page.locator("#result-start")).to_have_text("Claimed: it is yours to pick.")
    page.get_by_role("button", name="Start picking").click()
    expect(page.get_by_label("Scan an item")).to_be_focused()
    page.shot("picking")

    scan(page, "5012345678900")  # the tee's barcode
    expect(page.locator("#scan-result")).to_have_text("Tee black M: 1 of 1 picked.")
    scan(page, "HOOD-GRE-L")
    expect(page.get_by_label("Hold shelf or bin")).to_be_focused()
    expect(page.locator("#result-ready")).to_have_text("Hoodie green L: 1 of 1 picked.")
    page.shot("picked")

    page.keyboard.type("B3")
    page.keyboard.press("Enter")
    expect(page.locator("#result-hand-over")).to_have_text(
        "Ready: the customer has been told."
    )
    page.shot("ready")

    page.keyboard.type("999999" if task.collection_code != "999999" else "111111")
    page.keyboard.press("Enter")
    expect(page.locator("#result-hand-over")).to_have_text(
        "This code does not match the order's."
    )
    page.shot("wrong-code")
    page.keyboard.type(task.collection_code)  # replaces the wrong code, selected
    page.keyboard.press("Enter")
    expect(page.locator("#result-close")).to_have_text("Handed over.")
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")
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
    page.get_by_text("Report an item not found or damaged").click()
    page.get_by_label("Not found").check()
    page.shot("reporting")
    page.get_by_role("button", name="Report").click()
    expect(
        page.get_by_role("heading", name=re.compile("1 × Tee black M not found"))
    ).to_be_focused()
    page.shot("problem")

    page.get_by_role("button", name="Ask for a transfer").click()
    expect(page.get_by_text("Choose the branch to ask.")).to_be_visible()
    page.get_by_label(re.compile("Camden")).check()
    page.get_by_role("button", name="Ask for a transfer").click()
    expect(
        page.get_by_text("Waiting for a transfer from another branch.")
    ).to_be_visible()
    expect(page.locator("#result-none")).to_have_text(
        "Transfer requested from the other branch."
    )
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

    sign_in_by_keyboard(page, "maria")

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
    expect(page.get_by_role("button", name="Claim this order")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#result-start")).to_have_text("Claimed: it is yours to pick.")
    expect(page.get_by_role("button", name="Start picking")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan an item")).to_be_focused()
    scan(page, "5012345678900")  # the scanner: the tee's barcode, then Enter
    expect(page.locator("#result-ready")).to_have_text("Tee black M: 1 of 1 picked.")
    page.shot("picked-by-keyboard")

    assert refused == []


def status_of(page) -> str:
    return page.locator("#scan-result").inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_whole_pickup_on_a_phone_with_the_keyboard_and_a_scanner_only(shop, phone):
    """Claim, start, pick every line through the one scan field (a line of two
    scanned twice, at a scanner's speed), a wrong code kept under its message, a
    stray Enter that picks nothing, one unit not found, a substitute suggested from
    the same product and chosen with the keyboard, ready on a hold shelf, handed over
    on the collection code. No mouse; axe-core and the phone's width at every step."""
    oxford = shop["oxford"]
    polo = shop["polo"]
    polo_large = SkuFactory(
        code="POLO-BLU-L", name="Polo blue L", product=polo.product,
        barcode="4006381333931",
    )  # fmt: skip
    stock(shop["tee"], oxford, 3)
    stock(shop["hoodie"], oxford, 1)
    stock(polo, oxford, 1)
    stock(polo_large, oxford, 2)
    order = pickup_order(
        shop,
        "WEB-6001",
        lines=[(shop["tee"], 2), (shop["hoodie"], 1), (polo, 1)],
        name="Grace Hopper",
    )
    task = order.pickup_task
    page = phone

    sign_in_by_keyboard(page, "alice")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("queue")

    tab_to(page, "WEB-6001")
    page.keyboard.press("Enter")
    claim = page.get_by_role("button", name="Claim this order")
    expect(claim).to_be_focused()  # the next thing to do has the focus
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("task-new")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Start picking")).to_be_focused()
    expect(page.locator("#result-start")).to_have_text("Claimed: it is yours to pick.")
    page.keyboard.press("Enter")
    field = page.get_by_label("Scan an item")
    expect(field).to_be_focused()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("picking")

    # Three scans at a scanner's speed, one after the other: all land, in order.
    scan(page, "5012345678900")
    scan(page, "TEE-BLK-M")
    scan(page, "HOOD-GRE-L")
    expect(page.locator("#scan-result")).to_have_text("Hoodie green L: 1 of 1 picked.")
    expect(field).to_be_focused()
    lines = {line.sku.code: line for line in order.lines.select_related("sku")}
    for line in lines.values():
        line.refresh_from_db()
    assert [lines[code].picked_quantity for code in ("TEE-BLK-M", "HOOD-GRE-L")] == [
        2,
        2 - 1,
    ]
    expect(page.get_by_text("2 of 2", exact=False).first).to_be_visible()
    page.shot("picked-three")

    # A stray Enter on the empty field: nothing is sent, nothing picked.
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    expect(page.locator("#scan-result")).to_have_text("Hoodie green L: 1 of 1 picked.")
    assert order.lines.get(sku=polo).picked_quantity == 0

    # A code that is not on the order: the message under the field, the code kept
    # in it, selected, so the next scan replaces it.
    scan(page, "NOPE-123")
    expect(page.locator("#scan-result")).to_have_text(
        "NOPE-123 is not on this order: check the item."
    )
    expect(page.locator("#scan-result")).to_have_class(re.compile("error"))
    expect(field).to_have_value("NOPE-123")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.selectionStart === 0 && f.selectionEnd === f.value.length; }"
    )
    axe_clean(page)
    page.shot("wrong-code")

    # The polo is not on the shelf: reported from right under the scan field.
    page.keyboard.press("Tab")
    expect(page.get_by_text("Report an item not found or damaged")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Item", exact=True)).to_be_focused()
    expect(page.get_by_label("Item", exact=True)).to_contain_text("Polo blue M")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Not found")).to_be_focused()
    expect(page.get_by_label("Not found")).to_be_checked()
    no_sideways_scroll(page)
    page.shot("reporting")
    tab_to(page, "Report$")
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name=re.compile("1 × Polo blue M not found"))
    expect(heading).to_be_focused()
    expect(page.locator("#result-problem")).to_have_text(
        "Recorded. Decide what the customer gets below."
    )
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("problem")
    listed = page.context.new_page()  # the problems list, as a manager's tab shows it
    listed.goto("/store/problems/")
    order_link = listed.get_by_role("link", name="WEB-6001")
    expect(order_link).to_be_visible()
    assert order_link.bounding_box()["height"] >= 44  # a finger's target
    axe_clean(listed)
    no_sideways_scroll(listed)
    listed.close()

    # Record without choosing: a plain message, over the choices, on the screen.
    tab_to(page, "Record the answer")
    page.keyboard.press("Enter")
    refusal = page.locator(f"#sub-{task.problems.get().pk}-choices-error")
    expect(refusal).to_have_text("Choose a substitute.")
    expect(refusal).to_be_in_viewport()
    suggested = page.get_by_label(re.compile("Polo blue L"))
    expect(suggested).to_be_focused()  # the first choice, to pick one
    page.keyboard.press("Space")
    expect(suggested).to_be_checked()
    tab_to(page, "Accepted")
    page.keyboard.press("Space")
    page.shot("substitute-chosen")
    tab_to(page, "Record the answer")
    page.keyboard.press("Enter")

    # The substitute joins the order: back to the scan field, to pick it.
    expect(field).to_be_focused()
    expect(page.locator("#scan-result")).to_have_text("Substitute recorded.")
    scan(page, "4006381333931")
    hold = page.get_by_label("Hold shelf or bin")
    expect(hold).to_be_focused()
    expect(page.locator("#result-ready")).to_have_text("Polo blue L: 1 of 1 picked.")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("picked")

    page.keyboard.press("Enter")  # a stray Enter on the empty shelf: nothing
    page.wait_for_timeout(300)
    expect(hold).to_be_focused()
    page.keyboard.type("B3")
    page.keyboard.press("Enter")
    code = page.get_by_label("Collection code")
    expect(code).to_be_focused()
    expect(page.locator("#result-hand-over")).to_have_text(
        "Ready: the customer has been told."
    )
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("ready")

    # The refusal's answer settles slowly here (as on a loaded tablet): the right code
    # scanned at once still replaces the refused one in the full (six-digit) field.
    page.evaluate("() => { htmx.config.defaultSettleDelay = 1500; }")
    page.keyboard.type("000000" if task.collection_code != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(page.locator("#result-hand-over")).to_have_text(
        "This code does not match the order's."
    )
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_be_focused()
    page.keyboard.type(task.collection_code)
    expect(code).to_have_value(task.collection_code)
    page.wait_for_function("() => !document.querySelector('.htmx-settling')")
    page.evaluate("() => { htmx.config.defaultSettleDelay = 20; }")
    expect(code).to_have_value(task.collection_code)
    page.keyboard.press("Enter")
    expect(page.locator("#result-close")).to_have_text("Handed over.")
    close = page.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    expect(close).to_have_accessible_description(
        "Everything is handed over: close the order's task."
    )
    page.shot("handed-over")

    task.refresh_from_db()
    assert task.status == PickupTask.Status.COLLECTED
    assert task.hold_slot == "B3"
    assert balance_of(polo_large, oxford).on_hand == 1
    assert balance_of(polo, oxford).on_hand == 0  # the unit not found

    page.goto("/store/problems/")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("problems")


@pytest.mark.django_db(transaction=True)
def test_at_the_till_the_task_follows_others_and_cancelling_asks_first(shop, till_pc):
    """A poll brings what others changed without touching a scan being typed; the
    units not found are cancelled only once the dialog is answered Yes."""
    from orders.models import Order

    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["hoodie"], shop["oxford"], 1)
    order = pickup_order(
        shop, "WEB-6101", lines=[(shop["tee"], 1), (shop["hoodie"], 1)]
    )
    page = till_pc
    sign_in(page, "bob")
    page.goto(f"/store/tasks/{order.pickup_task.pk}/")
    expect(page.get_by_role("button", name="Claim this order")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Start picking")).to_be_focused()
    page.keyboard.press("Enter")
    field = page.get_by_label("Scan an item")
    expect(field).to_be_focused()
    axe_clean(page)

    # Half a scan typed when the screen refreshes: it stays, focus and all.
    page.keyboard.type("TEE-BL", delay=8)
    Order.objects.filter(pk=order.pk).update(customer_phone="020 7946 0000")
    expect(page.get_by_text("020 7946 0000")).to_be_visible(timeout=12_000)
    expect(field).to_have_value("TEE-BL")
    expect(field).to_be_focused()
    page.keyboard.type("K-M", delay=8)
    page.keyboard.press("Enter")
    expect(page.locator("#scan-result")).to_have_text("Tee black M: 1 of 1 picked.")
    page.shot("followed")

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Report an item not found or damaged
    tab_to(page, "Report$")
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name=re.compile("1 × Hoodie green L not found"))
    ).to_be_focused()
    axe_clean(page)

    tab_to(page, "Cancel 1 unit")
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Cancel 1 × Hoodie green L and email the customer")
    page.shot("asked")
    page.keyboard.press("Escape")  # go back: nothing cancelled
    expect(dialog).to_be_hidden()
    assert order.lines.get(sku=shop["hoodie"]).cancelled_quantity == 0
    expect(page.get_by_role("button", name="Cancel 1 unit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Hold shelf or bin")).to_be_focused()
    expect(page.locator("#result-ready")).to_have_text(
        "Cancelled; the customer has been told."
    )
    assert order.lines.get(sku=shop["hoodie"]).cancelled_quantity == 1
    axe_clean(page)
    page.shot("cancelled")


@pytest.mark.django_db(transaction=True)
def test_a_picker_sees_a_kits_parts_go_together_and_picks_them_by_scans(shop, tablet):
    """A lounge set (a tee and a hoodie, sold as one): its parts are picked like any
    items, each labelled as part of the set, by the keyboard and the scanner."""
    from tests.factories import kit

    lounge = kit("LOUNGE-SET", (shop["tee"], 1), (shop["hoodie"], 1))
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["hoodie"], shop["oxford"], 1)
    task = pickup_order(shop, "WEB-5301", lines=[(lounge, 1)]).pickup_task
    page = tablet

    sign_in_by_keyboard(page, "alice")
    page.goto(f"/store/tasks/{task.pk}/")
    expect(page.get_by_role("button", name="Claim this order")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#result-start")).to_have_text("Claimed: it is yours to pick.")
    page.get_by_role("button", name="Start picking").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan an item")).to_be_focused()
    parts = page.locator(".kit-part")
    expect(parts).to_have_count(2)
    expect(parts.first).to_have_text("part of LOUNGE-SET")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("kit-parts")

    scan(page, "5012345678900")  # the tee's barcode
    expect(page.locator("#scan-result")).to_have_text("Tee black M: 1 of 1 picked.")
    scan(page, "HOOD-GRE-L")
    expect(page.get_by_label("Hold shelf or bin")).to_be_focused()
    page.shot("kit-picked")
    assert balance_of(shop["tee"], shop["oxford"]).picked == 1
    assert balance_of(shop["hoodie"], shop["oxford"]).picked == 1
