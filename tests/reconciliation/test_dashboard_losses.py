"""The dashboard leads with what was lost: a small shop's week, with costs and prices
set, gives exact units and money by store and reason, lost sales at price, only the
SKU-locations really at risk, and a CSV of each."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Channel
from config.access import Actor
from inventory.models import MovementType
from orders import services as orders
from reconciliation.services import Raised, exception_raise
from reconciliation.services.rates import sales_rates_refresh
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    StockEvents,
    pickup_order,
    stock,
)

pytestmark = pytest.mark.django_db

DASHBOARD = "/store/dashboard/"
PICKER = Actor(name="user:alice", source="store")


@pytest.fixture
def week(shop):
    """Oxford Street: two tees found damaged then written off; a picker finds no
    hoodies for an order (the units are adjusted down and the line cancelled); a
    count finds two hoodies fewer than the books; a polo (no cost, no price yet) is
    adjusted down as lost. Camden's count finds one polo more than the books: no
    loss. The warehouse breaks a mug: lost, but never in the stores' chart."""
    tee, hoodie, polo = shop["tee"], shop["hoodie"], shop["polo"]
    for sku, cost, price in ((tee, "4.00", "10.00"), (hoodie, "12.50", "30.00")):
        sku.cost, sku.price = Decimal(cost), Decimal(price)
        sku.save()
    oxford, camden = shop["oxford"], shop["camden"]
    stock(tee, oxford, 10)
    stock(hoodie, oxford, 5)
    stock(polo, oxford, 4)
    stock(polo, camden, 1)
    StockEvents.post(MovementType.DAMAGE, sku=tee, location=oxford, quantity=2)
    StockEvents.post(MovementType.WRITE_OFF, sku=tee, location=oxford, quantity=2)
    short_then_cancelled(pickup_order(shop, lines=[(hoodie, 2)]), [(2, "")])
    StockEvents.post(MovementType.COUNT, sku=hoodie, location=oxford, quantity=1)
    StockEvents.post(
        MovementType.ADJUSTMENT, sku=polo, location=oxford, quantity=-1, reason="lost"
    )
    StockEvents.post(MovementType.COUNT, sku=polo, location=camden, quantity=2)
    warehouse = LocationFactory(code="WH-1", name="Warehouse", kind="warehouse")
    stock(tee, warehouse, 5)
    StockEvents.post(MovementType.DAMAGE, sku=tee, location=warehouse, quantity=1)
    return {**shop, "warehouse": warehouse}


def short_then_cancelled(order, cancellations):
    """A picker finds none of the order's one line; its units are cancelled in the
    parts given, each (units, how the customer was served otherwise, or "")."""
    line = order.lines.get()
    orders.order_report_short(
        order_id=order.pk,
        line_id=line.pk,
        quantity=line.quantity,
        condition="not_found",
        actor=PICKER,
    )
    for units, served_by in cancellations:
        orders.order_cancel_short(
            order_id=order.pk,
            line_id=line.pk,
            quantity=units,
            actor=PICKER,
            reason="none left anywhere",
            served_by=served_by,
        )


def dashboard(client, user, **query):
    client.force_login(user)
    answer = client.get(DASHBOARD, query)
    assert answer.status_code == 200
    return answer


def test_shrink_by_store_and_reason_in_units_and_money(week, client):
    answer = dashboard(client, week["maria"])
    shrink = answer.context["tables"]["shrink"]
    assert [
        (row["location"], row["kind"], row["reason"], row["units"], row["value"])
        + (row["unvalued"],)
        for row in shrink.rows
    ] == [
        ("LON-OXF", "Store", "Damaged", 2, Decimal("8.00"), 0),
        ("LON-OXF", "Store", "Adjusted down (not found, lost)", 3, Decimal("25.00"), 1),
        ("LON-OXF", "Store", "Count short", 2, Decimal("25.00"), 0),
        ("WH-1", "Warehouse", "Damaged", 1, Decimal("4.00"), 0),
    ]
    summary = answer.context["charts"]["shrink"]
    overall = summary["overall"]
    assert (overall.units, overall.value, overall.unvalued) == (8, Decimal("62.00"), 1)
    by_location = {place.code: total for place, total in summary["by_location"]}
    assert (by_location["LON-OXF"].units, by_location["LON-OXF"].value) == (
        7,
        Decimal("58.00"),
    )
    assert "LON-CAM" not in by_location  # a count that finds units is no loss
    # The chart is stores only, in money, one series per reason.
    chart = summary["chart"]
    assert chart["labels"] == ["Camden", "Oxford Street"]  # the stores by name
    assert {s["label"]: s["values"] for s in chart["series"]}["Damaged"] == [0, 8.0]

    html = answer.content.decode()
    assert "£62.00" in html
    assert "1 without a cost, not valued" in html


def test_lost_sales_are_stock_cancellations_at_price(week, client):
    answer = dashboard(client, week["maria"])
    (row,) = answer.context["tables"]["lost_sales"].rows
    assert (row["location"], row["sku"], row["orders"], row["units"]) == (
        "LON-OXF",
        "HOOD-GRE-L",
        1,
        2,
    )
    assert (row["price"], row["value"]) == (Decimal("30.00"), Decimal("60.00"))
    overall = answer.context["charts"]["lost_sales"]["overall"]
    assert (overall.units, overall.value, overall.unvalued) == (2, Decimal("60.00"), 0)
    assert "£60.00" in answer.content.decode()


def test_a_customer_served_another_way_is_no_sale_lost(week, client):
    """Two polos short at Oxford Street: one replaced by a substitute the customer
    took, one cancelled outright. Only the second is a sale lost."""
    polo = week["polo"]
    polo.price = Decimal("20.00")
    polo.save()
    stock(polo, week["oxford"], 2)
    order = pickup_order(week, "WEB-8801", lines=[(polo, 2)])
    short_then_cancelled(order, [(1, "substitute"), (1, "")])
    rows = dashboard(client, week["maria"]).context["tables"]["lost_sales"].rows
    polos = [row for row in rows if row["sku"] == "POLO-BLU-M"]
    assert [(row["units"], row["value"]) for row in polos] == [(1, Decimal("20.00"))]


def test_checkouts_refused_online_are_sales_lost_too(week, client, api):
    """Three tees asked for at Camden, which has none: three units lost at £10. An
    order no location could fill (49 hoodies beyond the one left) counts for the
    head of stores only."""
    cart = {
        "reference": "CART-77",
        "channel": "web",
        "lines": [{"sku": "TEE-BLK-M", "location": "LON-CAM", "quantity": 3}],
    }
    assert api.post("/api/v1/reservations/", cart, format="json").status_code == 409
    nowhere = {
        "reference": "WEB-77",
        "channel": "web",
        "fulfilment_method": "ship",
        "customer": {"name": "Ada Byron", "email": "ada@example.com"},
        "delivery_address": {
            "address": "1 Upper Street",
            "city": "London",
            "postal_code": "N1 0PN",
            "country": "GB",
        },
        "lines": [{"sku": "HOOD-GRE-L", "quantity": 50}],
    }
    assert api.post("/api/v1/orders/", nowhere, format="json").status_code == 409

    rows = dashboard(client, week["maria"]).context["tables"]["lost_sales"].rows
    assert [
        (row["location"], row["sku"], row["why"], row["units"], row["value"])
        for row in rows
    ] == [
        ("LON-CAM", "TEE-BLK-M", "Refused: not available", 3, Decimal("30.00")),
        ("LON-OXF", "HOOD-GRE-L", "Cancelled: not on the shelf", 2, Decimal("60.00")),
        ("(none)", "HOOD-GRE-L", "Refused: not available", 49, Decimal("1470.00")),
    ]
    camden = dashboard(client, week["carol"]).context["tables"]["lost_sales"].rows
    assert [(row["location"], row["units"]) for row in camden] == [("LON-CAM", 3)]


def test_a_store_sees_its_own_losses_only(week, client):
    answer = dashboard(client, week["carol"])  # Camden, before anything was refused
    assert answer.context["tables"]["shrink"].rows == []
    assert answer.context["tables"]["lost_sales"].rows == []
    assert "No stock lost in this period." in answer.content.decode()


def test_a_period_before_the_losses_has_none(week, client):
    answer = dashboard(client, week["maria"], since="2025-01-01", until="2025-01-31")
    assert answer.context["tables"]["shrink"].rows == []
    assert answer.context["charts"]["shrink"]["overall"].value == 0


def csv_rows(client, name):
    answer = client.get(DASHBOARD, {"export": name})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert f"{name}-" in answer["Content-Disposition"]
    return list(csv.reader(io.StringIO(answer.content.decode())))


def test_the_losses_download_as_csv(week, client):
    client.force_login(week["maria"])
    shrink = csv_rows(client, "shrink")
    assert shrink[0] == [
        "Location",
        "Location name",
        "Kind",
        "Reason",
        "Units lost",
        "Value at cost",
        "Units without a cost",
    ]
    count_short = ["LON-OXF", "Oxford Street", "Store", "Count short", "2", "25.00"]
    assert [*count_short, "0"] in shrink
    assert len(shrink) == 5
    lost = csv_rows(client, "lost_sales")
    assert lost == [
        ["Location", "Location name", "Kind", "SKU", "Why", "Orders or checkouts"]
        + ["Units lost", "Price", "Value at price"],
        ["LON-OXF", "Oxford Street", "Store", "HOOD-GRE-L"]
        + ["Cancelled: not on the shelf", "1", "2", "30.00", "60.00"],
    ]
    at_risk = csv_rows(client, "at_risk")
    assert at_risk[0][:4] == ["SKU", "Location", "Location name", "Kind"]


def test_only_the_sku_locations_really_at_risk_are_listed(month, client):
    """Of the month's two SKUs that sold at Oxford, the tees are oversold; the
    hoodies run low but the five on their way cover two weeks: not at risk. A polo
    that never sold has an open case: at risk."""
    exception_raise(
        raised=Raised(
            kind="item_not_found",
            key="polo",
            title="Polo missing",
            location=month["oxford"],
            sku=month["polo"],
        )
    )
    stock(month["polo"], month["oxford"], 3)
    answer = dashboard(client, month["maria"])
    table = answer.context["tables"]["at_risk"]
    assert [(row["sku"], row["why"]) for row in table.rows] == [
        ("TEE-BLK-M", "Oversold by 1; open exception"),  # its oversell conflict
        ("POLO-BLU-M", "Open exception"),
    ]
    assert table.total == 2
    assert answer.context["charts"]["at_risk"]["watched"] == 2
    assert 'id="at-risk-count">2<' in answer.content.decode()


def test_a_sku_that_sells_and_runs_out_within_a_week_is_at_risk(month, client):
    # Nothing incoming any more: two hoodies at half a day's sale last four days.
    from inventory.models import StockBalance

    StockBalance.objects.filter(sku=month["hoodie"]).update(incoming=0)
    table = dashboard(client, month["maria"]).context["tables"]["at_risk"]
    hoodie = {row["sku"]: row for row in table.rows}["HOOD-GRE-L"]
    assert (hoodie["available"], hoodie["per_day"], hoodie["days"]) == (2, 0.5, 4.0)
    assert hoodie["why"] == "Runs out in 4 days, incoming counted"


def test_a_few_units_some_channel_still_sells_are_not_at_risk(month, client):
    """The demo's channels: the web shop keeps 2 back, a marketplace 5, the tills
    none. Oxford's two hoodies (a fortnight's sale, counting the five on their way)
    are past the marketplace's buffer, yet the tills and the web shop still sell
    them: not at risk (the old rule took the largest buffer and listed them). A
    warehouse's two tees are held back from every channel selling there (online
    only, the smallest buffer 2): at risk. A SKU's own buffer holds it back from
    every channel at once."""
    online = Channel.objects.filter(kind__in=["web", "app"])
    online.update(safety_buffer=2)  # the shop's web shop and the tests' "erp"
    ChannelFactory(code="marketplace", kind="marketplace", safety_buffer=5)
    warehouse = LocationFactory(code="WH-1", name="Warehouse", kind="warehouse")
    stock(month["tee"], warehouse, 6)
    StockEvents.post(
        MovementType.SALE,
        sku=month["tee"],
        location=warehouse,
        quantity=4,
        channel=online.first(),
        occurred_at=timezone.now() - timedelta(days=3),
    )
    sales_rates_refresh()
    rows = {
        (row["sku"], row["location"]): row["why"]
        for row in dashboard(client, month["maria"]).context["tables"]["at_risk"].rows
    }
    assert ("HOOD-GRE-L", "LON-OXF") not in rows, rows
    assert rows.get(("TEE-BLK-M", "WH-1")) == (
        "No channel can sell it: 2 left, safety buffer 2"
    )

    month["hoodie"].safety_buffer = 2
    month["hoodie"].save()
    client.force_login(month["maria"])
    hoodie = [row for row in csv_rows(client, "at_risk") if row[0] == "HOOD-GRE-L"]
    assert [row[-1] for row in hoodie] == [
        "No channel can sell it: 2 left, safety buffer 2"
    ]
