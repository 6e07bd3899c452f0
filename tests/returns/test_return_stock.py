"""The ledger side of a return: a returned unit is on hand but never available until
someone grades it."""

from config.access import Actor
from inventory.services.returns import (
    ReturnUnits,
    return_expect,
    return_grade,
    return_receive,
)
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, balance_of


def test_a_returned_unit_is_not_available_until_it_is_graded_resellable(db):
    web = ChannelFactory(code="web")
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE-BLK-M")
    units = ReturnUnits(reference="return/1/1", sku=tee, location=store, quantity=1)

    return_expect(channel=web, units=[units], actor=Actor(name="token:web"))
    assert balance_of(tee, store).incoming == 1
    assert balance_of(tee, store).available == 0

    arrived = units
    return_receive(
        channel=web, units=[arrived], expected=[units], actor=Actor(name="user:sam")
    )
    balance = balance_of(tee, store)
    assert (balance.on_hand, balance.quality_control, balance.incoming) == (1, 1, 0)
    assert balance.available == 0

    return_grade(
        channel=web,
        units=arrived,
        grade="resellable",
        reason="",
        actor=Actor(name="user:sam"),
    )
    assert balance_of(tee, store).available == 1
