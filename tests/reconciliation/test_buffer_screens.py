"""The manager's velocity buffers screen: a channel's recompute previewed (units kept
back from online before and after, the SKUs that would newly show zero online, the
buffers that would move, worst first), then applied with "Recompute now"; in a real
browser by the keyboard alone, with screenshots under
test-output/screenshots/<test>/. Store staff never see it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import MovementType, VelocityBuffer
from tests.conftest import axe_clean, no_sideways_scroll, sign_in_by_keyboard
from tests.factories import ChannelFactory, StockEvents, stock
from tests.reconciliation.test_browser import tab_to

BUFFERS = "/store/buffers/"


@pytest.fixture
def fast_tee_slow_hoodie(shop, settings):
    """Over ten days the web shop (its own buffer 1, velocity policy) sold 50 tees at
    Oxford Street: 5 a day, the top tier (3 kept back), and 2 are left. Its 4 hoodies
    there sold nothing online (the slow tier: none kept back). The marketplace keeps
    a fixed buffer."""
    settings.SALES_RATE_DAYS = 10
    web = shop["web"]
    web.name, web.safety_buffer, web.buffer_policy = "Web shop", 1, "velocity"
    web.save()
    ChannelFactory(code="mkt", name="Marketplace", kind="marketplace", safety_buffer=2)
    stock(shop["tee"], shop["oxford"], 52)
    StockEvents.post(
        MovementType.SALE, sku=shop["tee"], location=shop["oxford"], quantity=50,
        channel=web, occurred_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    stock(shop["hoodie"], shop["oxford"], 4)
    return shop


def test_the_manager_previews_a_recompute_then_applies_it(client, fast_tee_slow_hoodie):
    client.force_login(fast_tee_slow_hoodie["maria"])

    listing = client.get(BUFFERS).content.decode()
    assert f'href="{BUFFERS}web/"' in listing and "Marketplace" in listing
    assert f'href="{BUFFERS}mkt/"' not in listing  # fixed: nothing to preview

    page = client.get(f"{BUFFERS}web/").content.decode()
    # Now 1 + 1 kept back; after, 2 of the tee's 3 (all it has) and none of hoodies.
    assert re.search(r"<strong>2</strong> now, <strong>2</strong> after", page)
    assert re.search(
        r'id="newly-zero"><strong>1</strong>: <code>TEE-BLK-M</code>', page
    )
    assert "(1 raised, 1 lowered)" in page
    assert page.index("TEE-BLK-M</span>") < page.index("HOOD-GRE-L</span>")
    assert VelocityBuffer.objects.count() == 0

    answer = client.post(f"{BUFFERS}web/recompute/", follow=True)
    said = answer.content.decode()
    assert "Recomputed Web shop&#x27;s buffers at 2 SKU-locations: 2 changed " in said
    assert "Nothing would move" in said
    assert VelocityBuffer.objects.count() == 2


def test_a_fixed_channel_is_explained_not_recomputed(client, fast_tee_slow_hoodie):
    client.force_login(fast_tee_slow_hoodie["maria"])
    page = client.get(f"{BUFFERS}mkt/").content.decode()
    assert "keeps a fixed buffer" in page and "Recompute now" not in page
    answer = client.post(f"{BUFFERS}mkt/recompute/", follow=True)
    assert "keeps a fixed buffer" in answer.content.decode()
    assert client.get(f"{BUFFERS}nope/").status_code == 404
    assert VelocityBuffer.objects.count() == 0


def test_store_staff_never_see_the_buffers(client, fast_tee_slow_hoodie):
    client.force_login(fast_tee_slow_hoodie["alice"])
    assert client.get(BUFFERS).status_code == 404
    assert client.get(f"{BUFFERS}web/").status_code == 404
    assert client.post(f"{BUFFERS}web/recompute/").status_code == 404
    assert VelocityBuffer.objects.count() == 0
    assert "Velocity buffers" not in client.get("/store/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_manager_recomputes_by_keyboard(tablet, fast_tee_slow_hoodie):
    page = tablet
    sign_in_by_keyboard(page, "maria")
    nav = page.get_by_role("navigation", name="Screens")
    menu = page.get_by_role("link", name="Menu", exact=True)
    if menu.is_visible():  # an upright tablet: the links are behind "Menu"
        tab_to(page, menu)
        page.keyboard.press("Enter")
    more = nav.get_by_text("More", exact=True)
    tab_to(page, more)
    page.keyboard.press("Enter")
    tab_to(page, nav.get_by_role("link", name="Velocity buffers"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Velocity buffers")).to_be_visible()
    page.shot("channels")
    axe_clean(page)
    no_sideways_scroll(page)

    tab_to(page, page.get_by_role("link", name="Web shop"))
    page.keyboard.press("Enter")
    expect(page.locator("#newly-zero")).to_contain_text("TEE-BLK-M")
    expect(page.locator("#held-back")).to_have_text("2 now, 2 after")
    page.shot("preview")
    axe_clean(page)
    no_sideways_scroll(page)

    tab_to(page, page.get_by_role("button", name="Recompute now"))
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("2 would move")
    page.shot("asked")
    page.keyboard.press("Tab")  # from "Go back" to "Recompute now"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        "Recomputed Web shop's buffers at 2 SKU-locations: 2 changed"
    )
    expect(page.get_by_text("Nothing would move")).to_be_visible()
    page.shot("applied")
    axe_clean(page)
    assert VelocityBuffer.objects.count() == 2
