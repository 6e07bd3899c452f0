"""Stock stated by a file, a page at a time (inventory.services.bulk_stock): opening
stock where a SKU has none yet, a handful of statements a page that leave the ledger
and the balances as the ledger's batch would (a rebuild finds nothing to repair), and
counts posted through the ledger's batch itself, by its count rule."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.access import Actor
from inventory.errors import ReferenceClash
from inventory.models import (
    AvailabilityChange,
    EventTally,
    StockBalance,
    StockConflict,
    StockMovement,
)
from inventory.services import balances_lock, balances_rebuild, staff_channel
from inventory.services.bulk_stock import (
    CountRow,
    OpeningStockRow,
    counts_write,
    opening_stock_write,
    stock_history_at,
)
from inventory.services.ledger_inputs import movement_digest
from inventory.services.ledger_writes import entries_insert_sql
from tests.factories import (
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
    stock,
)
from tests.threads import all_at_once, every_row_slowed

A_FILE = Actor(name="user:stock-controller", source="back-office")


def opening(*rows, occurred_at=None, prefix="import:0123456789abcdef:"):
    """Opening stock of ``rows`` ((line, sku, location, quantity), …) as a file's
    page."""
    return opening_stock_write(
        rows=[
            OpeningStockRow(
                line=line,
                sku_id=sku.pk,
                location_id=location.pk,
                quantity=quantity,
                sku_code=sku.code,
                location_code=location.code,
            )
            for line, sku, location, quantity in rows
        ],
        reference_prefix=prefix,
        channel=staff_channel(),
        occurred_at=occurred_at or timezone.now(),
        actor=A_FILE,
    )


def counted(*rows, prefix="import:fedcba9876543210:"):
    """Counts of ``rows`` ((line, sku, location, counted, counted_at), …)."""
    return counts_write(
        rows=[
            CountRow(
                line=line,
                sku_id=sku.pk,
                location_id=location.pk,
                counted=units,
                counted_at=at,
                sku_code=sku.code,
                location_code=location.code,
            )
            for line, sku, location, units, at in rows
        ],
        reference_prefix=prefix,
        channel=staff_channel(),
        actor=A_FILE,
        reason="Count imported from counts.csv",
    )


@pytest.fixture
def shop(db):
    return {
        "store": LocationFactory(code="LON-OXF"),
        "warehouse": LocationFactory(code="WH-DAV", kind="warehouse"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "web": ChannelFactory(code="web", kind="web"),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
    }


@pytest.mark.sqlite_too
def test_opening_stock_is_received_and_a_rebuild_agrees(shop):
    tee, hoodie, store, warehouse = (
        shop["tee"],
        shop["hoodie"],
        shop["store"],
        shop["warehouse"],
    )
    at = timezone.now() - timedelta(minutes=5)
    written = opening(
        (2, tee, store, 12),
        (3, tee, warehouse, 40),
        (4, hoodie, store, 0),
        occurred_at=at,
    )

    assert (written.written, written.refused) == (3, {})
    assert balance_of(tee, store).on_hand == 12
    assert balance_of(tee, warehouse).available == 40
    # 0 units: done, with nothing to post (a receipt is of 1 or more) and no history.
    assert not StockMovement.objects.filter(sku=hoodie).exists()
    assert not StockBalance.objects.filter(sku=hoodie).exists()
    entry = StockMovement.objects.get(reference="import:0123456789abcdef:2")
    assert (entry.type, entry.status, entry.reason) == (
        "receipt",
        "applied",
        "Opening stock",
    )
    assert (entry.on_hand_delta, entry.actor, entry.occurred_at) == (
        12,
        "user:stock-controller",
        at,
    )
    # The same fingerprint a receipt posted through the API would have.
    assert entry.payload_digest == movement_digest(
        type="receipt",
        sku_code="TEE-BLK-M",
        location_code="LON-OXF",
        quantity=12,
        occurred_at=at,
        reason="Opening stock",
    )
    # The channels hear of each balance that holds stock (the outbox's triggers).
    changes = AvailabilityChange.objects.filter(sku=tee).order_by("location__code")
    assert [(c.location.code, c.on_hand, c.sequence) for c in changes] == [
        ("LON-OXF", 12, 1),
        ("WH-DAV", 40, 1),
    ]
    assert balances_rebuild(repair=False) == []


@pytest.mark.sqlite_too
def test_opening_stock_goes_only_where_the_sku_has_no_history(shop):
    tee, hoodie, store = shop["tee"], shop["hoodie"], shop["store"]
    stock(tee, store, 3)
    references = {(tee.pk, store.pk): "import:x:2", (hoodie.pk, store.pk): "import:x:3"}
    assert stock_history_at(references=references, channel=staff_channel()) == {
        (tee.pk, store.pk)
    }

    written = opening((2, tee, store, 12), (3, hoodie, store, 5))

    assert written.written == 1
    assert written.refused == {
        2: "TEE-BLK-M already has stock at LON-OXF; send a count instead."
    }
    assert balance_of(tee, store).on_hand == 3
    assert balance_of(hoodie, store).on_hand == 5
    assert balances_rebuild(repair=False) == []


def test_a_balance_only_ever_locked_takes_opening_stock(shop):
    """A promise refused for want of stock creates the balance it locked, and moves
    nothing: no stock history, so opening stock still goes there."""
    tee, store = shop["tee"], shop["store"]
    with transaction.atomic():
        balances_lock(keys={(tee.pk, store.pk)})
    references = {(tee.pk, store.pk): "import:x:2"}
    assert stock_history_at(references=references, channel=staff_channel()) == set()

    assert opening((2, tee, store, 7)).written == 1

    assert balance_of(tee, store).on_hand == 7
    assert balances_rebuild(repair=False) == []


@pytest.mark.sqlite_too
def test_a_page_written_twice_writes_nothing_the_second_time(shop):
    tee, store = shop["tee"], shop["store"]
    at = timezone.now()
    assert opening((2, tee, store, 12), occurred_at=at).written == 1

    again = opening((2, tee, store, 12), occurred_at=at)

    # Its own entry is no stock history: nothing written, nothing refused.
    assert (again.written, again.refused) == (0, {})
    assert StockMovement.objects.count() == 1
    assert balance_of(tee, store).on_hand == 12
    prefix = "import:0123456789abcdef:"
    own = {(tee.pk, store.pk): f"{prefix}2"}
    channel = staff_channel()
    assert stock_history_at(references=own, channel=channel) == set()
    # Under another reference (another file) it is history.
    other = {(tee.pk, store.pk): "import:another:2"}
    assert stock_history_at(references=other, channel=channel) == own.keys()
    # What sold there since is on top of the row's stock: the row is written still,
    # at the check and under the lock.
    StockEvents.post("sale", sku=tee, location=store, quantity=1, channel=shop["pos"])
    assert stock_history_at(references=own, channel=channel) == set()
    again = opening((2, tee, store, 12), occurred_at=at)
    assert (again.written, again.refused) == (0, {})
    assert balance_of(tee, store).on_hand == 11


@pytest.mark.sqlite_too
def test_a_reference_used_for_another_movement_fails_the_page_whole(shop):
    """The same reference with another fingerprint (another quantity, or a key an
    integration chose that looks like a file's): the page writes nothing."""
    tee, hoodie, store = shop["tee"], shop["hoodie"], shop["store"]
    at = timezone.now()
    opening((2, tee, store, 12), occurred_at=at)

    with pytest.raises(ReferenceClash, match="Line 2: "):
        opening((2, tee, store, 13), (3, hoodie, store, 4), occurred_at=at)
    # Taken at another pair: the ledger's unique index says so.
    with pytest.raises(ReferenceClash):
        opening((2, hoodie, store, 12), occurred_at=at)

    assert StockMovement.objects.count() == 1
    assert not StockBalance.objects.filter(sku=hoodie).exists()
    assert balance_of(tee, store).on_hand == 12


def test_a_ledger_column_left_out_of_an_entry_written_in_sql_is_refused():
    """An entry made in SQL names each of its columns: one missing, or one the ledger
    has not, stops the writer at once rather than shifting the others' values."""
    with pytest.raises(ValueError, match="missing \\['channel_id'"):
        entries_insert_sql({"reference": "'r'"})


@pytest.mark.sqlite_too
def test_counts_post_the_difference_with_on_hand(
    shop, django_capture_on_commit_callbacks
):
    tee, hoodie, store = shop["tee"], shop["hoodie"], shop["store"]
    stock(tee, store, 10)
    now = timezone.now()

    written = counted((2, tee, store, 7, now), (3, hoodie, store, 4, now))

    assert written.written == 2
    count = StockMovement.objects.get(reference="import:fedcba9876543210:2")
    assert (count.type, count.status, count.quantity, count.on_hand_delta) == (
        "count",
        "applied",
        7,
        -3,
    )
    assert count.reason == "Count imported from counts.csv"
    assert (balance_of(tee, store).on_hand, balance_of(tee, store).last_count_at) == (
        7,
        now,
    )
    assert balance_of(hoodie, store).on_hand == 4
    assert balances_rebuild(repair=False) == []
    # Written again, nothing moves: the ledger's duplicates, tallied as any.
    with django_capture_on_commit_callbacks(execute=True):
        again = counted((2, tee, store, 7, now), (3, hoodie, store, 4, now))
    assert (again.written, again.refused) == (0, {})
    assert StockMovement.objects.filter(type="count").count() == 2
    assert EventTally.objects.get().duplicates == 2
    # The same references with other figures: clashes, left out and said.
    clash = counted((2, tee, store, 9, now))
    assert clash.written == 0
    assert clash.refused == {
        2: "The reference import:fedcba9876543210:2 names another movement in the "
        "ledger already; this count was not posted."
    }
    assert balance_of(tee, store).on_hand == 7


@pytest.mark.sqlite_too
def test_a_count_keeps_what_sold_after_it_and_an_older_count_is_superseded(shop):
    tee, store, pos = shop["tee"], shop["store"], shop["pos"]
    now = timezone.now()
    StockEvents.post(
        "receipt",
        sku=tee,
        location=store,
        quantity=10,
        occurred_at=now - timedelta(hours=1),
    )
    # A till sale made after the count was taken, already in.
    StockEvents.post(
        "sale",
        sku=tee,
        location=store,
        quantity=1,
        channel=pos,
        occurred_at=now - timedelta(minutes=10),
    )

    counted((2, tee, store, 6, now - timedelta(minutes=30)))
    assert balance_of(tee, store).on_hand == 5  # counted 6, one sold since

    older = counted(
        (2, tee, store, 40, now - timedelta(hours=2)), prefix="import:older:"
    )
    assert older.written == 1
    entry = StockMovement.objects.get(reference="import:older:2")
    assert (entry.status, entry.on_hand_delta) == ("superseded", 0)
    assert entry.status_reason.startswith("A later count (of ")
    assert balance_of(tee, store).on_hand == 5
    assert balances_rebuild(repair=False) == []


@pytest.mark.sqlite_too
def test_a_count_below_what_was_promised_raises_a_conflict(shop):
    tee, store = shop["tee"], shop["store"]
    stock(tee, store, 5)
    Holds.place(channel=shop["web"], lines=[(tee, store, 4)])

    counted((2, tee, store, 1, timezone.now()))

    balance = balance_of(tee, store)
    assert (balance.on_hand, balance.available) == (1, -3)
    conflict = StockConflict.objects.get()
    assert (conflict.shortfall, conflict.promised, conflict.on_hand) == (3, 4, 1)
    assert conflict.movement.reference == "import:fedcba9876543210:2"


@pytest.mark.django_db(transaction=True)
def test_a_sale_during_an_opening_stock_write_is_never_lost():
    """The till's sale and the file's opening stock of the same SKU at the same store
    race: whichever locks the balance first, the other waits for its commit, and
    the ledger and the balance agree. The opening stock either comes first (the
    sale takes one from it) or finds the sale's history and leaves the row out."""
    store = LocationFactory(code="LON-OXF")
    tee = SkuFactory(code="TEE-BLK-M")
    pos = ChannelFactory(code="pos", kind="store_pos")
    staff_channel()

    def work(n):
        if n == 0:
            return opening((2, tee, store, 12)).written
        return StockEvents.post(
            "sale", sku=tee, location=store, quantity=1, channel=pos
        ).movement.status

    with every_row_slowed("inventory_stockmovement", "INSERT"):
        written, sale = all_at_once(2, work)

    assert sale == "applied"
    on_hand = balance_of(tee, store).on_hand
    assert on_hand == (11 if written == 1 else -1)
    assert balances_rebuild(repair=False) == []


@pytest.mark.django_db(transaction=True)
def test_holds_during_a_count_never_take_availability_below_zero():
    """Checkouts hold the units a count is about to find missing: a hold placed
    before the count commits is a promise the count then contradicts (a conflict,
    as for any count); one placed after sees the counted stock and is refused when
    it is not there. No update is lost either way."""
    store = LocationFactory(code="LON-OXF")
    tee = SkuFactory(code="TEE-BLK-M")
    web = ChannelFactory(code="web", kind="web")
    stock(tee, store, 5)
    staff_channel()

    def work(n):
        if n == 0:
            return counted((2, tee, store, 2, timezone.now())).written
        try:
            Holds.place(channel=web, lines=[(tee, store, 3)])
        except Exception as refused:  # noqa: BLE001 (the story's outcome)
            return type(refused).__name__
        return "held"

    with every_row_slowed("inventory_stockmovement", "INSERT"):
        written, hold = all_at_once(2, work)

    assert written == 1
    balance = balance_of(tee, store)
    assert balance.on_hand == 2
    if hold == "held":
        assert balance.reserved == 3
        assert StockConflict.objects.filter(sku=tee).count() == 1
    else:
        assert balance.reserved == 0 and balance.available == 2
    assert balances_rebuild(repair=False) == []
