"""Store-to-store transfers in the simulator: the network's lanes, an opening stock
with dead stock in some stores and empty shelves in others (the same for every
policy compared), and a day under ``transfers=on`` in which the area manager approves
the system's proposals before opening, the sending stores dispatch them at opening
and the receiving stores receive them after the lane's lead time, through the real
services; the report puts lost sales with and without transfers side by side."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Sum

from inventory.models import (
    StockBalance,
    TransferEvent,
    TransferRequest,
    TransferRoute,
)
from reconciliation.models import SalesRate, TransferProposal
from simulation.config import DayConfig, Policy, PolicyError
from simulation.demand import demand_draw
from simulation.engine import TradingDay
from simulation.network import (
    LANE_NEIGHBOURS,
    OVERSTOCK_DAYS,
    WAREHOUSE,
    network_build,
    network_draw,
)
from simulation.render import formatted
from simulation.report import FIGURES
from simulation.services import simulation_day
from simulation.transfers import PROPOSALS_BEFORE_OPENING

# Four stores (London, Manchester, Birmingham, Leeds) and the warehouse, six hours:
# the short lanes (Leeds to Manchester, the warehouse to Birmingham) arrive before
# closing, London to Manchester does not.
SMALL = DayConfig(
    seed=5,
    stores=4,
    skus=30,
    hours=6,
    till_sales_per_store_hour=14,
    online_shoppers_per_hour=30,
    overstock_share=0.15,
    understock_share=0.15,
    opens_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
)
TINY = [
    "--seed", "5", "--stores", "3", "--skus", "20", "--hours", "4",
    "--online-rate", "20", "--overstock", "0.2", "--understock", "0.2",
    "--no-progress",
]  # fmt: skip
COLUMN = 14  # the terminal table's column width (simulation.render)
TINY_CONFIG = DayConfig(
    seed=5,
    stores=3,
    skus=20,
    hours=4,
    online_shoppers_per_hour=20,
    overstock_share=0.2,
    understock_share=0.2,
)


def test_transfers_read_as_people_write_them():
    assert Policy.parse("transfers=on") == Policy(transfers="on")
    assert Policy.parse("transfers=ON:1.5").transfers == "on:1.50"
    assert Policy.parse("transfers=on:£2").transfer_cost_limit == Decimal("2.00")
    assert Policy().transfers == "off" and not Policy().transfers_on
    assert Policy(transfers="on").label.endswith(", transfers on")
    assert Policy(transfers="on:0.75").label.endswith(
        ", transfers up to 0.75 a unit saved"
    )
    # The default's label is what it has always been.
    assert Policy().label == "buffer velocity, POS realtime, hold at cart"


@pytest.mark.parametrize(
    "spec", ["transfers=yes", "transfers=on:", "transfers=on:-1", "transfers=off:2"]
)
def test_a_transfer_policy_it_cannot_follow_is_named_plainly(spec):
    with pytest.raises(PolicyError, match="transfers must be off, on, or on:COST"):
        Policy.parse(spec)
    with pytest.raises(CommandError, match="transfers must be off, on, or on:COST"):
        call_command("simulate", "--policy", spec, stdout=StringIO())


def test_an_imbalance_that_cannot_be_is_refused():
    with pytest.raises(CommandError, match="must not add up to more than 1"):
        call_command(
            "simulate", "--overstock", "0.7", "--understock", "0.5", stdout=StringIO()
        )
    with pytest.raises(CommandError, match="overstock_share must be between 0 and 1"):
        call_command("simulate", "--overstock", "-0.1", stdout=StringIO())


def test_each_store_has_lanes_to_its_nearest_stores_and_the_warehouse():
    spec = network_draw(DayConfig(seed=1, stores=20, skus=10))
    lanes = {(lane.sender, lane.receiver): lane for lane in spec.lanes}
    for store in spec.stores:
        to_stores = [r for s, r in lanes if s == store.code and r != WAREHOUSE]
        assert len(to_stores) >= LANE_NEIGHBOURS
        assert (store.code, WAREHOUSE) in lanes and (WAREHOUSE, store.code) in lanes
    # Every lane runs both ways, alike.
    for (sender, receiver), lane in lanes.items():
        back = lanes[(receiver, sender)]
        assert (back.lead_time_hours, back.cost_per_unit) == (
            lane.lead_time_hours,
            lane.cost_per_unit,
        )
    # Farther is slower and dearer: Leeds (ST04) to Sheffield (ST08), against
    # Glasgow (ST05) to the warehouse in Daventry.
    near, far = lanes[("ST04", "ST08")], lanes[("ST05", WAREHOUSE)]
    assert near.lead_time_hours < far.lead_time_hours
    assert near.cost_per_unit < far.cost_per_unit


def test_the_imbalance_is_drawn_from_the_seed_and_leaves_the_demand_alone():
    """The same SKU-stores overstocked and understocked on every run of a seed; the
    shoppers the same as on balanced shelves; without the knob, the shelves the
    simulator has always opened with."""
    balanced = network_draw(replace(SMALL, overstock_share=0, understock_share=0))
    shaped, again = network_draw(SMALL), network_draw(SMALL)
    assert shaped == again
    assert demand_draw(config=SMALL, spec=shaped) == demand_draw(
        config=SMALL, spec=balanced
    )
    over = under = 0
    for key, units in shaped.opening_stock.items():
        daily = shaped.expected_daily[key]
        if units > balanced.opening_stock[key]:
            over += 1
            assert units >= max(3, daily * OVERSTOCK_DAYS[0])
        elif units < balanced.opening_stock[key] or units == 0:
            under += 1
            assert units < max(daily, 1)
    sku_stores = len(shaped.stores) * len(shaped.skus)
    assert 0.05 * sku_stores < over < 0.3 * sku_stores
    assert 0.05 * sku_stores < under < 0.3 * sku_stores
    # The warehouse is never reshaped.
    assert all(
        shaped.opening_stock[(sku.code, WAREHOUSE)]
        == balanced.opening_stock[(sku.code, WAREHOUSE)]
        for sku in shaped.skus
    )


@pytest.mark.django_db
def test_the_lanes_are_written_as_a_manager_sets_them():
    spec = network_draw(SMALL)
    network_build(spec=spec, policy=Policy())
    written = {
        (r.from_location.code, r.to_location.code): (r.lead_time_hours, r.cost_per_unit)
        for r in TransferRoute.objects.select_related("from_location", "to_location")
    }
    assert written == {
        (lane.sender, lane.receiver): (lane.lead_time_hours, lane.cost_per_unit)
        for lane in spec.lanes
    }


@pytest.mark.django_db(transaction=True)
def test_a_day_with_transfers_sends_what_the_manager_approved_along_the_lanes():
    """Before opening the rates are in place and the manager approves every
    proposal; at opening each sending location dispatches its transfers (on the road:
    the receiver's in-transit bucket), and each arrives after its lane's lead time,
    received there, or is still on the road at night when the lane is longer than
    the day."""
    report = simulation_day(config=SMALL, policy=Policy(transfers="on"))
    f = report.figures
    opens = SMALL.opens_at
    closes = opens + timedelta(hours=SMALL.hours)

    assert report.passed, [c for c in report.checks if not c.passed]
    # The nightly rates were there, as computed in the night.
    assert SalesRate.objects.exists()
    assert {rate.computed_at < opens for rate in SalesRate.objects.all()} == {True}
    proposals = TransferProposal.objects.select_related("transfer")
    assert f["transfers_proposed"] == proposals.count() > 0
    assert f["transfers_approved"] == proposals.count()
    assert {p.status for p in proposals} == {TransferProposal.Status.APPROVED}
    assert {p.decided_at for p in proposals} == {opens - PROPOSALS_BEFORE_OPENING}

    lanes = {
        (lane.from_location_id, lane.to_location_id): lane
        for lane in TransferRoute.objects.all()
    }
    received = on_the_road = 0
    for transfer in TransferRequest.objects.all():
        lane = lanes[(transfer.from_location_id, transfer.to_location_id)]
        assert transfer.dispatched_at == opens
        arrives = opens + timedelta(hours=lane.lead_time_hours)
        if arrives <= closes:
            assert transfer.status == TransferRequest.Status.RECEIVED
            assert transfer.received_at == arrives
            received += transfer.quantity
        else:
            assert transfer.status == TransferRequest.Status.DISPATCHED
            on_the_road += transfer.quantity
    assert received > 0 and on_the_road > 0, "the day has short lanes and long"
    assert f["transfer_units_received"] == received
    assert f["transfer_units_in_transit"] == on_the_road
    assert (
        StockBalance.objects.aggregate(units=Sum("in_transit"))["units"] == on_the_road
    )
    # The stores' staff worked them on the pickup screens' services; the warehouse's
    # through its own system.
    steps = TransferEvent.objects.filter(action="transfer_dispatch")
    assert steps.exists() and {e.source for e in steps} <= {"store", "wms"}
    assert f["transfer_cost"] == sum(
        p.transfer.quantity
        * lanes[(p.from_location_id, p.to_location_id)].cost_per_unit
        for p in proposals
    )
    assert f["lost_sales_all_units"] == f["refused_units"] + f["walk_in_units_missed"]


@pytest.mark.django_db
def test_a_cost_limit_approves_only_the_proposals_that_save_a_unit_cheaply():
    """Under ``transfers=on:1.00`` the manager rejects, with the reason, each
    proposal costing more than 1.00 a unit saved, and approves the rest: only those
    become transfer requests. The morning alone, without the day's trade."""
    limit = Decimal("1.00")
    policy = Policy(transfers=f"on:{limit}")
    spec = network_draw(SMALL)
    day = TradingDay(
        config=SMALL,
        policy=policy,
        network=network_build(spec=spec, policy=policy),
        demand=demand_draw(config=SMALL, spec=spec),
    )
    start = SMALL.opens_at - timedelta(hours=1)
    with time_machine.travel(start, tick=False) as clock:
        day.before_opening(start)
        clock.move_to(SMALL.opens_at - PROPOSALS_BEFORE_OPENING)
        day.transfers_decide()

    proposals = TransferProposal.objects.all()
    approved = [p for p in proposals if p.status == TransferProposal.Status.APPROVED]
    rejected = [p for p in proposals if p.status == TransferProposal.Status.REJECTED]
    assert approved and rejected
    assert len(approved) + len(rejected) == proposals.count()
    assert all(p.cost / p.expected_units_saved <= limit for p in approved)
    assert all(p.cost / p.expected_units_saved > limit for p in rejected)
    assert all(p.note.endswith("the limit is 1.00.") for p in rejected)
    assert sorted(TransferRequest.objects.values_list("pk", flat=True)) == sorted(
        p.transfer_id for p in approved
    )
    # Committed at the source, waiting for the van at opening.
    assert {t.status for t in TransferRequest.objects.all()} == {
        TransferRequest.Status.REQUESTED
    }


# The same day on a scratch database and here: the shoppers' later choices are drawn
# by record ids, so the ids start from one here too.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_with_and_without_transfers_side_by_side_the_same_seed_the_same_figures(
    tmp_path,
):
    """Without transfers and with, each on a scratch database; both report lost
    sales. The day with transfers run again here gives the same figures."""
    page = tmp_path / "report.html"
    out = StringIO()
    call_command(
        "simulate", *TINY, "--policy", "transfers=off", "--policy", "transfers=on",
        "--html", str(page), stdout=out,
    )  # fmt: skip
    table = out.getvalue()

    def row(label):
        """The two cells of a row: right-aligned in columns of the table's width."""
        line = next(line for line in table.splitlines() if line.startswith(label))
        return [line[-2 * COLUMN : -COLUMN].strip(), line[-COLUMN:].strip()]

    assert row("Transfers approved")[0] == "0" != row("Transfers approved")[1]
    lost = row("Lost sales, every cause (refused online + walk-in shelf empty)")
    assert all(cell.replace(",", "").isdigit() for cell in lost)
    for n in (1, 2):
        assert f"#{n} arithmetic: all checks pass" in table
    assert "Opening stock unbalanced: 20% of SKU-stores overstocked" in table
    html = page.read_text()
    assert "Transfers approved" in html and "Lost sales, every cause" in html

    again = simulation_day(config=TINY_CONFIG, policy=Policy(transfers="on"))
    for key, label, kind, _ in FIGURES:
        assert formatted(again.figures[key], kind) == row(label)[1], label
