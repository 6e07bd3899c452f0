"""What the store screens offer a picker for a missing item: only what this store
can give, in stock first whatever its code, and pickup's case keys as the order's
story (support) looks them up."""

import pytest

from pickup import selectors
from pickup.services.cases import not_found_key, out_of_step_key, undecided_key
from reconciliation.models import ExceptionCase
from tests.factories import SkuFactory, pickup_order, reported_short, stock


@pytest.fixture
def problem(shop):
    stock(shop["tee"], shop["oxford"], 3)
    task = pickup_order(shop, "WEB-4001", lines=[(shop["tee"], 2)]).pickup_task
    return reported_short(shop, task)


def codes(options) -> list[str]:
    return [option["sku"].code for option in options]


def test_suggested_only_what_the_store_can_give_beyond_its_walk_in_buffer(
    shop, problem
):
    oxford, tee = shop["oxford"], shop["tee"]
    problem.quantity = 2  # two tees missing
    plenty = SkuFactory(code="TEE-BLK-L", name="Tee black L", product=tee.product)
    just = SkuFactory(code="TEE-BLK-S", name="Tee black S", product=tee.product)
    one = SkuFactory(code="TEE-BLK-XL", name="Tee black XL", product=tee.product)
    stock(plenty, oxford, 5)
    stock(just, oxford, 3)
    stock(one, oxford, 1)  # in stock, but not enough for two
    assert codes(selectors.substitutes_suggested(problem=problem, location=oxford)) == [
        "TEE-BLK-L",
        "TEE-BLK-S",
    ]

    # Two units kept back for walk-in customers: the S's three give only one.
    oxford.walk_in_buffer = 2
    suggested = selectors.substitutes_suggested(problem=problem, location=oxford)
    assert codes(suggested) == ["TEE-BLK-L"]
    assert suggested[0]["available"] == 5  # the shelf's figure, shown as it is


def test_found_puts_what_the_store_can_give_first_before_the_cut(shop, problem):
    oxford = shop["oxford"]
    # Sixty items found, all but the last out of stock here: the one in stock
    # sorts after every other by code, and still comes first.
    for n in range(60):
        SkuFactory(code=f"CAP-{n:02d}", name=f"Cap {n:02d}")
    in_stock = SkuFactory(code="CAP-ZZ", name="Cap last")
    stock(in_stock, oxford, 4)
    found = selectors.substitutes_found(problem=problem, location=oxford, search="cap")
    assert len(found) == selectors.SEARCH_LIMIT
    assert found[0]["sku"].code == "CAP-ZZ" and found[0]["available"] == 4
    assert [option["available"] for option in found[1:]] == [0] * 7
    assert codes(found[1:]) == [f"CAP-{n:02d}" for n in range(7)]  # then by code

    # Units here, but fewer than the problem needs beyond the buffer: after those
    # that can be given, before those with none.
    few = SkuFactory(code="CAP-AA", name="Cap few")
    stock(few, oxford, 1)
    oxford.walk_in_buffer = 1
    stock(in_stock, oxford, 10)
    found = selectors.substitutes_found(problem=problem, location=oxford, search="cap")
    assert codes(found)[:2] == ["CAP-ZZ", "CAP-AA"]


def test_the_case_keys_are_the_ones_the_cases_are_raised_with(shop, problem):
    # A tee not found raises its case under the helper's key (support finds it so).
    assert ExceptionCase.objects.filter(key=not_found_key(problem.pk)).exists()
    assert not_found_key(problem.pk) == f"pickup_problem:{problem.pk}"
    assert undecided_key(problem.pk) == f"pickup_undecided:{problem.pk}"
    assert out_of_step_key(7) == "pickup_out_of_step:task:7"
