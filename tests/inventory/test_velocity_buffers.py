"""Velocity buffers, live: a channel under the ``velocity`` policy keeps back, at each
SKU-location of its network, what its own rate of sale there calls for (the
simulator's tiers); a manager previews a recompute before applying it, and a nightly
job recomputes every such channel. GET /api/v1/buffers/ says which buffer applies and
why."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_beat.models import PeriodicTask

from config.access import Actor
from inventory.models import NetworkLocation, StockBalance, VelocityBuffer
from inventory.services.buffers import (
    NotUnderVelocity,
    buffers_preview,
    buffers_recompute,
)
from inventory.tasks import RECOMPUTE_VELOCITY_BUFFERS, recompute_velocity_buffers
from inventory.velocity import velocity_buffer
from simulation.network import SkuSpec
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, StockEvents

pytestmark = pytest.mark.django_db

MANAGER = Actor(name="user:maria")
AVAILABILITY = "/api/v1/availability/"
BUFFERS = "/api/v1/buffers/"


@pytest.fixture(autouse=True)
def ten_days(settings):
    settings.SALES_RATE_DAYS = 10


@pytest.fixture
def web(shop):
    """The web shop (its own buffer 2) under the velocity policy."""
    shop["web"].buffer_policy = "velocity"
    shop["web"].save()
    return shop["web"]


def sold(shop, sku, units, *, channel="web", days_ago=1, location="store"):
    StockEvents.post(
        "sale", sku=shop[sku], location=shop[location], quantity=units,
        channel=shop[channel], occurred_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip


def received(shop, sku, units, location="store"):
    StockEvents.post("receipt", sku=shop[sku], location=shop[location], quantity=units)


def a_fast_tee_and_a_slow_hoodie(shop):
    """The web shop sold 50 tees at Oxford Street in ten days (5 a day, the top
    tier), 3 are left; 5 hoodies there have sold nothing online (the tills sold 20:
    another channel's sales)."""
    received(shop, "tee", 53)
    sold(shop, "tee", 50)
    received(shop, "hoodie", 25)
    sold(shop, "hoodie", 20, channel="pos")


def availability(api, sku, channel="web"):
    answer = api.get(
        AVAILABILITY, {"sku": sku, "location": "LON-OXF", "channel": channel}
    )
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()["results"]
    return row["safety_buffer"], row["available_to_promise"]


def buffers(api, **query):
    answer = api.get(BUFFERS, query)
    assert answer.status_code == 200, answer.content
    return {(row["sku"], row["location"]): row for row in answer.json()["results"]}


def test_slow_movers_keep_back_nothing_or_one_fast_movers_two_or_three():
    assert [velocity_buffer(rate) for rate in (0, 0.49, 0.5, 1.99)] == [0, 0, 1, 1]
    assert [velocity_buffer(rate) for rate in (2, 4.99, 5, 40)] == [2, 2, 3, 3]
    # The simulator chose the tiers; it reads the same ones.
    assert SkuSpec("S", "S", store_rate=3.0, online_rate=0).velocity_buffer == 2


def test_the_web_shops_own_sales_set_its_buffers_not_the_tills(shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    sold(shop, "hoodie", 4, days_ago=12)  # online, but before the ten days
    received(shop, "tee", 6, location="warehouse")  # nothing sold there

    result = buffers_recompute(channel=web, actor=MANAGER)

    rows = {
        (row.sku.code, row.location.code): (row.units, row.rate)
        for row in VelocityBuffer.objects.select_related("sku", "location")
    }
    assert rows == {
        ("TEE-BLK-M", "LON-OXF"): (3, 5.0),
        ("HOOD-GRE-L", "LON-OXF"): (0, 0.0),
        ("TEE-BLK-M", "WH-DAV"): (0, 0.0),
    }
    assert result.written == 3 and (result.raised, result.lowered) == (1, 2)
    assert VelocityBuffer.objects.filter(computed_at=result.computed_at).count() == 3


def test_a_recompute_replaces_the_rows_and_keeps_to_the_network(shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    received(shop, "tee", 6, location="warehouse")
    buffers_recompute(channel=web, actor=MANAGER)
    # The web shop stops selling from the warehouse: its row there goes.
    NetworkLocation.objects.create(channel=web, location=shop["store"])
    result = buffers_recompute(channel=web, actor=MANAGER)

    assert result.removed == 1 and result.changes == []
    assert set(VelocityBuffer.objects.values_list("location__code", flat=True)) == {
        "LON-OXF"
    }


def test_a_skus_own_buffer_always_wins(api, shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    shop["tee"].safety_buffer = 1
    shop["tee"].save()

    buffers_recompute(channel=web, actor=MANAGER)

    assert (
        VelocityBuffer.objects.get(sku=shop["tee"], location=shop["store"]).units == 3
    )
    assert availability(api, "TEE-BLK-M") == (1, 2)
    row = buffers(api, channel="web", sku="TEE-BLK-M", location="LON-OXF")
    assert row["TEE-BLK-M", "LON-OXF"] == {
        "channel": "web", "sku": "TEE-BLK-M", "location": "LON-OXF", "buffer": 1,
        "source": "sku", "rate": None, "computed_at": None,
    }  # fmt: skip


def test_a_channel_with_a_fixed_buffer_ignores_velocity_rows_and_is_not_recomputed(
    api, shop
):
    a_fast_tee_and_a_slow_hoodie(shop)
    marketplace = shop["marketplace"]  # its own buffer: 5
    VelocityBuffer.objects.create(
        channel=marketplace, sku=shop["hoodie"], location=shop["store"], units=0,
        rate=0.0, computed_at=timezone.now(),
    )  # fmt: skip

    assert availability(api, "HOOD-GRE-L", channel="mkt") == (5, 0)
    with pytest.raises(NotUnderVelocity) as refused:
        buffers_recompute(channel=marketplace, actor=MANAGER)
    assert "'mkt' keeps a fixed buffer" in refused.value.message
    with pytest.raises(NotUnderVelocity):
        buffers_preview(channel=marketplace)
    assert VelocityBuffer.objects.get().units == 0  # nothing written
    row = buffers(api, channel="mkt", sku="HOOD-GRE-L", location="LON-OXF")
    assert (
        row["HOOD-GRE-L", "LON-OXF"]["source"],
        row["HOOD-GRE-L", "LON-OXF"]["buffer"],
    ) == ("channel", 5)


@pytest.mark.sqlite_too
def test_the_preview_says_what_the_recompute_then_does(api, shop, web):
    """Before: no velocity rows, so the web shop keeps back its own 2 everywhere. The
    fast tee goes to 3 (its last 3 units no longer show online); the slow hoodie to
    0 (all 5 show)."""
    a_fast_tee_and_a_slow_hoodie(shop)
    assert availability(api, "TEE-BLK-M") == (2, 1)
    assert availability(api, "HOOD-GRE-L") == (2, 3)

    preview = buffers_preview(channel=web)

    assert (preview.held_back_before, preview.held_back_after) == (4, 3)
    assert preview.newly_zero == ["TEE-BLK-M"]
    assert [
        (c.sku, c.before, c.after, c.available_to_promise_before,
         c.available_to_promise_after)
        for c in preview.changes
    ] == [("TEE-BLK-M", 2, 3, 1, 0), ("HOOD-GRE-L", 2, 0, 3, 5)]  # fmt: skip
    assert VelocityBuffer.objects.count() == 0  # a preview writes nothing

    result = buffers_recompute(channel=web, actor=MANAGER)

    def said(changes):
        return {(c.sku, c.location, c.before, c.after, c.rate) for c in changes}

    assert said(result.changes) == said(preview.changes)
    for change in preview.changes:
        assert availability(api, change.sku) == (
            change.after,
            change.available_to_promise_after,
        )
    again = buffers_preview(channel=web)
    assert again.changes == [] and again.held_back_before == 3


def test_a_recompute_announces_only_the_balances_whose_buffer_moved(shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    received(shop, "tee", 6, location="warehouse")
    buffers_recompute(channel=web, actor=MANAGER)
    sequences = dict(StockBalance.objects.values_list("pk", "sequence"))
    sold(shop, "tee", 1, location="warehouse")  # 0.1 a day there: still the slow tier
    sequences[StockBalance.objects.get(location=shop["warehouse"]).pk] += 1

    result = buffers_recompute(channel=web, actor=MANAGER)

    assert result.changes == [] and result.announced == 0
    assert dict(StockBalance.objects.values_list("pk", "sequence")) == sequences


@pytest.mark.sqlite_too
def test_the_buffers_api_says_each_buffer_and_where_it_comes_from(api, shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    received(shop, "tee", 6, location="warehouse")
    result = buffers_recompute(channel=web, actor=MANAGER)
    shop["hoodie"].safety_buffer = 4
    shop["hoodie"].save()

    rows = buffers(api, channel="web")  # every SKU with a balance in the network

    assert {key: (row["buffer"], row["source"], row["rate"]) for key, row in rows.items()} == {
        ("HOOD-GRE-L", "LON-OXF"): (4, "sku", None),
        ("TEE-BLK-M", "LON-OXF"): (3, "velocity", 5.0),
        ("TEE-BLK-M", "WH-DAV"): (0, "velocity", 0.0),
    }  # fmt: skip
    computed_at = rows["TEE-BLK-M", "LON-OXF"]["computed_at"]
    assert parse_datetime(computed_at) == result.computed_at
    # A SKU-location with no velocity row: the channel's own buffer.
    rows = buffers(
        api, channel="web", sku=["HOOD-GRE-L", "TEE-BLK-M"], location="WH-DAV"
    )
    assert rows["TEE-BLK-M", "WH-DAV"]["source"] == "velocity"
    assert (
        rows["HOOD-GRE-L", "WH-DAV"]["buffer"],
        rows["HOOD-GRE-L", "WH-DAV"]["source"],
    ) == (4, "sku")
    shop["hoodie"].safety_buffer = None
    shop["hoodie"].save()
    rows = buffers(api, channel="web", sku="HOOD-GRE-L", location="WH-DAV")
    assert rows["HOOD-GRE-L", "WH-DAV"] == {
        "channel": "web", "sku": "HOOD-GRE-L", "location": "WH-DAV", "buffer": 2,
        "source": "channel", "rate": None, "computed_at": None,
    }  # fmt: skip


def test_the_buffers_api_refuses_clearly(api, shop, web):
    """A 400 that names what is wrong, never a 500."""

    def refused(query):
        answer = api.get(BUFFERS, query)
        assert answer.status_code == 400, answer.content
        return answer.json()["errors"]

    assert refused({}) == {"channel": ["Give the channel whose buffers to read."]}
    assert refused({"channel": "nope", "sku": ["TEE-BLK-M", "GONE"]}) == {
        "channel": ["Unknown channel 'nope'."],
        "sku": ["Unknown SKU 'GONE'."],
    }
    assert "location" in refused({"channel": "web", "location": "bad code!"})
    assert "channel" in refused({"channel": ["web", "mkt"]})
    assert "sku" in refused({"channel": "web", "sku": [f"S{n}" for n in range(101)]})


def test_a_channels_token_reads_only_its_own_buffers(shop, web):
    received(shop, "tee", 3)
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    token = client_for(raw)

    rows = buffers(token, sku="TEE-BLK-M")  # its own channel, unnamed
    assert rows["TEE-BLK-M", "LON-OXF"]["channel"] == "web"
    answer = token.get(BUFFERS, {"channel": "mkt"})
    assert answer.status_code == 403
    assert answer.json()["code"] == "channel_not_permitted"
    _, raw = ApiTokenFactory.issue(name="narrow", scopes=["read_master_data"])
    assert client_for(raw).get(BUFFERS, {"channel": "web"}).status_code == 403


def test_the_nightly_job_recomputes_every_velocity_channel(shop, web):
    a_fast_tee_and_a_slow_hoodie(shop)
    job = PeriodicTask.objects.get(task=RECOMPUTE_VELOCITY_BUFFERS)
    assert job.enabled and job.crontab is not None

    assert recompute_velocity_buffers() == 1  # the web shop; the marketplace is fixed

    assert set(VelocityBuffer.objects.values_list("channel__code", flat=True)) == {
        "web"
    }
    assert VelocityBuffer.objects.get(sku=shop["tee"]).units == 3
