"""A channel's stock snapshot sent as one file: received through reconciliation's own
snapshot service, page by page, as complete as if sent through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reconciliation.models import StockSnapshot
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, ChannelFactory

from .conftest import run, upload

pytestmark = pytest.mark.django_db


def _file(taken_at: str, *rows: str, channel: str | None = "web") -> str:
    head = "snapshot_id,taken_at,sku,location,on_hand" + (",channel" if channel else "")
    tail = f",{channel}" if channel else ""
    return "\n".join([head, *(f"N-1,{taken_at},{row}{tail}" for row in rows)]) + "\n"


@pytest.fixture
def taken_at() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


@pytest.mark.sqlite_too
def test_a_snapshot_file_is_one_complete_snapshot(shop, send, taken_at, settings):
    settings.SNAPSHOT_PAGE_MAX_ROWS = 2  # three pages of the snapshot
    text = _file(
        taken_at,
        "TEE-BLK-M,LON-OXF,5",
        "TEE-BLK-M,LON-CAM,0",
        "HOOD-GRE-L,LON-OXF,-2",
        "POLO-BLU-M,LON-CAM,7",
        "POLO-BLU-M,LON-OXF,1",
    )
    job = send("snapshots", text)

    assert (job.status, job.rows_written, job.pages_total) == ("done", 5, 3)
    snapshot = StockSnapshot.objects.get(snapshot_id="N-1")
    assert snapshot.channel.code == "web"
    assert (snapshot.status, snapshot.page_count, snapshot.rows_received) == (
        "complete",
        3,
        5,
    )
    assert snapshot.received_by == "token:erp"


def test_a_snapshot_row_in_error_refuses_the_snapshot(shop, send, taken_at):
    job = send(
        "snapshots",
        _file(
            taken_at,
            "TEE-BLK-M,LON-OXF,5",
            "NOPE,LON-OXF,1",
            "TEE-BLK-M,LON-OXF,6",
            "HOOD-GRE-L,LON-OXF,many",
        ),
    )

    assert job.status == "refused"
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (3, "sku"),
        (4, None),
        (5, None),
    ]
    assert "came already" in job.errors[1]["message"]
    assert "whole number" in job.errors[2]["message"]
    assert not StockSnapshot.objects.exists()


def test_a_channels_token_sends_its_own_channels_snapshot(shop, taken_at):
    ChannelFactory(code="pos")
    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")
    client = client_for(raw)

    own = upload(
        client, "snapshots", _file(taken_at, "TEE-BLK-M,LON-OXF,5", channel=None)
    )
    other = upload(
        client, "snapshots", _file(taken_at, "TEE-BLK-M,LON-OXF,4", channel="pos")
    )

    assert own.status_code == other.status_code == 202
    assert run(own).status == "done"
    assert StockSnapshot.objects.get().channel.code == "web"
    refused = run(other)
    assert refused.status == "refused"
    assert "acts only for channel web" in refused.errors[0]["message"]
    exported = client.get("/api/v1/exports/snapshots/")
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert lines == [
        "snapshot_id,taken_at,sku,location,on_hand,channel",
        f"N-1,{StockSnapshot.objects.get().taken_at.isoformat()},TEE-BLK-M,LON-OXF,5,web",
    ]


def test_a_snapshot_id_already_received_is_refused(shop, send, taken_at):
    send("snapshots", _file(taken_at, "TEE-BLK-M,LON-OXF,5"))
    again = send("snapshots", _file(taken_at, "TEE-BLK-M,LON-OXF,6"))

    assert again.status == "refused"
    assert again.errors[0]["column"] == "snapshot_id"
    assert StockSnapshot.objects.get().rows_received == 1
