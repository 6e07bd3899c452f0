"""The head of stores' morning in a real browser (Debian's Chromium, tablet size):
the dashboard's charts drawn from static files, a filter swapping the figures, a CSV
downloaded; then a reconciliation started and followed to its end on a real worker.
Screenshots under test-output/screenshots/<test>/."""

import re

import pytest
from playwright.sync_api import expect

from inventory.models import StockBalance
from tests.conftest import sign_in

DRAWN = (
    "Array.from(document.querySelectorAll('canvas[data-chart]'))"
    ".filter(c => Chart.getChart(c)).length"
)


def charts_drawn(page) -> int:
    # A function, not an expression: Playwright evaluates an expression with eval()
    # in the page, which its Content-Security-Policy refuses.
    page.wait_for_function(f"() => {DRAWN} === 5")
    return page.evaluate(DRAWN)


@pytest.mark.django_db(transaction=True)
def test_the_head_of_stores_reads_the_dashboard(month, tablet):
    page = tablet
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "maria")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#at-risk-count")).to_have_text("2")
    assert charts_drawn(page) == 5
    page.shot("dashboard")

    page.get_by_label("Location", exact=True).select_option("LON-CAM")
    expect(page.locator("#at-risk-count")).to_have_text("0")
    assert "location=LON-CAM" in page.url
    assert charts_drawn(page) == 5  # drawn again after the swap
    page.shot("camden")

    page.get_by_label("Location", exact=True).select_option("LON-OXF")
    expect(page.locator("#at-risk-count")).to_have_text("2")
    with page.expect_download() as download:
        page.locator("#figure-supply").get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("days_of_supply-")
    with open(download.value.path(), encoding="utf-8") as csv_file:
        assert "HOOD-GRE-L,LON-OXF,2,5,0.5,4.0,14.0,yes" in csv_file.read()
    here = page.url.split("/store/")[0]
    # Nothing loaded from anywhere but this server.
    assert [url for url in asked if not url.startswith((here, "data:"))] == []


@pytest.mark.django_db(transaction=True)
def test_the_manager_starts_a_run_and_watches_it_finish(
    shop, tablet, celery_worker, settings
):
    settings.RECONCILIATION_QUEUE = celery_worker
    from tests.factories import stock

    stock(shop["tee"], shop["oxford"], 3)
    StockBalance.objects.filter(sku=shop["tee"]).update(on_hand=5)
    page = tablet
    sign_in(page, "maria")
    page.get_by_role("link", name="Reconciliation", exact=True).click()
    expect(page.get_by_text("No run yet")).to_be_visible()
    page.shot("no-run-yet")
    page.get_by_role("button", name="Start a run now").click()
    expect(
        page.get_by_role("heading", name=re.compile("Reconciliation run"))
    ).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("Finished", timeout=30_000)
    expect(page.locator("#drift-found")).to_have_text("1")
    expect(page.locator("table.drift")).to_contain_text("TEE-BLK-M")
    page.shot("run-finished")
