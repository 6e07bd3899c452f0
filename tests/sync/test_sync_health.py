"""A manager watches how each source keeps in touch: the tills' lag, their repeats
and refusals, and a source gone quiet raises a case and turns availability
'delayed'; a source reporting late turns it 'estimated'."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import SourceHealth
from reconciliation.models import ExceptionCase
from sync.services import sync_health_check
from tests.factories import StaffFactory, StockEvents

AVAILABILITY = "/api/v1/availability/"


def till(floor, minutes_late, reference=None, sku="tee"):
    return StockEvents.post(
        "receipt" if reference is None else "sale",
        sku=floor[sku],
        location=floor["store"],
        quantity=1,
        channel=floor["pos"],
        occurred_at=timezone.now() - timedelta(minutes=minutes_late),
        reference=reference,
    )


def status_at_the_store(api):
    rows = api.get(AVAILABILITY, {"sku": "TEE-BLK-M", "location": "LON-OXF"}).json()
    return rows["results"][0]["status"]


@pytest.mark.sqlite_too
def test_the_tills_lag_over_the_hour_is_measured_with_its_repeats(
    api, floor, django_capture_on_commit_callbacks
):
    for minutes in (1, 1, 1, 2, 10):
        till(floor, minutes)
    sale = till(floor, 1, reference="SALE-9")
    with django_capture_on_commit_callbacks(execute=True):  # tallied after commit
        repeat = StockEvents.post(
            "sale", sku=floor["tee"], location=floor["store"], quantity=1,
            channel=floor["pos"], occurred_at=sale.movement.occurred_at,
            reference="SALE-9",
        )  # fmt: skip
    assert repeat.outcome == "duplicate"
    StockEvents.post(
        "inspection_pass",
        sku=floor["hoodie"],
        location=floor["store"],
        quantity=1,
        channel=floor["pos"],
    )  # fmt: skip (nothing in inspection: rejected, still an event)
    sync_health_check()
    health = SourceHealth.objects.get(channel=floor["pos"])
    assert health.events_last_hour == 7
    assert 55 <= health.lag_median_seconds <= 65  # a minute, give or take the run
    assert 440 <= health.lag_p95_seconds <= 470  # between the 2 and the 10
    assert (health.rejected_last_hour, health.duplicates_last_hour) == (1, 1)
    assert not health.delayed

    body = api.get("/api/v1/sync-health/").json()
    pos = next(row for row in body if row["channel"] == "pos")
    assert pos["events_last_hour"] == 7
    assert pos["duplicates_last_hour"] == 1


@pytest.mark.sqlite_too
def test_tills_reporting_late_make_the_figures_estimated(api, floor, settings):
    settings.SYNC_ESTIMATED_LAG_SECONDS = 120
    for _ in range(4):
        till(floor, 5)
    floor["store"].refresh_from_db()
    sync_health_check()
    assert status_at_the_store(api) == "estimated"
    # A warehouse is reported by the WMS, not the tills.
    StockEvents.post(
        "receipt", sku=floor["tee"], location=floor["warehouse"], quantity=1,
        channel=floor["wms"],
    )  # fmt: skip
    rows = api.get(AVAILABILITY, {"sku": "TEE-BLK-M", "location": "WH-DAV"}).json()
    assert rows["results"][0]["status"] == "confirmed"


@pytest.mark.sqlite_too
def test_a_source_gone_quiet_raises_sync_delayed_until_it_is_heard_again(
    api, floor, settings
):
    settings.SYNC_EXPECTED_INTERVAL_SECONDS = 600
    till(floor, 0)
    sync_health_check()
    health = SourceHealth.objects.get(channel=floor["pos"])
    assert not health.delayed
    assert not ExceptionCase.objects.filter(kind="sync_delayed").exists()

    # Twenty minutes without a word from the tills.
    sync_health_check(now=timezone.now() + timedelta(minutes=20))
    case = ExceptionCase.objects.get(kind="sync_delayed", status="open")
    assert case.key == "sync:pos"
    assert "no event for 20 min" in case.title
    assert status_at_the_store(api) == "delayed"

    till(floor, 0)
    sync_health_check()
    case.refresh_from_db()
    assert case.status == "resolved"
    assert not SourceHealth.objects.get(channel=floor["pos"]).delayed


@pytest.mark.sqlite_too
def test_a_web_shop_is_not_watched_for_silence(floor):
    StockEvents.post(
        "receipt", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["web"],
    )  # fmt: skip
    sync_health_check()
    assert (
        SourceHealth.objects.get(channel=floor["web"]).expected_interval_seconds is None
    )
    assert not ExceptionCase.objects.filter(kind="sync_delayed").exists()


def test_the_sync_page_is_for_managers(floor):
    till(floor, 2)
    sync_health_check()
    manager = Client()
    manager.force_login(StaffFactory.at(username="maria", manager=True))
    page = manager.get("/store/sync/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sync health" in text and "source-pos" in text
    store_staff = Client()
    store_staff.force_login(StaffFactory.at(floor["store"], username="alice"))
    assert store_staff.get("/store/sync/").status_code == 404
