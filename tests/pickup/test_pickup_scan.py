"""Picking through the task's one scan field (``pickup_scan``): a scan finds the
order's line whose SKU code or barcode it is and which still has units to pick, and
picks ONE unit; an empty scan, a code not on the order and a line picked already are
refused and pick nothing."""

import pytest

from config.access import Actor
from config.errors import InvalidInput
from pickup import services as pickup
from pickup.models import PickupTask
from tests.factories import SkuFactory, balance_of, pickup_order, stock


@pytest.fixture
def picking(shop):
    """Alice is picking an order of two tees and one hoodie."""
    stock(shop["tee"], shop["oxford"], 5)
    stock(shop["hoodie"], shop["oxford"], 5)
    order = pickup_order(
        shop, "WEB-9001", lines=[(shop["tee"], 2), (shop["hoodie"], 1)]
    )
    task = order.pickup_task
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    return task, alice


def picked(task) -> dict[str, int]:
    return {line.sku.code: line.picked_quantity for line in task.order.lines.all()}


def test_a_scan_picks_one_unit_of_the_line_it_matches(shop, picking):
    task, alice = picking
    first = pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="5012345678900")
    assert first.line.sku == shop["tee"]
    assert first.words == "Tee black M: 1 of 2 picked"
    assert picked(task) == {"TEE-BLK-M": 1, "HOOD-GRE-L": 0}
    assert balance_of(shop["tee"], shop["oxford"]).picked == 1
    # Any line of the order, in any order, by code or by barcode.
    hoodie = pickup.pickup_scan(task_id=task.pk, actor=alice, scanned=" HOOD-GRE-L ")
    assert hoodie.words == "Hoodie green L: 1 of 1 picked"
    last = pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="TEE-BLK-M")
    assert last.words == "Tee black M: 2 of 2 picked"
    assert last.task.status == PickupTask.Status.PICKED


def test_nothing_left_to_pick_is_refused(shop, picking):
    task, alice = picking
    pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="HOOD-GRE-L")
    with pytest.raises(InvalidInput) as refused:
        pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="HOOD-GRE-L")
    assert refused.value.field_errors == {
        "scanned": ["Hoodie green L: nothing left to pick on this order."]
    }
    assert picked(task)["HOOD-GRE-L"] == 1


@pytest.mark.parametrize("stray", ["", "   ", "\n"])
def test_an_empty_scan_is_refused_and_picks_nothing(shop, picking, stray):
    task, alice = picking
    with pytest.raises(InvalidInput) as refused:
        pickup.pickup_scan(task_id=task.pk, actor=alice, scanned=stray)
    assert refused.value.field_errors == {
        "scanned": ["Scan an item first: nothing was picked."]
    }
    assert picked(task) == {"TEE-BLK-M": 0, "HOOD-GRE-L": 0}


def test_a_code_not_on_the_order_is_refused(shop, picking):
    task, alice = picking
    SkuFactory(code="SOCK-1", name="Socks", barcode="4006381333931")
    for code in ("SOCK-1", "4006381333931", "NOPE"):
        with pytest.raises(InvalidInput) as refused:
            pickup.pickup_scan(task_id=task.pk, actor=alice, scanned=code)
        assert refused.value.field_errors == {
            "scanned": [f"{code} is not on this order: check the item."]
        }
    long_scan = "9" * 200
    with pytest.raises(InvalidInput) as refused:
        pickup.pickup_scan(task_id=task.pk, actor=alice, scanned=long_scan)
    assert len(refused.value.field_errors["scanned"][0]) < 100
    assert picked(task) == {"TEE-BLK-M": 0, "HOOD-GRE-L": 0}


def test_only_the_picker_scans_and_only_while_picking(shop, picking):
    task, alice = picking
    with pytest.raises(Exception, match="Alice is picking this order"):
        pickup.pickup_scan(
            task_id=task.pk, actor=Actor.of_user(shop["bob"]), scanned="TEE-BLK-M"
        )
    pickup.pickup_task_release(task_id=task.pk, actor=alice)
    with pytest.raises(Exception, match="Claim it first"):
        pickup.pickup_scan(task_id=task.pk, actor=alice, scanned="TEE-BLK-M")
