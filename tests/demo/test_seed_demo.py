"""The demo network can be built, and built again, and its printed token works."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from catalog.gtin import gtin_problem
from catalog.models import Channel, Sku
from config.plain_words import who
from demo.network import DEMO
from integrations.models import ApiToken
from inventory.models import (
    Location,
    Reservation,
    StockBalance,
    StockConflict,
    StockMovement,
)
from inventory.services import balances_rebuild
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--url", "http://127.0.0.1:8000/", stdout=out)
    return out.getvalue()


def printed_token(output: str) -> str:
    line = next(line for line in output.splitlines() if "API token:" in line)
    return line.split()[-1]


def test_the_demo_network_is_a_small_retailer():
    output = seed()
    assert Location.objects.filter(kind="store").count() >= 3
    assert (
        Location.objects.filter(kind="warehouse", latitude__isnull=False).count() >= 1
    )
    assert not Location.objects.filter(latitude__isnull=True).exists()
    assert Sku.objects.count() >= 50
    assert Sku.objects.values("product").distinct().count() >= 3
    assert set(Channel.objects.values_list("code", flat=True)) >= {
        "pos",
        "web",
        "app",
        "marketplace",
    }
    assert all(
        gtin_problem(barcode) is None
        for barcode in Sku.objects.values_list("barcode", flat=True)
    )
    assert "http://127.0.0.1:8000/" in output
    assert "admin / onestock-demo" in output


def test_running_the_demo_twice_updates_and_prints_a_working_token():
    first = printed_token(seed())
    counts = (Location.objects.count(), Sku.objects.count(), Channel.objects.count())
    second = printed_token(seed())

    assert (
        Location.objects.count(),
        Sku.objects.count(),
        Channel.objects.count(),
    ) == counts
    assert client_for(second).get("/api/v1/skus/").json()["count"] == counts[1]
    assert client_for(first).get("/api/v1/skus/").status_code == 401
    live = ApiToken.objects.filter(revoked_at__isnull=True)
    # One printed token, and the channels' own (bound, never printed), not doubled.
    assert sorted(live.values_list("name", "channel__code")) == [
        ("demo-integration", None),
        ("demo-tills", "pos"),
        ("demo-web-shop", "web"),
    ]
    # What the demo did reads in plain words on the screens' timelines.
    assert who("token:demo-web-shop") == Channel.objects.get(code="web").name
    assert who("token:demo-tills") == Channel.objects.get(code="pos").name
    assert who(str(DEMO)) == "The demo's set-up"
    admin = get_user_model().objects.get(username="admin")
    assert (
        admin.is_staff and admin.is_superuser and admin.check_password("onestock-demo")
    )


@pytest.mark.sqlite_too
def test_the_demo_network_has_stock_through_the_ledger():
    seed()
    balances = StockBalance.objects.all()
    assert balances.filter(location__kind="store", on_hand__gt=0).count() >= 100
    types = set(StockMovement.objects.values_list("type", flat=True))
    assert types >= {
        "receipt", "sale", "damage", "return_received", "inspection_pass",
        "inspection_fail", "count", "transfer_out", "receipt_expected",
    }  # fmt: skip
    assert balances.filter(quality_control__gt=0).exists()
    assert balances.filter(damaged__gt=0).exists()
    assert balances.filter(in_transit__gt=0, location__code="LDS-BRG").exists()
    assert balances.filter(incoming__gt=0).exists()
    assert StockConflict.objects.filter(status="open").count() == 1
    assert balances_rebuild(repair=False) == []


def test_seeding_the_demo_again_records_no_new_stock():
    seed()
    before = list(StockBalance.objects.values_list("on_hand", "damaged", "in_transit"))
    output = seed()
    assert "(0 new)" in output
    after = list(StockBalance.objects.values_list("on_hand", "damaged", "in_transit"))
    assert after == before
    assert StockConflict.objects.count() == 1


def test_the_demo_tills_have_reported_within_the_day_and_one_sku_is_under_review(
    settings,
):
    settings.ONESTOCK_POS_DELAY_SECONDS = 86400  # as `make demo` sets it
    settings.SYNC_ESTIMATED_LAG_SECONDS = 31536000  # its history loaded at once
    token = printed_token(seed())
    rows = client_for(token).get("/api/v1/availability/", {"page_size": 500}).json()
    statuses = {(row["sku"], row["location"]): row["status"] for row in rows["results"]}
    under_review = [key for key, status in statuses.items() if status == "under_review"]
    assert under_review == [("TRNR-WHI-9", "BRS-CAB")]
    assert set(statuses.values()) == {"confirmed", "under_review"}


def test_the_demo_has_checkout_holds_in_every_state_placed_once():
    first = seed()
    assert "Reservations: 7 new checkout hold(s)" in first
    again = seed()
    assert "Reservations: 0 new checkout hold(s)" in again
    token = printed_token(again)
    lapsing = Reservation.objects.get(reference="DEMO-CART-LAPSED")
    time.sleep(max(0, (lapsing.expires_at - timezone.now()).total_seconds()))
    listed = client_for(token).get("/api/v1/reservations/").json()["results"]
    statuses = {row["reference"]: row["status"] for row in listed}
    assert statuses == {
        "DEMO-CART-1": "active",
        "DEMO-CART-2": "active",
        "DEMO-ORDER-1": "committed",
        "DEMO-ORDER-2": "fulfilled",
        "DEMO-ORDER-3": "cancelled",
        "DEMO-CART-ABANDONED": "released",
        "DEMO-CART-LAPSED": "expired",
        "DEMO-KIT-CART": "active",  # an outfit (demo/kits.py)
    }
    assert StockBalance.objects.filter(reserved__gt=0).count() >= 3
    assert balances_rebuild(repair=False) == []


def test_the_demo_has_a_store_team_with_a_pickup_queue():
    from django.test import Client

    from pickup.models import PickupTask

    output = seed()
    seed()  # again: nothing duplicated
    assert "sam / onestock-demo" in output
    states = sorted(PickupTask.objects.values_list("status", flat=True))
    # The fourth new one: a three-pack of T-shirts, a kit (demo/kits.py).
    assert states == ["new", "new", "new", "picking", "ready"]
    picker = Client()
    assert picker.login(username="sam", password="onestock-demo")
    queue = picker.get("/store/").content.decode()
    assert "DEMO-PICKUP-1" in queue and "Sam" in queue


def test_the_demo_has_returns_in_every_state_at_oxford_street():
    from django.test import Client

    from returns.models import Return

    output = seed()
    seed()  # again: nothing duplicated
    assert "/store/returns/" in output
    states = sorted(Return.objects.values_list("status", flat=True))
    assert states == ["expected", "graded", "received", "received"]
    assert balances_rebuild(repair=False) == []
    picker = Client()
    assert picker.login(username="sam", password="onestock-demo")
    screen = picker.get("/store/returns/").content.decode()
    assert "RMA-DEMO-SHIPPED-2" in screen and "Waiting for inspection" in screen
    manager = Client()
    assert manager.login(username="morgan", password="onestock-demo")
    assert manager.get("/store/returns/insight/").status_code == 200


@pytest.mark.sqlite_too
def test_the_demo_has_a_night_of_reconciliation_and_a_dashboard_to_read():
    from orders.models import OrderLine
    from reconciliation.models import (
        ExceptionCase,
        ReconciliationRun,
        SalesRate,
        StockSnapshot,
    )

    output = seed()
    assert "3 new disagreement(s)" in output and "/store/dashboard/" in output
    (run,) = ReconciliationRun.objects.all()
    assert (run.status, run.disagreements_found, run.drift_found) == ("finished", 3, 0)
    assert StockSnapshot.objects.get().status == "compared"
    assert ExceptionCase.objects.filter(kind="snapshot_disagreement").count() == 3
    assert SalesRate.objects.exists()
    assert OrderLine.objects.filter(cancelled_quantity__gt=0).count() == 2
    assert "0 new disagreement(s)" in seed()  # once
    assert ReconciliationRun.objects.count() == 1


@pytest.mark.sqlite_too
def test_the_demo_marketplace_sells_from_its_warehouses_with_units_protected():
    """The marketplace's network, its protected T-shirts at Daventry (the web shop
    sees them gone), the app's velocity buffers, and the printed network read."""
    output = seed()
    token = printed_token(output)
    marketplace = Channel.objects.get(code="marketplace")
    assert sorted(marketplace.network.values_list("location__code", flat=True)) == [
        "DC-MID",
        "WH-DAV",
    ]
    assert marketplace.allocations.filter(location__code="WH-DAV").count() > 0
    assert Channel.objects.get(code="app").velocity_buffers.exists()
    network = client_for(token).get(
        "/api/v1/availability/network/",
        {"sku": "TEE-WHI-M", "channel": "marketplace"},
    )
    assert network.status_code == 200, network.content
    (row,) = network.json()["results"]
    assert row["sku"] == "TEE-WHI-M" and row["channel"] == "marketplace"
    web = client_for(token).get(
        "/api/v1/availability/",
        {"sku": "TEE-WHI-M", "location": "WH-DAV", "channel": "web"},
    )
    market = client_for(token).get(
        "/api/v1/availability/",
        {"sku": "TEE-WHI-M", "location": "WH-DAV", "channel": "marketplace"},
    )
    (web_row,), (market_row,) = web.json()["results"], market.json()["results"]
    available = web_row["available"]
    # The web keeps two back and leaves the marketplace's three alone; the
    # marketplace keeps five back and may take its own three.
    assert web_row["available_to_promise"] == max(0, available - 3 - 2)
    assert market_row["available_to_promise"] == max(0, available - 5)
    assert "/api/v1/availability/network/" in output


@pytest.mark.sqlite_too
def test_the_demo_has_supply_on_its_way_and_pre_orders_waiting_for_it():
    from django.test import Client

    from inventory.models import Supply, SupplyPromise, TransferRoute
    from orders.models import Order

    output = seed()
    now = timezone.now()
    next_week = Supply.objects.get(reference="PO-DEMO-1041")
    assert (next_week.status, next_week.kind) == ("open", "purchase")
    assert now < next_week.expected_at < now + timedelta(days=7)
    three_weeks = Supply.objects.get(reference="PO-DEMO-1043")
    assert three_weeks.expected_at > now + timedelta(days=14)
    late = Supply.objects.get(reference="PO-DEMO-1038")
    assert late.status == "open" and late.expected_at < now - timedelta(days=1)
    assert TransferRoute.objects.filter(from_location__code="DC-MID").count() == 2
    on_the_road = Supply.objects.filter(kind="transfer", from_location__code="DC-MID")
    assert on_the_road.count() == 2
    assert all(supply.expected_at > now for supply in on_the_road)  # by the routes
    assert Sku.objects.filter(future_promise_limit__gt=0).count() == 3
    promised = SupplyPromise.objects.filter(supply=next_week, status="open")
    assert sum(promised.values_list("units", flat=True)) == 3
    pre_order = Order.objects.get(reference="DEMO-PREORDER-1")
    assert pre_order.lines.get().status == "awaiting_supply"
    assert balances_rebuild(repair=False) == []

    again = seed()
    assert "0 new web pre-order(s)" in again
    assert Supply.objects.filter(reference__startswith="PO-DEMO-").count() == 5
    assert SupplyPromise.objects.count() == promised.count()

    timeline = "/api/v1/availability/timeline/?sku=TEE-BLA-M&location=DC-MID"
    assert timeline in output
    read = client_for(printed_token(again)).get(timeline + "&channel=web")
    assert read.status_code == 200, read.content
    manager = Client()
    assert manager.login(username="morgan", password="onestock-demo")
    dashboard = manager.get("/store/dashboard/").content.decode()
    assert "PO-DEMO-1041" in dashboard and "PO-DEMO-1038" in dashboard
    story = manager.get(f"/store/support/orders/{pre_order.pk}/").content.decode()
    assert "purchase order PO-DEMO-1041" in story


def test_the_demo_sells_kits_from_their_parts():
    output = seed()
    assert "Kits: 2 kits sold as one SKU" in output and "1 new web checkout" in output
    outfit = Sku.objects.get(code="OUTFIT-BLA-M-32")
    assert outfit.is_kit and outfit.components.count() == 2
    held = Reservation.objects.get(reference="DEMO-KIT-CART")
    assert [kit.sku.code for kit in held.kits.all()] == ["OUTFIT-BLA-M-32"]
    assert sorted(line.sku.code for line in held.lines.all()) == [
        "JEAN-IND-32",
        "TEE-BLA-M",
    ]
    assert "1 new pickup order(s) of one" in output
    from orders.models import Order

    pack = Order.objects.get(reference="DEMO-KIT-ORDER-1")
    (kit_line,) = pack.kit_lines.all()
    assert (kit_line.sku.code, kit_line.quantity) == ("TEE-3PACK-WHI-M", 1)
    assert [(line.sku.code, line.quantity) for line in pack.lines.all()] == [
        ("TEE-WHI-M", 3)
    ]
    again = seed()
    assert "0 new web checkout hold(s) and 0 new pickup order(s)" in again
    assert Reservation.objects.filter(reference="DEMO-KIT-CART").count() == 1
    assert balances_rebuild(repair=False) == []
