"""The head of stores sees what is coming before reordering: Oxford Street's purchase
orders by the day they are due, a transfer on the road from Camden, a notice that came
without a date; a purchase order that is late, part of it in, with customers waiting on
it; and the pre-orders each supply carries, with the ones no supply covers any more
sent to the queue. Each store's staff see their own stores only, every table
downloads as CSV, and the figures cost the same few statements however many supplies
there are."""

import csv
import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import MovementType, Supply, SupplyPromise
from reconciliation.supply_dashboard import incoming_by_date, late_supply, preorders
from tests.conftest import axe_clean, no_sideways_scroll, sign_in_by_keyboard
from tests.factories import SkuFactory, StockEvents, purchase_order, stock

DASHBOARD = "/store/dashboard/"
ORDER_LINE = SupplyPromise.Owner.ORDER_LINE
HOLD_LINE = SupplyPromise.Owner.RESERVATION_LINE


def day(offset: int):
    """A day from today, as the dashboard names it (the local date)."""
    return timezone.localdate() + timedelta(days=offset)


def due(offset: int) -> datetime:
    """Midday of a day from today: no boundary of a day in sight."""
    return datetime.combine(
        day(offset), time(12), tzinfo=timezone.get_current_timezone()
    )


def transfer(shop, sku, units, *, arrives: int, reference: str) -> Supply:
    """Units sent from Camden to Oxford Street, due in ``arrives`` days: the ledger's
    transfer out announces them as supply at Oxford Street."""
    stock(sku, shop["camden"], units)
    sent = StockEvents.post(
        MovementType.TRANSFER_OUT,
        sku=sku,
        location=shop["camden"],
        other_location=shop["oxford"],
        quantity=units,
        reference=reference,
        expected_at=due(arrives),
    )
    return Supply.objects.get(movement=sent.movement)


def undated(sku, place, units, reference: str) -> Supply:
    """An advance notice sent without a date, as the old feeds still send them: it
    is counted as incoming and never promised."""
    supply = purchase_order(sku, place, units, due=due(30), reference=reference)
    Supply.objects.filter(pk=supply.pk).update(expected_at=None)
    return supply


def gone_late(supply: Supply, *, days: int, received: int = 0) -> None:
    """The days pass and the date is missed (``received`` units came in the
    meantime): a read test moves the record, the ledger's receipts are the lead's."""
    Supply.objects.filter(pk=supply.pk).update(
        expected_at=due(-days), received=received
    )


def promise(supply, owner_kind, owner_id, units, *, hours_ago=1, status="open"):
    """Units of a pre-order or back-order promised against ``supply``."""
    return SupplyPromise.objects.create(
        supply=supply if status != SupplyPromise.Status.UNSUPPLIED else None,
        channel=supply.channel,
        sku=supply.sku,
        location=supply.location,
        owner_kind=owner_kind,
        owner_id=owner_id,
        units=units,
        status=status,
        promised_at=timezone.now() - timedelta(hours=hours_ago),
        expected_at=supply.expected_at,
    )


@pytest.fixture
def coming(shop):
    """At Oxford Street: PO-100 (12 tees, 4 hoodies) and PO-101 (6 polos) due in 3
    days, 2 hoodies on the road from Camden due tomorrow, a PO already received; at
    Camden, 5 tees announced without a date."""
    oxford = shop["oxford"]
    po100 = purchase_order(shop["tee"], oxford, 12, due=due(3), reference="PO-100")
    purchase_order(shop["hoodie"], oxford, 4, due=due(3), reference="PO-100")
    purchase_order(shop["polo"], oxford, 6, due=due(3), reference="PO-101")
    road = transfer(shop, shop["hoodie"], 2, arrives=1, reference="TR-7")
    done = purchase_order(shop["tee"], oxford, 3, due=due(2), reference="PO-99")
    Supply.objects.filter(pk=done.pk).update(status=Supply.Status.RECEIVED, received=3)
    undated(shop["tee"], shop["camden"], 5, "PO-200")
    return {**shop, "po100": po100, "road": road}


def page(client, user, **query):
    client.force_login(user)
    answer = client.get(DASHBOARD, query)
    assert answer.status_code == 200
    return answer.context["tables"], answer.content.decode()


def test_incoming_reads_by_day_and_location_soonest_first(coming, client):
    tables, html = page(client, coming["maria"])

    assert [
        (r["expected"], r["location"], r["units"], r["skus"], r["coming"])
        for r in tables["incoming"].rows
    ] == [
        (day(1), "LON-OXF", 2, 1, "Transfer TR-7 from Camden"),
        (day(3), "LON-OXF", 22, 3, "PO-100, PO-101"),
        ("undated", "LON-CAM", 5, 1, "PO-200"),
    ]
    assert "Incoming by expected date" in html
    assert "<caption" in html
    assert '<td data-label="Expected">undated</td>' in html
    # Nothing late, nothing pre-ordered: those sections stay out of the way.
    assert "Late supply" not in html
    assert "Pre-orders waiting for supply" not in html


def test_a_store_sees_its_own_incoming_and_nothing_is_a_line(coming, client):
    camden, _ = page(client, coming["carol"])
    assert [r["location"] for r in camden["incoming"].rows] == ["LON-CAM"]
    oxford, _ = page(client, coming["maria"], location="LON-OXF")
    assert {r["location"] for r in oxford["incoming"].rows} == {"LON-OXF"}

    Supply.objects.update(status=Supply.Status.CALLED_OFF)
    tables, html = page(client, coming["maria"], location="LON-CAM")
    assert tables["incoming"].rows == []
    assert "Nothing incoming at Camden" in html


def test_late_supply_says_how_late_and_who_waits(coming, client):
    gone_late(coming["po100"], days=3, received=4)  # 8 tees still to come
    promise(coming["po100"], ORDER_LINE, 501, 2)
    promise(coming["po100"], HOLD_LINE, 77, 1)
    released = promise(coming["po100"], ORDER_LINE, 502, 5)
    released.status = SupplyPromise.Status.RELEASED
    released.save()

    tables, html = page(client, coming["maria"])
    (late,) = tables["late_supply"].rows
    assert (
        late["supply"],
        late["sku"],
        late["location"],
        late["expected"],
        late["days_late"],
        late["units"],
        late["preordered"],
    ) == ("PO-100", "TEE-BLK-M", "LON-OXF", day(-3), 3, 8, 3)
    assert '<td data-label="Days late">3</td>' in html
    # A late supply is under Late supply, not counted again as incoming.
    assert [r["units"] for r in tables["incoming"].rows[:2]] == [2, 10]
    # Camden's staff have nothing late.
    camden, html = page(client, coming["carol"])
    assert camden["late_supply"].rows == []
    assert "Late supply" not in html


def test_preorders_per_supply_and_the_units_no_supply_covers(coming, client):
    po100, road = coming["po100"], coming["road"]
    promise(po100, ORDER_LINE, 501, 2, hours_ago=30)
    promise(po100, ORDER_LINE, 501, 1, hours_ago=5)  # the same line, split
    promise(po100, ORDER_LINE, 502, 3, hours_ago=2)
    promise(po100, HOLD_LINE, 77, 1, hours_ago=1)
    promise(road, HOLD_LINE, 78, 2)
    landed = promise(road, ORDER_LINE, 503, 9)
    landed.status = SupplyPromise.Status.LANDED
    landed.save()

    an_hour_ago = timezone.localdate(timezone.now() - timedelta(hours=1))
    tables, html = page(client, coming["maria"])
    assert [
        (
            r["supply"],
            r["sku"],
            r["expected"],
            r["units"],
            r["promised"],
            r["order_lines"],
            r["holds"],
            r["first"],
        )
        for r in tables["preorders"].rows
    ] == [
        ("Transfer TR-7 from Camden", "HOOD-GRE-L", day(1), 2, 2, 0, 1, an_hour_ago),
        (
            "PO-100",
            "TEE-BLK-M",
            day(3),
            12,
            7,
            2,
            1,
            timezone.localdate(timezone.now() - timedelta(hours=30)),
        ),
    ]
    assert "Pre-orders waiting for supply" in html
    assert "preorders-unsupplied" not in html

    promise(po100, ORDER_LINE, 504, 4, status=SupplyPromise.Status.UNSUPPLIED)
    _, html = page(client, coming["maria"])
    assert "4 pre-ordered units, on 1 line, have no supply to come from" in html
    assert "/store/exceptions/?kind=supply_delayed" in html
    # Camden's staff: nothing pre-ordered there, no section.
    _, html = page(client, coming["carol"])
    assert "Pre-orders waiting for supply" not in html


def test_the_supply_tables_download_as_csv(coming, client):
    gone_late(coming["po100"], days=2)
    promise(coming["po100"], ORDER_LINE, 501, 2)
    client.force_login(coming["maria"])

    def export(name):
        answer = client.get(DASHBOARD, {"export": name})
        assert answer.status_code == 200
        return list(csv.reader(io.StringIO(answer.content.decode())))

    assert export("incoming") == [
        ["Expected", "Location", "Location name", "Units due", "SKUs",
         "Purchase orders and transfers"],
        [str(day(1)), "LON-OXF", "Oxford Street", "2", "1", "Transfer TR-7 from Camden"],
        [str(day(3)), "LON-OXF", "Oxford Street", "10", "2", "PO-100, PO-101"],
        ["undated", "LON-CAM", "Camden", "5", "1", "PO-200"],
    ]  # fmt: skip
    late = export("late_supply")
    assert late[0][:3] == ["Supply", "SKU", "Location"]
    assert late[1] == [
        "PO-100", "TEE-BLK-M", "LON-OXF", "Oxford Street", str(day(-2)), "2", "12", "2",
    ]  # fmt: skip
    assert [line[0] for line in export("preorders")] == ["Supply", "PO-100"]


@pytest.mark.sqlite_too
def test_the_figures_cost_the_same_however_many_supplies(coming):
    """One grouped query each, its count for the screen, the references of the rows
    shown, the units no supply covers: never one per supply."""
    places = [coming["oxford"], coming["camden"]]

    def statements():
        with CaptureQueriesContext(connection) as run:
            incoming_by_date(locations=places, limit=25)
            late_supply(locations=places, limit=25)
            preorders(locations=places, limit=25)
        return len(run)

    before = statements()
    for n in range(6):
        sku = SkuFactory(code=f"SOCK-{n}")
        supply = purchase_order(
            sku, coming["oxford"], 4, due=due(n + 1), reference=f"PO-3{n}"
        )
        promise(supply, ORDER_LINE, 600 + n, 1)
        late = purchase_order(sku, coming["camden"], 2, due=due(5), reference="PO-L")
        gone_late(late, days=n + 1)
    assert len(preorders(locations=places, limit=25)[0].rows) == 6
    assert statements() == before <= 8


def test_references_beyond_a_few_are_counted_on_the_screen(shop):
    for n in range(6):
        purchase_order(shop["tee"], shop["oxford"], 1, due=due(2), reference=f"PO-{n}")
    places = [shop["oxford"]]
    (screen,) = incoming_by_date(locations=places, limit=25).rows
    assert screen["coming"] == "PO-0, PO-1, PO-2, PO-3, and 2 more"
    (every,) = incoming_by_date(locations=places, limit=None).rows
    assert every["coming"] == ", ".join(f"PO-{n}" for n in range(6))


# ------------------------------------------------------------------- browser


@pytest.mark.django_db(transaction=True)
def test_a_manager_reaches_what_is_coming_by_keyboard_on_a_phone(coming, phone):
    """Maria, on her phone, signs in and tabs to the supply: the late purchase order
    first, then the pre-orders, whose units no supply covers lead to the queue; what
    comes when is a fold of More figures. Every table reads as cards; nothing
    scrolls sideways."""
    gone_late(coming["po100"], days=3, received=4)
    promise(coming["po100"], ORDER_LINE, 501, 2)
    promise(coming["road"], HOLD_LINE, 78, 1)
    promise(coming["po100"], ORDER_LINE, 504, 3, status=SupplyPromise.Status.UNSUPPLIED)
    page = phone
    sign_in_by_keyboard(page, "maria")
    page.goto(DASHBOARD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    late = page.locator("#figure-late-supply .table-scroll")
    tab_to(page, late)
    expect(late).to_be_in_viewport()
    expect(late.locator("td[data-label='Days late']").first).to_have_text("3")
    # Incoming is folded under More figures: Enter on its summary opens it.
    tab_to(page, page.locator("#figure-incoming summary"))
    page.keyboard.press("Enter")
    incoming = page.locator("#figure-incoming .table-scroll")
    tab_to(page, incoming)
    expect(incoming).to_be_in_viewport()
    expect(incoming.locator("td[data-label='Expected']").last).to_have_text("undated")
    expect(incoming).to_contain_text("Transfer TR-7 from Camden")
    no_sideways_scroll(page)
    assert page.evaluate(TABLES_TOO_WIDE) == []
    axe_clean(page)
    page.shot("phone-supply")

    # Back up the page (Shift+Tab) to the pre-orders no supply covers, then the queue.
    queue = page.get_by_role("link", name="see them in the exception queue")
    for _ in range(80):
        if queue.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Shift+Tab")
    expect(queue).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/store/exceptions/\?kind=supply_delayed"))


# Each table's box that is wider inside than it shows: it would scroll sideways.
TABLES_TOO_WIDE = (
    "() => Array.from(document.querySelectorAll('.table-scroll'))"
    ".filter(box => box.offsetParent && box.scrollWidth > box.clientWidth)"
    ".map(box => box.getAttribute('aria-label'))"
)


def tab_to(page, locator, presses: int = 80) -> None:
    """Tab until ``locator`` has the focus, as a keyboard user gets there."""
    for _ in range(presses):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")
