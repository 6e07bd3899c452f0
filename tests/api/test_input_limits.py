"""Input nothing downstream can hold is refused at the door: a 400 naming the field,
never a 500 from PostgreSQL or from a screen later. Offsets PostgreSQL cannot hold,
moments outside the window, integers beyond their column, bodies that are not JSON
or are too large; and every error under /api/ is JSON that names the request, as the
server's log does."""

import io
import json
import logging
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.apis import SkuViewSet
from catalog.models import Sku
from config.access import Actor
from config.api import StrictInputSerializer, StrictIntegerField
from config.moments import OFFSET_REFUSED, WINDOW_REFUSED
from inventory.models import Location, StockMovement
from orders.models import Order
from reconciliation.models import StockSnapshot
from sync.services import SubscriptionInput, webhook_subscription_create
from tests.factories import SkuFactory, stock

pytestmark = pytest.mark.django_db

RECENTLY = timezone.now() - timedelta(minutes=5)
BEYOND_POSTGRESQL = "2026-01-01T00:00:00+16:00"  # ISO 8601 allows up to ±23:59


def at_offset(offset: str) -> str:
    """Five minutes ago, written in another zone's wall-clock time."""
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    shift = timedelta(hours=hours, minutes=minutes) * (1 if offset[0] == "+" else -1)
    return (RECENTLY + shift).replace(tzinfo=None).isoformat() + offset


# ------------------------------------------------ offsets and the date window


LIST_FILTERS = [
    ("products", "updated_since"),
    ("skus", "updated_since"),
    ("movements", "since"),
    ("movements", "occurred_since"),
    ("reservations", "since"),
    ("orders", "since"),
    ("orders", "until"),
    ("returns", "since"),
    ("returns", "until"),
]


@pytest.mark.parametrize("resource, parameter", LIST_FILTERS)
@pytest.mark.parametrize(
    "moment, message",
    [
        (BEYOND_POSTGRESQL, OFFSET_REFUSED),
        ("2026-01-01T00:00:00-23:59", OFFSET_REFUSED),
        ("2026-01-01T00:00:00+05:30:15", OFFSET_REFUSED),  # seconds: not ISO 8601
        ("0001-01-01T00:00:00Z", WINDOW_REFUSED),
        ("9999-12-31T23:59:59-01:00", WINDOW_REFUSED),
        ("1999-12-31T23:59:59Z", WINDOW_REFUSED),
        ("2100-01-01T00:00:00Z", WINDOW_REFUSED),
    ],
)
def test_a_date_filter_the_database_cannot_hold_is_a_400_naming_it(
    api, resource, parameter, moment, message
):
    response = api.get(f"/api/v1/{resource}/?{parameter}={quote(moment)}")
    assert response.status_code == 400, response.content
    assert response.json()[parameter] == [message]


@pytest.mark.parametrize("resource, parameter", LIST_FILTERS)
@pytest.mark.parametrize(
    "moment",
    ["2026-01-01T00:00:00+15:59", "2026-01-01T00:00:00-15:59", "2000-01-01T00:00:00Z"],
)
def test_a_date_filter_at_the_edge_of_what_is_held_still_lists(
    api, resource, parameter, moment
):
    response = api.get(f"/api/v1/{resource}/?{parameter}={quote(moment)}")
    assert response.status_code == 200, response.content


def test_an_event_time_postgresql_cannot_hold_is_a_400_naming_it(api, shop):
    body = {
        "reference": "RCPT-1",
        "type": "receipt",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": 5,
        "occurred_at": BEYOND_POSTGRESQL,
        "channel": "web",
    }
    response = api.post("/api/v1/movements/", body)
    assert response.status_code == 400, response.content
    assert response.json()["occurred_at"] == [OFFSET_REFUSED]
    assert not StockMovement.objects.exists()


def test_a_batch_refuses_the_line_postgresql_cannot_hold_and_posts_the_rest(api, shop):
    """The tills' end-of-hour batch has one line from a till whose clock is set to
    +16:00: that line is rejected, the sales either side of it are posted."""

    def line(reference, occurred_at):
        return {
            "reference": reference,
            "type": "receipt",
            "sku": "TEE-BLK-M",
            "location": "LON-OXF",
            "quantity": 1,
            "occurred_at": occurred_at,
            "channel": "web",
        }

    response = api.post(
        "/api/v1/movements/",
        [
            line("RCPT-1", at_offset("+14:00")),  # Kiribati: real, and held
            line("RCPT-2", BEYOND_POSTGRESQL),
            line("RCPT-3", at_offset("-15:59")),
        ],
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [result["status"] for result in results] == [
        "created",
        "rejected",
        "created",
    ]
    assert results[1]["errors"] == {"occurred_at": [OFFSET_REFUSED]}
    assert results[1]["movement"] is None
    assert set(StockMovement.objects.values_list("reference", flat=True)) == {
        "RCPT-1",
        "RCPT-3",
    }


def test_a_snapshot_taken_at_an_offset_postgresql_cannot_hold_is_a_400(api, shop):
    page = {
        "snapshot_id": "EOD-1",
        "channel": "web",
        "taken_at": BEYOND_POSTGRESQL,
        "page": 1,
        "page_count": 1,
        "rows": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "on_hand": 1}],
    }
    response = api.post("/api/v1/snapshots/", page)
    assert response.status_code == 400, response.content
    assert response.json()["taken_at"] == [OFFSET_REFUSED]
    assert not StockSnapshot.objects.exists()


def test_a_resend_since_an_offset_postgresql_cannot_hold_is_a_400(api, shop, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    subscription = webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=shop["web"], url="http://127.0.0.1:9/hook", event_kinds=[]
        ),
        actor=Actor(name="test"),
    )
    response = api.post(
        f"/api/v1/webhooks/{subscription.pk}/resend/", {"since": BEYOND_POSTGRESQL}
    )
    assert response.status_code == 400, response.content
    assert response.json()["since"] == [OFFSET_REFUSED]
    subscription.refresh_from_db()
    assert subscription.state_changed_by == "test"  # nothing resent


def pickup_order(**extra):
    return {
        "reference": "WEB-1001",
        "channel": "web",
        "fulfilment_method": "pickup",
        "pickup_location": "LON-OXF",
        "customer": {"name": "Ada Byron", "email": "ada@example.com"},
        "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
        **extra,
    }


@pytest.mark.parametrize(
    "promised_by, message",
    [
        ("0001-01-01T00:00:00Z", WINDOW_REFUSED),
        ("9999-12-31T23:59:59Z", WINDOW_REFUSED),
        ("2100-01-01T00:00:00Z", WINDOW_REFUSED),
        ("1999-12-31T23:59:59Z", WINDOW_REFUSED),
        (BEYOND_POSTGRESQL, OFFSET_REFUSED),
    ],
)
def test_a_promise_outside_the_window_is_refused_at_the_door(
    api, shop, promised_by, message
):
    """Year 1 or 9999 would be stored, and then break every pickup screen of the
    store; it is refused instead, naming the field and the window."""
    stock(shop["tee"], shop["oxford"], 1)
    response = api.post("/api/v1/orders/", pickup_order(promised_by=promised_by))
    assert response.status_code == 400, response.content
    assert response.json()["promised_by"] == [message]
    assert not Order.objects.exists()


def test_a_promise_at_the_windows_end_in_a_far_zone_is_kept(api, shop):
    stock(shop["tee"], shop["oxford"], 1)
    response = api.post(
        "/api/v1/orders/", pickup_order(promised_by="2099-12-31T23:59:00+14:00")
    )
    assert response.status_code == 201, response.content
    assert response.json()["promised_by"] == "2099-12-31T09:59:00Z"


# ------------------------------------------------------------- integer ranges


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("daily_order_capacity", 2**63, "Must be from 0 to 2147483647."),
        ("daily_order_capacity", 2**31, "Must be from 0 to 2147483647."),
        ("service_radius_km", 2**63, "Must be from 1 to 2147483647."),
        ("service_radius_km", 2**63 - 1, "Must be from 1 to 2147483647."),
    ],
)
def test_a_number_beyond_its_column_is_a_400_with_the_fields_range(
    api, field, value, message
):
    response = api.put("/api/v1/locations/LON-1/", {"name": "Store", field: value})
    assert response.status_code == 400, response.content
    assert response.json()[field] == [message]
    assert not Location.objects.exists()


def test_the_largest_number_a_column_holds_is_kept(api):
    response = api.put(
        "/api/v1/locations/LON-1/",
        {"name": "Store", "daily_order_capacity": 2**31 - 1, "service_radius_km": 1},
    )
    assert response.status_code == 201, response.content
    assert Location.objects.get().daily_order_capacity == 2**31 - 1


def _input_serializers(cls=StrictInputSerializer):
    for sub in cls.__subclasses__():
        yield sub
        yield from _input_serializers(sub)


def test_every_integer_the_api_takes_is_bounded_by_what_its_column_holds():
    """Not only the two fields that were found: every integer field of every input
    serializer has a range no wider than its column's (a 64-bit one's where the
    serializer names no model), so no integer reaches PostgreSQL out of range."""
    from django.db import connection

    import config.urls  # noqa: F401 - every app's serializers imported

    widest = connection.ops.integer_field_range("BigIntegerField")
    checked = 0
    for serializer in set(_input_serializers()):
        for name, field in serializer().fields.items():
            if not isinstance(field, StrictIntegerField):
                continue
            low, high = widest
            if serializer.writes is not None:
                column = next(
                    (f for f in serializer.writes._meta.fields if f.name == name), None
                )
                if column is not None:
                    low, high = connection.ops.integer_field_range(
                        column.get_internal_type()
                    )
            where = f"{serializer.__name__}.{name}"
            assert field.min_value is not None and field.min_value >= low, where
            assert field.max_value is not None and field.max_value <= high, where
            checked += 1
    assert checked >= 10


# ------------------------------------------------------------------- JSON only


def test_a_form_body_is_a_415_in_json_and_changes_nothing(api):
    """A form that renames a SKU once deactivated it too (a boolean left out of a
    form reads as false): a form is not taken at all."""
    SkuFactory(code="TEE-S", name="Tee S", is_active=True)

    response = api.put(
        "/api/v1/skus/TEE-S/",
        "name=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "request_id" in response.json()
    sku = Sku.objects.get()
    assert (sku.name, sku.is_active) == ("Tee S", True)


def test_a_multipart_body_is_a_415_in_json_and_writes_nothing(api):
    response = api.put("/api/v1/skus/TEE-S/", {"name": "x"}, format="multipart")
    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith("Unsupported media type")
    assert not Sku.objects.exists()


# ------------------------------------------ body size, and every error in JSON


def test_a_body_over_the_limit_is_a_413_in_json_naming_the_request(api):
    too_big = '{"name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    response = api.put("/api/v1/skus/TEE-S/", too_big, content_type="application/json")
    assert response.status_code == 413, response.content
    body = response.json()
    assert body["code"] == "request_too_large"
    assert body["request_id"] == response["X-Request-ID"]
    assert not Sku.objects.exists()


def test_a_path_no_view_has_is_a_404_in_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["request_id"] == response["X-Request-ID"]


def test_a_screens_missing_page_stays_a_page(client):
    response = client.get("/store/no-such-screen/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "X-Request-ID" in response


@pytest.mark.parametrize(
    "call, status",
    [
        (lambda api: api.put("/api/v1/skus/TEE-S/", {"name": ""}), 400),
        (lambda api: api.get("/api/v1/skus/?updated_since=yesterday"), 400),
        (lambda api: api.get("/api/v1/skus/NOPE/"), 404),
        (lambda api: api.delete("/api/v1/skus/TEE-S/"), 405),
        (lambda api: api.get("/api/v1/skus/?q=%00"), 400),  # the NUL check
        (
            lambda api: api.post(
                "/api/v1/movements/", "[", content_type="application/json"
            ),
            400,
        ),
    ],
)
def test_every_api_error_names_its_request(api, call, status):
    response = call(api)
    assert response.status_code == status, response.content
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_an_unauthenticated_call_names_its_request(anonymous):
    response = anonymous.get("/api/v1/skus/")
    assert response.status_code == 401
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_the_id_a_proxy_sent_is_kept_and_anything_else_replaced(api):
    sent = str(uuid.uuid4())
    kept = api.get("/api/v1/skus/NOPE/", HTTP_X_REQUEST_ID=sent)
    assert kept["X-Request-ID"] == sent and kept.json()["request_id"] == sent

    forged = api.get("/api/v1/skus/NOPE/", HTTP_X_REQUEST_ID="x\nFAKE log line")
    assert forged.json()["request_id"] == forged["X-Request-ID"]
    assert uuid.UUID(forged["X-Request-ID"])  # a new one


@pytest.fixture
def server_log():
    """What the server's console log writes, as configured in LOGGING."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if handler.get_name() == "console"
    )
    written = io.StringIO()
    before = console.setStream(written)
    try:
        yield written
    finally:
        console.setStream(before)


def test_a_500_is_json_with_the_request_id_the_log_carries(
    api, monkeypatch, server_log
):
    """A bug in a view answers JSON, not Django's HTML page; its id is the one on the
    server's log line with the traceback, so a report can be traced."""

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(SkuViewSet, "list", broken)
    api.raise_request_exception = False

    response = api.get("/api/v1/skus/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "server_error"
    assert body["request_id"] == response["X-Request-ID"]
    lines = [
        line
        for line in server_log.getvalue().splitlines()
        if "Internal Server Error: /api/v1/skus/" in line
    ]
    # One JSON object a line (LOG_FORMAT=json, docs/operations.md), the traceback in it.
    assert lines, server_log.getvalue()[-2000:]
    logged = json.loads(lines[0])
    assert logged["request_id"] == body["request_id"]
    assert "RuntimeError: a bug" in logged["exc_info"]
