"""Reservations: a checkout's all-or-nothing hold on stock, and what becomes of it.

The life of a hold is ``Reservation.TRANSITIONS``; each transition posts one ledger
entry per line through ``movements_record`` (the one place stock changes), under the
reference ``#reservation/<id>/<line id>/<move>``, then moves the hold with
``config.transitions.move``: its status, and one entry on its timeline
(``Reservation.events``) saying who, when and the move's ``action`` key.

Why a row lock and not a conditional UPDATE (docs/reservations.md): a hold is checked
against the channel's available-to-promise (its safety buffer) with lapsed holds given
back, over several lines that must all fit or none. The ledger already locks every
balance a batch touches in (SKU, location) order and checks each promise against the
locked figures, so a reservation is one ledger batch: two carts that share SKUs queue
on the first balance they share instead of deadlocking, and a refused line rolls the
whole hold back.

The API's checkout tries one fast path first (``checkout.reservation_place_by_codes``,
through ``promises``: one server call from the cart's codes); whatever it cannot
decide alone comes here. Every other caller places its holds with
``reservation_place``.

Locks follow the one order of ``inventory.locking``: the reservation row, then the
balances. A new reservation's row is invisible to others until it commits;
transitions and the expiry sweep lock the row before posting.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from catalog.models import MAX_RESERVATION_TTL_SECONDS, Channel, Sku
from config import metrics
from config.access import Actor
from config.errors import Conflict, DomainError, InvalidInput
from config.transitions import (
    TransitionRefused,
    lock,
    may_move,
    move,
    record_event,
    refusal,
)

from ..availability import safety_buffer_for
from ..errors import InsufficientStock
from ..locking import balances_lock
from ..models import (
    Location,
    MovementType,
    RefusedDemand,
    Reservation,
    ReservationLine,
    StockMovement,
    SupplyPromise,
)
from ..movements import MAX_MOVEMENT_QUANTITY
from ..networks import not_in_network_message, outside_network
from ..terms import NO_TERMS, Terms, channel_terms
from .demand import demand_refused_record
from .kits import KitTaken, cart_expand, kits_record, shortages_for_kits
from .ledger import MovementInput, Outcome, movements_record, shortages_of
from .supply_promises import (
    dated_shortages,
    promise_the_rest,
    supply_promises_release,
)

logger = logging.getLogger(__name__)

MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = MAX_RESERVATION_TTL_SECONDS
MAX_LINES = 200
EXPIRY_ACTOR = Actor.system("expiry")
SWEEP_CHUNK = 500

Status = Reservation.Status

# The ledger move each transition makes, line by line.
MOVE_INTO: dict[str, str] = {
    Status.RELEASED: MovementType.RESERVATION_RELEASE,
    Status.EXPIRED: MovementType.RESERVATION_RELEASE,
    Status.COMMITTED: MovementType.RESERVATION_COMMIT,
    Status.FULFILLED: MovementType.FULFIL,
    Status.CANCELLED: MovementType.COMMITMENT_RELEASE,
    # From committed, an order takes over units already committed: nothing moves.
    Status.ORDERED: MovementType.RESERVATION_COMMIT,
}

# A hold that ends gives back the supply its pre-ordered units were promised; one
# with units still waiting cannot be committed or fulfilled on its own (it becomes
# an order, which waits for them).
GIVES_BACK_THE_FUTURE = frozenset({Status.RELEASED, Status.EXPIRED, Status.CANCELLED})
NEEDS_EVERY_UNIT_HERE = frozenset({Status.COMMITTED, Status.FULFILLED})

# Each move's key on the hold's timeline (``action``), placing it included.
ACTION_INTO: dict[str, str] = {
    Status.ACTIVE: "reservation_place",
    Status.RELEASED: "reservation_release",
    Status.EXPIRED: "reservation_expire",
    Status.COMMITTED: "reservation_commit",
    Status.FULFILLED: "reservation_fulfil",
    Status.CANCELLED: "reservation_cancel",
    Status.ORDERED: "reservation_order",
}


class ReservationReferenceClash(Conflict):
    code = "reference_clash"
    message = "This reference was already used for a different reservation."


class ReservationTransitionRefused(TransitionRefused):
    code = "reservation_transition_refused"


class ReservationOutOfStep(Conflict):
    """The ledger would not move a line's units: the balances no longer hold what the
    reservation says it holds. Nothing is changed; someone should look."""

    code = "reservation_out_of_step"


@dataclass(frozen=True)
class ReservationLineInput:
    sku: Sku
    location: Location
    quantity: int


def lines_digest(lines: Sequence[ReservationLineInput]) -> str:
    """Fingerprint of a cart, whatever the order of its lines."""
    return cart_digest(
        [(line.sku.code, line.location.code, line.quantity) for line in lines]
    )


def cart_digest(cart: Sequence[tuple[str, str, int]]) -> str:
    return hashlib.sha256(json.dumps(sorted(cart)).encode()).hexdigest()


def reservation_place(
    *,
    channel: Channel,
    reference: str,
    lines: Sequence[ReservationLineInput],
    actor: Actor,
    ttl_seconds: int | None = None,
    allow_future: bool | None = None,
) -> tuple[Reservation, bool]:
    """Hold every line, or none: ``(reservation, True)`` when placed now,
    ``(reservation, False)`` when this reference already holds the same lines.
    ``allow_future`` (None: the channel's default): what the shelf cannot cover is
    promised against dated supply (a pre-order), the line's ``future_quantity``.

    Raises InvalidInput for a malformed cart, InsufficientStock (with ``shortages``)
    when any line cannot be held, ReservationReferenceClash when the reference was
    used for other lines.
    """
    digest = lines_digest(lines)
    ttl = channel.reservation_ttl_seconds if ttl_seconds is None else ttl_seconds
    try:
        _check_cart(channel=channel, lines=lines, ttl_seconds=ttl)
        # Kits taken apart: every unit of a SKU at a location on one line.
        cart = cart_expand(lines=lines, line_type=ReservationLineInput)
    except InvalidInput:
        # A resend answers with what it placed, even if a SKU has since stopped selling.
        existing = _existing(channel, reference, digest)
        if existing is None:
            raise
        return existing, False
    existing = _existing(channel, reference, digest)
    if existing is not None:
        return existing, False
    if allow_future and cart.kits:
        # A kit sells from the shelf: its parts are never promised against supply.
        raise InvalidInput(
            {
                "allow_future": [
                    f"{', '.join(kit.sku.code for kit in cart.kits)}: a kit is sold "
                    "from the shelf, not pre-ordered."
                ]
            }
        )
    if allow_future is None:
        allow_future = channel.allow_future_by_default and not cart.kits
    try:
        placed = _place(
            channel, reference, cart.lines, actor, ttl, digest, allow_future, cart.kits
        )
        metrics.hold_placed()
        return placed, True
    except InsufficientStock as short:
        # The hold rolled back; the demand it turned away is kept for the dashboard.
        metrics.hold_refused()
        if cart.kits:
            shortages_for_kits(short.extra.get("shortages", []), cart)
        demand_refused_record(
            channel=channel,
            kind=RefusedDemand.Kind.HOLD,
            reference=reference,
            shortages=short.extra.get("shortages", []),
            actor=actor,
            known=[item for line in lines for item in (line.sku, line.location)],
        )
        raise
    except IntegrityError:
        # The same reference was placed by a concurrent request: our insert waited on
        # the unique index until that one committed.
        existing = _existing(channel, reference, digest)
        if existing is None:
            raise
        return existing, False


def _check_cart(
    *, channel: Channel, lines: Sequence[ReservationLineInput], ttl_seconds: int
) -> None:
    errors: dict[str, list] = {}
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        errors["ttl_seconds"] = [
            f"From {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds."
        ]
    if not channel.is_active:
        errors["channel"] = [f"Channel {channel.code!r} is closed."]
    outside = outside_network(
        channel=channel, locations=[line.location for line in lines]
    )
    if not lines:
        errors["lines"] = ["At least one line."]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines."]
    else:
        line_errors = _line_errors(lines)
        for line, problems in zip(lines, line_errors, strict=True):
            if line.location in outside:
                problems.setdefault("location", []).append(
                    not_in_network_message(channel=channel, location=line.location)
                )
        if any(line_errors):
            errors["lines"] = line_errors
    if errors:
        raise InvalidInput(errors)


def _line_errors(lines: Sequence[ReservationLineInput]) -> list[dict[str, list[str]]]:
    """Errors per line, in DRF's shape for a list: one dict per line, empty if fine."""
    seen: dict[tuple[int, int], int] = {}
    errors: list[dict[str, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        problems: dict[str, list[str]] = {}
        if not 1 <= line.quantity <= MAX_MOVEMENT_QUANTITY:
            problems["quantity"] = [f"From 1 to {MAX_MOVEMENT_QUANTITY:,}."]
        if not line.sku.is_active:
            problems["sku"] = [f"SKU {line.sku.code!r} is no longer sold."]
        if not line.location.is_active:
            problems["location"] = [f"Location {line.location.code!r} is closed."]
        key = (line.sku.pk, line.location.pk)
        if key in seen:
            problems["location"] = [
                f"Line {seen[key]} already holds {line.sku.code} at "
                f"{line.location.code}; put the whole quantity on one line."
            ]
        seen.setdefault(key, number)
        errors.append(problems)
    return errors


def _reserve_move(
    channel: Channel,
    line: ReservationLine,
    now: datetime,
    terms: Terms | None,
    *,
    reference: str,
) -> MovementInput:
    """The ledger's ``reserve`` move for one line of a hold, keeping the selling
    channel's buffer available and the other channels' protections alone."""
    velocity, own, others, _ = terms or NO_TERMS
    return MovementInput(
        reference=reference,
        type=MovementType.RESERVE,
        sku=line.sku,
        location=line.location,
        quantity=line.held_quantity,
        occurred_at=now,
        channel=channel,
        keep_available=safety_buffer_for(
            sku=line.sku, channel=channel, velocity_buffer=velocity
        ),
        own_protection=own,
        others_protection=others,
    )


def _existing(channel: Channel, reference: str, digest: str) -> Reservation | None:
    found = Reservation.objects.filter(channel=channel, reference=reference).first()
    if found is not None and found.payload_digest != digest:
        raise ReservationReferenceClash(reservation_id=found.pk)
    return found


@transaction.atomic
def _place(
    channel: Channel,
    reference: str,
    lines: Sequence[ReservationLineInput],
    actor: Actor,
    ttl_seconds: int,
    digest: str,
    allow_future: bool = False,
    kits: Sequence[KitTaken] = (),
) -> Reservation:
    now = timezone.now()
    keys = {(line.sku.pk, line.location.pk) for line in lines}
    # The channel's terms, read once the balances are locked (a hold placed or
    # released meanwhile is counted) and before this hold's lines exist (they would
    # count as taken from its protection already). The ledger's batch below finds
    # the balances locked by this transaction already.
    balances_lock(keys=keys)
    terms = channel_terms(channel_id=channel.pk, keys=keys, now=now)
    reservation = Reservation.objects.create(
        channel=channel,
        reference=reference,
        status=Status.ACTIVE,
        ttl_seconds=ttl_seconds,
        expires_at=now + timedelta(seconds=ttl_seconds),
        created_by=actor.name,
        payload_digest=digest,
    )
    rows = ReservationLine.objects.bulk_create(
        [
            ReservationLine(
                reservation=reservation,
                sku=line.sku,
                location=line.location,
                quantity=line.quantity,
            )
            for line in lines
        ]
    )
    outcomes = movements_record(
        movements=[
            _reserve_move(
                channel,
                row,
                now,
                terms.get((row.sku_id, row.location_id)),
                reference=_entry_reference(reservation, row, MovementType.RESERVE),
            )
            for row in rows
        ],
        actor=actor,
    )
    shortages = shortages_of(rows, outcomes)
    if shortages and allow_future:
        outcomes = _promise_the_rest(channel, rows, outcomes, terms, now, actor)
    elif shortages:
        # Raising rolls back the reservation and every line already held.
        raise InsufficientStock(
            "Not enough stock to hold every line; nothing was held.",
            shortages=dated_shortages(rows, outcomes),
        )
    _check_applied(outcomes)
    placed = record_event(
        reservation,
        actor=actor,
        action=ACTION_INTO[Status.ACTIVE],
        to_status=Status.ACTIVE,
        at=now,
    )
    # The answer needs no read back: every row was just written here.
    reservation.held_lines = rows
    reservation.held_kits = kits_record(reservation=reservation, kits=kits)
    reservation.history = [placed]
    return reservation


def _promise_the_rest(
    channel: Channel,
    rows: list[ReservationLine],
    outcomes: list,
    terms: dict,
    now: datetime,
    actor: Actor,
) -> list:
    """A pre-order's hold: each line the shelf cannot cover holds what it can and
    promises the rest against dated supply; 409 when neither covers a line. The
    outcomes of every line's reserve (a line with nothing on the shelf has none)."""
    kept = [outcome for outcome in outcomes if outcome.outcome != Outcome.REFUSED]
    for each in promise_the_rest(
        channel=channel,
        lines=rows,
        outcomes=outcomes,
        owner_of=lambda row: (SupplyPromise.Owner.RESERVATION_LINE, row.pk),
        now=now,
    ):
        row = each.line
        row.future_quantity, row.supply_expected_at = each.later, each.due
        row.save(update_fields=["future_quantity", "supply_expected_at"])
        if each.shelf:
            held = _reserve_move(
                channel,
                row,
                now,
                terms.get((row.sku_id, row.location_id)),
                reference=_entry_reference(row.reservation, row, MovementType.RESERVE),
            )
            kept += movements_record(movements=[held], actor=actor)
    return kept


def reservation_transition(
    *, reservation_id: int, to_status: str, actor: Actor
) -> Reservation:
    """Move a reservation to ``to_status`` if its state machine allows it, moving its
    units in the ledger once. A hold past its expiry is expired first (its release
    written now, by the expiry) and the request refused: it no longer holds anything
    to commit or release."""
    with transaction.atomic():
        reservation = lock(
            Reservation,
            reservation_id,
            related=("channel",),
            missing=f"No reservation {reservation_id}.",
        )
        rows = _lines_locked(reservation)
        # The stock was locked before reading the clock. A placement that held these
        # balances first may have given this hold's units away as lapsed; reading the
        # time after it has committed, this request sees the lapse too, and does not
        # commit units another cart now holds.
        now = timezone.now()
        lapsed = reservation.is_lapsed(now) and to_status != Status.EXPIRED
        if lapsed:
            _move(reservation, rows, Status.EXPIRED, EXPIRY_ACTOR, now)
        elif not may_move(reservation, to_status):
            raise _refusal(reservation, to_status)
        elif to_status in NEEDS_EVERY_UNIT_HERE and any(
            row.future_quantity for row in rows
        ):
            # A pre-order's hold cannot commit or leave with units not here yet: it
            # becomes an order (``POST /api/v1/orders/``), which waits for them.
            waiting = sum(row.future_quantity for row in rows)
            raise _refusal(
                reservation, to_status, why=f"{waiting} of its units wait for supply"
            )
        else:
            _move(reservation, rows, to_status, actor, now)
    if lapsed:
        raise _refusal(reservation, to_status)
    return reservation


def _refusal(
    reservation: Reservation, to_status: str, why: str = ""
) -> ReservationTransitionRefused:
    """The 409 of a move the table does not allow, with the current ``status`` and
    what is ``allowed``; a hold that has expired says when."""
    if why:
        why += " (place the order from it instead)"
    elif reservation.status == Status.EXPIRED:
        why = f"it expired at {reservation.expires_at.isoformat()}"
    else:
        why = f"it is {reservation.status}"
    return refusal(
        reservation,
        to_status,
        error=ReservationTransitionRefused,
        message=f"Reservation {reservation.reference!r} cannot become {to_status}: "
        f"{why}; nothing was moved.",
    )


def _move(
    reservation: Reservation,
    rows: list[ReservationLine],
    to_status: str,
    actor: Actor,
    now: datetime,
) -> None:
    """The units first, line by line through the ledger, then the hold's status and
    its timeline entry (``config.transitions.move``); the caller has checked the
    move."""
    ledger_move = MOVE_INTO[to_status]
    # An expiry happened when the hold lapsed, whenever the sweep gets to write it.
    occurred_at = reservation.expires_at if to_status == Status.EXPIRED else now
    # An order taking over a hold already committed takes the units as they are.
    hand_over_only = to_status == Status.ORDERED and reservation.status == (
        Status.COMMITTED
    )
    moves = [
        MovementInput(
            reference=_entry_reference(reservation, row, ledger_move),
            type=ledger_move,
            sku=row.sku,
            location=row.location,
            quantity=row.held_quantity,
            occurred_at=occurred_at,
            channel=reservation.channel,
        )
        for row in rows
        if row.held_quantity
    ]
    outcomes = [] if hand_over_only else movements_record(movements=moves, actor=actor)
    _check_applied(outcomes)
    if to_status in GIVES_BACK_THE_FUTURE:
        for row in rows:
            if row.future_quantity:
                supply_promises_release(
                    owner_kind=SupplyPromise.Owner.RESERVATION_LINE,
                    owner_id=row.pk,
                    now=now,
                    actor=actor,
                )
    move(
        reservation,
        to=to_status,
        actor=actor,
        action=ACTION_INTO[to_status],
        at=now,
        error=ReservationTransitionRefused,
    )


def _check_applied(outcomes) -> None:
    for outcome in outcomes:
        entry = outcome.movement
        if outcome.outcome != Outcome.CREATED or (
            entry.status == StockMovement.Status.REJECTED
        ):
            raise ReservationOutOfStep(
                entry.status_reason if entry else outcome.refusal or outcome.outcome
            )


def _entry_reference(reservation: Reservation, line: ReservationLine, move: str) -> str:
    return f"#reservation/{reservation.pk}/{line.pk}/{move}"


def reservations_expire(*, now: datetime | None = None) -> int:
    """Write the release of every hold past its expiry, once; returns how many.

    Each hold is expired in its own transaction. A hold whose row another request has
    locked (a commit racing the sweep) is skipped and left to that request or to the
    next sweep; availability does not wait for either, it already ignores the hold.
    """
    now = now or timezone.now()
    expired = 0
    after = 0
    while True:
        due = list(
            Reservation.objects.filter(
                status=Status.ACTIVE, expires_at__lte=now, pk__gt=after
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_CHUNK]
        )
        if not due:
            return expired
        for pk in due:
            try:
                expired += _expire_one(pk, now)
            except (DomainError, DatabaseError):
                # One hold the ledger will not release must not stop the others; the
                # next sweep tries it again, and availability ignores it meanwhile.
                logger.exception("Could not expire reservation %s", pk)
        after = due[-1]


@transaction.atomic
def _expire_one(pk: int, now: datetime) -> int:
    reservation = (
        Reservation.objects.select_for_update(
            no_key=True, skip_locked=True, of=("self",)
        )
        .select_related("channel")
        .filter(pk=pk, status=Status.ACTIVE, expires_at__lte=now)
        .first()
    )
    if reservation is None:
        return 0
    _move(reservation, _lines_locked(reservation), Status.EXPIRED, EXPIRY_ACTOR, now)
    return 1


def _lines_locked(reservation: Reservation) -> list[ReservationLine]:
    """The hold's lines, read once their balances are locked: a receipt landing a
    pre-order's units holds those balances while it moves them from the line's
    future to its reserved units (inventory.services.supply)."""
    keys = reservation.lines.values_list("sku_id", "location_id")
    balances_lock(keys=list(keys))
    return list(reservation.lines.select_related("sku", "location"))
