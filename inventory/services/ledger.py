"""Posting stock movements to the ledger: the one place where stock changes.

``movements_record`` takes a batch of events and, in one transaction:

1. locks the balance of every (SKU, location) the batch touches, in one fixed order
   (``inventory.locking``), creating missing balances;
2. looks up the references already in the ledger, after the lock, so two deliveries
   of the same event queue on the lock and the second one finds the first;
3. posts each new event in input order against the locked balances in memory:
   works out its deltas (the count rule, the late-delta rule, the bucket it draws
   from), applies them, and notes a conflict if a physical fact drove availability
   below zero;
4. writes the entries, the conflicts and the changed balances with one statement each;

and then, once the balances are free again, moves the tills' marker of the stores it
heard from and waits for the disk (``movements_record`` says how).

The rule for late and out-of-order events (docs/ledger.md): a count states on-hand as
of its ``occurred_at``. On-hand becomes the count plus the on-hand deltas that
occurred after it, whenever they arrived. A delta that occurred at or before the
latest applied count is recorded as ``superseded``: its on-hand part is dropped (the
count already includes it); its other buckets still apply. A count that occurred at
or before the latest applied count is superseded whole.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quoted

import orjson
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.models import Channel, Sku
from config.database import can_prepare, is_between_transactions

from ..locking import BalanceKey, balances_lock
from ..models import (
    EventTally,
    Location,
    MovementType,
    StockBalance,
    StockConflict,
    StockMovement,
)
from ..movements import BUCKETS, RULES, promises_units
from ..selectors import lapsed_holds
from ..signals import announce_stock_moved, conflicts_recorded
from .conflicts import conflict_for

# A batch that loses a race on a reference (another request inserted it between our
# lookup and our insert, for a different SKU or location) is retried; the retry finds
# that entry and answers duplicate or clash.
RACE_RETRIES = 3
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


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
    # safety buffer). Not part of the event's identity.
    keep_available: int = 0

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
) -> str:
    """An event's fingerprint, everything but its key. Times are compared in UTC:
    10:00+01:00 and 09:00Z are the same event.

    The SHA-256 of ``json.dumps([type, sku code, location code, quantity, occurred_at
    in UTC, reason, other location code or None])``, the text spelled out here as
    json.dumps spells it (a thousand events a batch)."""
    text = (
        f"[{_quoted(type)}, {_quoted(sku_code)}, {_quoted(location_code)}, "
        f"{int.__repr__(quantity)}, "
        f"{_quoted(occurred_at.astimezone(UTC).isoformat())}, {_quoted(reason)}, "
        f"{_quoted(other_location_code) if other_location_code is not None else 'null'}]"
    )
    return hashlib.sha256(text.encode()).hexdigest()


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


@dataclass
class _Posting:
    """The batch being posted: locked balances and the entries made so far."""

    balances: dict[BalanceKey, StockBalance]
    recorded_at: datetime
    actor: str
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


def movements_record(
    *, movements: Sequence[MovementInput], actor: str
) -> list[MovementOutcome]:
    """Record a batch of events, each on its own terms; results in input order.

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
            outcomes, tills, wrote = _record_batch(movements, actor, unflushed)
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
    posting = _Posting(
        balances=balances_lock(keys=keys),
        recorded_at=timezone.now(),
        actor=actor,
    )
    known = _entries_by_reference(movements)
    posting.stored_after_count = _stored_on_hand_after(
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
        refused = _promise_refusal(event, posting)
        if refused:
            results.append(refused)
            continue
        entry = _post(event, posting)
        known[(event.channel.pk, event.reference)] = entry
        results.append(MovementOutcome(Outcome.CREATED, entry))
    _write(posting)
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


def _promise_refusal(event: MovementInput, posting: _Posting) -> MovementOutcome | None:
    """A reservation or commitment may never take availability below zero, nor into
    the safety buffer it is asked to keep."""
    if not promises_units(RULES[event.type]):
        return None
    key = (event.sku.pk, event.location.pk)
    available = posting.balances[key].available
    if available - event.quantity >= event.keep_available:
        return None
    available += _lapsed(key, posting)
    if available - event.quantity >= event.keep_available:
        return None
    promisable = max(available - event.keep_available, 0)
    return MovementOutcome(
        Outcome.REFUSED,
        refusal=(
            f"Only {promisable} of {event.sku.code} can be promised at "
            f"{event.location.code}; {event.quantity} asked for."
        ),
        available_to_promise=promisable,
    )


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


def _lapsed(key: BalanceKey, posting: _Posting) -> int:
    """Units of holds past their expiry at ``key``: availability gives them back. Read
    only when a figure is short without them, once per batch and after the lock (so no
    hold lapses into or out of the figure while the batch runs)."""
    if posting.lapsed is None:
        posting.lapsed = lapsed_holds(
            keys=posting.balances.keys(), now=posting.recorded_at
        )
    return posting.lapsed.get(key, 0)


def _post(event: MovementInput, posting: _Posting) -> StockMovement:
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
            f"Only {getattr(balance, rule.drawn_from)} unit(s) in "
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
    posting: _Posting,
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
    key: BalanceKey, occurred_at: datetime, posting: _Posting
) -> int:
    """On-hand deltas that occurred after a count, already in the ledger or earlier in
    this batch: the count does not include them, so they stay on top of it."""
    pending = sum(
        entry.on_hand_delta
        for entry in posting.entries_by_key.get(key, ())
        if entry.occurred_at > occurred_at
    )
    return posting.stored_after_count[(key, occurred_at)] + pending


def _stored_on_hand_after(
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


def _column_type(model, column: str) -> str:
    """The SQL type a JSON row's value is read as, for ``json_to_recordset``."""
    field = model._meta.get_field(column.removesuffix("_id"))
    if field.is_relation:
        field = field.target_field
    return {
        "BigAutoField": "bigint",
        "AutoField": "integer",
        "BigIntegerField": "bigint",
        "IntegerField": "integer",
        "CharField": "text",
        "DateTimeField": "timestamptz",
    }[field.get_internal_type()]


BALANCE_FIELDS = (*BUCKETS, "last_count_at", "last_event_at", "updated_at")


def _balances_write(balances: list[StockBalance]) -> None:
    """Write the locked balances back in one statement. On PostgreSQL an UPDATE from
    the rows sent as one JSON document: Django's bulk_update builds a CASE per field
    and row, and even a VALUES list costs a parameter per field and row to send. Other
    databases (the SQLite demo) use bulk_update."""
    if connection.vendor != "postgresql":
        StockBalance.objects.bulk_update(balances, list(BALANCE_FIELDS))
        return
    rows = [
        {"id": balance.pk, **{name: getattr(balance, name) for name in BALANCE_FIELDS}}
        for balance in balances
    ]
    with connection.cursor() as cursor:
        cursor.execute(_BALANCES_UPDATE, [orjson.dumps(rows).decode()])


_BALANCES_UPDATE = (
    f"UPDATE {StockBalance._meta.db_table} AS b SET "
    + ", ".join(f"{name} = v.{name}" for name in BALANCE_FIELDS)
    + " FROM json_to_recordset(%s::json) AS v(id bigint, "
    + ", ".join(f"{name} {_column_type(StockBalance, name)}" for name in BALANCE_FIELDS)
    + ") WHERE b.id = v.id"
)


def _entries_insert(entries: list[StockMovement]) -> None:
    """Insert the entries and set their ids. On PostgreSQL one INSERT from the rows
    sent as one JSON document, which spares Django's per-field preparation of a
    thousand instances; elsewhere bulk_create. Either way a reference taken meanwhile
    raises IntegrityError (the unique index), and the batch is retried."""
    if connection.vendor != "postgresql":
        StockMovement.objects.bulk_create(entries)
        return
    rows = [
        {column: entry.__dict__[column] for column in _INSERTED} for entry in entries
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_INSERT, [orjson.dumps(rows).decode()])
        ids = {(channel, reference): pk for pk, channel, reference in cursor.fetchall()}
    for entry in entries:
        entry.id = ids[(entry.channel_id, entry.reference)]
        # Stored, as bulk_create marks what it inserted (the same two attributes):
        # Django has no public call that does it without inserting the rows itself.
        entry._state.adding = False
        entry._state.db = connection.alias


_INSERTED = tuple(column for column in ENTRY_COLUMNS if column != "id")


_ENTRIES_INSERT = (
    f"INSERT INTO {StockMovement._meta.db_table} ({', '.join(_INSERTED)}) "
    f"SELECT {', '.join(_INSERTED)} FROM json_to_recordset(%s::json) AS r("
    + ", ".join(
        f"{column} {_column_type(StockMovement, column)}" for column in _INSERTED
    )
    + ") RETURNING id, channel_id, reference"
)


def _write(posting: _Posting) -> None:
    if posting.entries:
        # In one order (by source and reference), so two batches that share references
        # wait on the unique index for each other instead of deadlocking.
        _entries_insert(
            sorted(posting.entries, key=lambda e: (e.channel_id, e.reference))
        )
    if posting.conflicts:
        for conflict in posting.conflicts:
            conflict.movement_id = conflict.movement.pk
        StockConflict.objects.bulk_create(posting.conflicts)
        conflicts_recorded.send(sender=StockConflict, conflicts=posting.conflicts)
    if posting.changed:
        changed = [posting.balances[key] for key in sorted(posting.changed)]
        for balance in changed:
            balance.updated_at = posting.recorded_at
        _balances_write(changed)
        announce_stock_moved()


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


def event_tally_add(*, counts: dict[tuple[int, str], int]) -> None:
    """Add ``counts`` ((channel id, column) → events) to this minute's tallies."""
    minute = timezone.now().replace(second=0, microsecond=0)
    by_channel: dict[int, dict[str, int]] = {}
    for (channel_id, column), number in counts.items():
        by_channel.setdefault(channel_id, {})[column] = number
    with connection.cursor() as cursor:
        for channel_id in sorted(by_channel):
            added = by_channel[channel_id]
            cursor.execute(
                _TALLY_ADD,
                [
                    channel_id,
                    connection.ops.adapt_datetimefield_value(minute),
                    added.get("duplicates", 0),
                    added.get("clashes", 0),
                    added.get("refused", 0),
                ],
            )


_TALLY_ADD = (
    f"INSERT INTO {EventTally._meta.db_table} AS tally "
    "(channel_id, minute, duplicates, clashes, refused) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (channel_id, minute) DO UPDATE SET "
    "duplicates = tally.duplicates + excluded.duplicates, "
    "clashes = tally.clashes + excluded.clashes, "
    "refused = tally.refused + excluded.refused"
)
