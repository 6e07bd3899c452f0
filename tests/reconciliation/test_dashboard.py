"""The head of stores' morning: figures checked against a small known shop, every
table downloadable, and each member of staff shown their own stores only."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import MovementType
from reconciliation.models import SalesRate
from reconciliation.services import Raised, exception_raise
from reconciliation.services.rates import sales_rates_refresh
from tests.factories import ChannelFactory, StockEvents, stock

DASHBOARD = "/store/dashboard/"


def figures(client, user, **query):
    """Every table: the page's, and the two it counts when their fold is opened."""
    client.force_login(user)
    answer = client.get(DASHBOARD, query)
    assert answer.status_code == 200
    tables = dict(answer.context["tables"])
    for name in ("sell_through", "days_of_supply"):
        opened = client.get(
            DASHBOARD, {**query, "figure": name}, HTTP_HX_REQUEST="true"
        )
        assert opened.status_code == 200
        tables.update(opened.context["tables"])
    return tables


def test_the_heaviest_figures_are_counted_when_their_fold_is_opened(month, client):
    client.force_login(month["maria"])
    page = client.get(DASHBOARD, {"location": "LON-OXF"})
    assert {"sell_through", "days_of_supply"}.isdisjoint(page.context["tables"])
    html = page.content.decode()
    assert 'hx-get="?location=LON-OXF&amp;figure=sell_through"' in html
    opened = client.get(DASHBOARD, {"location": "LON-OXF", "figure": "sell_through"})
    assert list(opened.context["tables"]) == ["sell_through"]
    assert 'data-chart="chart-sell_through"' in opened.content.decode()
    assert client.get(DASHBOARD, {"figure": "shrink"}).status_code == 400


def rows(table, key):
    return {row[key]: row for row in table.rows}


@pytest.mark.sqlite_too
def test_the_figures_add_up_for_a_known_month(month, client):
    tables = figures(client, month["maria"], location="LON-OXF")

    supply = rows(tables["days_of_supply"], "sku")
    # Hoodies: 16 in, 14 sold in 28 days (0.5 a day), 2 left: 4 days, at risk; with
    # the 5 on their way, 14 days.
    hoodie = supply["HOOD-GRE-L"]
    assert (hoodie["available"], hoodie["incoming"], hoodie["per_day"]) == (2, 5, 0.5)
    assert (hoodie["days"], hoodie["with_incoming"], hoodie["at_risk"]) == (
        4.0,
        14.0,
        "yes",
    )
    # Tees: 12 in, 11 sold at the till, 2 promised online: nothing left to promise.
    assert supply["TEE-BLK-M"]["available"] == -1
    assert supply["TEE-BLK-M"]["days"] == supply["TEE-BLK-M"]["with_incoming"] == 0
    assert supply["TEE-BLK-M"]["at_risk"] == "yes"
    assert tables["days_of_supply"].at_risk == 2

    (oxford,) = tables["cancellations_by_location"].rows
    assert (oxford["ordered"], oxford["cancelled"], oxford["rate"]) == (4, 2, 50.0)
    (by_sku,) = tables["cancellations_by_sku"].rows
    assert (by_sku["sku"], by_sku["rate"]) == ("HOOD-GRE-L", 100.0)

    assert sum(row["conflicts"] for row in tables["conflicts_per_week"].rows) == 1
    exceptions = rows(tables["open_exceptions"], "kind")
    assert exceptions["Item not found at picking"]["band_2"] == 1  # 3–7 days
    assert exceptions["Item not found at picking"]["overdue"] == 1
    assert exceptions["Oversell conflict"]["open"] == 1

    (sell,) = tables["sell_through"].rows
    # 25 sold at the till of 28 received; on hand now 3: 25 / (25 + 3).
    assert (sell["sold"], sell["on_hand"], sell["rate"]) == (25, 3, 89.3)


def test_every_table_downloads_as_csv_with_all_its_rows(month, client, settings):
    client.force_login(month["maria"])
    answer = client.get(DASHBOARD, {"export": "days_of_supply"})
    assert answer["Content-Type"].startswith("text/csv")
    assert "days_of_supply-" in answer["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert lines[0][:4] == ["SKU", "Location", "Location name", "Available"]
    assert {line[0] for line in lines[1:]} == {"TEE-BLK-M", "HOOD-GRE-L"}
    for name in (
        "accuracy",
        "cancellations_by_location",
        "cancellations_by_sku",
        "conflicts_per_week",
        "open_exceptions",
        "sell_through",
    ):
        assert client.get(DASHBOARD, {"export": name}).status_code == 200
    assert client.get(DASHBOARD, {"export": "secrets"}).status_code == 400


def test_a_sku_named_like_a_formula_downloads_as_text_and_figures_as_figures(
    month, client
):
    """The name came from the catalogue feed: a spreadsheet must not run it. The
    tees oversold by one are still the number -1."""
    month["hoodie"].name = "@SUM(1+1)*cmd|' /C calc'!A0"
    month["hoodie"].save(update_fields=["name"])
    client.force_login(month["maria"])

    def export(name):
        answer = client.get(DASHBOARD, {"export": name})
        return list(csv.DictReader(io.StringIO(answer.content.decode())))

    (hoodie,) = export("cancellations_by_sku")
    assert hoodie["Name"] == "'" + month["hoodie"].name
    supply = {row["SKU"]: row for row in export("days_of_supply")}
    assert supply["TEE-BLK-M"]["Available"] == "-1"


def test_staff_see_their_own_store_and_are_told_about_another(month, client):
    tables = figures(client, month["carol"])  # Camden
    assert [row["location"] for row in tables["sell_through"].rows] == ["LON-CAM"]
    assert tables["days_of_supply"].rows == []

    client.force_login(month["carol"])
    answer = client.get(DASHBOARD, {"location": "LON-OXF"})
    assert "LON-OXF is not one of your locations" in answer.content.decode()
    opened = client.get(DASHBOARD, {"location": "LON-OXF", "figure": "sell_through"})
    assert [
        row["location"] for row in opened.context["tables"]["sell_through"].rows
    ] == ["LON-CAM"]


def test_a_filter_change_swaps_the_figures_only(month, client):
    client.force_login(month["maria"])
    answer = client.get(
        DASHBOARD,
        {"location": "LON-CAM", "since": "2026-13-01"},
        HTTP_HX_REQUEST="true",
    )
    body = answer.content.decode()
    assert "<html" not in body and 'id="at-risk-count">0<' in body
    assert 'id="chart-accuracy"' in body


def test_an_impossible_period_is_a_message(month, client):
    client.force_login(month["maria"])
    answer = client.get(DASHBOARD, {"since": "2026-11-20", "until": "2026-11-01"})
    assert "The period ends before it starts." in answer.content.decode()


def test_staff_never_see_count_variances_on_the_dashboard(month, client):
    exception_raise(
        raised=Raised(
            kind="count_variance", key="cv", title="CV", location=month["oxford"]
        )
    )
    kinds = [
        row["kind"] for row in figures(client, month["alice"])["open_exceptions"].rows
    ]
    assert "Count variance" not in kinds
    kinds = [
        row["kind"] for row in figures(client, month["maria"])["open_exceptions"].rows
    ]
    assert "Count variance" in kinds


@pytest.mark.sqlite_too
def test_a_late_till_sale_superseded_by_a_count_is_still_a_sale(shop):
    till = ChannelFactory(code="oxf-till", kind="store_pos")
    stock(shop["tee"], shop["oxford"], 5)
    StockEvents.post(
        MovementType.COUNT, sku=shop["tee"], location=shop["oxford"], quantity=4
    )
    late = StockEvents.post(  # rung up before the count, sent after it
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=1,
        channel=till,
        occurred_at=timezone.now() - timedelta(hours=1),
    )
    assert late.movement.status == "superseded"
    sales_rates_refresh()
    assert SalesRate.objects.get().units == 1


def test_locations_read_by_name_with_their_code_under_it(month, client, settings):
    """People call the stores by name: the tables and charts say "Oxford Street"
    (the code beside it in the tables, and in the CSV, which keeps both columns);
    a chart of one series says what its colour is; money in the configured symbol."""
    settings.CURRENCY_SYMBOL = "€"
    month["hoodie"].cost = Decimal("12.50")
    month["hoodie"].save()
    StockEvents.post(
        MovementType.DAMAGE, sku=month["hoodie"], location=month["oxford"], quantity=2
    )
    client.force_login(month["maria"])
    answer = client.get(DASHBOARD, {"location": "LON-OXF"})
    html = answer.content.decode()
    assert "at Oxford Street." in html  # the period line names the store chosen
    assert "€25.00" in html and "£" not in html
    assert re.search(
        r'<td data-label="Location" class="wide">Oxford Street '
        r'<span class="muted small code">LON-OXF</span></td>',
        html,
    )
    assert '<th scope="col">Location name</th>' not in html
    # The at-risk table labels every cell, so a phone can stack it.
    assert '<td data-label="Why" class="wide">Oversold by 1' in html
    charts = answer.context["charts"]
    assert charts["shrink"]["chart"]["labels"] == ["Oxford Street"]
    assert charts["cancellations"]["labels"] == ["Oxford Street"]
    assert [s["label"] for s in charts["accuracy"]["series"]] in ([], ["Oxford Street"])
    # One reason lost stock: the legend under the chart names it.
    assert re.search(r'class="chart-legend small">.*</span>Damaged</p>', html)

    exported = client.get(DASHBOARD, {"export": "sell_through", "location": "LON-OXF"})
    sell = list(csv.reader(io.StringIO(exported.content.decode())))
    assert sell[1][:2] == ["LON-OXF", "Oxford Street"]
