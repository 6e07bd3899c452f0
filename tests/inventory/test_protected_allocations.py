"""Units protected for one channel at one location (inventory.models.Allocation), as
the one rule (inventory.availability.promisable) reads them: other channels may not
take them, the owner may take them and the shared pool beyond, the owner's holds take
from its protection first, and when stock falls below the protections the shared
pool goes first. Every story against the real database; the race with real
threads."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.allocations import allocation_rows
from inventory.errors import InsufficientStock
from inventory.models import Allocation, NetworkLocation, Reservation, VelocityBuffer
from inventory.selectors import availability_rows
from inventory.services import reservation_place_by_codes, reservation_transition
from inventory.services.commitments import CommitmentLine, commitments_place
from inventory.terms import channel_terms
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)
from tests.threads import all_at_once

CHECKOUT = Actor(name="token:checkout")


def atp(channel, sku, location) -> int:
    (row,) = availability_rows(pairs=[(sku, location)], channel=channel)
    return row.available_to_promise


def protect(channel, sku, location, units) -> Allocation:
    return Allocation.objects.create(
        channel=channel, sku=sku, location=location, units=units
    )


@pytest.fixture
def market(db):
    """Five tees at the Leeds warehouse; the web shop, the app and a marketplace
    sell them, and the marketplace has four of them protected."""
    place = LocationFactory(code="LDS-WH", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    web = ChannelFactory(code="web", kind="web", safety_buffer=0)
    app = ChannelFactory(code="app", kind="app", safety_buffer=0)
    amazon = ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0)
    StockEvents.post("receipt", sku=tee, location=place, quantity=5)
    protect(amazon, tee, place, 4)
    return {"place": place, "tee": tee, "web": web, "app": app, "amazon": amazon}


def hold(m, channel, units):
    return Holds.place(channel=m[channel], lines=[(m["tee"], m["place"], units)])


def test_other_channels_see_only_the_shared_pool_and_the_owner_sees_it_all(market):
    m = market
    assert atp(m["web"], m["tee"], m["place"]) == 1
    assert atp(m["app"], m["tee"], m["place"]) == 1
    assert atp(m["amazon"], m["tee"], m["place"]) == 5
    # With no channel named, nothing is protected from anyone: the location's figure.
    assert atp(None, m["tee"], m["place"]) == 5


def test_the_web_cannot_take_a_protected_unit_the_marketplace_can_take_all(market):
    m = market
    with pytest.raises(InsufficientStock) as refused:
        hold(m, "web", 2)
    (shortage,) = refused.value.extra["shortages"]
    assert shortage["available_to_promise"] == 1
    hold(m, "web", 1)
    assert atp(m["app"], m["tee"], m["place"]) == 0
    hold(m, "amazon", 4)
    assert balance_of(m["tee"], m["place"]).available == 0


def test_the_owners_hold_takes_from_its_protection_first(market):
    m = market
    hold(m, "amazon", 3)
    # Three of its four protected units are held: one stays protected, and the
    # shared unit is still the others' to sell.
    assert atp(m["web"], m["tee"], m["place"]) == 1
    assert atp(m["amazon"], m["tee"], m["place"]) == 2
    hold(m, "amazon", 2)
    # Past its protection the owner takes from the shared pool like anyone.
    assert atp(m["web"], m["tee"], m["place"]) == 0


def test_a_released_or_lapsed_owner_hold_protects_its_units_again(market):
    m = market
    taken = hold(m, "amazon", 4)
    assert atp(m["web"], m["tee"], m["place"]) == 1
    reservation_transition(
        reservation_id=taken.pk, to_status="released", actor=CHECKOUT
    )
    assert atp(m["web"], m["tee"], m["place"]) == 1
    assert atp(m["amazon"], m["tee"], m["place"]) == 5
    lapsing = hold(m, "amazon", 4)
    Reservation.objects.filter(pk=lapsing.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # Lapsed, not yet swept: it holds nothing, and its protection stands again.
    terms = channel_terms(
        channel_id=m["web"].pk, keys={(m["tee"].pk, m["place"].pk)}, now=timezone.now()
    )
    assert terms[(m["tee"].pk, m["place"].pk)].others == 4
    # Whole units, as every figure is (a webhook's body is encoded from them).
    assert {type(value) for value in terms[(m["tee"].pk, m["place"].pk)][1:3]} == {int}
    assert atp(m["web"], m["tee"], m["place"]) == 1


def test_when_stock_falls_below_the_protection_the_shared_pool_goes_first(market):
    m = market
    StockEvents.post("sale", sku=m["tee"], location=m["place"], quantity=2)
    # Three left, four protected: the shortfall is the protection's, after the pool.
    assert atp(m["web"], m["tee"], m["place"]) == 0
    assert atp(m["amazon"], m["tee"], m["place"]) == 3
    hold(m, "amazon", 3)


def test_an_order_keeps_off_another_channels_protection(market):
    m = market
    line = CommitmentLine(
        reference="#order/WEB-1/commit", sku=m["tee"], location=m["place"], quantity=2
    )
    with pytest.raises(InsufficientStock):
        commitments_place(channel=m["web"], lines=[line], actor=CHECKOUT)
    commitments_place(
        channel=m["amazon"],
        lines=[
            CommitmentLine(
                reference="#order/AMZ-1/commit",
                sku=m["tee"],
                location=m["place"],
                quantity=5,
            )
        ],
        actor=CHECKOUT,
    )
    assert balance_of(m["tee"], m["place"]).committed == 5


def test_two_protections_each_owner_reaches_its_own_from_what_is_there(market):
    m = market
    protect(m["app"], m["tee"], m["place"], 2)
    StockEvents.post("sale", sku=m["tee"], location=m["place"], quantity=2)
    # Three there, six protected (four and two): the web sees nothing, each owner
    # its own protection as far as the shelf goes; the first to take it wins.
    assert atp(m["web"], m["tee"], m["place"]) == 0
    assert atp(m["amazon"], m["tee"], m["place"]) == 3
    assert atp(m["app"], m["tee"], m["place"]) == 2


def test_a_closed_channels_protection_protects_nothing(market):
    m = market
    m["amazon"].is_active = False
    m["amazon"].save()
    assert atp(m["web"], m["tee"], m["place"]) == 5


def test_the_velocity_buffer_keeps_units_back_unless_the_sku_has_its_own(market):
    m = market
    Allocation.objects.all().delete()
    VelocityBuffer.objects.create(
        channel=m["web"],
        sku=m["tee"],
        location=m["place"],
        units=2,
        rate=3.5,
        computed_at=timezone.now(),
    )
    assert atp(m["web"], m["tee"], m["place"]) == 5  # the policy is still fixed
    m["web"].buffer_policy = "velocity"
    m["web"].save()
    assert atp(m["web"], m["tee"], m["place"]) == 3
    with pytest.raises(InsufficientStock):
        hold(m, "web", 4)
    m["tee"].safety_buffer = 0
    m["tee"].save()
    assert atp(m["web"], m["tee"], m["place"]) == 5


@pytest.mark.django_db(transaction=True)
def test_two_channels_race_for_the_last_unprotected_unit_one_wins(db):
    """Five tees, four protected for the marketplace: the web shop's and the app's
    checkouts press the button at the same moment for the one shared unit, through
    the API's fast path, ten carts each. One cart wins; the marketplace still holds
    its four."""
    place = LocationFactory(code="LDS-WH", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    ChannelFactory(code="web", kind="web", safety_buffer=0)
    ChannelFactory(code="app", kind="app", safety_buffer=0)
    amazon = ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0)
    StockEvents.post("receipt", sku=tee, location=place, quantity=5)
    protect(amazon, tee, place, 4)
    tokens = {
        code: ApiTokenFactory.issue(name=f"{code}-checkout", channel_code=code)[1]
        for code in ("web", "app", "amazon")
    }

    def buy(channel, reference, units):
        return (
            client_for(tokens[channel])
            .post(
                "/api/v1/reservations/",
                {
                    "reference": reference,
                    "lines": [
                        {"sku": "TEE-BLK-M", "location": "LDS-WH", "quantity": units}
                    ],
                },
                format="json",
            )
            .status_code
        )

    statuses = all_at_once(20, lambda n: buy("web" if n % 2 else "app", f"CART-{n}", 1))
    assert Counter(statuses) == {201: 1, 409: 19}
    assert buy("amazon", "AMZ-1", 4) == 201
    assert balance_of(tee, place).available == 0


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_and_the_general_path_keep_the_same_protection(db):
    place = LocationFactory(code="LDS-WH", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    web = ChannelFactory(code="web", kind="web", safety_buffer=0)
    amazon = ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0)
    StockEvents.post("receipt", sku=tee, location=place, quantity=5)
    protect(amazon, tee, place, 4)
    # Two for the web: the fast path steps aside (nothing written), and the general
    # path refuses with what the web could have had.
    assert (
        reservation_place_by_codes(
            channel_code="web",
            reference="TWO",
            lines=[("TEE-BLK-M", "LDS-WH", 2)],
            actor=CHECKOUT,
        )
        is None
    )
    with pytest.raises(InsufficientStock):
        Holds.place(channel=web, lines=[(tee, place, 2)], reference="TWO")
    placed = reservation_place_by_codes(
        channel_code="amazon",
        reference="AMZ",
        lines=[("TEE-BLK-M", "LDS-WH", 3)],
        actor=CHECKOUT,
    )
    assert placed is not None
    # The marketplace's hold took from its protection: the web's shared unit is
    # still there, on either path.
    assert atp(web, tee, place) == 1
    assert reservation_place_by_codes(
        channel_code="web",
        reference="ONE",
        lines=[("TEE-BLK-M", "LDS-WH", 1)],
        actor=CHECKOUT,
    )
    assert balance_of(tee, place).available == 1
    assert atp(amazon, tee, place) == 1


def test_a_protection_outside_the_owners_network_keeps_nothing_back(market):
    """The marketplace stops selling from Leeds: its four protected units there are
    the web shop's to sell again."""
    m = market
    elsewhere = LocationFactory(code="DC-MID", kind="distribution_centre")
    NetworkLocation.objects.create(channel=m["amazon"], location=elsewhere)
    assert atp(m["web"], m["tee"], m["place"]) == 5


@pytest.mark.django_db(transaction=True)
def test_two_holds_of_the_owner_at_once_never_take_another_channels_protection(db):
    """Six tees: four protected for the marketplace, two for the app. The
    marketplace's checkouts of four and of two press the button at the same moment:
    only one of them fits in its own protection, and the app keeps its two."""
    place = LocationFactory(code="LDS-WH", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    app = ChannelFactory(code="app", kind="app", safety_buffer=0)
    amazon = ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0)
    StockEvents.post("receipt", sku=tee, location=place, quantity=6)
    protect(amazon, tee, place, 4)
    protect(app, tee, place, 2)
    token = ApiTokenFactory.issue(name="amazon-checkout", channel_code="amazon")[1]

    def buy(n):
        return (
            client_for(token)
            .post(
                "/api/v1/reservations/",
                {
                    "reference": f"AMZ-{n}",
                    "lines": [
                        {
                            "sku": "TEE-BLK-M",
                            "location": "LDS-WH",
                            "quantity": (4, 2)[n],
                        }
                    ],
                },
                format="json",
            )
            .status_code
        )

    assert sorted(all_at_once(2, buy)) == [201, 409]
    assert atp(app, tee, place) == 2
    Holds.place(channel=app, lines=[(tee, place, 2)])


def test_a_channel_promises_nothing_where_it_does_not_sell(market):
    """The web shop sells from the distribution centre only: at the Leeds warehouse
    it may promise nothing, whatever is on the shelf; the app still may."""
    m = market
    centre = LocationFactory(code="DC-MID", kind="distribution_centre")
    NetworkLocation.objects.create(channel=m["web"], location=centre)
    assert atp(m["web"], m["tee"], m["place"]) == 0
    assert atp(m["app"], m["tee"], m["place"]) == 1


def test_a_lapsed_hold_leaves_no_protection_short_on_the_dashboard(db):
    """A web checkout held three of five tees, then the marketplace was given four:
    one short. The checkout lapses (the sweep has not run): nothing is short."""
    place = LocationFactory(code="LDS-WH", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    web = ChannelFactory(code="web", kind="web", safety_buffer=0)
    amazon = ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0)
    StockEvents.post("receipt", sku=tee, location=place, quantity=5)
    checkout = Holds.place(channel=web, lines=[(tee, place, 3)])
    protected = protect(amazon, tee, place, 4)
    assert allocation_rows(allocations=[protected])[0].shortfall == 2
    Reservation.objects.filter(pk=checkout.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert allocation_rows(allocations=[protected])[0].shortfall == 0
