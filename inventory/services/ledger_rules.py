"""How one event moves the balances a ledger batch has locked: the promise check,
the count rule, the late-delta rule, the bucket a move draws from, and the conflict
a physical fact raises (``post_event``), worked out in memory; ``ledger_writes``
writes the outcome.

The rule for late and out-of-order events (docs/ledger.md): a count states on-hand as
of its ``occurred_at``. On-hand becomes the count plus the on-hand deltas that
occurred after it, whenever they arrived. A delta that occurred at or before the
latest applied count is recorded as ``superseded``: its on-hand part is dropped (the
count already includes it); its other buckets still apply. A count that occurred at
or before the latest applied count is superseded whole.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from catalog.models import Channel
from config.words import units

from ..availability import promisable
from ..locking import BalanceKey
from ..models import MovementType, StockBalance, StockConflict, StockMovement
from ..movements import BUCKETS, RULES, promises_units
from ..selectors import lapsed_holds
from .conflicts import conflict_for
from .ledger_inputs import MovementInput, MovementOutcome, Outcome


@dataclass
class Posting:
    """The batch being posted: locked balances and the entries made so far."""

    balances: dict[BalanceKey, StockBalance]
    recorded_at: datetime
    actor: str  # the name its entries record
    # Units of holds past their expiry, per balance: still in ``reserved`` until the
    # sweep releases them, but no longer holding anything. Read once, when needed.
    lapsed: dict[BalanceKey, int] | None = None
    # On-hand moved by stored entries after each count of the batch (see below).
    stored_after_count: dict[tuple[BalanceKey, datetime], int] = field(
        default_factory=dict
    )
    entries: list[StockMovement] = field(default_factory=list)
    entries_by_key: dict[BalanceKey, list[StockMovement]] = field(default_factory=dict)
    conflicts: list[StockConflict] = field(default_factory=list)
    changed: set[BalanceKey] = field(default_factory=set)
    pos_events: dict[int, datetime] = field(default_factory=dict)


def promise_refusal(event: MovementInput, posting: Posting) -> MovementOutcome | None:
    """A reservation or commitment may never take availability below zero, nor into
    the safety buffer it is asked to keep, nor into another channel's protection."""
    if not promises_units(RULES[event.type]):
        return None
    key = (event.sku.pk, event.location.pk)
    available = posting.balances[key].available
    if _promisable(event, available) >= event.quantity:
        return None
    promisable = _promisable(event, available + _lapsed(key, posting))
    if promisable >= event.quantity:
        return None
    return MovementOutcome(
        Outcome.REFUSED,
        refusal=(
            f"Only {promisable} of {event.sku.code} can be promised at "
            f"{event.location.code}; {event.quantity} asked for."
        ),
        available_to_promise=promisable,
    )


def _promisable(event: MovementInput, available: int) -> int:
    return promisable(
        available=available,
        keep=event.keep_available,
        own=event.own_protection,
        others=event.others_protection,
    )


def _lapsed(key: BalanceKey, posting: Posting) -> int:
    """Units of holds past their expiry at ``key``: availability gives them back. Read
    only when a figure is short without them, once per batch and after the lock (so no
    hold lapses into or out of the figure while the batch runs)."""
    if posting.lapsed is None:
        posting.lapsed = lapsed_holds(
            keys=posting.balances.keys(), now=posting.recorded_at
        )
    return posting.lapsed.get(key, 0)


def post_event(event: MovementInput, posting: Posting) -> StockMovement:
    rule = RULES[event.type]
    key = (event.sku.pk, event.location.pk)
    balance = posting.balances[key]
    status, status_reason = StockMovement.Status.APPLIED, ""
    deltas = {bucket: sign * event.quantity for bucket, sign in rule.effects.items()}
    counted_at = balance.last_count_at
    if event.type == MovementType.COUNT:
        if counted_at is not None and event.occurred_at <= counted_at:
            status = StockMovement.Status.SUPERSEDED
            status_reason = (
                f"A later count (of {counted_at.isoformat()}) was already applied."
            )
            deltas = {}
        else:
            on_hand = event.quantity + _on_hand_moved_since(
                key, event.occurred_at, posting
            )
            deltas = {"on_hand": on_hand - balance.on_hand}
            balance.last_count_at = event.occurred_at
    elif "on_hand" in deltas and counted_at and event.occurred_at <= counted_at:
        status = StockMovement.Status.SUPERSEDED
        status_reason = (
            f"Occurred at or before the count of {counted_at.isoformat()}, which "
            "already includes it; on-hand unchanged."
        )
        del deltas["on_hand"]
    if rule.drawn_from and getattr(balance, rule.drawn_from) < event.quantity:
        status = StockMovement.Status.REJECTED
        status_reason = (
            f"Only {units(getattr(balance, rule.drawn_from))} in "
            f"{rule.drawn_from.replace('_', ' ')} here; nothing was moved."
        )
        deltas = {}
    rejected = status == StockMovement.Status.REJECTED
    if rule.settles and not rejected:
        expected = max(getattr(balance, rule.settles), 0)
        deltas[rule.settles] = -min(event.quantity, expected)

    available_before = balance.available
    for bucket, delta in deltas.items():
        setattr(balance, bucket, getattr(balance, bucket) + delta)
    shift = 0
    if not rejected:
        _note_event(balance, event.occurred_at)
        posting.changed.add(key)
        if rule.other_location_in_transit:
            other_key = (event.sku.pk, event.other_location.pk)
            other = posting.balances[other_key]
            shift = rule.other_location_in_transit * event.quantity
            other.in_transit += shift
            _note_event(other, event.occurred_at)
            posting.changed.add(other_key)
        # Only what a till sends proves it is in touch, not a hold it placed.
        if event.channel.kind == Channel.Kind.STORE_POS and rule.sent_by_integrations:
            seen = posting.pos_events.get(event.location.pk)
            if seen is None or event.occurred_at > seen:
                posting.pos_events[event.location.pk] = event.occurred_at
    entry = _entry(event, posting, status, status_reason, deltas, shift)
    posting.entries.append(entry)
    posting.entries_by_key.setdefault(key, []).append(entry)
    available_after = balance.available
    if (
        rule.physical
        and available_after < 0
        and available_after < available_before
        and available_after + _lapsed(key, posting) < 0
    ):
        posting.conflicts.append(conflict_for(entry=entry, balance=balance))
    return entry


# The ledger's columns in the model's order: an entry is built from them positionally,
# as Django builds a row read from the database, which costs a fraction of keyword
# construction (a thousand entries a batch).
ENTRY_COLUMNS = tuple(f.attname for f in StockMovement._meta.concrete_fields)
DELTA_COLUMNS = tuple(f"{bucket}_delta" for bucket in BUCKETS)


def _entry(
    event: MovementInput,
    posting: Posting,
    status: str,
    status_reason: str,
    deltas: dict[str, int],
    shift: int,
) -> StockMovement:
    other = event.other_location
    values = {
        "id": None,
        "channel_id": event.channel.pk,
        "reference": event.reference,
        "type": event.type,
        "sku_id": event.sku.pk,
        "location_id": event.location.pk,
        "other_location_id": other.pk if other is not None else None,
        "quantity": event.quantity,
        "reason": event.reason,
        "expected_at": event.expected_at,
        "supply_reference": event.supply_reference,
        "occurred_at": event.occurred_at,
        "recorded_at": posting.recorded_at,
        "status": status,
        "status_reason": status_reason,
        "actor": posting.actor,
        "payload_digest": event.digest(),
        "other_location_in_transit_delta": shift,
    }
    for bucket, column in zip(BUCKETS, DELTA_COLUMNS, strict=True):
        values[column] = deltas.get(bucket, 0)
    entry = StockMovement(*[values[column] for column in ENTRY_COLUMNS])
    # The records the event carries, as select_related would have given them: the
    # answer reads their codes without a query.
    entry.channel = event.channel
    entry.sku = event.sku
    entry.location = event.location
    entry.other_location = other
    return entry


def _note_event(balance: StockBalance, occurred_at: datetime) -> None:
    if balance.last_event_at is None or occurred_at > balance.last_event_at:
        balance.last_event_at = occurred_at


def _on_hand_moved_since(
    key: BalanceKey, occurred_at: datetime, posting: Posting
) -> int:
    """On-hand deltas that occurred after a count, already in the ledger or earlier in
    this batch: the count does not include them, so they stay on top of it."""
    pending = sum(
        entry.on_hand_delta
        for entry in posting.entries_by_key.get(key, ())
        if entry.occurred_at > occurred_at
    )
    return posting.stored_after_count[(key, occurred_at)] + pending


def stored_on_hand_after(
    counts: list[tuple[BalanceKey, datetime]],
) -> dict[tuple[BalanceKey, datetime], int]:
    """For each count, the on-hand deltas already stored that occurred after it, in
    one query for the whole batch (a full-store count is a thousand counts). The
    ledger does not change under us: the balances are locked, and this batch writes
    its own entries only at the end."""
    if not counts:
        return {}
    wanted = list(dict.fromkeys(counts))
    adapt = connection.ops.adapt_datetimefield_value
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(wanted))
    params: list[object] = []
    for index, ((sku_id, location_id), occurred_at) in enumerate(wanted):
        params += [index, sku_id, location_id, adapt(occurred_at)]
    table = StockMovement._meta.db_table
    sql = (
        f"WITH counted(idx, sku_id, location_id, occurred_at) AS (VALUES {rows}) "
        f"SELECT counted.idx, COALESCE(SUM(entry.on_hand_delta), 0) "
        f"FROM counted LEFT JOIN {table} entry "
        f"ON entry.sku_id = counted.sku_id AND entry.location_id = counted.location_id "
        f"AND entry.occurred_at > counted.occurred_at GROUP BY counted.idx"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        totals = dict(cursor.fetchall())
    return {count: int(totals.get(index, 0)) for index, count in enumerate(wanted)}
