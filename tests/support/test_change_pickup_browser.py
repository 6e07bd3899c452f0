"""Customer service moves a click-and-collect order to another store, with the
keyboard only (Debian's Chromium driven by Playwright, on a till PC): a store that
cannot have it ready is refused under the list, naming the stores that could; the
store the customer then picks takes it, and the story says so."""

import pytest
from playwright.sync_api import expect

from orders.models import Order
from pickup.models import PickupTask
from tests.conftest import axe_clean, no_sideways_scroll, sign_in
from tests.factories import LocationFactory, pickup_order, stock


def tab_to_field(page, field_id: str, most: int = 60) -> None:
    """Tab until the focus is on the field ``field_id``: how a keyboard user gets
    there."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == field_id:
            return
    raise AssertionError(f"#{field_id} not reached in {most} Tab presses")


def press_and_confirm(page) -> None:
    """Tab to the button, Enter; the question asked has "Go back" focused: Tab to
    the button that goes on, Enter."""
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Change pickup store")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Move order WEB-2001 to the store chosen?")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")


@pytest.mark.django_db(transaction=True)
def test_an_agent_moves_a_pickup_to_the_store_the_customer_asks_for(shop, till_pc):
    """Ada phones customer service (Maria, who sees every store): she would rather
    collect at King's Cross. King's Cross has no tee and no van runs there; the
    screen says Camden could have it ready, Ada takes Camden, and the story tells
    it."""
    LocationFactory(
        code="LON-KGX",
        name="King's Cross",
        latitude="51.530600",
        longitude="-0.123900",
        pickup_enabled=True,
    )
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    order = pickup_order(shop)
    page = till_pc

    sign_in(page, "maria")
    page.goto(f"/store/support/orders/{order.pk}/")
    expect(page.get_by_role("heading", name="Change pickup store")).to_be_visible()
    axe_clean(page)

    tab_to_field(page, "pickup_location")
    page.keyboard.type("King", delay=20)  # a closed list picks by its first letters
    expect(page.locator("#pickup_location")).to_have_value("LON-KGX")
    press_and_confirm(page)

    refused = page.locator("#pickup_location-error")
    expect(refused).to_contain_text("King's Cross cannot fill the order")
    expect(refused).to_contain_text("Stores that could have every item ready: Camden")
    field = page.locator("#pickup_location")
    expect(field).to_be_focused()
    expect(field).to_have_value("LON-KGX")  # what was chosen, kept
    expect(field).to_have_attribute("aria-invalid", "true")
    assert Order.objects.get(pk=order.pk).pickup_location == shop["oxford"]
    axe_clean(page)
    page.shot("refused")

    page.keyboard.type("Cam", delay=20)
    expect(field).to_have_value("LON-CAM")
    press_and_confirm(page)

    expect(page.locator(".flash.success")).to_contain_text(
        "Camden hands the order over now, ready by"
    )
    expect(page.locator(".support-facts")).to_contain_text("Pick up in store at Camden")
    story = page.locator("ol.story")
    expect(story).to_contain_text("Pickup store changed from Oxford Street to Camden")
    expect(story).to_contain_text("1 × Tee black M (TEE-BLK-M): 1 set aside at Camden")
    expect(story).to_contain_text("Routed to Oxford Street")
    expect(story).to_contain_text("Pick up in store at Oxford Street")  # as placed
    expect(story).to_contain_text("Message to the customer")
    assert PickupTask.objects.get(order=order).location == shop["camden"]
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("moved")
