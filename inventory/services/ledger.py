"""Posting stock movements to the ledger: the one place where stock changes.

``movements_record`` takes a batch of events (``ledger_inputs``) and, in one
transaction:

1. locks the balance of every (SKU, location) the batch touches, in one fixed order
   (``inventory.locking``), creating missing balances;
2. looks up the references already in the ledger, after the lock, so two deliveries
   of the same event queue on the lock and the second one finds the first;
3. posts each new event in input order against the locked balances in memory
   (``ledger_rules``: the count rule, the late-delta rule, the bucket it draws from,
   and a conflict if a physical fact drove availability below zero);
4. writes the entries, the conflicts and the changed balances with one statement each
   (``ledger_writes``);
5. moves future supply by what the entries say (``supply``: an expected receipt or a
   transfer announces it, a receipt settles it and lands the pre-orders it keeps);

and then, once the balances are free again, moves the tills' marker of the stores it
heard from and waits for the disk (``movements_record`` says how), and tallies the
events that left no entry of their own.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from config.access import Actor
from config.database import can_prepare, is_between_transactions

from ..locking import BalanceKey, balances_lock
from ..models import Location, MovementType, StockMovement
from ..movements import RULES
from .ledger_inputs import (
    MovementInput,
    MovementOutcome,
    Outcome,
    applied_entries,
    movement_digest,
    shortages_of,
)
from .ledger_rules import Posting, post_event, promise_refusal, stored_on_hand_after
from .ledger_writes import event_tally_add, posting_write
from .supply import supply_follow

__all__ = [
    "MovementInput",
    "MovementOutcome",
    "Outcome",
    "applied_entries",
    "movement_digest",
    "movements_record",
    "shortages_of",
]

# A batch that loses a race on a reference (another request inserted it between our
# lookup and our insert, for a different SKU or location) is retried; the retry finds
# that entry and answers duplicate or clash.
RACE_RETRIES = 3
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def movements_record(
    *, movements: Sequence[MovementInput], actor: Actor
) -> list[MovementOutcome]:
    """Record a batch of events, each on its own terms; results in input order.
    Each entry records ``actor.name`` as who sent it.

    The batch's balances stay locked from their lock to its commit, and every
    checkout of those SKUs waits that long. So what needs no balance comes after the
    commit: the tills' marker, and the wait for the disk. Posted on its own (between
    transactions, on PostgreSQL), the batch commits without waiting for its commit
    record to be flushed, then waits in a transaction of its own, durable as usual:
    the till marker's, or one log record (as a checkout's hold does,
    inventory.services.promises). PostgreSQL's log is one sequence, so that flush
    covers the batch's commit, and nobody is answered before the batch is on disk.
    Inside a caller's transaction the marker comes last in it and the caller's commit
    makes everything durable."""
    unflushed = can_prepare() and is_between_transactions()
    for attempt in range(RACE_RETRIES):
        try:
            outcomes, tills, wrote = _record_batch(movements, actor.name, unflushed)
        except (IntegrityError, OperationalError) as error:
            if attempt == RACE_RETRIES - 1 or not _lost_a_race(error):
                raise
            continue
        if tills:
            _tills_heard_from(tills)
        elif unflushed and wrote:
            _wait_for_the_disk()
        _tally_unrecorded(movements, outcomes)
        return outcomes
    raise AssertionError("unreachable")


_TALLIED = {
    Outcome.DUPLICATE: "duplicates",
    Outcome.REFERENCE_CLASH: "clashes",
    Outcome.REFUSED: "refused",
}


def _tally_unrecorded(
    movements: Sequence[MovementInput], outcomes: Sequence[MovementOutcome]
) -> None:
    """Count, per source, the events that left no entry of their own (the sync
    health's duplicates). After the commit and in a statement of its own, so a
    source's batches never queue on its tally row; nothing at all when every event
    was new."""
    counts: dict[tuple[int, str], int] = {}
    for event, outcome in zip(movements, outcomes, strict=True):
        column = _TALLIED.get(outcome.outcome)
        if column is not None:
            key = (event.channel.pk, column)
            counts[key] = counts.get(key, 0) + 1
    if counts:
        transaction.on_commit(lambda: event_tally_add(counts=counts), robust=True)


def _lost_a_race(error: Exception) -> bool:
    """A unique-index clash with a concurrent writer, or a deadlock the database broke
    by aborting us: both are answered by running the batch again."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


@transaction.atomic
def _record_batch(
    movements: Sequence[MovementInput], actor: str, unflushed: bool
) -> tuple[list[MovementOutcome], dict[int, datetime], bool]:
    """The batch's outcomes, the stores whose tills it heard from (their latest event
    each), and whether it wrote anything. ``unflushed``: the commit does not wait for
    the disk (the caller waits after it)."""
    if unflushed:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    keys: set[BalanceKey] = set()
    for event in movements:
        keys.add((event.sku.pk, event.location.pk))
        if RULES[event.type].other_location_in_transit:
            keys.add((event.sku.pk, event.other_location.pk))
    posting = Posting(
        balances=balances_lock(keys=keys),
        recorded_at=timezone.now(),
        actor=actor,
    )
    known = _entries_by_reference(movements)
    posting.stored_after_count = stored_on_hand_after(
        [
            ((event.sku.pk, event.location.pk), event.occurred_at)
            for event in movements
            if event.type == MovementType.COUNT
        ]
    )
    results: list[MovementOutcome] = []
    for event in movements:
        earlier = known.get((event.channel.pk, event.reference))
        if earlier is not None:
            same = earlier.payload_digest == event.digest()
            results.append(
                MovementOutcome(
                    Outcome.DUPLICATE if same else Outcome.REFERENCE_CLASH, earlier
                )
            )
            continue
        refused = promise_refusal(event, posting)
        if refused:
            results.append(refused)
            continue
        entry = post_event(event, posting)
        known[(event.channel.pk, event.reference)] = entry
        results.append(MovementOutcome(Outcome.CREATED, entry))
    posting_write(posting)
    if posting.entries:
        # Expected receipts, transfers and receipts move future supply (and land the
        # pre-orders it keeps) in the same transaction, under the same locks.
        supply_follow(entries=posting.entries, actor=Actor.recorded(actor))
    return results, posting.pos_events, bool(posting.entries or posting.conflicts)


def _entries_by_reference(
    movements: Sequence[MovementInput],
) -> dict[tuple[int, str], StockMovement]:
    wanted = sorted({(event.channel.pk, event.reference) for event in movements})
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        # One probe of the unique (channel, reference) index per reference, whatever
        # the planner's statistics say: asked as "channel = X AND reference IN (...)",
        # a channel that grew since the last ANALYZE is scanned whole (200,000
        # entries and 30 ms for a till fleet's first hour, instead of 2 ms).
        found = list(
            StockMovement.objects.raw(
                _LOOKUP,
                [[channel for channel, _ in wanted], [ref for _, ref in wanted]],
            )
        )
    else:
        by_channel: dict[int, set[str]] = {}
        for channel_id, reference in wanted:
            by_channel.setdefault(channel_id, set()).add(reference)
        condition = Q()
        for channel_id, references in by_channel.items():
            condition |= Q(channel_id=channel_id, reference__in=references)
        found = list(StockMovement.objects.filter(condition).order_by())
    if found:
        _attach_records(found, movements)
    return {(entry.channel_id, entry.reference): entry for entry in found}


_LOOKUP = (
    "SELECT entry.* FROM unnest(%s::bigint[], %s::text[]) AS wanted(channel_id, "
    "reference) CROSS JOIN LATERAL (SELECT * FROM "
    f"{StockMovement._meta.db_table} AS stored WHERE stored.channel_id = "
    "wanted.channel_id AND stored.reference = wanted.reference) AS entry"
)


RELATIONS = ("channel", "sku", "location", "other_location")


def _attach_records(
    entries: list[StockMovement], movements: Sequence[MovementInput]
) -> None:
    """Give entries found in the ledger their channel, SKU and locations, as
    select_related would: the batch's own records where it names them (a resend
    names the same ones), one query per kind for any other."""
    held: dict[type, dict[int, object]] = {}
    for event in movements:
        for record in (event.channel, event.sku, event.location, event.other_location):
            if record is not None:
                held.setdefault(type(record)._meta.concrete_model, {})[record.pk] = (
                    record
                )
    for name in RELATIONS:
        model = StockMovement._meta.get_field(name).related_model
        records = held.setdefault(model, {})
        attname = f"{name}_id"
        missing = {
            entry.__dict__[attname] for entry in entries if entry.__dict__[attname]
        } - records.keys()
        if missing:
            records.update(model.objects.in_bulk(missing))
        for entry in entries:
            pk = entry.__dict__[attname]
            setattr(entry, name, records[pk] if pk is not None else None)


def _wait_for_the_disk() -> None:
    """The smallest durable write, in a transaction of its own: its commit waits for
    the log to be flushed up to it, which covers every commit logged before."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_logical_emit_message(true, 'onestock', 'batch')")


@transaction.atomic
def _tills_heard_from(latest: dict[int, datetime]) -> None:
    """Move each store's last till event forward, after the batch: in a transaction
    of its own once the batch committed (its balances already free; this commit is
    durable and covers the batch's), or last in the caller's (the lock order,
    inventory.locking). The store rows are locked in primary key order, so batches
    from several stores never deadlock on them, and FOR NO KEY UPDATE, which never
    meets the key share a checkout's foreign-key check takes on its store."""
    ids = sorted(latest)
    list(
        Location.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
    )
    newest = Case(
        *[When(pk=pk, then=Value(latest[pk])) for pk in ids],
        output_field=DateTimeField(),
    )
    Location.objects.filter(pk__in=ids).update(
        pos_last_event_at=Greatest(Coalesce(F("pos_last_event_at"), newest), newest)
    )
