"""Checkout holds, told through the service: what a cart holds, what becomes of it,
and what the ledger says about every step.

Every story is told twice: with the tee and the hoodie sold as they are (``[plain]``),
and sold as kits of one (``[kit]``). The customer holds ``tee_sold``/``hoodie_sold``;
the shelf, the balances and the ledger only ever know the tee and the hoodie.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from config.errors import InvalidInput
from inventory.errors import InsufficientStock
from inventory.models import (
    Reservation,
    ReservationKit,
    ReservationTransition,
    StockBalance,
    StockConflict,
    StockMovement,
)
from inventory.selectors import AvailabilityStatus, availability_rows
from inventory.services import (
    ReservationLineInput,
    balances_rebuild,
    reservation_place,
    reservation_transition,
    reservations_expire,
)
from inventory.services.reservations import (
    ReservationReferenceClash,
    ReservationTransitionRefused,
)
from tests.factories import Holds, StockEvents, balance_of, kit

Status = Reservation.Status


@pytest.fixture(params=["plain", "kit"])
def stocked(request, shop):
    """Five tees and three hoodies on the store's shelves, sold as they are or each
    as a one-component kit (``tee_sold``, ``hoodie_sold``: what a cart names)."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=5)
    StockEvents.post("receipt", sku=shop["hoodie"], location=shop["store"], quantity=3)
    if request.param == "plain":
        return {**shop, "tee_sold": shop["tee"], "hoodie_sold": shop["hoodie"]}
    return {
        **shop,
        "tee_sold": kit("TEE-KIT", (shop["tee"], 1)),
        "hoodie_sold": kit("HOOD-KIT", (shop["hoodie"], 1)),
    }


def kits_held(reservation):
    """What the hold says each of its kits took: (kit, location, kits, per kit)."""
    return sorted(
        (
            k.sku.code,
            k.location.code,
            k.quantity,
            [(p["sku"], p["quantity"]) for p in k.components],
        )
        for k in reservation.kits.all()
    )


def kits_sold(shop, *lines):
    """The kits a cart of ``(sold SKU key, quantity)`` lines takes: none when the
    SKUs are sold as they are, one of one component per line otherwise."""
    return sorted(
        (shop[f"{key}_sold"].code, "LON-OXF", quantity, [(shop[key].code, 1)])
        for key, quantity in lines
        if shop[f"{key}_sold"].is_kit
    )


def needing(shop, key):
    """A shortage's ``kits``: which kits of the cart needed the component there
    (only said when the cart named a kit)."""
    sold = shop[f"{key}_sold"]
    return {"kits": [sold.code]} if sold.is_kit else {}


def available(shop, sku, channel=None):
    (row,) = availability_rows(pairs=[(shop[sku], shop["store"])], channel=channel)
    return row


def lapse(reservation):
    """The checkout walked away: the hold's time ran out a minute ago."""
    Reservation.objects.filter(pk=reservation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


def test_a_cart_holds_every_line_and_the_ledger_says_who_held_it(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"],
        lines=[
            (shop["tee_sold"], shop["store"], 2),
            (shop["hoodie_sold"], shop["store"], 1),
        ],
        reference="CART-1",
        actor=Actor(name="token:web-checkout"),
    )
    assert cart.status == Status.ACTIVE
    assert cart.ttl_seconds == 900  # the channel's default
    assert abs(cart.expires_at - cart.created_at - timedelta(seconds=900)).seconds < 1
    assert available(shop, "tee").reserved == 2
    assert available(shop, "tee").available == 3
    assert available(shop, "hoodie").available == 2
    entries = StockMovement.objects.filter(type="reserve")
    # A batch's entries are written in reference order (the unique index's), not in
    # the cart's: "#reservation/7/100/..." comes before ".../99/...".
    assert sorted((e.sku.code, e.reserved_delta, e.actor) for e in entries) == [
        ("HOOD-GRE-L", 1, "token:web-checkout"),
        ("TEE-BLK-M", 2, "token:web-checkout"),
    ]
    assert {e.channel.code for e in entries} == {"pos"}
    # Held on the components' lines, as the plain SKUs are; a kit is said beside them.
    assert sorted((line.sku.code, line.quantity) for line in cart.lines.all()) == [
        ("HOOD-GRE-L", 1),
        ("TEE-BLK-M", 2),
    ]
    assert kits_held(cart) == kits_sold(shop, ("tee", 2), ("hoodie", 1))
    (placed,) = cart.events.all()
    assert (placed.from_status, placed.to_status) == ("", Status.ACTIVE)


def test_one_short_line_holds_nothing_at_all(stocked):
    shop = stocked
    with pytest.raises(InsufficientStock) as refused:
        Holds.place(
            channel=shop["pos"],
            lines=[
                (shop["tee_sold"], shop["store"], 2),
                (shop["hoodie_sold"], shop["store"], 4),
            ],
        )
    assert refused.value.extra["shortages"] == [
        {
            "sku": "HOOD-GRE-L",
            "location": "LON-OXF",
            "requested": 4,
            "available_to_promise": 3,
            **needing(shop, "hoodie"),
        }
    ]
    assert not Reservation.objects.exists()
    assert not ReservationKit.objects.exists()
    assert not StockMovement.objects.filter(type="reserve").exists()
    assert balance_of(shop["tee"], shop["store"]).reserved == 0


def test_the_same_cart_sent_twice_is_held_once(stocked):
    shop = stocked
    line = [ReservationLineInput(shop["tee_sold"], shop["store"], 2)]
    first, created = reservation_place(
        channel=shop["pos"],
        reference="CART-9",
        lines=line,
        actor=Actor(name="token:web"),
    )
    again, created_again = reservation_place(
        channel=shop["pos"],
        reference="CART-9",
        lines=line,
        actor=Actor(name="token:web"),
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert balance_of(shop["tee"], shop["store"]).reserved == 2
    assert kits_held(again) == kits_sold(shop, ("tee", 2))
    assert ReservationKit.objects.count() == len(kits_sold(shop, ("tee", 2)))
    with pytest.raises(ReservationReferenceClash):
        reservation_place(
            channel=shop["pos"],
            reference="CART-9",
            lines=[ReservationLineInput(shop["tee_sold"], shop["store"], 3)],
            actor=Actor(name="token:web"),
        )


def test_a_second_release_moves_nothing(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    released = reservation_transition(
        reservation_id=cart.pk, to_status=Status.RELEASED, actor=Actor(name="token:web")
    )
    assert released.status == Status.RELEASED
    with pytest.raises(ReservationTransitionRefused) as refused:
        reservation_transition(
            reservation_id=cart.pk,
            to_status=Status.RELEASED,
            actor=Actor(name="token:web"),
        )
    assert refused.value.extra["status"] == Status.RELEASED
    assert StockMovement.objects.filter(type="reservation_release").count() == 1
    assert balance_of(shop["tee"], shop["store"]).reserved == 0
    assert available(shop, "tee").available == 5


def test_commit_then_fulfil_the_units_leave_the_shelf(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    reservation_transition(
        reservation_id=cart.pk,
        to_status=Status.COMMITTED,
        actor=Actor(name="token:oms"),
    )
    tee = balance_of(shop["tee"], shop["store"])
    assert (tee.on_hand, tee.reserved, tee.committed, tee.available) == (5, 0, 2, 3)
    reservation_transition(
        reservation_id=cart.pk, to_status=Status.FULFILLED, actor=Actor(name="user:ana")
    )
    tee = balance_of(shop["tee"], shop["store"])
    assert (tee.on_hand, tee.reserved, tee.committed, tee.available) == (3, 0, 0, 3)
    steps = ReservationTransition.objects.filter(reservation=cart)
    assert [(s.action, s.from_status, s.to_status, s.actor) for s in steps] == [
        ("reservation_place", "", "active", "token:checkout"),
        ("reservation_commit", "active", "committed", "token:oms"),
        ("reservation_fulfil", "committed", "fulfilled", "user:ana"),
    ]
    assert balances_rebuild(repair=False) == []


def test_a_cancelled_commitment_puts_the_units_back_on_sale(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    with pytest.raises(ReservationTransitionRefused):
        # An uncommitted hold is released, not cancelled.
        reservation_transition(
            reservation_id=cart.pk,
            to_status=Status.CANCELLED,
            actor=Actor(name="token:oms"),
        )
    reservation_transition(
        reservation_id=cart.pk,
        to_status=Status.COMMITTED,
        actor=Actor(name="token:oms"),
    )
    reservation_transition(
        reservation_id=cart.pk,
        to_status=Status.CANCELLED,
        actor=Actor(name="token:oms"),
    )
    tee = balance_of(shop["tee"], shop["store"])
    assert (tee.on_hand, tee.committed, tee.available) == (5, 0, 5)
    with pytest.raises(ReservationTransitionRefused) as refused:
        reservation_transition(
            reservation_id=cart.pk,
            to_status=Status.FULFILLED,
            actor=Actor(name="token:oms"),
        )
    assert refused.value.extra == {"status": "cancelled", "allowed": []}
    assert StockMovement.objects.filter(type="commitment_release").count() == 1


def test_a_lapsed_hold_holds_nothing_before_any_sweep_and_the_sweep_writes_it_once(
    stocked,
):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 4)]
    )
    assert available(shop, "tee").available == 1
    lapse(cart)
    # No job has run: the figures already ignore the hold...
    row = available(shop, "tee")
    assert (row.reserved, row.available) == (0, 5)
    cart.refresh_from_db()
    assert cart.current_status() == Status.EXPIRED
    # ...and so does the next checkout.
    Holds.place(channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 5)])
    assert available(shop, "tee").available == 0

    assert reservations_expire() == 1
    assert reservations_expire() == 0
    (release,) = StockMovement.objects.filter(type="reservation_release")
    cart.refresh_from_db()
    assert release.actor == "system:expiry"
    assert release.occurred_at == cart.expires_at
    expired = cart.events.last()
    assert (expired.action, expired.actor, expired.source) == (
        "reservation_expire",
        "system:expiry",
        "system",
    )
    assert cart.status == Status.EXPIRED
    tee = balance_of(shop["tee"], shop["store"])
    assert (tee.reserved, tee.available) == (5, 0)
    assert balances_rebuild(repair=False) == []


def test_a_lapsed_hold_cannot_be_committed(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    lapse(cart)
    with pytest.raises(ReservationTransitionRefused) as refused:
        reservation_transition(
            reservation_id=cart.pk,
            to_status=Status.COMMITTED,
            actor=Actor(name="token:oms"),
        )
    assert refused.value.extra == {"status": Status.EXPIRED, "allowed": []}
    cart.refresh_from_db()
    assert refused.value.message == (
        f"Reservation {cart.reference!r} cannot become committed: it expired at "
        f"{cart.expires_at.isoformat()}; nothing was moved."
    )
    assert cart.status == Status.EXPIRED
    assert balance_of(shop["tee"], shop["store"]).committed == 0
    assert reservations_expire() == 0  # its release is already written


def test_the_web_keeps_its_buffer_but_the_till_may_sell_the_last_units(stocked):
    shop = stocked  # the web channel keeps 2 units back
    Holds.place(channel=shop["web"], lines=[(shop["tee_sold"], shop["store"], 3)])
    assert available(shop, "tee", shop["web"]).available_to_promise == 0
    with pytest.raises(InsufficientStock) as refused:
        Holds.place(channel=shop["web"], lines=[(shop["tee_sold"], shop["store"], 1)])
    assert refused.value.extra["shortages"][0]["available_to_promise"] == 0
    assert refused.value.extra["shortages"][0].get("kits") == needing(shop, "tee").get(
        "kits"
    )
    till = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    assert till.status == Status.ACTIVE
    assert available(shop, "tee").available == 0


def test_a_till_sale_of_a_held_unit_is_recorded_and_raised_for_review(stocked):
    shop = stocked
    Holds.place(channel=shop["pos"], lines=[(shop["hoodie_sold"], shop["store"], 3)])
    sale = StockEvents.post(
        "sale", sku=shop["hoodie"], location=shop["store"], quantity=1
    )
    assert sale.movement.status == StockMovement.Status.APPLIED
    (conflict,) = StockConflict.objects.all()
    assert (conflict.shortfall, conflict.promised, conflict.on_hand) == (1, 3, 2)
    assert available(shop, "hoodie").status == AvailabilityStatus.UNDER_REVIEW


def test_a_till_sale_of_a_unit_whose_hold_lapsed_contradicts_nothing(stocked):
    shop = stocked
    cart = Holds.place(
        channel=shop["pos"], lines=[(shop["hoodie_sold"], shop["store"], 3)]
    )
    lapse(cart)
    StockEvents.post("sale", sku=shop["hoodie"], location=shop["store"], quantity=1)
    assert not StockConflict.objects.exists()


@pytest.mark.parametrize(
    ("ttl", "lines", "field"),
    [
        (0, [("tee", 1)], "ttl_seconds"),
        (86_401, [("tee", 1)], "ttl_seconds"),
        (None, [], "lines"),
        (None, [("tee", 0)], "lines"),
        (None, [("tee", -2)], "lines"),
        (None, [("tee", 1), ("tee", 2)], "lines"),
    ],
)
def test_a_malformed_cart_is_refused_and_holds_nothing(stocked, ttl, lines, field):
    shop = stocked
    with pytest.raises(InvalidInput) as refused:
        reservation_place(
            channel=shop["pos"],
            reference="CART-BAD",
            lines=[
                ReservationLineInput(shop[f"{s}_sold"], shop["store"], q)
                for s, q in lines
            ],
            actor=Actor(name="token:web"),
            ttl_seconds=ttl,
        )
    assert field in refused.value.field_errors
    assert not Reservation.objects.exists()
    assert balance_of(shop["tee"], shop["store"]).reserved == 0


def test_a_hold_placed_at_the_till_is_not_taken_for_the_tills_reporting(stocked):
    shop = stocked  # the store's tills have never sent a sale or a count
    Holds.place(channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 1)])
    shop["store"].refresh_from_db()
    assert shop["store"].pos_last_event_at is None
    assert available(shop, "tee").status == AvailabilityStatus.DELAYED


def test_a_hold_the_ledger_cannot_release_does_not_stop_the_sweep(stocked, caplog):
    shop = stocked
    tees = Holds.place(
        channel=shop["pos"], lines=[(shop["tee_sold"], shop["store"], 2)]
    )
    hoodies = Holds.place(
        channel=shop["pos"], lines=[(shop["hoodie_sold"], shop["store"], 1)]
    )
    lapse(tees)
    lapse(hoodies)
    # Drift: the tees' balance no longer holds what the hold says it holds.
    StockBalance.objects.filter(sku=shop["tee"]).update(reserved=0)
    assert reservations_expire() == 1
    assert "Could not expire reservation" in caplog.text
    hoodies.refresh_from_db()
    tees.refresh_from_db()
    assert (tees.status, hoodies.status) == (Status.ACTIVE, Status.EXPIRED)
    assert not StockMovement.objects.filter(
        type="reservation_release", sku=shop["tee"]
    ).exists()
