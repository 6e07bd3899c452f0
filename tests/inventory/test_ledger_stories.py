"""Stories of the shop floor told to the ledger: what each movement does to the stock."""

from datetime import timedelta
from itertools import permutations

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from inventory.models import StockConflict, StockMovement
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_too]

APPLIED = StockMovement.Status.APPLIED
SUPERSEDED = StockMovement.Status.SUPERSEDED
REJECTED = StockMovement.Status.REJECTED


@pytest.fixture
def store():
    return LocationFactory(code="LON-OXF")


@pytest.fixture
def tee():
    return SkuFactory(code="TEE-BLK-M")


@pytest.fixture
def till():
    return ChannelFactory(code="pos", name="Store tills", kind="store_pos")


def test_the_final_unit_sold_at_the_till_leaves_nothing_to_promise(store, tee, till):
    StockEvents.post("receipt", sku=tee, location=store, quantity=1)
    outcome = StockEvents.post(
        "sale", sku=tee, location=store, quantity=1, channel=till
    )
    assert outcome.outcome == "created"
    assert outcome.movement.status == APPLIED
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.available) == (0, 0)
    assert not StockConflict.objects.exists()


def test_a_sale_of_a_unit_the_records_did_not_have_is_kept_and_flagged(
    store, tee, till
):
    """The till sold it, so it was there: the sale stands and a person looks into it."""
    outcome = StockEvents.post(
        "sale", sku=tee, location=store, quantity=1, channel=till
    )
    assert outcome.movement.status == APPLIED
    assert balance_of(tee, store).on_hand == -1
    conflict = StockConflict.objects.get()
    assert (conflict.shortfall, conflict.promised) == (1, 0)
    assert conflict.movement == outcome.movement


def test_a_till_sale_that_breaks_a_web_promise_is_recorded_and_raises_a_conflict(
    store, tee, till
):
    web = ChannelFactory(code="web", kind="web")
    StockEvents.post("receipt", sku=tee, location=store, quantity=2)
    StockEvents.post("commit", sku=tee, location=store, quantity=2, channel=web)
    sale = StockEvents.post("sale", sku=tee, location=store, quantity=1, channel=till)

    assert sale.movement.status == APPLIED
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.committed, stock.available) == (1, 2, -1)
    conflict = StockConflict.objects.get()
    assert conflict.sku == tee and conflict.location == store
    assert (conflict.shortfall, conflict.promised, conflict.on_hand) == (1, 2, 1)
    assert conflict.movement == sale.movement
    assert conflict.status == StockConflict.Status.OPEN


def test_a_promise_never_takes_availability_below_zero(store, tee):
    web = ChannelFactory(code="web", kind="web")
    StockEvents.post("receipt", sku=tee, location=store, quantity=1)
    refused = StockEvents.post(
        "reserve", sku=tee, location=store, quantity=2, channel=web
    )
    assert refused.outcome == "refused"
    assert "Only 1" in refused.refusal
    assert balance_of(tee, store).reserved == 0
    assert not StockMovement.objects.filter(type="reserve").exists()


def test_a_return_is_not_sellable_until_it_passes_inspection(store, tee):
    StockEvents.post("return_received", sku=tee, location=store, quantity=1)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.quality_control, stock.available) == (1, 1, 0)

    StockEvents.post("inspection_pass", sku=tee, location=store, quantity=1)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.quality_control, stock.available) == (1, 0, 1)


def test_a_return_that_fails_inspection_is_damaged_and_then_written_off(store, tee):
    StockEvents.post("return_received", sku=tee, location=store, quantity=1)
    StockEvents.post("inspection_fail", sku=tee, location=store, quantity=1)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.damaged, stock.quality_control) == (1, 1, 0)
    assert stock.available == 0

    StockEvents.post("write_off", sku=tee, location=store, quantity=1)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.damaged, stock.available) == (0, 0, 0)


def test_passing_an_inspection_of_a_return_never_received_is_rejected(store, tee):
    """Otherwise a phantom unit would become sellable."""
    outcome = StockEvents.post("inspection_pass", sku=tee, location=store, quantity=1)
    assert outcome.movement.status == REJECTED
    assert "0 units in quality control" in outcome.movement.status_reason
    stock = balance_of(tee, store)
    assert (stock.quality_control, stock.available) == (0, 0)


def test_damage_takes_units_out_of_availability_but_not_off_the_shelf(store, tee):
    StockEvents.post("receipt", sku=tee, location=store, quantity=5)
    StockEvents.post("damage", sku=tee, location=store, quantity=2)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.damaged, stock.available) == (5, 2, 3)


def test_an_adjustment_corrects_on_hand_either_way(store, tee):
    StockEvents.post("receipt", sku=tee, location=store, quantity=5)
    StockEvents.post(
        "adjustment", sku=tee, location=store, quantity=-2, reason="found damaged"
    )
    StockEvents.post("adjustment", sku=tee, location=store, quantity=1, reason="found")
    assert balance_of(tee, store).on_hand == 4


def test_a_receipt_fulfils_what_was_expected(store, tee):
    StockEvents.post("receipt_expected", sku=tee, location=store, quantity=10)
    assert balance_of(tee, store).incoming == 10
    StockEvents.post("receipt", sku=tee, location=store, quantity=6)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.incoming) == (6, 4)
    StockEvents.post("receipt", sku=tee, location=store, quantity=6)
    stock = balance_of(tee, store)
    assert (stock.on_hand, stock.incoming) == (12, 0)


def test_units_transferred_between_stores_are_in_transit_until_received(store, tee):
    manchester = LocationFactory(code="MAN-MKT")
    StockEvents.post("receipt", sku=tee, location=store, quantity=5)
    StockEvents.post(
        "transfer_out",
        sku=tee,
        location=store,
        quantity=3,
        other_location=manchester,
    )
    sender, receiver = balance_of(tee, store), balance_of(tee, manchester)
    assert (sender.on_hand, sender.available) == (2, 2)
    assert (receiver.on_hand, receiver.in_transit, receiver.available) == (0, 3, 0)

    StockEvents.post(
        "transfer_in", sku=tee, location=manchester, quantity=3, other_location=store
    )
    receiver = balance_of(tee, manchester)
    assert (receiver.on_hand, receiver.in_transit, receiver.available) == (3, 0, 3)


class TestADelayedSync:
    """The till syncs late: a count and the sales around it arrive in any order.

    At 10:00 the shelf holds 10. A sale at 09:00 (already in the count) and a sale at
    11:00 (after it). Whatever order they arrive in, on-hand ends at 10 - 1 = 9 and the
    sale of 09:00 is superseded by the count.
    """

    @pytest.mark.parametrize(
        "arrival", list(permutations(["before", "count", "after"])), ids=str
    )
    def test_on_hand_is_the_count_plus_what_happened_after_it(
        self, store, tee, till, arrival
    ):
        ten = timezone.now().replace(microsecond=0) - timedelta(hours=3)
        StockEvents.post(
            "receipt", sku=tee, location=store, quantity=20,
            occurred_at=ten - timedelta(days=1),
        )  # fmt: skip
        events = {
            "before": ("sale", 1, ten - timedelta(hours=1)),
            "count": ("count", 10, ten),
            "after": ("sale", 1, ten + timedelta(hours=1)),
        }
        posted = {}
        for name in arrival:
            kind, quantity, at = events[name]
            posted[name] = StockEvents.post(
                kind, sku=tee, location=store, quantity=quantity, occurred_at=at,
                channel=till,
            ).movement  # fmt: skip

        stock = balance_of(tee, store)
        assert stock.on_hand == 9
        assert stock.last_count_at == ten
        assert posted["after"].status == APPLIED
        assert posted["count"].status == APPLIED
        if arrival.index("before") > arrival.index("count"):
            assert posted["before"].status == SUPERSEDED
            assert posted["before"].on_hand_delta == 0
        else:
            # It was applied when it came; the count absorbed it when it came.
            assert posted["before"].status == APPLIED

    def test_an_older_count_arriving_after_a_newer_one_changes_nothing(
        self, store, tee
    ):
        now = timezone.now()
        StockEvents.post("count", sku=tee, location=store, quantity=7, occurred_at=now)
        stale = StockEvents.post(
            "count", sku=tee, location=store, quantity=3,
            occurred_at=now - timedelta(hours=2),
        ).movement  # fmt: skip
        assert stale.status == SUPERSEDED
        assert balance_of(tee, store).on_hand == 7

    def test_a_late_return_still_goes_to_inspection_though_the_count_has_it(
        self, store, tee
    ):
        """The count saw the returned unit on the shelf; it still awaits inspection."""
        now = timezone.now()
        StockEvents.post("count", sku=tee, location=store, quantity=4, occurred_at=now)
        late = StockEvents.post(
            "return_received", sku=tee, location=store, quantity=1,
            occurred_at=now - timedelta(minutes=30),
        ).movement  # fmt: skip
        assert late.status == SUPERSEDED
        stock = balance_of(tee, store)
        assert (stock.on_hand, stock.quality_control, stock.available) == (4, 1, 3)


def test_a_count_below_what_was_promised_raises_a_conflict(store, tee):
    web = ChannelFactory(code="web", kind="web")
    StockEvents.post("receipt", sku=tee, location=store, quantity=3)
    StockEvents.post("reserve", sku=tee, location=store, quantity=3, channel=web)
    StockEvents.post("count", sku=tee, location=store, quantity=1)
    conflict = StockConflict.objects.get()
    assert (conflict.shortfall, conflict.promised) == (2, 3)


def test_the_database_refuses_to_edit_or_delete_a_ledger_entry(store, tee):
    """A correction is a new entry; even code that bypasses the services cannot edit."""
    entry = StockEvents.post("receipt", sku=tee, location=store, quantity=3).movement
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=entry.pk).update(quantity=30)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=entry.pk).delete()
    assert StockMovement.objects.get(pk=entry.pk).quantity == 3
