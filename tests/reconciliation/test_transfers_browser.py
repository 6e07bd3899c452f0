"""The transfer proposals screen in a real browser (Debian's Chromium driven by
Playwright, at a tablet's size), by the keyboard alone: a manager edits a quantity and
approves, rejects with a reason, reads a refusal in words, and proposes again; every
step saved under test-output/screenshots/<test>/."""

import re

import pytest
from playwright.sync_api import expect

from config.access import Actor
from inventory.models import TransferRequest
from reconciliation.models import TransferProposal
from reconciliation.services import transfer_proposals_generate
from tests.conftest import axe_clean, sign_in_by_keyboard
from tests.factories import ChannelFactory, stock
from tests.reconciliation.test_transfer_proposals import lane, sold_a_day


def tab_to(page, target, limit: int = 40) -> None:
    """Press Tab, as a keyboard does, until ``target`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def retype(page, text: str) -> None:
    """Replace what the focused field holds, then Enter."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


@pytest.mark.django_db(transaction=True)
def test_a_manager_decides_the_nights_proposals_by_keyboard(shop, tablet):
    """The night proposed 12 black tees and 7 green hoodies from Oxford Street (which
    keeps 4 of each for walk-ins) to Camden, which runs out of both."""
    shop["oxford"].walk_in_buffer = 4
    shop["oxford"].save(update_fields=["walk_in_buffer"])
    ChannelFactory(code="tills", name="Tills", kind="store_pos")
    stock(shop["tee"], shop["oxford"], 100)
    stock(shop["tee"], shop["camden"], 2)
    stock(shop["hoodie"], shop["oxford"], 30)
    sold_a_day(shop["tee"], shop["oxford"], 1)
    sold_a_day(shop["tee"], shop["camden"], 2)
    sold_a_day(shop["hoodie"], shop["camden"], 1)
    lane(shop["oxford"], shop["camden"], cost="0.75")
    transfer_proposals_generate(actor=Actor.system("propose_transfers"))
    tee = TransferProposal.objects.get(sku=shop["tee"])
    page = tablet

    sign_in_by_keyboard(page, "maria")
    page.goto("/store/transfers/")
    expect(page.get_by_role("heading", name="Transfer proposals")).to_be_visible()
    tee_row = page.locator(f"#proposal-{tee.pk}")
    expect(tee_row).to_contain_text("12 short")
    expect(tee_row).to_contain_text("£9.00")
    # The most units saved first, its quantity where the keyboard starts.
    expect(tee_row.get_by_label("Units to send")).to_be_focused()
    axe_clean(page)
    page.shot("proposals")

    retype(page, "0")  # a slip: refused in words beside its row, nothing written
    alert = page.locator(f"#proposal-{tee.pk} [role=alert]")
    expect(alert).to_have_text("Approve between 1 and 1,000,000 units.")
    field = page.locator(f"#proposal-{tee.pk}").get_by_label("Units to send")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    page.shot("refused")
    assert not TransferRequest.objects.exists()

    retype(page, "10")  # edit the quantity and approve
    expect(page.get_by_role("status")).to_contain_text(
        "Approved: Oxford Street is asked to send 10 units of TEE-BLK-M to Camden"
    )
    decided = page.locator(f"#decided-{tee.pk}")
    expect(decided).to_contain_text("Requested")
    assert TransferRequest.objects.get().quantity == 10

    hoodie_row = page.locator("tr[id^=proposal-]").first
    expect(hoodie_row).to_contain_text("HOOD-GRE-L")
    expect(hoodie_row.get_by_label("Units to send")).to_be_focused()
    tab_to(page, hoodie_row.get_by_label("Why not"))
    page.keyboard.type("Season is over")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        "Rejected: HOOD-GRE-L stays at Oxford Street."
    )

    tab_to(page, page.get_by_role("button", name="Propose transfers now"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("2 transfers proposed")
    # Camden still needs 2 tees beyond the 10 on their way; the hoodies again.
    expect(page.locator("tr[id^=proposal-]")).to_have_count(2)
    expect(page.get_by_role("heading", name=re.compile("Waiting"))).to_contain_text(
        "(2)"
    )
    page.shot("proposed-again")
