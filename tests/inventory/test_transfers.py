"""A transfer request's steps, each on its timeline, and a conflict's resolution: both
move on their tables through config.transitions and are refused with where they
are and where they may go."""

import pytest
from django.contrib.auth import get_user_model

from config.access import Actor
from config.transitions import TransitionRefused
from inventory.models import StockConflict, TransferRequest
from inventory.services import conflict_resolve
from inventory.services.conflicts import ConflictTransitionRefused
from inventory.services.transfers import (
    TransferTransitionRefused,
    transfer_cancel,
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from tests.factories import StockEvents, balance_of

Status = TransferRequest.Status


@pytest.fixture
def asked(shop):
    """Four tees in the warehouse, two asked for by the store."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["warehouse"], quantity=4)
    return transfer_request(
        sku=shop["tee"],
        quantity=2,
        from_location=shop["warehouse"],
        to_location=shop["store"],
        channel=shop["web"],
        reason="Pickup order WEB-1 is short here",
        actor=Actor(name="user:oxford", source="back-office"),
    )


def test_each_step_of_a_transfer_is_on_its_timeline(shop, asked):
    transfer_dispatch(transfer_id=asked.pk, actor=Actor.system("wms"))
    received = transfer_receive(
        transfer_id=asked.pk, actor=Actor(name="user:oxford"), note="Both in the box"
    )
    assert received.status == Status.RECEIVED
    assert (received.dispatched_by, received.received_by) == (
        "system:wms",
        "user:oxford",
    )
    assert [
        (e.action, e.from_status, e.to_status, e.actor, e.source, e.note)
        for e in asked.events.all()
    ] == [
        (
            "transfer_request",
            "",
            "requested",
            "user:oxford",
            "back-office",
            "Pickup order WEB-1 is short here",
        ),
        ("transfer_dispatch", "requested", "dispatched", "system:wms", "system", ""),
        ("transfer_receive", "dispatched", "received", "user:oxford", "", "Both in the box"),
    ]  # fmt: skip
    assert balance_of(shop["tee"], shop["store"]).on_hand == 2


def test_the_same_step_again_changes_nothing(asked):
    transfer_cancel(transfer_id=asked.pk, actor=Actor(name="user:oxford"))
    transfer_cancel(transfer_id=asked.pk, actor=Actor(name="user:oxford"))
    assert [e.action for e in asked.events.all()] == [
        "transfer_request",
        "transfer_cancel",
    ]


def test_a_step_the_table_does_not_allow_is_refused_with_where_it_may_go(asked):
    transfer_dispatch(transfer_id=asked.pk, actor=Actor(name="user:camden"))
    with pytest.raises(TransferTransitionRefused) as refused:
        transfer_cancel(transfer_id=asked.pk, actor=Actor(name="user:oxford"))
    assert isinstance(refused.value, TransitionRefused)
    assert refused.value.code == "transfer_transition_refused"
    assert refused.value.extra == {"status": "dispatched", "allowed": ["received"]}
    assert refused.value.message == (
        f"Transfer {asked.pk} cannot become cancelled: it is dispatched; nothing was "
        "changed."
    )
    assert asked.events.count() == 2


def test_a_resolved_conflict_cannot_be_resolved_again(shop):
    StockEvents.post("sale", sku=shop["tee"], location=shop["store"], quantity=1)
    conflict = StockConflict.objects.get()
    manager = get_user_model().objects.create(username="manager")
    resolved = conflict_resolve(conflict=conflict, actor=Actor.of_user(manager))
    assert (resolved.status, resolved.resolved_by) == ("resolved", "user:manager")
    with pytest.raises(ConflictTransitionRefused) as refused:
        conflict_resolve(conflict=conflict, actor=Actor.of_user(manager))
    assert refused.value.code == "conflict_transition_refused"
    assert refused.value.extra == {"status": "resolved", "allowed": []}
    assert refused.value.message == "A resolved conflict cannot be resolved."
