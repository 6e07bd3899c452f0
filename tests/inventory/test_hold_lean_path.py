"""The checkout's one fast path (``reservation_place_by_codes``, through
inventory.services.promises) writes exactly what the ledger's general path would have
written, and steps aside whenever it cannot decide alone."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from config.access import Actor
from config.database import is_between_transactions
from inventory.errors import InsufficientStock
from inventory.models import (
    Reservation,
    ReservationLine,
    ReservationTransition,
    StockMovement,
)
from inventory.reservation_serializers import ReservationSerializer
from inventory.selectors import reservation_queryset
from inventory.services import (
    MovementInput,
    balances_rebuild,
    promises,
    reservation_place_by_codes,
    reservation_transition,
)
from inventory.services import reservations as reservations_module
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, Holds, SkuFactory, StockEvents, balance_of

ENTRY_FIELDS = [
    "type", "sku_id", "location_id", "other_location_id", "quantity", "reason",
    "status", "status_reason", "actor", "on_hand_delta", "committed_delta",
    "reserved_delta", "damaged_delta", "quality_control_delta", "in_transit_delta",
    "incoming_delta", "other_location_in_transit_delta",
]  # fmt: skip


@pytest.fixture
def stocked(shop):
    """Ten tees and ten hoodies at the store."""
    for sku in ("tee", "hoodie"):
        StockEvents.post("receipt", sku=shop[sku], location=shop["store"], quantity=10)
    return shop


# Each story twice: inside a caller's transaction (the function, under a savepoint),
# and on its own between transactions, as the API places a hold (the procedure, which
# commits by itself and waits for the disk).
BOTH_WAYS = pytest.mark.parametrize(
    "placed",
    [
        pytest.param("inside", marks=pytest.mark.django_db),
        pytest.param("on_its_own", marks=pytest.mark.django_db(transaction=True)),
    ],
)


@pytest.fixture
def general_path_only(monkeypatch):
    monkeypatch.setattr(promises, "is_available", lambda: False)


TWO_LINES = [("TEE-BLK-M", "LON-OXF", 3), ("HOOD-GRE-L", "LON-OXF", 1)]


def lean_hold(reference, lines=TWO_LINES):
    """A hold the fast path places by itself (None: it stepped aside)."""
    return reservation_place_by_codes(
        channel_code="web",
        reference=reference,
        lines=lines,
        actor=Actor(name="token:checkout"),
    )


def general_hold(shop, reference):
    return Holds.place(
        channel=shop["web"],
        reference=reference,
        lines=[(shop["tee"], shop["store"], 3), (shop["hoodie"], shop["store"], 1)],
    )


def written_by(reservation):
    entries = StockMovement.objects.filter(
        reference__startswith=f"#reservation/{reservation.pk}/"
    ).order_by("sku_id")
    return [
        {name: getattr(entry, name) for name in ENTRY_FIELDS} for entry in entries
    ], entries


def timeline_of(reservation):
    return [
        (t.action, t.from_status, t.to_status, t.actor, t.source, t.note, t.detail)
        for t in ReservationTransition.objects.filter(reservation=reservation)
    ]


@BOTH_WAYS
def test_a_lean_hold_writes_what_the_general_path_writes(stocked, placed):
    shop = stocked
    assert is_between_transactions() == (placed == "on_its_own")
    lean = lean_hold("CART-LEAN")
    general = general_hold(shop, "CART-GENERAL")

    lean_entries, stored = written_by(lean)
    general_entries, general_stored = written_by(general)
    assert lean_entries == general_entries
    assert len(lean_entries) == 2
    for entry, line in zip(
        stored,
        lean.lines.order_by("sku_id").select_related("sku", "location"),
        strict=True,
    ):
        assert entry.reference == f"#reservation/{lean.pk}/{line.pk}/reserve"
        assert entry.occurred_at == entry.recorded_at == lean.created_at
        assert entry.payload_digest == MovementInput(
            reference=entry.reference, type="reserve", sku=line.sku,
            location=line.location, quantity=line.quantity,
            occurred_at=entry.occurred_at, channel=shop["web"],
        ).digest()  # fmt: skip
    assert (
        timeline_of(lean)
        == timeline_of(general)
        == [("reservation_place", "", "active", "token:checkout", "", "", {})]
    )
    tee = balance_of(shop["tee"], shop["store"])
    assert (tee.reserved, tee.available) == (6, 4)
    assert tee.last_event_at == general_stored[0].occurred_at
    assert balances_rebuild(repair=False) == []


@BOTH_WAYS
def test_a_hold_too_big_for_the_shelf_leaves_nothing_of_the_lean_try(stocked, placed):
    shop = stocked
    assert is_between_transactions() == (placed == "on_its_own")
    too_big = [("TEE-BLK-M", "LON-OXF", 2), ("HOOD-GRE-L", "LON-OXF", 9)]
    assert lean_hold("CART-BIG", too_big) is None  # it steps aside, writing nothing
    assert not Reservation.objects.exists()
    assert StockMovement.objects.count() == 2
    with pytest.raises(InsufficientStock) as refused:
        Holds.place(
            channel=shop["web"],
            lines=[(shop["tee"], shop["store"], 2), (shop["hoodie"], shop["store"], 9)],
        )
    # The web keeps a buffer of two: eight of the ten hoodies could be promised.
    assert refused.value.extra["shortages"] == [
        {"sku": "HOOD-GRE-L", "location": "LON-OXF", "requested": 9,
         "available_to_promise": 8}
    ]  # fmt: skip
    assert not Reservation.objects.exists()
    assert not ReservationLine.objects.exists()
    assert StockMovement.objects.count() == 2  # the two receipts
    assert balance_of(shop["tee"], shop["store"]).reserved == 0


def test_the_last_units_of_a_lapsed_hold_go_to_the_next_cart(stocked):
    """The plain figures say nothing is left; the lapsed hold says otherwise, so the
    fast path steps aside and the general path places the hold."""
    shop = stocked
    shop["tee"].safety_buffer = 0
    shop["tee"].save()
    first = lean_hold("CART-FIRST", [("TEE-BLK-M", "LON-OXF", 10)])
    Reservation.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    answer = hold_through_the_api(web_checkout(), "CART-SECOND", quantity=10)
    assert answer.status_code == 201, answer.json()
    second = Reservation.objects.get(pk=answer.json()["id"])
    assert second.status == Reservation.Status.ACTIVE
    assert [line.quantity for line in second.lines.all()] == [10]
    assert Reservation.objects.count() == 2
    assert StockMovement.objects.filter(type="reserve").count() == 2


def test_a_sku_never_stocked_here_is_refused_with_nothing_to_promise(stocked):
    shop = stocked
    sock = SkuFactory(code="SOCK-1")
    assert lean_hold("CART-SOCK", [("SOCK-1", "LON-OXF", 1)]) is None
    with pytest.raises(InsufficientStock) as refused:
        Holds.place(channel=shop["pos"], lines=[(sock, shop["store"], 1)])
    assert refused.value.extra["shortages"][0]["available_to_promise"] == 0
    assert not Reservation.objects.exists()


@BOTH_WAYS
def test_the_api_answers_a_new_hold_as_a_read_of_it_would(stocked, placed):
    _, raw = ApiTokenFactory.issue(name="checkout", channel_code="web")
    api = client_for(raw)
    placed = api.post(
        "/api/v1/reservations/",
        {"reference": "CART-9", "lines": [
            {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2},
            {"sku": "HOOD-GRE-L", "location": "LON-OXF", "quantity": 1},
        ]},
        format="json",
    )  # fmt: skip
    assert placed.status_code == 201, placed.json()
    read = api.get(f"/api/v1/reservations/{placed.json()['id']}/")
    assert placed.json() == read.json()


@pytest.mark.usefixtures("general_path_only")
def test_the_api_answers_a_hold_placed_the_general_way_as_a_read_would(stocked):
    test_the_api_answers_a_new_hold_as_a_read_of_it_would(stocked, "inside")


def test_a_hold_reads_as_its_declared_fields_say(stocked):
    """The reservation's answer is compiled from its declared fields for speed
    (config.fast_serializers); DRF's own field by field rendering of the same fields
    gives the same body."""
    shop = stocked
    hold = Holds.place(
        channel=shop["web"],
        lines=[(shop["tee"], shop["store"], 1), (shop["hoodie"], shop["store"], 2)],
    )
    reservation_transition(
        reservation_id=hold.pk, to_status="committed", actor=Actor(name="x")
    )
    read = reservation_queryset().get(pk=hold.pk)
    rendering = ReservationSerializer(read)
    by_field = serializers.ModelSerializer.to_representation(rendering, read)
    assert rendering.data == by_field
    assert len(by_field["transitions"]) == 2


def web_checkout():
    _, raw = ApiTokenFactory.issue(name="checkout", channel_code="web")
    return client_for(raw)


def hold_through_the_api(api, reference, *, quantity, **extra):
    return api.post(
        "/api/v1/reservations/",
        {"reference": reference, "lines": [
            {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": quantity},
        ], **extra},
        format="json",
    )  # fmt: skip


@BOTH_WAYS
def test_a_skus_own_buffer_rules_the_checkout_as_on_the_general_path(
    stocked, monkeypatch, placed
):
    """The web keeps two back; a tee that keeps none back can be held to the last
    unit, one that keeps five back only to five, whichever path places it."""
    shop = stocked
    api = web_checkout()
    general_path = []
    general_place = reservations_module._place
    monkeypatch.setattr(
        reservations_module,
        "_place",
        lambda *args: general_path.append(args[1]) or general_place(*args),
    )
    shop["tee"].safety_buffer = 0
    shop["tee"].save()
    assert hold_through_the_api(api, "ALL-TEN", quantity=10).status_code == 201
    release = api.post(f"/api/v1/reservations/{Reservation.objects.get().pk}/release/")
    assert release.status_code == 200
    shop["tee"].safety_buffer = 5
    shop["tee"].save()
    assert hold_through_the_api(api, "SIX", quantity=6).status_code == 409
    assert hold_through_the_api(api, "FIVE", quantity=5).status_code == 201
    assert general_path == ["SIX"]  # the lean path placed the others itself
    monkeypatch.setattr(promises, "is_available", lambda: False)
    assert hold_through_the_api(api, "ONE-MORE", quantity=1).status_code == 409
    assert balance_of(shop["tee"], shop["store"]).reserved == 5


@BOTH_WAYS
def test_a_checkout_without_a_ttl_gets_the_channels_own(stocked, placed):
    shop = stocked
    shop["web"].reservation_ttl_seconds = 900
    shop["web"].save()
    answer = hold_through_the_api(web_checkout(), "CART-TTL", quantity=1)
    assert answer.status_code == 201
    hold = Reservation.objects.get(pk=answer.json()["id"])
    assert hold.ttl_seconds == answer.json()["ttl_seconds"] == 900
    assert hold.expires_at - hold.created_at == timedelta(seconds=900)


@BOTH_WAYS
def test_a_closed_sku_is_refused_with_its_reason_and_nothing_held(stocked, placed):
    shop = stocked
    shop["tee"].is_active = False
    shop["tee"].save()
    answer = hold_through_the_api(web_checkout(), "CART-CLOSED", quantity=1)
    assert answer.status_code == 400
    assert "no longer sold" in str(answer.json())
    assert not Reservation.objects.exists()
    assert balance_of(shop["tee"], shop["store"]).reserved == 0


@pytest.mark.django_db(transaction=True)
def test_a_plain_checkout_is_one_call_to_the_database(stocked):
    api = web_checkout()
    hold_through_the_api(api, "CART-WARM", quantity=1)  # the token is read once
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql.split("(")[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        answer = hold_through_the_api(api, "CART-ONE-CALL", quantity=1)
    assert answer.status_code == 201
    assert sent == ["CALL onestock_place_hold_by_codes_durably"]
    again = hold_through_the_api(api, "CART-ONE-CALL", quantity=1)
    assert again.status_code == 200
    assert again.json() == answer.json()


@BOTH_WAYS
def test_a_hold_handed_back_reads_like_one_read_from_the_database(stocked, placed):
    """The fast path builds the reservation it wrote instead of reading it back: its
    lines and transitions are at hand without a query, and anything asked of its
    related rows still asks the database about this reservation only."""
    first = lean_hold("CART-FIRST")
    lean_hold("CART-SECOND")
    with CaptureQueriesContext(connection) as queries:
        lines = first.held_lines
        steps = first.history
        assert {line.sku.code for line in lines} == {"TEE-BLK-M", "HOOD-GRE-L"}
        assert all(line.reservation is first for line in lines)
        assert first.channel.code == "web"
    assert queries.captured_queries == []
    assert [(step.from_status, step.to_status) for step in steps] == [("", "active")]
    read = Reservation.objects.get(pk=first.pk)
    assert [
        (getattr(first, field.attname), field.name)
        for field in Reservation._meta.concrete_fields
    ] == [
        (getattr(read, field.attname), field.name)
        for field in Reservation._meta.concrete_fields
    ]
    stored = ReservationLine.objects.filter(reservation=read).order_by("pk")
    assert [
        (line.pk, line.sku_id, line.location_id, line.quantity) for line in lines
    ] == [(line.pk, line.sku_id, line.location_id, line.quantity) for line in stored]
    assert first.lines.count() == 2
    assert first.events.filter(to_status="active").get().actor == "token:checkout"


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_survives_a_rollback_on_its_connection(stocked):
    """psycopg forgets its prepared statements on a rollback (the server may have lost
    them): the next checkout prepares its call again instead of failing on the server
    with "prepared statement does not exist"."""
    assert lean_hold("CART-BEFORE") is not None
    assert lean_hold("CART-SHORT", [("TEE-BLK-M", "LON-OXF", 99)]) is None  # refused
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Reservation.objects.count()
        1 / 0  # noqa: B018 (a request that fails: Django rolls its transaction back)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
    failed_before = _failed_transactions()
    assert lean_hold("CART-AFTER") is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    # A statement run under a name the server no longer knows fails, and its implicit
    # transaction is rolled back: none did.
    assert _failed_transactions() == failed_before
    assert Reservation.objects.count() == 2


def _failed_transactions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_rollback FROM pg_stat_database WHERE datname = "
            "current_database()"
        )
        return cursor.fetchone()[0]


def test_a_lean_hold_records_who_placed_it_and_from_which_system(stocked):
    checkout = Actor(name="token:checkout", source="web")
    placed = reservation_place_by_codes(
        channel_code="web", reference="CART-SOURCE", lines=TWO_LINES, actor=checkout
    )
    (handed_back,) = placed.history
    assert timeline_of(placed) == [
        ("reservation_place", "", "active", "token:checkout", "web", "", {})
    ]
    assert (handed_back.action, handed_back.source) == ("reservation_place", "web")
