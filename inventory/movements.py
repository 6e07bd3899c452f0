"""What each movement type does to the quantity buckets, in one table.

Read by the ledger service (to post an entry), by the API (which types an integration
may send, and how their quantity is checked) and by the docs. Imports only models
(and availability, which imports nothing).
"""

from dataclasses import dataclass

# How each bucket counts in ``StockBalance.available``: defined with the rest of
# availability (inventory.availability), which the database's SQL is generated from.
from .availability import AVAILABILITY_SIGN
from .models import MovementType

BUCKETS = (
    "on_hand",
    "committed",
    "picked",
    "reserved",
    "damaged",
    "quality_control",
    "in_transit",
    "incoming",
)
MAX_MOVEMENT_QUANTITY = 1_000_000
# The types that are units sold to a customer (at a till, or an order leaving): what
# sales reports, rates of sale and the weighted count sample add up. The partial index
# ``stock_movement_sold`` is on these.
SOLD = (MovementType.SALE, MovementType.FULFIL, MovementType.FULFIL_PICKED)
# The statuses of an entry that was a sale: a sale older than the latest count is
# superseded in the balance (the count already saw the shelf without it) but was a
# sale all the same. Rates of sale count both.
SOLD_STATUSES = ("applied", "superseded")


@dataclass(frozen=True)
class MovementRule:
    """How one type moves units: each bucket's sign times the quantity."""

    effects: dict[str, int]
    # Physical facts are always recorded; promises (reserve, commit) are refused when
    # they would take availability below zero.
    physical: bool = True
    sent_by_integrations: bool = True
    signed_quantity: bool = False
    reason_required: bool = False
    needs_other_location: bool = False
    # The bucket a move takes units out of must hold them: passing an inspection of a
    # return that was never received would make a phantom unit sellable.
    drawn_from: str | None = None
    # A transfer out puts the units in transit to the other location.
    other_location_in_transit: int = 0
    # The bucket it settles, as far as it holds anything: a receipt fulfils what was
    # expected (incoming), and an unexpected receipt takes nothing from it.
    settles: str | None = None


RULES: dict[str, MovementRule] = {
    MovementType.RECEIPT: MovementRule({"on_hand": +1}, settles="incoming"),
    MovementType.RECEIPT_EXPECTED: MovementRule({"incoming": +1}),
    MovementType.SALE: MovementRule({"on_hand": -1}),
    MovementType.ADJUSTMENT: MovementRule(
        {"on_hand": +1}, signed_quantity=True, reason_required=True
    ),
    # A count is an absolute on-hand; the ledger service works out its delta.
    MovementType.COUNT: MovementRule({"on_hand": +1}),
    MovementType.DAMAGE: MovementRule({"damaged": +1}),
    MovementType.WRITE_OFF: MovementRule(
        {"damaged": -1, "on_hand": -1}, drawn_from="damaged"
    ),
    MovementType.RETURN_RECEIVED: MovementRule({"on_hand": +1, "quality_control": +1}),
    MovementType.INSPECTION_PASS: MovementRule(
        {"quality_control": -1}, drawn_from="quality_control"
    ),
    MovementType.INSPECTION_FAIL: MovementRule(
        {"quality_control": -1, "damaged": +1}, drawn_from="quality_control"
    ),
    MovementType.TRANSFER_OUT: MovementRule(
        {"on_hand": -1}, needs_other_location=True, other_location_in_transit=+1
    ),
    MovementType.TRANSFER_IN: MovementRule(
        {"on_hand": +1, "in_transit": -1}, needs_other_location=True
    ),
    MovementType.RESERVE: MovementRule(
        {"reserved": +1}, physical=False, sent_by_integrations=False
    ),
    MovementType.RESERVATION_RELEASE: MovementRule(
        {"reserved": -1},
        physical=False,
        sent_by_integrations=False,
        drawn_from="reserved",
    ),
    MovementType.COMMIT: MovementRule(
        {"committed": +1}, physical=False, sent_by_integrations=False
    ),
    MovementType.COMMITMENT_RELEASE: MovementRule(
        {"committed": -1},
        physical=False,
        sent_by_integrations=False,
        drawn_from="committed",
    ),
    # A hold turned into a commitment: availability does not change.
    MovementType.RESERVATION_COMMIT: MovementRule(
        {"reserved": -1, "committed": +1},
        physical=False,
        sent_by_integrations=False,
        drawn_from="reserved",
    ),
    MovementType.FULFIL: MovementRule(
        {"committed": -1, "on_hand": -1},
        sent_by_integrations=False,
        drawn_from="committed",
    ),
    # An order's units through the store (inventory.services.commitments): picking
    # moves a committed unit into the pickup-hold area, where it stays unavailable
    # until it leaves with its order or someone confirms it is back on the shelf.
    MovementType.PICK: MovementRule(
        {"committed": -1, "picked": +1},
        physical=False,
        sent_by_integrations=False,
        drawn_from="committed",
    ),
    MovementType.FULFIL_PICKED: MovementRule(
        {"picked": -1, "on_hand": -1},
        sent_by_integrations=False,
        drawn_from="picked",
    ),
    MovementType.PUT_AWAY: MovementRule(
        {"picked": -1},
        physical=False,
        sent_by_integrations=False,
        drawn_from="picked",
    ),
    # An announced return is incoming at the location it will arrive at, until it
    # arrives or is called off. Incoming is one bucket with purchase orders' units,
    # so an arrival settles it only as far as it still holds anything (a purchase
    # receipt may have settled it first): the return is never stuck, and incoming
    # stays the outstanding total, never below zero.
    MovementType.RETURN_EXPECTED: MovementRule(
        {"incoming": +1}, physical=False, sent_by_integrations=False
    ),
    MovementType.RETURN_EXPECTED_CLOSED: MovementRule(
        {}, physical=False, sent_by_integrations=False, settles="incoming"
    ),
    # A purchase order called off (inventory.services.supply): what it still had to
    # bring is no longer incoming, as far as incoming holds it.
    MovementType.SUPPLY_CALLED_OFF: MovementRule(
        {}, physical=False, sent_by_integrations=False, settles="incoming"
    ),
    # A purchase order rescheduled: its new date on the trail, nothing moved.
    MovementType.SUPPLY_RESCHEDULED: MovementRule(
        {}, physical=False, sent_by_integrations=False
    ),
}


def promises_units(rule: MovementRule) -> bool:
    """A promise that takes units out of availability: refused, never recorded, when
    there are not enough (physical facts are recorded whatever they do)."""
    change = sum(
        AVAILABILITY_SIGN.get(bucket, 0) * sign for bucket, sign in rule.effects.items()
    )
    return not rule.physical and change < 0


INTEGRATION_TYPES = [name for name, rule in RULES.items() if rule.sent_by_integrations]
INTEGRATION_TYPE_CHOICES = [
    (name, label) for name, label in MovementType.choices if name in INTEGRATION_TYPES
]
