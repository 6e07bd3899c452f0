"""The flash sale's request takes a short way past DRF (inventory.reservation_apis.
plain_checkout): a web shop cannot tell, and whatever the short way cannot answer
alone goes to DRF with nothing written."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from inventory import reservation_apis, services
from inventory.models import Reservation
from inventory.reservation_apis import ReservationViewSet
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, StockEvents, balance_of

URL = "/api/v1/reservations/"


@pytest.fixture
def stocked(shop):
    """Ten tees at the store; the web keeps two back."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=10)
    return shop


@pytest.fixture
def drf_calls(monkeypatch):
    """How many requests DRF itself handled."""
    calls = []
    initial = ReservationViewSet.initial

    def counted(view, request, *args, **kwargs):
        calls.append(request.method)
        return initial(view, request, *args, **kwargs)

    monkeypatch.setattr(ReservationViewSet, "initial", counted)
    return calls


def web_checkout():
    return client_for(ApiTokenFactory.issue(name="checkout", channel_code="web")[1])


def cart(reference, quantity=1, sku="TEE-BLK-M", **extra):
    return {
        "reference": reference,
        "lines": [{"sku": sku, "location": "LON-OXF", "quantity": quantity}],
        **extra,
    }


def test_a_plain_checkout_skips_drf_and_answers_as_a_read_would(stocked, drf_calls):
    api = web_checkout()
    placed = api.post(URL, cart("CART-1", 2), format="json")
    assert placed.status_code == 201, placed.json()
    assert drf_calls == []
    read = api.get(f"{URL}{placed.json()['id']}/")
    assert placed.json() == read.json()
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 2


def test_the_short_way_answers_with_drfs_headers(stocked, monkeypatch):
    api = web_checkout()
    short = api.post(URL, cart("CART-FAST"), format="json")
    monkeypatch.setattr(reservation_apis, "plain_checkout", lambda *a, **k: None)
    through_drf = api.post(URL, cart("CART-DRF"), format="json")
    assert short.status_code == through_drf.status_code == 201
    # The length differs with the ids and times in the body, nothing else.
    headers = [dict(answer.headers) for answer in (short, through_drf)]
    assert [sorted(h) for h in headers] == [sorted(headers[0])] * 2
    assert [h.pop("Content-Length") for h in headers]
    assert headers[0] == headers[1]
    ignore = {
        "id",
        "reference",
        "expires_at",
        "created_at",
        "updated_at",
        "transitions",
    }
    assert {k: v for k, v in short.json().items() if k not in ignore} == {
        k: v for k, v in through_drf.json().items() if k not in ignore
    }


@pytest.mark.parametrize(
    "story, send, status",
    [
        ("a token nobody issued", lambda api: APIClient(
            HTTP_AUTHORIZATION="Token nonsense").post(URL, cart("C"), format="json"),
         401),
        ("no token at all", lambda api: APIClient().post(
            URL, cart("C"), format="json"), 401),
        ("a body that is not JSON", lambda api: api.post(
            URL, "{not json", content_type="application/json"), 400),
        ("a form instead of JSON", lambda api: api.post(URL, {"reference": "C"}), 400),
        ("a cart without lines", lambda api: api.post(
            URL, {"reference": "C", "lines": []}, format="json"), 400),
        ("a SKU nobody sells", lambda api: api.post(
            URL, cart("C", sku="NO-SUCH-SKU"), format="json"), 400),
        ("more than the shelf can promise", lambda api: api.post(
            URL, cart("C", 9), format="json"), 409),
        ("another channel than the token's", lambda api: api.post(
            URL, cart("C", channel="pos"), format="json"), 403),
        ("a browser asking for HTML", lambda api: api.post(
            URL, cart("C"), format="json", HTTP_ACCEPT="text/html"), 201),
        ("a format in the query string", lambda api: api.post(
            f"{URL}?format=json", cart("C"), format="json"), 201),
    ],
)  # fmt: skip
def test_what_the_short_way_cannot_answer_alone_drf_answers(
    stocked, drf_calls, story, send, status
):
    answer = send(web_checkout())
    assert answer.status_code == status, (story, answer.content[:300])
    assert drf_calls == ["POST"], story
    held = 0 if status != 201 else 1
    assert Reservation.objects.count() == held, story
    assert balance_of(stocked["tee"], stocked["store"]).reserved == held, story


def test_a_resent_checkout_is_answered_from_the_stored_hold(stocked, drf_calls):
    api = web_checkout()
    first = api.post(URL, cart("CART-AGAIN", 2), format="json")
    again = api.post(URL, cart("CART-AGAIN", 2), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert drf_calls == ["POST"]  # the resend only
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 2


def test_a_member_of_staff_signed_in_goes_through_drf(stocked, drf_calls):
    staff = APIClient()
    staff.force_login(
        get_user_model().objects.create_user(
            "ops", password="pw-123456!", is_staff=True
        )
    )
    answer = staff.post(URL, cart("CART-STAFF", channel="web"), format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["created_by"] == "user:ops"
    assert drf_calls == ["POST"]


PLAIN_CARTS = [
    cart("CART-1"),
    cart("CART-2", 3, channel="web", ttl_seconds=600),
    {"reference": "~!odd-but-printable", "lines": [
        {"sku": "A", "location": "B.1_x-y", "quantity": 1},
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1_000_000},
    ]},
]  # fmt: skip
UNUSUAL_CARTS = [
    None, [], "cart", {},
    {"reference": "C"},
    {"lines": [{"sku": "A", "location": "B", "quantity": 1}]},
    cart("has space"), cart(""), cart("x" * 101), cart(12), cart("C", 0), cart("C", -1),
    cart("C", True), cart("C", 1.0), cart("C", "1"), cart("C", 10**12),
    cart("C", sku="-starts-with-dash"), cart("C", sku="A\n"), cart("C", sku="é"),
    cart("C", sku="x" * 65), cart("C", sku=None),
    cart("C", channel=""), cart("C", channel=None), cart("C", ttl_seconds=0),
    cart("C", ttl_seconds=10**9), cart("C", ttl_seconds="60"), cart("C", ttl_seconds=None),
    cart("C", surprise=1),
    {"reference": "C", "lines": []},
    {"reference": "C", "lines": {"sku": "A"}},
    {"reference": "C", "lines": [{"sku": "A", "location": "B"}]},
    {"reference": "C", "lines": [{"sku": "A", "location": "B", "quantity": 1, "x": 1}]},
    {"reference": "C", "lines": [{"sku": "A", "location": "B", "quantity": 1}] * 201},
]  # fmt: skip


@pytest.mark.parametrize("payload", PLAIN_CARTS + UNUSUAL_CARTS)
def test_the_lean_cart_check_agrees_with_the_serializer(payload):
    validator = reservation_apis.CART
    try:
        expected = validator.serializer.run_validation(payload)
    except ValidationError as refused:
        expected = refused
    plain = validator.plain(payload)
    if payload in PLAIN_CARTS:
        assert plain is not None
    if plain is not None:
        assert plain == expected  # only what the serializer accepts, as it returns it
    try:
        got = validator.run_validation(payload)
    except ValidationError as refused:
        assert isinstance(expected, ValidationError)
        assert refused.detail == expected.detail
    else:
        assert got == expected


def test_a_body_in_another_charset_is_drfs_to_read(stocked, drf_calls):
    answer = web_checkout().post(
        URL,
        json.dumps(cart("CART-LATIN")).encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )
    assert answer.status_code == 201, answer.content
    assert drf_calls == ["POST"]


def test_a_database_error_on_the_short_way_is_left_to_drf(
    stocked, drf_calls, monkeypatch
):
    """Nothing was written; DRF places the hold again and answers its own way."""
    place = services.reservation_place_by_codes
    failures = [IntegrityError("as if a concurrent writer won")]

    def failing_once(**arguments):
        if failures:
            raise failures.pop()
        return place(**arguments)

    monkeypatch.setattr(services, "reservation_place_by_codes", failing_once)
    answer = web_checkout().post(URL, cart("CART-RETRY", 2), format="json")
    assert answer.status_code == 201, answer.content
    assert drf_calls == ["POST"]
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 2
