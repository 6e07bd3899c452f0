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


def test_a_lost_balance_row_is_rebuilt_from_the_ledger():
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE")
    StockEvents.post("receipt", sku=tee, location=store, quantity=4)
    StockBalance.objects.all().delete()
    with pytest.raises(CommandError):
        call_command("rebuild_balances", stdout=StringIO())
    assert balance_of(tee, store).on_hand == 4
