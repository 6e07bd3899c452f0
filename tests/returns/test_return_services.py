"""Returns on the shop floor: bought online, brought back to a store, inspected
before anything is sold again."""

import pytest

from config.access import Actor
from config.errors import InvalidInput, NotFound
from inventory.models import MovementType, StockMovement
from inventory.services import balances_rebuild
from returns import selectors, services
from returns.models import Return, ReturnEvent
from returns.services import (
    Purchase,
    ReturnLineInput,
    ReturnReferenceClash,
    ReturnTransitionRefused,
)
from tests.factories import balance_of, delivered_order

Status = Return.Status


def bring_back(shop, order, *lines, store=None, by="alice"):
    """The customer at the Oxford Street counter with goods from ``order``, taken
    back by ``by`` (Alice unless named)."""
    return services.return_receive_at_counter(
        purchase=Purchase(channel=order.channel, order=order),
        location=store or shop["oxford"],
        lines=[
            ReturnLineInput(sku=sku, quantity=quantity, reason=reason)
            for sku, quantity, reason in lines
        ],
        actor=Actor.of_user(shop[by]),
    )


def grade(found, grade, quantity=1, line=None, **extra):
    line = line or found.lines.get()
    return services.return_line_grade(
        return_id=found.pk,
        line_id=line.pk,
        grade=grade,
        quantity=quantity,
        actor=Actor(name="user:alice"),
        **extra,
    )


def test_bought_online_returned_in_store_and_graded_resellable(shop):
    order = delivered_order(shop, lines=[(shop["tee"], 1)])
    oxford, tee = shop["oxford"], shop["tee"]

    found = bring_back(shop, order, (tee, 1, "wrong_size"))

    assert found.status == Status.RECEIVED
    assert found.customer_name == "Ada Byron"
    balance = balance_of(tee, oxford)
    assert (balance.on_hand, balance.quality_control, balance.available) == (1, 1, 0)
    received = StockMovement.objects.get(type=MovementType.RETURN_RECEIVED)
    # The ledger says which channel's sale came back, and why.
    assert received.channel == shop["web"]
    assert received.reason == "Wrong size"

    grade(found, "resellable", shelf_location="Rail 4", condition="Tags on")

    found.refresh_from_db()
    assert found.status == Status.GRADED
    assert balance_of(tee, oxford).available == 1
    inspection = found.lines.get().inspections.get()
    assert (inspection.shelf_location, inspection.actor) == ("Rail 4", "user:alice")
    steps = [(e.kind, e.to_status) for e in found.events.all()]
    assert steps == [
        ("status", "received"),
        ("status", "inspecting"),
        ("graded", ""),
        ("status", "graded"),
    ]
    services.return_close(return_id=found.pk, actor=Actor.of_user(shop["alice"]))
    found.refresh_from_db()
    assert found.status == Status.CLOSED
    assert [e.action for e in found.events.all()] == [
        "return_receive_at_counter",
        "return_line_grade",
        "return_line_grade",
        "return_line_grade",
        "return_close",
    ]
    assert balances_rebuild(repair=False) == []


def test_resellable_needs_the_shelf_it_was_put_on(shop):
    order = delivered_order(shop)
    found = bring_back(shop, order, (shop["tee"], 1, "changed_mind"))

    with pytest.raises(InvalidInput) as refused:
        grade(found, "resellable", shelf_location="  ")

    assert "shelf_location" in refused.value.field_errors
    assert balance_of(shop["tee"], shop["oxford"]).available == 0
    assert not found.lines.get().inspections.exists()


def test_graded_damaged_stays_out_of_availability(shop):
    order = delivered_order(shop)
    found = bring_back(shop, order, (shop["tee"], 1, "defective"))

    grade(found, "damaged", condition="Seam split at the shoulder")

    balance = balance_of(shop["tee"], shop["oxford"])
    assert (balance.on_hand, balance.damaged, balance.available) == (1, 1, 0)
    assert balance.quality_control == 0


@pytest.mark.parametrize("way_out", ["return_to_vendor", "destroy"])
def test_returned_to_vendor_or_destroyed_leaves_stock(shop, way_out):
    order = delivered_order(shop)
    found = bring_back(shop, order, (shop["tee"], 1, "defective"))

    grade(found, way_out, note="Batch recall")

    balance = balance_of(shop["tee"], shop["oxford"])
    assert (balance.on_hand, balance.damaged, balance.quality_control) == (0, 0, 0)
    write_off = StockMovement.objects.get(type=MovementType.WRITE_OFF)
    assert write_off.reason.startswith(f"Return {found.reference}")


def test_partial_return_leaves_the_rest_returnable(shop):
    order = delivered_order(shop, lines=[(shop["tee"], 3), (shop["hoodie"], 1)])

    first = bring_back(shop, order, (shop["tee"], 1, "wrong_size"))
    assert first.lines.get().quantity == 1
    line = order.lines.get(sku=shop["tee"])
    assert selectors.returnable_quantity(line) == 2

    second = bring_back(shop, order, (shop["tee"], 2, "changed_mind"))
    assert second.lines.get().quantity == 2
    assert selectors.returnable_quantity(line) == 0


def test_a_second_return_of_the_same_line_is_refused_with_a_clear_message(shop):
    order = delivered_order(shop, reference="WEB-3002")
    bring_back(shop, order, (shop["tee"], 1, "wrong_size"))

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (shop["tee"], 1, "wrong_size"), by="bob")

    message = refused.value.field_errors["lines"][0]["quantity"][0]
    assert message == (
        "Only 0 of TEE-BLK-M can come back: 1 bought on order WEB-3002, the rest "
        "already returned or announced."
    )
    assert Return.objects.count() == 1
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 1


def test_goods_not_delivered_cannot_be_returned(shop):
    from tests.factories import pickup_order, stock

    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (shop["tee"], 1, "changed_mind"))

    assert "cancel it instead" in str(refused.value.field_errors)


def test_a_sku_not_on_the_order_is_refused(shop):
    order = delivered_order(shop)

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (shop["polo"], 1, "wrong_item_sent"))

    assert "POLO-BLU-M is not on order" in str(refused.value.field_errors)


def test_an_absurd_quantity_at_the_till_is_refused(shop):
    from tests.factories import ChannelFactory

    with pytest.raises(InvalidInput) as refused:
        services.return_receive_at_counter(
            purchase=Purchase(
                channel=ChannelFactory(kind="store_pos"), till_receipt="1"
            ),
            location=shop["oxford"],
            lines=[ReturnLineInput(sku=shop["tee"], quantity=10**12, reason="other")],
            actor=Actor.of_user(shop["alice"]),
        )

    assert refused.value.field_errors["lines"][0]["quantity"] == ["At most 1,000,000."]


def test_other_reason_needs_its_text(shop):
    order = delivered_order(shop)

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (shop["tee"], 1, "other"))

    assert "reason_text" in refused.value.field_errors["lines"][0]


def test_grading_more_units_than_came_back_is_refused(shop):
    order = delivered_order(shop, lines=[(shop["tee"], 2)])
    found = bring_back(shop, order, (shop["tee"], 2, "wrong_size"))
    grade(found, "damaged", quantity=1)

    with pytest.raises(InvalidInput) as refused:
        grade(found, "resellable", quantity=2, shelf_location="Rail 1")

    assert refused.value.field_errors["quantity"] == [
        "Between 1 and 1: the units of TEE-BLK-M not yet graded."
    ]
    found.refresh_from_db()
    assert found.status == Status.INSPECTING
    grade(found, "resellable", quantity=1, shelf_location="Rail 1")
    found.refresh_from_db()
    assert found.status == Status.GRADED
    with pytest.raises(ReturnTransitionRefused):
        grade(found, "damaged")


def test_a_till_purchase_comes_back_by_its_receipt(shop):
    from tests.factories import ChannelFactory

    till = ChannelFactory(code="pos-oxf", kind="store_pos")
    found = services.return_receive_at_counter(
        purchase=Purchase(channel=till, till_receipt="0042-1187"),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["polo"], quantity=1, reason="wrong_size")],
        actor=Actor.of_user(shop["alice"]),
    )
    assert (found.till_receipt, found.channel) == ("0042-1187", till)
    assert balance_of(shop["polo"], shop["oxford"]).quality_control == 1


class TestAnnouncedOnline:
    def announce(self, shop, order, reference="RMA-1", quantity=1, **extra):
        return services.return_announce(
            reference=reference,
            purchase=Purchase(channel=shop["web"], order=order),
            location=shop["oxford"],
            lines=[
                ReturnLineInput(sku=shop["tee"], quantity=quantity, reason="wrong_size")
            ],
            actor=Actor(name="token:web-shop"),
            **extra,
        )

    def test_expected_is_incoming_where_it_will_arrive_never_available(self, shop):
        order = delivered_order(shop)

        found, created = self.announce(shop, order)

        assert created and found.status == Status.EXPECTED
        balance = balance_of(shop["tee"], shop["oxford"])
        assert (balance.incoming, balance.on_hand, balance.available) == (1, 0, 0)

    def test_the_same_announcement_twice_changes_nothing(self, shop):
        order = delivered_order(shop)
        first, _ = self.announce(shop, order)

        again, created = self.announce(shop, order)

        assert again == first and not created
        assert balance_of(shop["tee"], shop["oxford"]).incoming == 1
        assert ReturnEvent.objects.filter(kind="announced").count() == 1

    def test_another_body_under_the_same_reference_is_a_clash(self, shop):
        order = delivered_order(shop, lines=[(shop["tee"], 2)])
        self.announce(shop, order)

        with pytest.raises(ReturnReferenceClash):
            self.announce(shop, order, quantity=2)

    def test_arrival_moves_it_from_incoming_to_quality_control(self, shop):
        order = delivered_order(shop, lines=[(shop["tee"], 2)])
        found, _ = self.announce(shop, order, quantity=2)
        line = found.lines.get()

        # One of the two announced units is in the parcel.
        services.return_receive_expected(
            return_id=found.pk,
            quantities={line.pk: 1},
            actor=Actor.of_user(shop["alice"]),
        )

        found.refresh_from_db()
        assert found.status == Status.RECEIVED
        balance = balance_of(shop["tee"], shop["oxford"])
        assert (balance.incoming, balance.quality_control, balance.available) == (
            0,
            1,
            0,
        )
        assert found.events.last().detail == {"missing": {"TEE-BLK-M": 1}}
        # The unit that never came may still come back later.
        assert selectors.returnable_quantity(line.order_line) == 1

    def test_more_than_announced_is_refused(self, shop):
        order = delivered_order(shop)
        found, _ = self.announce(shop, order)
        line = found.lines.get()

        with pytest.raises(InvalidInput):
            services.return_receive_expected(
                return_id=found.pk,
                quantities={line.pk: 2},
                actor=Actor.of_user(shop["alice"]),
            )
        assert balance_of(shop["tee"], shop["oxford"]).incoming == 1

    def test_announced_units_cannot_be_returned_twice_at_the_counter(self, shop):
        order = delivered_order(shop)
        self.announce(shop, order)

        with pytest.raises(InvalidInput):
            bring_back(shop, order, (shop["tee"], 1, "wrong_size"))

    def test_a_cancelled_announcement_is_no_longer_incoming(self, shop):
        order = delivered_order(shop)
        found, _ = self.announce(shop, order)

        services.return_cancel(
            return_id=found.pk,
            reason="Customer kept it",
            actor=Actor(name="token:web-shop"),
        )

        assert balance_of(shop["tee"], shop["oxford"]).incoming == 0
        assert selectors.returnable_quantity(found.lines.get().order_line) == 1
        with pytest.raises(ReturnTransitionRefused):
            services.return_receive_expected(
                return_id=found.pk,
                quantities={found.lines.get().pk: 1},
                actor=Actor.of_user(shop["alice"]),
            )
        assert balances_rebuild(repair=False) == []


def test_an_unknown_return_is_not_found(db):
    with pytest.raises(NotFound, match=r"^No return 404\.$"):
        services.return_close(return_id=404, actor=Actor(name="user:alice"))


def test_a_purchase_receipt_that_settled_the_returns_incoming_does_not_strand_it(shop):
    from tests.factories import stock

    order = delivered_order(shop, lines=[(shop["tee"], 2)])
    first, _ = services.return_announce(
        reference="RMA-A",
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="wrong_size")],
        actor=Actor(name="token:web-shop"),
    )
    second, _ = services.return_announce(
        reference="RMA-B",
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="defective")],
        actor=Actor(name="token:web-shop"),
    )
    # A delivery from the supplier arrives first and settles what was incoming.
    stock(shop["tee"], shop["oxford"], 1)
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 1

    services.return_receive_expected(
        return_id=first.pk,
        quantities={first.lines.get().pk: 1},
        actor=Actor.of_user(shop["alice"]),
    )
    services.return_cancel(
        return_id=second.pk, reason="Kept it", actor=Actor(name="token:web-shop")
    )

    balance = balance_of(shop["tee"], shop["oxford"])
    assert (balance.incoming, balance.quality_control, balance.on_hand) == (0, 1, 2)
    assert balances_rebuild(repair=False) == []


def test_an_announced_parcel_brought_to_another_store_is_received_there(shop):
    order = delivered_order(shop)
    found, _ = services.return_announce(
        reference="RMA-C",
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["camden"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="wrong_size")],
        actor=Actor(name="token:web-shop"),
    )

    services.return_receive_expected(
        return_id=found.pk,
        quantities={found.lines.get().pk: 1},
        actor=Actor.of_user(shop["alice"]),
        location=shop["oxford"],
    )

    found.refresh_from_db()
    assert found.location == shop["oxford"]
    assert balance_of(shop["tee"], shop["camden"]).incoming == 0
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 1
    assert found.events.last().detail == {"announced_for": "LON-CAM"}
