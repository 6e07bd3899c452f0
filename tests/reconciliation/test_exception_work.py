"""A manager works through the morning's cases: assigns, comments, resolves with a
code, and where the records are wrong posts an adjustment; store staff work their own
store's cases only."""

import pytest

from config.access import Actor
from config.errors import InvalidInput, NotFound, PermissionRefused
from inventory.models import MovementType, StockConflict, StockMovement
from inventory.selectors import availability_rows
from reconciliation.models import ExceptionCase
from reconciliation.services import (
    ExceptionTransitionRefused,
    Raised,
    exception_assign,
    exception_comment,
    exception_raise,
    exception_resolve,
)
from tests.factories import ChannelFactory, StockEvents, balance_of, pickup_order, stock


@pytest.fixture
def oversold(shop):
    """The last tee at Oxford Street promised online, then sold at the till."""
    stock(shop["tee"], shop["oxford"], 1)
    pickup_order(shop)
    StockEvents.post(
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=1,
        channel=ChannelFactory(code="oxf-till", kind="store_pos"),
    )
    return ExceptionCase.objects.get(kind="oversell_conflict")


def status_at_oxford(shop):
    (row,) = availability_rows(pairs=[(shop["tee"], shop["oxford"])], channel=None)
    return row.status


def test_the_manager_finds_the_unit_and_adjusts_and_the_tee_is_sellable_again(
    shop, oversold
):
    assert status_at_oxford(shop) == "under_review"
    maria = shop["maria"]
    exception_assign(
        case_id=oversold.pk, assignee_id=shop["alice"].pk, actor=Actor.of_user(maria)
    )
    exception_comment(
        case_id=oversold.pk, text="Check the stockroom.", actor=Actor.of_user(maria)
    )

    case = exception_resolve(
        case_id=oversold.pk,
        resolution="stock_adjusted",
        note="One more in the stockroom",
        adjustment=1,
        actor=Actor.of_user(maria),
    )

    assert (case.status, case.resolved_by) == ("resolved", "user:maria")
    entry = StockMovement.objects.get(pk=case.adjustment_id)
    assert (entry.type, entry.quantity, entry.channel.code) == (
        "adjustment",
        1,
        "back-office-staff",
    )
    assert entry.reference == f"exception/{case.pk}/adjustment"
    assert f"Exception #{case.pk}" in entry.reason
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1
    assert not StockConflict.objects.filter(status="open").exists()
    assert status_at_oxford(shop) != "under_review"
    assert list(case.events.values_list("kind", "action")) == [
        ("raised", "exception_raise"),
        ("assigned", "exception_assign"),
        ("comment", "exception_comment"),
        ("resolved", "exception_resolve"),
    ]


def test_resolved_without_an_adjustment_changes_no_stock(shop, oversold):
    before = StockMovement.objects.count()
    exception_resolve(
        case_id=oversold.pk,
        resolution="customer_served",
        note="Offered the grey tee; accepted",
        actor=Actor.of_user(shop["alice"]),
    )
    assert StockMovement.objects.count() == before
    with pytest.raises(ExceptionTransitionRefused):
        exception_resolve(
            case_id=oversold.pk,
            resolution="no_action",
            actor=Actor.of_user(shop["maria"]),
        )


def test_raised_again_after_resolution_opens_a_new_case(shop, oversold):
    exception_resolve(
        case_id=oversold.pk, resolution="no_action", actor=Actor.of_user(shop["maria"])
    )
    again = exception_raise(
        raised=Raised(
            kind="oversell_conflict",
            key=oversold.key,
            title="again",
            sku=shop["tee"],
            location=shop["oxford"],
        )
    )
    assert again.pk != oversold.pk and again.status == "open"


@pytest.mark.parametrize(
    ("resolution", "note", "adjustment", "field"),
    [
        ("", "", None, "resolution"),
        ("settled_at_source", "", None, "resolution"),
        ("other", "", None, "note"),
        ("stock_adjusted", "", None, "adjustment"),
        ("stock_adjusted", "", 0, "adjustment"),
        ("stock_adjusted", "", 10**7, "adjustment"),
        ("no_action", "", 3, "adjustment"),
    ],
)
def test_a_resolution_that_does_not_add_up_changes_nothing(
    shop, oversold, resolution, note, adjustment, field
):
    with pytest.raises(InvalidInput) as refused:
        exception_resolve(
            case_id=oversold.pk,
            resolution=resolution,
            note=note,
            adjustment=adjustment,
            actor=Actor.of_user(shop["maria"]),
        )
    assert field in refused.value.field_errors
    oversold.refresh_from_db()
    assert oversold.status == "open"


def test_only_a_manager_posts_an_adjustment(shop, oversold):
    with pytest.raises(PermissionRefused):
        exception_resolve(
            case_id=oversold.pk,
            resolution="stock_adjusted",
            adjustment=1,
            actor=Actor.of_user(shop["alice"]),
        )


def test_staff_at_another_store_cannot_see_or_touch_the_case(shop, oversold):
    carol = shop["carol"]  # Camden
    for act in (
        lambda: exception_comment(
            case_id=oversold.pk, text="hi", actor=Actor.of_user(carol)
        ),
        lambda: exception_resolve(
            case_id=oversold.pk, resolution="no_action", actor=Actor.of_user(carol)
        ),
        lambda: exception_assign(
            case_id=oversold.pk, assignee_id=None, actor=Actor.of_user(carol)
        ),
    ):
        with pytest.raises(NotFound):
            act()


def test_a_case_is_assigned_only_to_someone_who_works_there(shop, oversold):
    with pytest.raises(InvalidInput):
        exception_assign(
            case_id=oversold.pk,
            assignee_id=shop["carol"].pk,
            actor=Actor.of_user(shop["maria"]),
        )
    exception_assign(
        case_id=oversold.pk,
        assignee_id=shop["maria"].pk,
        actor=Actor.of_user(shop["alice"]),
    )
    oversold.refresh_from_db()
    assert oversold.assignee == shop["maria"]


def test_an_empty_comment_is_refused(shop, oversold):
    with pytest.raises(InvalidInput):
        exception_comment(
            case_id=oversold.pk, text="  ", actor=Actor.of_user(shop["alice"])
        )


def test_an_adjustment_that_leaves_a_shortfall_opens_a_new_case(shop):
    stock(shop["tee"], shop["oxford"], 3)
    pickup_order(shop, lines=[(shop["tee"], 3)])
    StockEvents.post(
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=1,
        channel=ChannelFactory(code="oxf-till", kind="store_pos"),
    )
    first = ExceptionCase.objects.get(kind="oversell_conflict")
    exception_resolve(
        case_id=first.pk,
        resolution="stock_adjusted",
        adjustment=-1,
        note="Another one was damaged",
        actor=Actor.of_user(shop["maria"]),
    )
    (still,) = ExceptionCase.objects.filter(status="open")
    assert still.pk != first.pk and still.kind == "oversell_conflict"
    assert StockConflict.objects.filter(status="open").count() == 1
    assert status_at_oxford(shop) == "under_review"


def test_the_difference_a_case_points_to(shop, oversold):
    from reconciliation.selectors import known_difference

    assert known_difference(oversold).units == 1  # the shortfall, if found
    case = exception_raise(
        raised=Raised(
            kind="item_not_found",
            key="pickup_problem:9",
            title="Not found",
            sku=shop["hoodie"],
            location=shop["oxford"],
            facts={"quantity": 2},
        )
    )
    assert known_difference(case).units == 2
    case.facts = {}
    assert known_difference(case) is None  # an older case: the manager types it
    case.facts = {"theirs": 5, "ledger": 5}
    case.kind = "snapshot_disagreement"
    assert known_difference(case) is None  # nothing to post
