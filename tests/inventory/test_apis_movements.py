"""Integrations send stock events to POST /api/v1/movements/ and read the audit trail."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.serializers import Serializer, ValidationError, as_serializer_error

from inventory.errors import ReferenceClash
from inventory.models import StockBalance, StockConflict, StockMovement
from inventory.serializers import MovementInputSerializer, MovementSerializer
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/movements/"
# One moment for every event of a test unless it says otherwise, so a resend is exact.
EARLIER = (timezone.now() - timedelta(minutes=5)).isoformat()


def event(**overrides):
    body = {
        "reference": "RCPT-1001",
        "type": "receipt",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": 5,
        "occurred_at": EARLIER,
        "channel": "wms",
    }
    body.update(overrides)
    return body


def test_a_receipt_is_recorded_and_answered_as_stored(api, shop):
    response = api.post(URL, event(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "applied"
    assert body["reference"] == "RCPT-1001"
    assert body["deltas"]["on_hand"] == 5
    assert body["actor"] == "token:erp"
    assert body["channel"] == "wms"
    assert balance_of(shop["tee"], shop["store"]).on_hand == 5


@pytest.mark.sqlite_too
def test_the_same_event_twice_changes_nothing_the_second_time(api, shop):
    first = api.post(URL, event(), format="json")
    again = api.post(URL, event(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert StockMovement.objects.count() == 1
    assert balance_of(shop["tee"], shop["store"]).on_hand == 5


def test_the_same_event_with_another_time_zone_is_still_the_same_event(api, shop):
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    api.post(URL, event(occurred_at=at.isoformat()), format="json")
    paris = at.astimezone(timezone.get_fixed_timezone(60)).isoformat()
    again = api.post(URL, event(occurred_at=paris), format="json")
    assert again.status_code == 200


def test_a_reference_reused_for_another_movement_is_a_conflict(api, shop):
    api.post(URL, event(), format="json")
    clash = api.post(URL, event(quantity=6), format="json")
    assert clash.status_code == 409
    assert clash.json()["code"] == "reference_clash"
    assert clash.json()["movement"]["quantity"] == 5
    assert balance_of(shop["tee"], shop["store"]).on_hand == 5


def test_references_are_unique_per_source_not_across_sources(api, shop):
    assert api.post(URL, event(channel="wms"), format="json").status_code == 201
    assert api.post(URL, event(channel="pos"), format="json").status_code == 201
    assert balance_of(shop["tee"], shop["store"]).on_hand == 10


def test_an_inspection_of_nothing_is_stored_as_rejected_and_answered_409(api, shop):
    response = api.post(
        URL, event(reference="QC-1", type="inspection_pass", quantity=1), format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "movement_rejected"
    assert body["movement"]["status"] == "rejected"
    again = api.post(
        URL, event(reference="QC-1", type="inspection_pass", quantity=1), format="json"
    )
    assert again.status_code == 409
    assert StockMovement.objects.count() == 1


@pytest.mark.sqlite_too
def test_a_late_sale_comes_back_superseded(api, shop):
    now = timezone.now()
    api.post(
        URL,
        event(reference="CNT-1", type="count", quantity=4, occurred_at=now.isoformat()),
        format="json",
    )
    late = api.post(
        URL,
        event(
            reference="SALE-1",
            type="sale",
            quantity=1,
            channel="pos",
            occurred_at=(now - timedelta(minutes=10)).isoformat(),
        ),
        format="json",
    )
    assert late.status_code == 201
    assert late.json()["status"] == "superseded"
    assert late.json()["deltas"]["on_hand"] == 0
    assert balance_of(shop["tee"], shop["store"]).on_hand == 4


@pytest.mark.sqlite_too
def test_a_batch_with_one_bad_row_records_the_others(api, shop):
    batch = [
        event(reference="B-1"),
        event(reference="B-2", sku="NO-SUCH-SKU"),
        event(reference="B-3", type="sale", quantity=2, channel="pos"),
        event(reference="B-1"),
        event(reference="B-4", quantity=0),
    ]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [line["status"] for line in results] == [
        "created",
        "rejected",
        "created",
        "duplicate",
        "rejected",
    ]
    assert [line["index"] for line in results] == [0, 1, 2, 3, 4]
    assert results[1]["errors"] == {"sku": ["Unknown SKU 'NO-SUCH-SKU'."]}
    assert results[1]["movement"] is None
    assert "quantity" in results[4]["errors"]
    assert results[3]["movement"]["id"] == results[0]["movement"]["id"]
    assert balance_of(shop["tee"], shop["store"]).on_hand == 3
    assert StockMovement.objects.count() == 2


def test_a_batch_reusing_a_reference_for_something_else_rejects_that_line(api, shop):
    batch = [event(reference="R-1"), event(reference="R-1", quantity=9)]
    results = api.post(URL, batch, format="json").json()["results"]
    assert [line["status"] for line in results] == ["created", "rejected"]
    assert "reference" in results[1]["errors"]


def test_a_batch_costs_the_same_few_queries_whatever_its_size(
    api, shop, django_assert_max_num_queries
):
    """Set-based: the number of round trips does not grow with the rows."""
    skus = [SkuFactory(code=f"BULK-{n:03d}") for n in range(200)]
    batch = [
        event(reference=f"BULK-{n}", sku=sku.code, quantity=n + 1)
        for n, sku in enumerate(skus)
    ]
    with django_assert_max_num_queries(20):
        response = api.post(URL, batch, format="json")
    assert response.status_code == 200
    assert {line["status"] for line in response.json()["results"]} == {"created"}
    assert StockBalance.objects.filter(location=shop["store"]).count() == 200


def test_a_batch_has_at_most_a_thousand_movements(api, shop):
    response = api.post(
        URL, [event(reference=f"X-{n}") for n in range(1001)], format="json"
    )
    assert response.status_code == 400
    assert not StockMovement.objects.exists()


def test_an_empty_batch_is_refused(api, shop):
    assert api.post(URL, [], format="json").status_code == 400


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": "NOPE"}, "sku"),
        ({"location": "NOWHERE"}, "location"),
        ({"channel": "fax"}, "channel"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"quantity": 10**12}, "quantity"),
        ({"quantity": "5"}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"type": "teleport"}, "type"),
        ({"type": "reserve"}, "type"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-23T09:30:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"reference": ""}, "reference"),
        ({"reference": "has space"}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"type": "adjustment", "quantity": -1}, "reason"),
        ({"type": "transfer_out"}, "other_location"),
        ({"type": "transfer_out", "other_location": "LON-OXF"}, "other_location"),
        ({"other_location": "WH-DAV"}, "other_location"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    api, shop, overrides, field
):
    response = api.post(URL, event(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not StockMovement.objects.exists()
    assert not StockBalance.objects.exists()


def test_a_missing_reference_is_a_400(api, shop):
    body = event()
    del body["reference"]
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert "reference" in response.json()


def test_malformed_json_is_a_400(api, shop):
    response = api.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not StockMovement.objects.exists()


def test_a_count_of_zero_is_allowed_and_an_adjustment_may_be_negative(api, shop):
    count = api.post(URL, event(reference="C", type="count", quantity=0), format="json")
    assert count.status_code == 201
    adjust = api.post(
        URL,
        event(reference="A", type="adjustment", quantity=-2, reason="shrinkage"),
        format="json",
    )
    assert adjust.status_code == 201


def test_a_till_token_may_only_send_events_as_its_own_channel(shop):
    _, raw = ApiTokenFactory.issue(name="till-lon", channel_code="pos")
    till = client_for(raw)
    body = event(type="sale", quantity=1)
    del body["channel"]
    own = till.post(URL, body, format="json")
    assert own.status_code == 201, own.content
    assert own.json()["channel"] == "pos"

    other = till.post(URL, event(reference="X-2", channel="web"), format="json")
    assert other.status_code == 403
    assert other.json()["code"] == "channel_not_permitted"
    batch = till.post(URL, [event(reference="X-3", channel="web")], format="json")
    assert batch.json()["results"][0]["status"] == "rejected"
    assert "channel" in batch.json()["results"][0]["errors"]
    assert StockMovement.objects.count() == 1


def test_a_till_sale_that_breaks_a_promise_is_accepted_and_raises_a_conflict(api, shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=1)
    StockEvents.post(
        "commit",
        sku=shop["tee"],
        location=shop["store"],
        quantity=1,
        channel=shop["web"],
    )
    response = api.post(
        URL, event(reference="TILL-9", type="sale", quantity=1, channel="pos"),
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    conflict = StockConflict.objects.get()
    assert (conflict.shortfall, conflict.promised) == (1, 1)


def test_the_audit_trail_is_newest_first_and_filterable(api, shop):
    for n, kind in enumerate(["receipt", "sale", "damage"]):
        api.post(URL, event(reference=f"T-{n}", type=kind, quantity=1), format="json")
    api.post(URL, event(reference="H-1", sku="HOOD-GRE-L"), format="json")
    everything = api.get(URL).json()
    assert [row["reference"] for row in everything["results"]] == [
        "H-1",
        "T-2",
        "T-1",
        "T-0",
    ]
    tees = api.get(URL, {"sku": "TEE-BLK-M", "type": "sale"}).json()
    assert [row["reference"] for row in tees["results"]] == ["T-1"]
    later = api.get(URL, {"since": timezone.now().isoformat()}).json()
    assert later["count"] == 0
    assert api.get(URL, {"location": "WH-DAV"}).json()["count"] == 0
    one = api.get(f"{URL}{everything['results'][0]['id']}/")
    assert one.status_code == 200
    assert api.get(URL, {"since": "not a time"}).status_code == 400


def test_the_ledger_cannot_be_edited_through_the_api(api, shop):
    created = api.post(URL, event(), format="json").json()
    assert api.put(f"{URL}{created['id']}/", event(), format="json").status_code == 405
    assert api.delete(f"{URL}{created['id']}/").status_code == 405


def test_without_a_token_nothing_is_recorded(anonymous, shop):
    assert anonymous.post(URL, event(), format="json").status_code == 401
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('"reason": "a\\u0000b"', id="nul-in-reason"),
        pytest.param('"reason": "\\ud800"', id="surrogate-in-reason"),
        pytest.param('"quantity": 1e999', id="infinite-quantity"),
        pytest.param('"occurred_at": "2026-13-45T25:00:00Z"', id="impossible-date"),
        pytest.param('"occurred_at": 1732354200', id="epoch-number"),
    ],
)
def test_text_and_numbers_the_database_cannot_store_are_a_400(api, shop, raw):
    body = (
        '{"reference": "R-1", "type": "adjustment", "sku": "TEE-BLK-M", '
        f'"location": "LON-OXF", "quantity": 1, "occurred_at": "{EARLIER}", '
        f'"channel": "wms", "reason": "x", {raw}}}'
    )
    response = api.post(URL, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert not StockMovement.objects.exists()


def test_a_batch_line_that_is_not_an_object_is_rejected_on_its_own(api, shop):
    response = api.post(URL, [event(reference="OK-1"), "sale", 7, None], format="json")
    assert response.status_code == 200
    lines = response.json()["results"]
    assert [line["status"] for line in lines] == ["created"] + ["rejected"] * 3
    assert all(line["errors"] for line in lines[1:])


def test_a_rejected_line_resent_in_a_batch_is_still_rejected(api, shop):
    """A retry after a timeout must not read a refusal as success."""
    line = event(reference="QC-9", type="inspection_pass", quantity=1)
    first = api.post(URL, [line], format="json").json()["results"][0]
    again = api.post(URL, [line], format="json").json()["results"][0]
    for answer in (first, again):
        assert answer["status"] == "rejected"
        assert "quality control" in answer["errors"]["quantity"][0]
        assert answer["movement"]["status"] == "rejected"
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize("reference", ["R-1 ", " R-1", "R-1\n"])
def test_a_reference_with_surrounding_whitespace_is_refused_not_trimmed(
    api, shop, reference
):
    response = api.post(URL, event(reference=reference), format="json")
    assert response.status_code == 400
    assert "reference" in response.json()


@pytest.mark.sqlite_too
def test_a_batch_reusing_a_reference_for_another_sku_answers_with_the_original(
    api, shop
):
    api.post(URL, [event(reference="R-7")], format="json")
    (line,) = api.post(
        URL, [event(reference="R-7", sku="HOOD-GRE-L")], format="json"
    ).json()["results"]
    assert line["status"] == "rejected"
    assert line["movement"]["sku"] == "TEE-BLK-M"
    assert line["errors"] == {"reference": [ReferenceClash.message]}


# MovementInputSerializer and MovementSerializer are fast (config.fast_serializers): a
# line that is plainly well formed is checked without DRF's field machinery, and an
# entry is written without it. Both must agree with DRF's own path, line for line.

LINES = [
    event(),
    event(type="sale", quantity=2, channel="pos"),
    event(type="adjustment", quantity=-3, reason="shrinkage"),
    event(type="adjustment", quantity=3, reason="  found  "),
    event(type="adjustment", quantity=3, reason="   "),
    event(type="adjustment", quantity=3, reason="a\x00b"),
    event(type="adjustment", quantity=3, reason="x" * 201),
    event(type="count", quantity=0),
    event(type="transfer_out", other_location="WH-DAV"),
    event(type="transfer_in", other_location="WH-DAV", occurred_at=f" {EARLIER} "),
    event(occurred_at="2026-11-23T09:30:00"),
    event(occurred_at="2999-01-01T00:00:00Z"),
    event(occurred_at="1999-12-31T23:59:59Z"),
    event(occurred_at="yesterday"),
    event(occurred_at=""),
    event(occurred_at=1732354200),
    event(occurred_at="x" * 41),
    event(reference="#mine"),
    event(reference="has space"),
    event(reference=""),
    event(reference=7),
    event(reference="x" * 101),
    event(type="reserve"),
    event(type="teleport"),
    event(type=None),
    event(sku="bad code"),
    event(sku="-leading"),
    event(sku="x" * 65),
    event(sku="ABC\n"),
    event(location=5),
    event(channel=None),
    event(quantity=True),
    event(quantity=2.0),
    event(quantity="5"),
    event(quantity=0),
    event(quantity=10**6),
    event(quantity=10**6 + 1),
    event(type="adjustment", quantity=0, reason="x"),
    event(type="adjustment", quantity=1),
    event(type="transfer_out"),
    event(type="transfer_out", other_location="LON-OXF"),
    event(other_location="WH-DAV"),
    event(colour="red"),
    {key: value for key, value in event().items() if key != "channel"},
    {key: value for key, value in event().items() if key != "quantity"},
    {},
    [],
    "sale",
    None,
]


def outcome(run_validation, data):
    """The validated data, or the error body."""
    try:
        return dict(run_validation(data))
    except ValidationError as error:
        return as_serializer_error(error)


@pytest.mark.parametrize("line", LINES)
def test_a_line_is_validated_as_drf_validates_it(line):
    fast = outcome(MovementInputSerializer().run_validation, line)
    # DRF's own path, as the serializer would run it without its compiled check.
    plain = MovementInputSerializer()
    assert fast == outcome(lambda data: Serializer.run_validation(plain, data), line)


def test_plain_lines_are_checked_without_drf_s_field_machinery(monkeypatch):
    through_drf = []
    run_validation = Serializer.run_validation

    def counted(serializer, data):
        through_drf.append(data)
        return run_validation(serializer, data)

    monkeypatch.setattr(Serializer, "run_validation", counted)
    lines = MovementInputSerializer()
    for line in LINES[:4] + LINES[7:9]:
        lines.run_validation(line)
    assert through_drf == []
    assert "fields" not in vars(lines)  # never built: nothing was deep-copied
    with pytest.raises(ValidationError):
        lines.run_validation(event(quantity="5"))
    assert through_drf == [event(quantity="5")]


def test_batch_answers_are_the_movement_serializer_s_own(api, shop):
    now = timezone.now()
    batch = [
        event(reference="S-1", type="count", quantity=9, occurred_at=now.isoformat()),
        event(
            reference="S-2",
            type="sale",
            quantity=1,
            channel="pos",
            occurred_at=(now - timedelta(hours=1)).isoformat(),
        ),
        event(reference="S-3", type="inspection_pass", quantity=1),
        event(
            reference="S-4", type="transfer_out", quantity=2, other_location="WH-DAV"
        ),
        event(reference="S-5", type="adjustment", quantity=-1, reason="lost — sorry"),
    ]
    first = api.post(URL, batch, format="json").json()["results"]
    again = api.post(URL, batch, format="json").json()["results"]
    stored = StockMovement.objects.select_related(
        "channel", "sku", "location", "other_location"
    ).order_by("reference")
    assert {row["status"] for row in stored.values("status")} == {
        "applied", "superseded", "rejected",
    }  # fmt: skip
    expected = [Serializer.to_representation(MovementSerializer(), e) for e in stored]
    assert MovementSerializer(stored, many=True).data == expected
    for answers in (first, again):
        assert [line["movement"] for line in answers] == expected


ODD_TEXT = "".join(chr(n) for n in range(128)) + "é ß 😀 \u2028 \u2029 \ufeff"


@pytest.mark.parametrize(
    "data",
    [
        {"results": [{"index": 0, "movement": None, "ok": True, "no": False}]},
        {"text": ODD_TEXT, ODD_TEXT: [ODD_TEXT, -(2**63), 2**64 - 1, [], {}]},
        {"big": 2**70},
        {"float": 2.5, "huge": 1e16},
        {"nan": float("nan")},
        # A float among plain values, deep in rows that are otherwise plain.
        {"rows": [{"a": 1, "b": None}, {"c": [1, True, "x", 1e16]}]},
        [1, "x", None, (2, 1e16)],
        {"at": timezone.now()},
        {1: "int key"},
        [{"nested": [[[{"deep": "x"}]]]}],
        "just text",
    ],
)
def test_the_fast_renderer_writes_what_drf_writes(data):
    from rest_framework.exceptions import ErrorDetail
    from rest_framework.renderers import JSONRenderer
    from rest_framework.utils.serializer_helpers import ReturnDict

    from inventory.renderers import FastJSONRenderer

    def rendered(renderer):
        try:
            return renderer().render(data)
        except ValueError as error:  # NaN: DRF's strict JSON refuses it
            return repr(error)

    assert rendered(FastJSONRenderer) == rendered(JSONRenderer)
    wrapped = ReturnDict({"errors": [ErrorDetail("Bad.", code="x")]}, serializer=None)
    assert FastJSONRenderer().render(wrapped) == JSONRenderer().render(wrapped)
