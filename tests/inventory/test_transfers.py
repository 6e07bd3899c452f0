"""A transfer request's steps, each on its timeline, and a conflict's resolution: both
move on their tables through config.transitions and are refused with where they
are and where they may go."""

from dataclasses import replace

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from config.access import Actor
from config.transitions import TransitionRefused
from inventory.errors import InsufficientStock
from inventory.models import MovementType, StockConflict, StockMovement, TransferRequest
from inventory.services import conflict_resolve
from inventory.services.commitments import (
    CommitmentLine,
    commitments_move,
    commitments_place,
)
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


def oxford_asks(shop, quantity, **held):
    """The warehouse is asked for tees on the web shop's behalf."""
    return transfer_request(
        sku=shop["tee"],
        quantity=quantity,
        from_location=shop["store"],
        to_location=shop["warehouse"],
        channel=shop["web"],
        reason="Ada's pickup order moved",
        actor=Actor(name="user:oxford"),
        **held,
    )


def test_a_plain_request_leaves_the_walk_in_units_and_the_buffer_at_the_source(shop):
    """Oxford Street has six tees, keeps one for walk-ins and the web shop's buffer
    of two: it can spare three, not four, and a refusal writes nothing."""
    store = shop["store"]
    store.walk_in_buffer = 1
    store.save(update_fields=["walk_in_buffer"])
    StockEvents.post("receipt", sku=shop["tee"], location=store, quantity=6)
    entries = StockMovement.objects.count()

    with pytest.raises(InsufficientStock) as refused:
        oxford_asks(shop, 4)

    assert refused.value.extra["shortages"][0]["available_to_promise"] == 3
    assert (TransferRequest.objects.count(), StockMovement.objects.count()) == (
        0,
        entries,
    )
    oxford_asks(shop, 3)
    assert balance_of(shop["tee"], store).committed == 3


def test_units_held_for_a_customer_are_handed_over_as_they_are(shop):
    """Oxford Street held two of its four tees for Ada; since then it keeps two for
    walk-ins. Ada's two are released from her order and handed to the transfer in
    one transaction: nothing is kept back of them, the committed units stay two, and
    a plain request for a third tee is still refused."""
    store, tee = shop["store"], shop["tee"]
    StockEvents.post("receipt", sku=tee, location=store, quantity=4)
    ada = CommitmentLine(
        reference="#order/ada/commit", sku=tee, location=store, quantity=2
    )
    commitments_place(channel=shop["web"], lines=[ada], actor=Actor(name="web"))
    store.walk_in_buffer = 2
    store.save(update_fields=["walk_in_buffer"])

    with transaction.atomic():
        commitments_move(
            channel=shop["web"],
            move=MovementType.COMMITMENT_RELEASE,
            lines=[replace(ada, reference="#order/ada/release")],
            actor=Actor(name="web"),
        )
        transfer = oxford_asks(shop, 2, held_for_customer=True)

    balance = balance_of(tee, store)
    assert (balance.on_hand, balance.committed, balance.available) == (4, 2, 2)
    assert transfer.status == Status.REQUESTED
    with pytest.raises(InsufficientStock):
        oxford_asks(shop, 1)


def test_a_hand_over_never_takes_units_the_shelf_does_not_have(shop):
    """Handing over skips the buffers, not the ledger: Oxford Street's three tees
    cannot become four on a transfer, and nothing is written."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=3)
    entries = StockMovement.objects.count()

    with pytest.raises(InsufficientStock):
        oxford_asks(shop, 4, held_for_customer=True)

    assert (TransferRequest.objects.count(), StockMovement.objects.count()) == (
        0,
        entries,
    )
