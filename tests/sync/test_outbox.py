"""Every change of a SKU's availability at a location leaves a change in the outbox,
written with it or not at all, counted per SKU and location."""

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.models import AvailabilityChange, StockBalance
from sync.services import changes_place
from tests.factories import StockEvents

pytestmark = pytest.mark.sqlite_too


def changes_of(sku, location):
    return list(
        AvailabilityChange.objects.filter(sku=sku, location=location).order_by("id")
    )


def test_a_till_sale_leaves_one_change_with_the_new_numbers(floor):
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=5)
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"],
    )  # fmt: skip
    first, second = changes_of(floor["tee"], floor["store"])
    assert (first.sequence, first.on_hand) == (1, 5)
    assert (second.sequence, second.on_hand, second.available) == (2, 4, 4)
    balance = StockBalance.objects.get(sku=floor["tee"], location=floor["store"])
    assert balance.sequence == 2


def test_an_event_that_changes_nothing_leaves_no_change(floor):
    receipt = dict(
        sku=floor["tee"], location=floor["store"], quantity=5, reference="GRN-1",
        occurred_at=timezone.now(),
    )  # fmt: skip
    StockEvents.post("receipt", **receipt)
    again = StockEvents.post("receipt", **receipt)
    rejected = StockEvents.post(
        "inspection_pass", sku=floor["tee"], location=floor["store"], quantity=3
    )
    assert again.outcome == "duplicate"
    assert rejected.movement.status == "rejected"
    assert len(changes_of(floor["tee"], floor["store"])) == 1


def test_a_rolled_back_sale_leaves_no_change(floor):
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=5)
    with pytest.raises(RuntimeError), transaction.atomic():
        StockEvents.post("sale", sku=floor["tee"], location=floor["store"], quantity=1)
        raise RuntimeError("the till's request failed after the write")
    assert [c.sequence for c in changes_of(floor["tee"], floor["store"])] == [1]


def test_the_feed_places_changes_in_order_without_gaps(floor):
    for quantity in (5, 3, 2):
        StockEvents.post(
            "receipt", sku=floor["tee"], location=floor["store"], quantity=quantity
        )
    StockEvents.post(
        "receipt", sku=floor["hoodie"], location=floor["warehouse"], quantity=1
    )
    assert changes_place().changes == 4
    assert changes_place().changes == 0
    positions = list(
        AvailabilityChange.objects.order_by("id").values_list("position", flat=True)
    )
    assert positions == [1, 2, 3, 4]
