"""Every screen's frame in a real browser: the header on one line at a till PC's
1024 px and a phone's 390 px, the menu opened from the keyboard, and the question
asked before anything that cannot be undone (templates/base.html, static/js/screens.js)."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_clean, no_sideways_scroll, sign_in


def header_height(page) -> float:
    return page.evaluate(
        "document.querySelector('.topbar').getBoundingClientRect().height"
    )


@pytest.mark.django_db(transaction=True)
def test_a_manager_at_a_till_pc_has_every_screen_on_one_line(shop, till_pc):
    page = till_pc
    sign_in(page, "maria")
    page.shot("header")
    assert header_height(page) <= 60  # one line: it wrapped to two before
    no_sideways_scroll(page)
    axe_clean(page)

    # The screens a manager opens less often are one keypress away, under More.
    page.locator(".nav summary").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Channel sync")).to_be_visible()
    page.shot("more")
    page.get_by_role("link", name="Count accuracy").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/accuracy"))


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_header_is_one_line_and_the_menu_opens_from_the_keyboard(
    shop, phone
):
    page = phone
    sign_in(page, "alice")
    assert header_height(page) <= 60  # 173 px before
    no_sideways_scroll(page)
    expect(page.locator("#nav")).to_be_hidden()
    page.get_by_role("link", name="Menu").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Returns", exact=True)).to_be_visible()
    page.shot("menu")
    page.get_by_role("link", name="Returns", exact=True).focus()
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name="Returns", exact=False).first
    ).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()
    axe_clean(page)


@pytest.mark.django_db(transaction=True)
def test_what_cannot_be_undone_is_asked_first_and_a_stray_enter_goes_back(
    shop, till_pc
):
    page = till_pc
    sign_in(page, "alice")
    # Any form marked data-confirm; this one goes nowhere harmful (a search).
    page.evaluate(
        """() => {
        const form = document.createElement("form");
        form.method = "get"; form.action = "?asked=yes";
        form.dataset.confirm = "Cancel 2 units of TEE-BLK-M?";
        form.dataset.confirmYes = "Cancel 2 units";
        form.innerHTML = '<input type="hidden" name="asked" value="yes">'
          + '<button type="submit" class="danger">Cancel units</button>';
        document.querySelector("main").append(form);
        }"""
    )
    page.get_by_role("button", name="Cancel units").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Cancel 2 units of TEE-BLK-M?")
    page.shot("asked")
    page.keyboard.press("Enter")  # "Go back" has the focus
    expect(dialog).to_be_hidden()
    assert "asked=yes" not in page.url
    expect(page.get_by_role("button", name="Cancel units")).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert "asked=yes" not in page.url

    # Asked again at once after going back (the browser's close of the first
    # question may arrive after the second opened): the second answer counts.
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Cancel 2 units")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("asked=yes"))


@pytest.mark.django_db(transaction=True)
def test_a_scan_that_lands_on_a_button_goes_to_the_scan_field(shop, till_pc):
    """The focus is on "Release for someone else" when the scanner fires: the
    button is not pressed, the code is picked through the task's scan field."""
    from config.access import Actor
    from pickup import services as pickup
    from tests.factories import pickup_order, stock

    stock(shop["tee"], shop["oxford"], 2)
    task = pickup_order(shop, "WEB-4501", lines=[(shop["tee"], 2)]).pickup_task
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    page = till_pc
    sign_in(page, "alice")
    page.goto(f"/store/tasks/{task.pk}/")
    expect(page.locator("#scan")).to_be_focused()
    page.get_by_role("button", name="Release for someone else").focus()

    # The tee's barcode at a scanner's speed: the keys a few milliseconds apart, as
    # the page receives them (a loaded test machine spaces Playwright's own typing
    # too far apart to be a scanner), then Enter, all on the focused button.
    page.evaluate(
        """code => {
        const button = document.activeElement;
        for (const key of [...code, "Enter"]) {
          button.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true}));
        }
        }""",
        "5012345678900",
    )

    expect(page.locator("#scan-result")).to_contain_text("1 of 2 picked")
    expect(page.locator("#scan")).to_be_focused()
    task.refresh_from_db()
    assert task.claimed_by == shop["alice"]  # the button was not pressed
    page.shot("scan-from-a-button")
