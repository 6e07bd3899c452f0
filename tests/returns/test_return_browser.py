"""The returns counter and inspection bench in a real browser (Debian's Chromium
driven by Playwright, tablet size); every step saved under
test-output/screenshots/<test>/ for a person to look at."""

import re

import pytest
from playwright.sync_api import expect

from config.access import Actor
from returns.models import Return
from tests.conftest import sign_in
from tests.factories import balance_of, delivered_order


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
    page.get_by_role("link", name="Returns", exact=True).click()
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
    page.get_by_role("link", name="Returns insight").click()
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
