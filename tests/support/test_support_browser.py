"""Customer service in a real browser (Debian's Chromium driven by Playwright) with
the keyboard only: type what the customer says, Enter, read the story, and follow
it to the store's work; on a till PC and on a phone. Screenshots are saved under
test-output/screenshots/<test>/ for a person to look at."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_clean, no_sideways_scroll, sign_in
from tests.factories import delivered_order

from .conftest import rich_order


def tab_to(page, name: str, most: int = 60) -> None:
    """Tab until the focus is on the link or button whose text starts with
    ``name``: how a keyboard user reaches it."""
    for _ in range(most):
        page.keyboard.press("Tab")
        text = page.evaluate("(document.activeElement.innerText || '').trim()")
        if text.startswith(name):
            return
    raise AssertionError(f"{name!r} not reached in {most} Tab presses")


def read_the_story(page, order) -> None:
    expect(
        page.get_by_role("heading", name=re.compile("Order WEB-7001"))
    ).to_be_visible()
    story = page.locator("ol.story")
    for words in (
        "Placed through",
        "Routed to Oxford Street",
        "Short at picking: 1 × Tee black M",
        "Decided about the missing items",
        "substitute Polo blue M offered, customer accepted",
        "Cancelled 1 × Tee black M",
        "Ready to collect",
        "Collected by the customer",
        "Brought back at Oxford Street",
        "graded resellable",
        "Exception raised: item not found at picking",
        "Message to the customer",
    ):
        expect(story).to_contain_text(words)
    expect(story).not_to_contain_text("user:")
    expect(story).to_contain_text("By Alice")


@pytest.mark.django_db(transaction=True)
def test_an_agent_finds_an_order_by_email_and_follows_it_to_the_pickup(shop, till_pc):
    order = rich_order(shop)
    page = till_pc

    sign_in(page, "alice")
    page.goto("/store/support/")
    expect(page.get_by_role("heading", name="Find an order")).to_be_visible()
    expect(
        page.get_by_label("Order number, the customer's email or phone")
    ).to_be_focused()
    axe_clean(page)
    page.shot("find")

    page.keyboard.type("ADA.BYRON@example.com  ", delay=8)
    page.keyboard.press("Enter")
    read_the_story(page, order)
    axe_clean(page)
    page.shot("story")

    tab_to(page, "Pickup task at Oxford Street")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("WEB-7001"))).to_be_visible()
    assert re.search(rf"/store/tasks/{order.pickup_task.pk}/$", page.url)
    page.shot("pickup-task")


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_an_agent_searches_by_phone_and_chooses_among_orders(shop, phone):
    order = rich_order(shop)
    delivered_order(shop, reference="WEB-7002", name="Ada Byron")
    from orders.models import Order

    Order.objects.filter(reference="WEB-7002").update(customer_phone="+44 7700 900123")
    page = phone

    sign_in(page, "maria")
    page.goto("/store/support/")
    field = page.get_by_label("Order number, the customer's email or phone")
    expect(field).to_be_focused()
    page.keyboard.press("Enter")  # a stray Enter: a message, nothing found
    expect(page.locator("#q-result")).to_contain_text("Type an order number")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("empty-search")

    page.keyboard.type("WEB-0000", delay=8)
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name="No order matches “WEB-0000”")
    ).to_be_visible()
    no_sideways_scroll(page)
    page.shot("nothing-found")

    field.press("Control+a")
    page.keyboard.type("07700 900 123", delay=8)
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name="2 orders match “07700 900 123”")
    ).to_be_visible()
    expect(page.locator(".order-row")).to_have_count(2)
    expect(page.locator(".order-row").first).to_contain_text("Shipped")
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("two-orders")

    tab_to(page, "WEB-7001")
    page.keyboard.press("Enter")
    read_the_story(page, order)
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("story")

    tab_to(page, "Open return")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/store/returns/\d+/$"))
    page.go_back()
    tab_to(page, "Pickup task at Oxford Street")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("WEB-7001"))).to_be_visible()
    page.shot("pickup-task")


@pytest.mark.django_db(transaction=True)
def test_an_order_at_another_store_is_not_found(shop, phone):
    order = rich_order(shop)
    page = phone
    sign_in(page, "carol")
    response = page.goto(f"/store/support/orders/{order.pk}/")
    assert response.status == 404
    page.goto("/store/support/?q=WEB-7001")
    expect(
        page.get_by_role("heading", name="No order matches “WEB-7001”")
    ).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_an_agent_tells_a_pre_order_customer_when_the_delivery_comes(shop, phone):
    """A customer phones about a pre-order: the agent types the order number and
    reads, in words, what waits for which purchase order and when."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import LocationFactory, purchase_order
    from tests.support.test_pre_order_story import pre_order

    shop["tee"].future_promise_limit = 20
    shop["tee"].save()
    dc = LocationFactory(
        code="DC-NORTH", name="Northern DC", kind="distribution_centre"
    )
    purchase_order(
        shop["tee"], dc, 8, due=timezone.now() + timedelta(days=6), reference="PO-77"
    )
    pre_order(shop, dc, reference="WEB-PRE-9", quantity=3)
    page = phone

    sign_in(page, "maria")
    page.goto("/store/support/")
    expect(
        page.get_by_label("Order number, the customer's email or phone")
    ).to_be_focused()
    page.keyboard.type("WEB-PRE-9", delay=8)
    page.keyboard.press("Enter")

    expect(
        page.get_by_role("heading", name=re.compile("Order WEB-PRE-9"))
    ).to_be_visible()
    story = page.locator("ol.story")
    expect(story).to_contain_text("Pre-ordered 3 × Tee black M")
    expect(story).to_contain_text("PO-77")
    expect(page.locator("main")).to_contain_text("waiting for a delivery")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("pre-order-story")
