"""The balances are a projection of the ledger: rebuilding them changes nothing, unless
someone tampered with a balance, and then the rebuild names it and puts it right."""

import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from inventory.models import StockBalance, StockMovement
from inventory.movements import BUCKETS
from inventory.services import balances_rebuild
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)

pytestmark = pytest.mark.django_db

PHYSICAL = [
    "receipt", "receipt_expected", "sale", "adjustment", "count", "damage",
    "write_off", "return_received", "inspection_pass", "inspection_fail",
    "transfer_out", "transfer_in",
]  # fmt: skip
PROMISES = ["reserve", "reservation_release", "commit", "commitment_release", "fulfil"]


def snapshot():
    return {
        (row.sku_id, row.location_id): tuple(getattr(row, b) for b in BUCKETS)
        + (row.last_count_at,)
        for row in StockBalance.objects.all()
    }


def told(differences):
    """The differences as ``rebuild_balances`` prints them, in its order."""
    return [
        (d.sku_code, d.location_code, d.field, d.stored, d.from_ledger)
        for d in differences
    ]


def a_long_random_day(seed: int, events: int = 600):
    """Events of every type, late and out of order, from tills and the warehouse."""
    rng = random.Random(seed)
    locations = [LocationFactory(code=f"LOC-{n}") for n in range(3)]
    skus = [SkuFactory(code=f"RND-{n}") for n in range(4)]
    channels = [
        ChannelFactory(code="pos", kind="store_pos"),
        ChannelFactory(code="web", kind="web"),
    ]
    start = timezone.now() - timedelta(days=2)
    for _ in range(events):
        kind = rng.choice(PHYSICAL * 3 + PROMISES)
        location, other = rng.sample(locations, 2)
        quantity = rng.randint(0 if kind == "count" else 1, 6)
        if kind == "adjustment":
            quantity = rng.choice([-1, 1]) * rng.randint(1, 4)
        StockEvents.post(
            kind,
            sku=rng.choice(skus),
            location=location,
            quantity=quantity,
            channel=rng.choice(channels),
            occurred_at=start + timedelta(minutes=rng.randint(0, 2800)),
            reason="random" if kind == "adjustment" else "",
            other_location=other if kind.startswith("transfer") else None,
        )
    return skus, locations


def test_after_a_long_random_sequence_the_rebuild_finds_no_difference():
    a_long_random_day(seed=20261123)
    before = snapshot()
    out = StringIO()
    call_command("rebuild_balances", stdout=out)
    assert "Every balance agrees with the ledger." in out.getvalue()
    assert snapshot() == before


def test_after_a_random_day_on_hand_is_the_latest_count_plus_what_followed_it():
    a_long_random_day(seed=42, events=400)
    checked = 0
    for balance in StockBalance.objects.exclude(last_count_at=None):
        entries = StockMovement.objects.filter(
            sku=balance.sku, location=balance.location
        )
        count = entries.get(
            type="count", status="applied", occurred_at=balance.last_count_at
        )
        after = entries.filter(occurred_at__gt=count.occurred_at)
        assert balance.on_hand == count.quantity + sum(
            entry.on_hand_delta for entry in after
        )
        assert not after.filter(status="superseded").exists()
        checked += 1
    assert checked >= 6


@pytest.mark.sqlite_too
def test_the_rebuild_finds_the_one_balance_that_was_tampered_with():
    skus, locations = a_long_random_day(seed=7, events=200)
    target = balance_of(skus[1], locations[2])
    honest = target.on_hand
    StockBalance.objects.filter(pk=target.pk).update(on_hand=honest + 5)

    out = StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("rebuild_balances", "--check", stdout=out)
    assert out.getvalue().strip() == (
        f"RND-1 at LOC-2: on_hand was {honest + 5}, the ledger says {honest}"
    )
    assert balance_of(skus[1], locations[2]).on_hand == honest + 5  # --check only

    with pytest.raises(CommandError, match="repaired"):
        call_command("rebuild_balances", stdout=StringIO())
    assert balance_of(skus[1], locations[2]).on_hand == honest
    call_command("rebuild_balances", stdout=StringIO())


def test_the_rebuild_also_puts_right_when_a_balance_last_moved():
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE")
    receipt = StockEvents.post("receipt", sku=tee, location=store, quantity=4).movement
    StockBalance.objects.update(last_event_at=timezone.now() + timedelta(days=1))
    (found,) = balances_rebuild()
    assert (found.field, found.from_ledger) == ("last_event_at", receipt.occurred_at)
    assert balance_of(tee, store).last_event_at == receipt.occurred_at


@pytest.mark.sqlite_too
def test_a_lost_balance_row_is_rebuilt_from_the_ledger():
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE")
    StockEvents.post("receipt", sku=tee, location=store, quantity=4)
    StockBalance.objects.all().delete()
    with pytest.raises(CommandError):
        call_command("rebuild_balances", stdout=StringIO())
    assert balance_of(tee, store).on_hand == 4


@pytest.mark.sqlite_too
def test_a_balance_no_entry_ever_moved_is_reported_and_zeroed(shop):
    """Someone typed three hoodies into the store's balance by hand. No entry ever
    moved a hoodie there, so the ledger says nothing is there, and never was."""
    typed_at = timezone.now()
    StockBalance.objects.create(
        sku=shop["hoodie"], location=shop["store"], on_hand=3, last_event_at=typed_at
    )

    found = balances_rebuild()

    assert told(found) == [
        ("HOOD-GRE-L", "LON-OXF", "on_hand", 3, 0),
        ("HOOD-GRE-L", "LON-OXF", "last_event_at", typed_at, None),
    ]
    zeroed = balance_of(shop["hoodie"], shop["store"])
    assert (zeroed.on_hand, zeroed.last_event_at) == (0, None)
    assert balances_rebuild() == []


@pytest.mark.sqlite_too
def test_tees_on_their_way_to_the_store_bring_back_its_lost_balance(shop):
    """The warehouse sends five tees to the store, which has never moved a tee itself:
    only the transfer out, at the warehouse, knows what the store is owed."""
    tee, store, warehouse = shop["tee"], shop["store"], shop["warehouse"]
    StockEvents.post("receipt", sku=tee, location=warehouse, quantity=8)
    sent = StockEvents.post(
        "transfer_out", sku=tee, location=warehouse, quantity=5, other_location=store
    ).movement
    StockBalance.objects.filter(location=store).delete()

    found = balances_rebuild(repair=False)
    assert told(found) == [
        ("TEE-BLK-M", "LON-OXF", "in_transit", 0, 5),
        ("TEE-BLK-M", "LON-OXF", "last_event_at", None, sent.occurred_at),
    ]
    assert not StockBalance.objects.filter(location=store).exists()  # --check only

    balances_rebuild()
    owed = balance_of(tee, store)
    assert (owed.on_hand, owed.in_transit, owed.last_event_at) == (
        0,
        5,
        sent.occurred_at,
    )
    assert balance_of(tee, warehouse).on_hand == 3


@pytest.mark.sqlite_too
def test_a_lost_count_date_is_put_back_and_an_invented_one_taken_away(shop):
    """The store counted six tees this morning; the warehouse has never counted any.
    The count rule hangs on ``last_count_at``: a balance that forgot its count would
    let an older sale through, and one that invents a count would drop a newer one."""
    tee, store, warehouse = shop["tee"], shop["store"], shop["warehouse"]
    counted = StockEvents.post(
        "count",
        sku=tee,
        location=store,
        quantity=6,
        occurred_at=timezone.now() - timedelta(hours=3),
    ).movement
    StockEvents.post("receipt", sku=tee, location=warehouse, quantity=4)
    StockBalance.objects.filter(location=store).update(last_count_at=None)
    StockBalance.objects.filter(location=warehouse).update(
        last_count_at=counted.occurred_at
    )

    found = balances_rebuild()

    assert told(found) == [
        ("TEE-BLK-M", "LON-OXF", "last_count_at", None, counted.occurred_at),
        ("TEE-BLK-M", "WH-DAV", "last_count_at", counted.occurred_at, None),
    ]
    assert balance_of(tee, store).last_count_at == counted.occurred_at
    assert balance_of(tee, warehouse).last_count_at is None
    assert balances_rebuild() == []
