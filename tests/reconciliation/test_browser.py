"""The exception queue and the blind count in a real browser (Debian's Chromium driven
by Playwright, tablet size); every step saved under test-output/screenshots/<test>/
for a person to look at."""

import re

import pytest
from playwright.sync_api import expect

from config.access import Actor
from inventory.models import MovementType
from reconciliation.models import ExceptionCase
from reconciliation.services.counts import count_task_start
from tests.conftest import sign_in
from tests.factories import ChannelFactory, StockEvents, balance_of, pickup_order, stock


@pytest.mark.django_db(transaction=True)
def test_the_manager_works_an_oversell_from_the_queue(shop, tablet):
    stock(shop["tee"], shop["oxford"], 1)
    pickup_order(shop)
    StockEvents.post(  # the till sold the tee the web shop had promised
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=1,
        channel=ChannelFactory(code="oxf-till", kind="store_pos"),
    )
    stock(shop["hoodie"], shop["camden"], 2)
    page = tablet

    sign_in(page, "maria")
    page.get_by_role("link", name="Exceptions", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Exceptions"))).to_be_visible()
    row = page.get_by_role("link", name=re.compile("TEE-BLK-M at LON-OXF"))
    expect(row).to_be_visible()
    page.shot("the-queue")

    page.get_by_label("Kind").select_option("count_variance")
    expect(page.locator("#exception-list")).to_contain_text("Nothing here")
    page.shot("filtered-to-nothing")
    page.get_by_label("Kind").select_option("oversell_conflict")
    expect(row).to_be_visible()
    assert "kind=oversell_conflict" in page.url  # the filter is in the address

    row.click()
    expect(
        page.get_by_role("heading", name=re.compile("Oversell conflict"))
    ).to_be_visible()
    page.get_by_label("Assign to").select_option(label="Alice")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned.")
    page.get_by_label("Comment").fill("Alice: one was behind the till")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".timeline")).to_contain_text("one was behind the till")

    page.get_by_label("Resolution").select_option("stock_adjusted")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the units to add")
    page.shot("adjustment-missing")
    page.get_by_label("Adjust on-hand by").fill("1")
    page.get_by_label("Note").fill("Found behind the till")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved.")
    expect(page.locator(".facts")).to_contain_text("+1 unit(s)")
    page.shot("resolved-with-adjustment")

    assert ExceptionCase.objects.get().status == "resolved"
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1


@pytest.mark.django_db(transaction=True)
def test_a_blind_count_by_scanning_then_a_recount(shop, tablet):
    stock(shop["tee"], shop["oxford"], 3)
    stock(shop["hoodie"], shop["oxford"], 1)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L"],
        note="Morning check",
        actor=Actor.of_user(shop["maria"]),
    )
    page = tablet

    sign_in(page, "alice")
    page.get_by_role("link", name="Counts", exact=True).click()
    page.get_by_role("link", name=re.compile(f"#{task.pk}")).click()
    expect(
        page.get_by_role("heading", name=re.compile(f"Count #{task.pk}"))
    ).to_be_visible()
    scan = page.get_by_label("Scan or type a barcode")
    for _ in range(3):  # a scanner types the barcode and presses Enter
        scan.fill("5012345678900")
        scan.press("Enter")
        expect(page.locator("#count-lines")).to_contain_text("counted.")
    expect(
        page.locator("#line-" + str(task.lines.get(sku=shop["tee"]).pk))
    ).to_contain_text("3")
    expect(scan).to_be_focused()
    scan.fill("0000000000")
    scan.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("not on this count")
    page.shot("scanned-three-tees")
    assert "records" not in page.content()  # blind: nothing says what the system holds

    page.get_by_role("button", name="Finish the count").click()
    expect(page.get_by_role("status").first).to_contain_text("count them once more")
    page.shot("recount-asked")
    page.get_by_label("Units of HOOD-GRE-L").fill("1")
    page.get_by_role("button", name="Set HOOD-GRE-L").click()
    expect(page.locator("#count-lines")).to_contain_text("HOOD-GRE-L: 1 counted.")
    page.get_by_role("button", name="Finish the count").click()
    expect(page.get_by_role("status").first).to_contain_text("Count done")
    page.shot("count-done")

    task.refresh_from_db()
    assert task.status == "done"
    assert balance_of(shop["hoodie"], shop["oxford"]).last_count_at is not None

    page.goto("/store/accuracy/")
    expect(page.locator(".ira-overall")).to_contain_text("100.0 %")
    page.shot("accuracy")
