"""The nightly rebuild runs while the tills keep selling: a posting made between the
rebuild's comparison and its repair is neither made to wait nor lost."""

import threading

import pytest
from django.db import connection

from inventory.models import MovementType, StockBalance
from inventory.services import balances_rebuild
from inventory.services import rebuild as rebuilding
from tests.factories import StockEvents, stock


def meanwhile(monkeypatch, posting):
    """Run ``posting`` on another connection, committed, right after the rebuild has
    compared the balances with the ledger and before it repairs them."""
    compare = rebuilding._balances_from_ledger

    def compare_then_post():
        compare()
        errors = []

        def post():
            try:
                posting()
            except Exception as error:  # seen by the test, not lost in the thread
                errors.append(error)
            finally:
                connection.close()

        other = threading.Thread(target=post)
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "the posting waited for the rebuild"
        assert not errors, errors

    monkeypatch.setattr(rebuilding, "_balances_from_ledger", compare_then_post)


@pytest.mark.django_db(transaction=True)
def test_a_sale_posted_during_the_repair_is_kept(shop, monkeypatch):
    stock(shop["tee"], shop["store"], 10)
    StockBalance.objects.filter(sku=shop["tee"]).update(on_hand=17)  # drifted
    meanwhile(
        monkeypatch,
        lambda: StockEvents.post(
            MovementType.SALE,
            sku=shop["tee"],
            location=shop["store"],
            quantity=1,
            channel=shop["pos"],
        ),
    )

    found = balances_rebuild()

    assert [(d.field, d.stored, d.from_ledger) for d in found] == [("on_hand", 17, 10)]
    # 10 received, 1 sold: the sale posted mid-repair is not overwritten.
    assert StockBalance.objects.get(sku=shop["tee"]).on_hand == 9
    monkeypatch.undo()
    assert balances_rebuild(repair=False) == []


@pytest.mark.django_db(transaction=True)
def test_a_missing_balance_recreated_by_a_posting_meanwhile_adds_up(shop, monkeypatch):
    stock(shop["tee"], shop["store"], 10)
    StockBalance.objects.filter(sku=shop["tee"]).delete()  # lost
    meanwhile(monkeypatch, lambda: stock(shop["tee"], shop["store"], 2))

    found = balances_rebuild()

    assert ("on_hand", 0, 10) in [(d.field, d.stored, d.from_ledger) for d in found]
    assert StockBalance.objects.get(sku=shop["tee"]).on_hand == 12
    monkeypatch.undo()
    assert balances_rebuild(repair=False) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("drifted_to", ["a year ahead", "nothing"])
def test_a_drifted_moment_is_put_right_whatever_was_posted_meanwhile(
    shop, monkeypatch, drifted_to
):
    from datetime import timedelta

    from django.utils import timezone

    stock(shop["tee"], shop["store"], 10)
    StockBalance.objects.filter(sku=shop["tee"]).update(
        last_event_at=timezone.now() + timedelta(days=365)
        if drifted_to == "a year ahead"
        else None
    )
    meanwhile(
        monkeypatch,
        lambda: StockEvents.post(  # a late till sale, rung up an hour ago
            MovementType.SALE,
            sku=shop["tee"],
            location=shop["store"],
            quantity=1,
            channel=shop["pos"],
            occurred_at=timezone.now() - timedelta(hours=1),
        ),
    )

    assert [d.field for d in balances_rebuild()] == ["last_event_at"]

    monkeypatch.undo()
    assert balances_rebuild(repair=False) == []
    assert StockBalance.objects.get(sku=shop["tee"]).on_hand == 9
