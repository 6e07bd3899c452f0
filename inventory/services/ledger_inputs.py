"""What a ledger batch is given and what it answers: the events (MovementInput),
their fingerprint (``movement_digest``, and ``movement_digests`` for a file's page
of them, which tell a resend from a clash), and what
became of each (MovementOutcome), with the two readings other apps make of a batch's
outcomes: the entries it applied (``applied_entries``) and the promises it refused
(``shortages_of``)."""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quoted

from catalog.models import Channel, Sku

from ..models import Location, StockMovement


@dataclass(frozen=True)
class MovementInput:
    """One event as an integration (or another app) states it; already validated."""

    reference: str
    type: str
    sku: Sku
    location: Location
    quantity: int
    occurred_at: datetime
    channel: Channel
    reason: str = ""
    other_location: Location | None = None
    # For a promise: units that must stay available after it (the selling channel's
    # safety buffer), and the protections in force there: the channel's own, which it
    # may take, and the other channels', which it may not (inventory.availability
    # .promisable). Not part of the event's identity.
    keep_available: int = 0
    own_protection: int = 0
    others_protection: int = 0
    # Future supply (inventory.services.supply): when an expected receipt or a
    # transfer out is due, and the purchase order an expected receipt (or a receipt)
    # belongs to.
    expected_at: datetime | None = None
    supply_reference: str = ""

    def digest(self) -> str:
        """Fingerprint of everything but the key, so a resend can be told from a clash
        (``movement_digest``)."""
        other = self.other_location
        return movement_digest(
            type=self.type,
            sku_code=self.sku.code,
            location_code=self.location.code,
            quantity=self.quantity,
            occurred_at=self.occurred_at,
            reason=self.reason,
            other_location_code=other.code if other is not None else None,
            expected_at=self.expected_at,
            supply_reference=self.supply_reference,
        )


def movement_digest(
    *,
    type: str,  # noqa: A002 (the ledger's word for it)
    sku_code: str,
    location_code: str,
    quantity: int,
    occurred_at: datetime,
    reason: str = "",
    other_location_code: str | None = None,
    expected_at: datetime | None = None,
    supply_reference: str = "",
) -> str:
    """An event's fingerprint, everything but its key. Times are compared in UTC:
    10:00+01:00 and 09:00Z are the same event.

    The SHA-256 of ``json.dumps([type, sku code, location code, quantity, occurred_at
    in UTC, reason, other location code or None])``, the text spelled out here as
    json.dumps spells it (a thousand events a batch). A due date or a purchase order,
    when the event has one, adds ``[expected_at in UTC or None, supply reference]``
    to the list, so the digests of every event without them stay as they were."""
    other = _quoted(other_location_code) if other_location_code is not None else "null"
    supply = ""
    if expected_at is not None or supply_reference:
        due = (
            _quoted(expected_at.astimezone(UTC).isoformat())
            if expected_at is not None
            else "null"
        )
        supply = f", [{due}, {_quoted(supply_reference)}]"
    text = (
        f"{_head(type)}{_quoted(sku_code)}, {_quoted(location_code)}, "
        f"{int.__repr__(quantity)}{_tail(occurred_at, reason, other, supply)}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def movement_digests(
    events: Iterable[tuple[str, str, int]],
    *,
    type: str,  # noqa: A002 (the ledger's word for it)
    occurred_at: datetime,
    reason: str = "",
) -> list[str]:
    """The fingerprints of many events of one type, moment and reason, given as (SKU
    code, location code, quantity), each as ``movement_digest`` spells it (no other
    location, no supply): what they share spelled once, each code quoted once (a
    file's page is a million rows over a few thousand codes)."""
    head, tail = _head(type), _tail(occurred_at, reason, "null", "")
    quoted: dict[str, str] = {}

    def code(text: str) -> str:
        spelled = quoted.get(text)
        if spelled is None:
            spelled = quoted[text] = _quoted(text)
        return spelled

    sha = hashlib.sha256
    return [
        sha(
            f"{head}{code(sku)}, {code(place)}, {int.__repr__(quantity)}{tail}".encode()
        ).hexdigest()
        for sku, place, quantity in events
    ]


# The pieces of a fingerprint's text around the SKU, location and quantity: one
# spelling for ``movement_digest`` and ``movement_digests``.
def _head(type: str) -> str:  # noqa: A002
    return f"[{_quoted(type)}, "


def _tail(occurred_at: datetime, reason: str, other: str, supply: str) -> str:
    return (
        f", {_quoted(occurred_at.astimezone(UTC).isoformat())}, {_quoted(reason)}, "
        f"{other}{supply}]"
    )


class Outcome:
    CREATED = "created"
    DUPLICATE = "duplicate"
    REFERENCE_CLASH = "reference_clash"
    REFUSED = "refused"


@dataclass
class MovementOutcome:
    """What became of one event: the entry as stored (new or the earlier one), or why
    it was refused without being stored."""

    outcome: str
    movement: StockMovement | None = None
    refusal: str = ""
    # For a refused promise: what could have been promised instead.
    available_to_promise: int | None = None


def applied_entries(
    outcomes: Sequence[MovementOutcome], out_of_step: type[Exception]
) -> list[StockMovement]:
    """The entries of a batch another app asked for, each written now or earlier
    (a repeat); anything refused raises ``out_of_step`` with the ledger's reason."""
    entries = []
    for outcome in outcomes:
        entry = outcome.movement
        if outcome.outcome not in (Outcome.CREATED, Outcome.DUPLICATE):
            raise out_of_step(outcome.refusal or outcome.outcome)
        if entry.status == StockMovement.Status.REJECTED:
            raise out_of_step(entry.status_reason)
        entries.append(entry)
    return entries


def shortages_of(lines: Sequence, outcomes: Sequence[MovementOutcome]) -> list[dict]:
    """Each promised line the ledger refused, as a 409 names it: ``lines`` are the
    promises in the order they were posted (anything with ``sku``, ``location`` and
    ``quantity``)."""
    return [
        {
            "sku": line.sku.code,
            "location": line.location.code,
            "requested": line.quantity,
            "available_to_promise": outcome.available_to_promise,
        }
        for line, outcome in zip(lines, outcomes, strict=True)
        if outcome.outcome == Outcome.REFUSED
    ]
