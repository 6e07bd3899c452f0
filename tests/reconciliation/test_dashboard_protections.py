"""The head of stores sees a protection the stock no longer covers: units kept for the
marketplace at Oxford Street, then the tills sell below them. Worst first, in plain
words when there is none, each store's staff their own stores only, and the figure
costs the same few statements however many protections are short."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.access import Actor
from inventory.models import MovementType
from inventory.services import allocation_set
from reconciliation.protections import protections_short_table
from tests.factories import ChannelFactory, SkuFactory, StockEvents, stock

DASHBOARD = "/store/dashboard/"
MANAGER = Actor(name="user:maria", source="back-office")


@pytest.fixture
def protected(shop):
    """Five hoodies and four tees at Oxford Street; the marketplace has four hoodies
    and two tees protected there, the web shop one tee at Camden."""
    amazon = ChannelFactory(code="amazon", name="Amazon", kind="marketplace")
    stock(shop["hoodie"], shop["oxford"], 5)
    stock(shop["tee"], shop["oxford"], 4)
    stock(shop["tee"], shop["camden"], 1)
    for channel, sku, place, units in (
        (amazon, "hoodie", "oxford", 4),
        (amazon, "tee", "oxford", 2),
        (shop["web"], "tee", "camden", 1),
    ):
        allocation_set(
            channel=channel,
            sku=shop[sku],
            location=shop[place],
            units=units,
            actor=MANAGER,
        )
    return {**shop, "amazon": amazon}


def sell(shop, sku, place, units):
    till = ChannelFactory(code="tills", kind="store_pos")
    StockEvents.post(
        MovementType.SALE, sku=shop[sku], location=shop[place], quantity=units,
        channel=till,
    )  # fmt: skip


def section(client, user, **query):
    client.force_login(user)
    answer = client.get(DASHBOARD, query)
    assert answer.status_code == 200
    return answer.context["tables"]["protections_short"], answer.content.decode()


def test_a_sale_below_a_protection_shows_on_the_managers_dashboard(protected, client):
    table, html = section(client, protected["maria"])
    assert table.rows == []
    # Nothing short: the section stays out of the way (the dashboard is long enough).
    assert "Protections short of stock" not in html

    sell(protected, "hoodie", "oxford", 2)  # three left, four protected
    sell(protected, "tee", "oxford", 4)  # none left, two protected
    sell(protected, "tee", "camden", 1)  # none left, one protected

    table, html = section(client, protected["maria"])
    assert [
        (
            r["channel"],
            r["sku"],
            r["location"],
            r["protected"],
            r["available"],
            r["short"],
        )
        for r in table.rows
    ] == [
        ("Amazon", "TEE-BLK-M", "LON-OXF", 2, 0, 2),
        ("Amazon", "HOOD-GRE-L", "LON-OXF", 4, 3, 1),
        (protected["web"].name, "TEE-BLK-M", "LON-CAM", 1, 0, 1),
    ]
    assert table.total == 3
    assert "Protections short of stock" in html
    assert '<td data-label="Short by">2</td>' in html


def test_store_staff_see_their_own_stores_protections(protected, client):
    sell(protected, "hoodie", "oxford", 2)
    sell(protected, "tee", "camden", 1)

    camden, _ = section(client, protected["carol"])
    assert [row["location"] for row in camden.rows] == ["LON-CAM"]
    oxford, _ = section(client, protected["maria"], location="LON-OXF")
    assert [row["sku"] for row in oxford.rows] == ["HOOD-GRE-L"]


def test_the_shortfalls_download_as_csv(protected, client):
    sell(protected, "hoodie", "oxford", 2)
    client.force_login(protected["maria"])
    answer = client.get(DASHBOARD, {"export": "protections_short"})
    lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert lines == [
        [
            "Channel", "SKU", "Location", "Location name", "Protected", "Available",
            "Short by",
        ],
        ["Amazon", "HOOD-GRE-L", "LON-OXF", "Oxford Street", "4", "3", "1"],
    ]  # fmt: skip


def test_the_figure_costs_the_same_however_many_are_short(protected):
    sell(protected, "hoodie", "oxford", 2)
    places = [protected["oxford"], protected["camden"]]
    with CaptureQueriesContext(connection) as one:
        assert len(protections_short_table(locations=places, limit=25).rows) == 1
    for n in range(5):
        sku = SkuFactory(code=f"SOCK-{n}")
        allocation_set(
            channel=protected["amazon"],
            sku=sku,
            location=protected["oxford"],
            units=1,
            actor=MANAGER,
        )
    with CaptureQueriesContext(connection) as six:
        assert len(protections_short_table(locations=places, limit=25).rows) == 6
    # The allocations, their protections in force, the balances, the lapsed holds.
    assert len(six) == len(one) <= 4
