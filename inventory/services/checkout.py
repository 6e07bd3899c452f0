"""The API's checkout, first try: a new hold placed straight from the codes its cart
names, in one server call (``promises``: the one fast path in the code base). It
writes what the general path (``reservations.reservation_place``) writes, the hold's
first timeline entry included, and steps aside, having written nothing, whenever it
cannot decide alone; the caller then reads the records and places the hold through
the general path, which says exactly what happens.

A cart naming a kit this process has read before is taken apart first, by the one
rule (``kits.cart_expand``); the server call writes the hold only while each kit is
as it was read. A kit not read yet steps aside: the general path reads it, holds it,
and remembers it for the next cart."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import InvalidInput
from config.records import built

from ..models import (
    Location,
    MovementType,
    Reservation,
    ReservationKit,
    ReservationLine,
    ReservationTransition,
)
from ..movements import MAX_MOVEMENT_QUANTITY
from . import promises
from .kits import KitTaken, cart_expand, kits_known
from .ledger import movement_digest
from .reservations import (
    ACTION_INTO,
    MAX_LINES,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    ReservationLineInput,
    Status,
    cart_digest,
)


def reservation_place_by_codes(
    *,
    channel_code: str,
    reference: str,
    lines: Sequence[tuple[str, str, int]],
    actor: Actor,
    ttl_seconds: int | None = None,
    allow_future: bool | None = None,
) -> Reservation | None:
    """The API's checkout, first try: a new hold placed from the codes its cart
    names, the records behind them read in the same server call (``promises``: the
    one fast path; every other caller uses ``reservation_place``).

    None whenever that cannot decide alone (no PostgreSQL, a code unknown or closed,
    a line twice, a quantity or TTL out of bounds, a line short on the plain figures,
    a reference already used): nothing was written, and the caller reads the records
    and calls ``reservation_place``, which says exactly what happens."""
    if not (promises.is_available() and _is_plain(lines, ttl_seconds)):
        return None
    # The resend check compares the cart as asked, kits and all.
    digest = cart_digest(lines)
    try:
        cart, kits = _kits_taken_apart(lines)
    except InvalidInput:
        return None  # the general path says what is wrong
    if kits and allow_future:
        return None  # a kit is never pre-ordered: the general path refuses it
    now = timezone.now()
    try:
        posted = _place_lean_by_codes(
            channel_code=channel_code,
            reference=reference,
            cart=cart,
            kits=kits,
            actor=actor,
            ttl_seconds=ttl_seconds,
            digest=digest,
            now=now,
        )
    except promises.HoldNeedsFullCheck:
        return None
    if posted is None:
        return None
    # Only the ids and the codes are at hand; anything else a caller reads loads on
    # access (deferred).
    locations = {
        location_code: built(Location, id=location_id, code=location_code)
        for (_, location_code, _), location_id in zip(
            cart, posted.location_ids, strict=True
        )
    }
    return _handed_back(
        posted,
        now,
        channel=built(Channel, id=posted.channel_id, code=channel_code),
        reference=reference,
        lines=[
            ReservationLineInput(
                built(Sku, id=sku_id, code=sku_code), locations[location_code], quantity
            )
            for (sku_code, location_code, quantity), sku_id in zip(
                cart, posted.sku_ids, strict=True
            )
        ],
        kits=[
            (
                built(Sku, id=kit.sku.pk, code=kit.sku.code),
                locations[kit.location.code],
                kit,
            )
            for kit in kits
        ],
        actor=actor,
        digest=digest,
    )


def _kits_taken_apart(
    lines: Sequence[tuple[str, str, int]],
) -> tuple[list[tuple[str, str, int]], list[KitTaken]]:
    """The cart with the kits this process knows taken apart into their components'
    lines (``kits.cart_expand``, by the one rule), and what each kit took. A kit it
    does not know goes as a line: the server call steps aside, and the general path
    reads it (and remembers it for the next cart)."""
    known = kits_known(codes={sku_code for sku_code, _, _ in lines})
    if not known:
        return list(lines), []
    expanded = cart_expand(
        lines=[
            ReservationLineInput(
                built(Sku, id=known[sku_code][0], code=sku_code, is_kit=True)
                if sku_code in known
                else built(Sku, code=sku_code, is_kit=False),
                built(Location, code=location_code),
                quantity,
            )
            for sku_code, location_code, quantity in lines
        ],
        line_type=ReservationLineInput,
        known=known,
    )
    cart = [
        (line.sku.code, line.location.code, line.quantity) for line in expanded.lines
    ]
    return cart, expanded.kits


def _place_lean_by_codes(
    *,
    channel_code: str,
    reference: str,
    cart: Sequence[tuple[str, str, int]],
    kits: Sequence[KitTaken],
    actor: Actor,
    ttl_seconds: int | None,
    digest: str,
    now: datetime,
) -> promises.PostedHold | None:
    """The flash-sale path (``promises``) from a cart's codes: one server call, the
    balances locked only at its end. None if the reference is taken;
    HoldNeedsFullCheck if a line is short without the lapsed holds, or a code is
    unknown or closed (nothing written)."""
    return promises.hold_post_by_codes(
        channel_code=channel_code,
        reference=reference,
        lines=[
            promises.CartLine(
                sku_code=sku_code,
                location_code=location_code,
                quantity=quantity,
                entry_digest=movement_digest(
                    type=MovementType.RESERVE,
                    sku_code=sku_code,
                    location_code=location_code,
                    quantity=quantity,
                    occurred_at=now,
                ),
            )
            for sku_code, location_code, quantity in cart
        ],
        kits=[
            promises.CartKit(
                kit_code=kit.sku.code,
                kit_id=kit.sku.pk,
                location_code=kit.location.code,
                quantity=kit.quantity,
                revision=kit.revision,
                components=kit.components,
            )
            for kit in kits
        ],
        actor=actor,
        ttl_seconds=ttl_seconds,
        ttl_bounds=(MIN_TTL_SECONDS, MAX_TTL_SECONDS),
        digest=digest,
        now=now,
    )


def _handed_back(
    posted: promises.PostedHold,
    now: datetime,
    *,
    channel: Channel,
    reference: str,
    lines: Sequence[ReservationLineInput],
    kits: Sequence[tuple[Sku, Location, KitTaken]],
    actor: Actor,
    digest: str,
) -> Reservation:
    """The reservation the fast path wrote, built from what it was given and what the
    database chose, with its lines, its kits and first timeline entry, without
    reading it back."""
    reservation = built(
        Reservation,
        id=posted.reservation_id,
        channel_id=channel.pk,
        reference=reference,
        status=Status.ACTIVE,
        ttl_seconds=posted.ttl_seconds,
        expires_at=now + timedelta(seconds=posted.ttl_seconds),
        created_by=actor.name,
        payload_digest=digest,
        created_at=now,
        updated_at=now,
    )
    reservation.channel = channel
    reservation.held_kits = []
    for sku, location, taken in kits:
        kit = built(
            ReservationKit,
            reservation_id=reservation.pk,
            sku_id=sku.pk,
            location_id=location.pk,
            quantity=taken.quantity,
            components=taken.components,
        )
        kit.reservation, kit.sku, kit.location = reservation, sku, location
        reservation.held_kits.append(kit)
    reservation.held_lines = []
    for line_id, line in zip(posted.line_ids, lines, strict=True):
        row = built(
            ReservationLine,
            id=line_id,
            reservation_id=reservation.pk,
            sku_id=line.sku.pk,
            location_id=line.location.pk,
            quantity=line.quantity,
            # The fast path holds what the shelf covers, or steps aside: no unit of
            # its holds waits for supply.
            future_quantity=0,
            supply_expected_at=None,
        )
        row.reservation, row.sku, row.location = reservation, line.sku, line.location
        reservation.held_lines.append(row)
    # As inventory/sql/place_hold.sql wrote it (the function does not return its id,
    # which loads if read).
    placed = built(
        ReservationTransition,
        reservation_id=reservation.pk,
        kind="",
        action=ACTION_INTO[Status.ACTIVE],
        from_status="",
        to_status=Status.ACTIVE,
        actor=actor.name,
        source=actor.source,
        note="",
        detail={},
        at=now,
    )
    placed.reservation = reservation
    reservation.history = [placed]
    return reservation


def _is_plain(lines: Sequence[tuple[str, str, int]], ttl_seconds: int | None) -> bool:
    """A cart the lean path may place from its codes alone: what the general path's
    check of a cart (``reservations._check_cart``) would find wrong without reading a
    record is not there."""
    return (
        0 < len(lines) <= MAX_LINES
        and (ttl_seconds is None or MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS)
        and all(1 <= quantity <= MAX_MOVEMENT_QUANTITY for _, _, quantity in lines)
        and len({(sku, place) for sku, place, _ in lines}) == len(lines)
    )
