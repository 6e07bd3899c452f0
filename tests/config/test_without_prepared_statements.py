"""Behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in
transaction mode), ``DATABASE_PREPARED_STATEMENTS=0``: a checkout and a read still
answer, each statement planned afresh (docs/deployment.md)."""

import pytest

from config.database import can_prepare
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, StockEvents

pytestmark = pytest.mark.django_db


def test_a_checkout_and_its_read_back_without_prepared_statements(shop, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    assert not can_prepare()
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=5)
    web = client_for(ApiTokenFactory.issue(name="web", channel_code="web")[1])
    held = web.post(
        "/api/v1/reservations/",
        {"reference": "CART-POOLED", "lines": [
            {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2}]},
        format="json",
    )  # fmt: skip
    assert held.status_code == 201, held.content
    read = web.get("/api/v1/availability/", {"sku": "TEE-BLK-M", "location": "LON-OXF"})
    (row,) = read.json()["results"]
    assert (row["on_hand"], row["reserved"], row["available"]) == (5, 2, 3)
    feed = web.get("/api/v1/availability/changes/", {"limit": 10})
    assert feed.status_code == 200
    assert feed.json()["changes"][-1]["data"]["quantities"]["reserved"] == 2
