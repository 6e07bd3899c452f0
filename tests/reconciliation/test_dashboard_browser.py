"""The head of stores' morning in a real browser (Debian's Chromium, at a till PC's
1024px and a phone's 390px, the keyboard only): the losses first, in money; a folded
figure opened and drawn from static files; a filter swapping the figures; a CSV
downloaded; then a reconciliation started and followed to its end on a real worker.
On a phone every bar of a chart is named and every table fits its box, on the
dashboard with its folds open, on sync health and on the runs.
Screenshots under test-output/screenshots/<test>/."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import MovementType, StockBalance
from sync.services import sync_health_check
from tests.conftest import axe_clean, go_to, no_sideways_scroll, sign_in
from tests.factories import ChannelFactory, LocationFactory, StaffFactory, StockEvents

DRAWN = (
    "Array.from(document.querySelectorAll('canvas'))"
    ".filter(c => Chart.getChart(c)).length"
)


def charts_drawn(page, expected: int) -> int:
    # A function, not an expression: Playwright evaluates an expression with eval()
    # in the page, which its Content-Security-Policy refuses.
    page.wait_for_function(f"() => {DRAWN} === {expected}")
    return page.evaluate(DRAWN)


# Each table's box that is wider inside than it shows: it would scroll sideways.
TABLES_TOO_WIDE = (
    "() => Array.from(document.querySelectorAll('.table-scroll'))"
    ".filter(box => box.offsetParent && box.scrollWidth > box.clientWidth)"
    ".map(box => `${box.getAttribute('aria-label')}: ${box.scrollWidth}px in "
    "${box.clientWidth}px`)"
)
# Each chart by store, reason or kind: its layout, and the labels its axis names.
CATEGORY_CHARTS = (
    "() => Array.from(document.querySelectorAll('canvas[data-layout]'))"
    ".filter(c => c.dataset.layout !== 'dates').map(c => {"
    " const chart = Chart.getChart(c);"
    " const axis = chart.scales[chart.options.indexAxis];"
    " return {chart: c.dataset.chart, layout: c.dataset.layout,"
    " labels: chart.data.labels.length, named: axis.ticks.length,"
    " fits: c.getBoundingClientRect().height <= c.parentElement.clientHeight + 1}; })"
)


def tables_fit(page) -> None:
    """Every table fits its box: nothing is cut off or scrolls sideways inside."""
    assert page.evaluate(TABLES_TOO_WIDE) == []


def tab_to(page, locator, presses: int = 60) -> None:
    """Tab until ``locator`` has the focus, as a keyboard user gets there."""
    for _ in range(presses):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


@pytest.fixture
def losses(month):
    """The month at Oxford Street, with costs and prices, and two hoodies damaged."""
    for sku, cost, price in (
        (month["tee"], "4.00", "10.00"),
        (month["hoodie"], "12.50", "30.00"),
    ):
        sku.cost, sku.price = Decimal(cost), Decimal(price)
        sku.save()
    StockEvents.post(
        MovementType.DAMAGE, sku=month["hoodie"], location=month["oxford"], quantity=2
    )
    return month


@pytest.mark.django_db(transaction=True)
def test_the_head_of_stores_reads_the_losses_first(losses, till_pc):
    page = till_pc
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "maria")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # The losses lead, in money: the two damaged hoodies at 12.50.
    expect(page.locator("#shrink-total")).to_contain_text("£25.00")
    expect(page.locator("#shrink-total")).to_contain_text("2 units at cost")
    # The tees oversold; the hoodies left, all damaged: sold out.
    expect(page.locator("#at-risk-count")).to_have_text("2")
    expect(page.locator("#table-at_risk")).to_contain_text("Oversold by 1")
    expect(page.locator("#table-at_risk")).to_contain_text("Sold out")
    assert charts_drawn(page, 1) == 1  # the folded figures draw when opened
    shrink_labels = page.evaluate(
        "() => Chart.getChart(document.querySelector('#figure-shrink canvas'))"
        ".data.labels"
    )
    assert "Oxford Street" in shrink_labels and "LON-OXF" not in shrink_labels
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 2600, f"{height}px tall"
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("losses-first")

    # A folded figure opens from the keyboard and draws its chart, dates in words.
    tab_to(page, page.locator("#figure-accuracy summary"))
    page.keyboard.press("Enter")
    assert charts_drawn(page, 2) == 2
    labels = page.evaluate(
        "() => Chart.getChart(document.querySelector('#figure-accuracy canvas'))"
        ".data.labels"
    )
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", labels[0]), labels[0]
    page.shot("accuracy-opened")

    # Sell-through is counted only when its fold is opened: then it is drawn too.
    tab_to(page, page.locator("#figure-sell-through summary"))
    page.keyboard.press("Enter")
    expect(page.locator("#figure-sell-through table")).to_be_visible()
    assert charts_drawn(page, 3) == 3
    page.shot("sell-through-opened")

    # Another store, from the keyboard: the figures swap, the URL follows.
    page.get_by_label("Location", exact=True).focus()
    page.keyboard.type("Camden")  # the stores by name, as people call them
    page.keyboard.press("Enter")
    expect(page.locator("#at-risk-count")).to_have_text("0")
    assert "location=LON-CAM" in page.url
    expect(page.locator("#shrink-total")).to_contain_text("£0.00")

    page.get_by_label("Location", exact=True).focus()
    page.keyboard.type("Oxford")
    page.keyboard.press("Enter")
    expect(page.locator("#at-risk-count")).to_have_text("2")
    link = page.get_by_role(
        "link", name="Download stock lost by location and reason (CSV)"
    )
    tab_to(page, link)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.startswith("shrink-")
    with open(download.value.path(), encoding="utf-8") as csv_file:
        assert "LON-OXF,Oxford Street,Store,Damaged,2,25.00,0" in csv_file.read()
    here = page.url.split("/store/")[0]
    # Nothing loaded from anywhere but this server.
    assert [url for url in asked if not url.startswith((here, "data:"))] == []


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_fits_a_phone(losses, phone):
    # Four stores: too many to name each bar under it at 390px.
    for code, name in (
        ("MAN-MKT", "Manchester Market Street"),
        ("BRS-CAB", "Bristol Cabot Circus"),
    ):
        LocationFactory(code=code, name=name)
    page = phone
    sign_in(page, "maria")
    page.goto("/store/dashboard/")
    expect(page.locator("#shrink-total")).to_contain_text("£25.00")
    assert charts_drawn(page, 1) == 1
    no_sideways_scroll(page)
    tables_fit(page)
    axe_clean(page)
    page.shot("phone-top")
    # One reason lost stock: the chart's colour is named under it.
    expect(page.locator("#figure-shrink .chart-legend")).to_have_text("Damaged")
    # At risk stacks: why comes under the SKU, in view, and no code breaks.
    why = page.locator("#table-at_risk td[data-label='Why']").first
    why.scroll_into_view_if_needed()
    expect(why).to_contain_text("Oversold by 1")
    box, sku = why.bounding_box(), page.locator("#table-at_risk td[data-label='SKU']")
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert sku.first.bounding_box()["y"] < box["y"]
    assert sku.first.bounding_box()["height"] < 36  # one line: "TEE-BLK-M"
    page.shot("phone-at-risk")
    # Every fold opened: each chart by store, reason or kind names every bar (they
    # lie across, the box grown to fit them) and every table fits its box.
    for fold, drawn in (
        ("accuracy", 2),
        ("exceptions", 3),
        ("cancellations", 4),
        ("conflicts", 5),
        ("sell-through", 6),
        ("supply", 6),
    ):
        tab_to(page, page.locator(f"#figure-{fold} summary"), presses=120)
        page.keyboard.press("Enter")
        expect(page.locator(f"#figure-{fold} table").first).to_be_visible()
        assert charts_drawn(page, drawn) == drawn
    charts = page.evaluate(CATEGORY_CHARTS)
    assert {chart["chart"] for chart in charts} == {
        "chart-shrink",
        "chart-exceptions",
        "chart-cancellations",
        "chart-sell_through",
    }
    for chart in charts:
        # Four stores leave each bar under 120px: across. Two kinds of case fit.
        assert chart["layout"] == ("across" if chart["labels"] > 2 else "upright")
        assert chart["named"] == chart["labels"], chart
        assert chart["fits"], chart
    stores = page.evaluate(
        "() => Chart.getChart(document.querySelector('#figure-cancellations canvas'))"
        ".data.labels"
    )
    assert len(stores) == 4
    no_sideways_scroll(page)
    tables_fit(page)
    page.locator("#figure-shrink").scroll_into_view_if_needed()
    page.shot("phone-shrink")
    page.locator("#figure-cancellations").scroll_into_view_if_needed()
    page.shot("phone-cancellations")
    page.locator("#figure-supply").scroll_into_view_if_needed()
    page.shot("phone-supply")


@pytest.mark.django_db(transaction=True)
def test_sync_health_and_the_runs_fit_a_phone_and_a_till_pc(shop, phone, till_pc):
    """Sync health's sources fit a till PC's 1024px (the "Refused" column was cut
    off); on a phone each source, run and snapshot is a card."""
    till = ChannelFactory(code="pos", name="Store tills", kind="store_pos")
    StockEvents.post(
        MovementType.SALE, sku=shop["tee"], location=shop["oxford"], quantity=1,
        channel=till, occurred_at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    StockEvents.post(
        MovementType.RECEIPT, sku=shop["tee"], location=shop["oxford"], quantity=4,
        channel=ChannelFactory(code="wms", name="Warehouse system", kind="back_office"),
    )  # fmt: skip
    sync_health_check()
    StaffFactory.at(username="morgan", manager=True)
    for page, size in ((till_pc, "till-pc"), (phone, "phone")):
        sign_in(page, "morgan")
        page.goto("/store/sync/")
        expect(page.locator("tr.source-pos")).to_contain_text("Store tills")
        no_sideways_scroll(page)
        tables_fit(page)
        axe_clean(page)
        page.shot(f"sync-{size}")
        page.goto("/store/reconciliation/")
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()
        no_sideways_scroll(page)
        tables_fit(page)
        page.shot(f"runs-{size}")


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
    go_to(page, "Reconciliation")
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
