"""Transfer proposals as the shop floor meets them: Oxford Street drowning in black
tees that Camden runs out of, a lane between them, and a manager who approves, edits
or rejects what the night proposed. The rates of sale are last night's
(``SalesRate``), written here as the nightly refresh would have."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from config.access import Actor
from inventory.errors import InsufficientStock
from inventory.models import (
    MovementType,
    Reservation,
    StockBalance,
    TransferRequest,
    TransferRoute,
)
from inventory.services.transfers import (
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from reconciliation import proposal_selectors, transfer_dashboard
from reconciliation.dashboard import Period
from reconciliation.models import SalesRate, TransferProposal
from reconciliation.services import (
    transfer_proposal_approve,
    transfer_proposal_reject,
    transfer_proposals_generate,
)
from reconciliation.services.proposals import ProposalTransitionRefused
from reconciliation.tasks import PROPOSE_TRANSFERS, propose_transfers
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StaffFactory,
    StockEvents,
    balance_of,
    stock,
)

NIGHT = Actor.system("propose_transfers")
Status = TransferProposal.Status


def sold_a_day(sku, location, per_day, days=28):
    """Last night's rate of sale: ``per_day`` units a day over ``days``."""
    SalesRate.objects.update_or_create(
        sku=sku,
        location=location,
        defaults={
            "units": round(per_day * days),
            "days": days,
            "computed_at": timezone.now(),
        },
    )


def lane(sender, receiver, hours=24, cost="0.75"):
    return TransferRoute.objects.create(
        from_location=sender,
        to_location=receiver,
        lead_time_hours=hours,
        cost_per_unit=Decimal(cost),
    )


@pytest.fixture
def floor(shop):
    """Oxford Street keeps 4 of each SKU for walk-ins and holds 100 black tees
    selling 1 a day; Camden holds 2 selling 2 a day; the tills are the channel."""
    shop["oxford"].walk_in_buffer = 4
    shop["oxford"].save(update_fields=["walk_in_buffer"])
    shop["tills"] = ChannelFactory(code="tills", name="Tills", kind="store_pos")
    stock(shop["tee"], shop["oxford"], 100)
    stock(shop["tee"], shop["camden"], 2)
    sold_a_day(shop["tee"], shop["oxford"], 1)
    sold_a_day(shop["tee"], shop["camden"], 2)
    return shop


def only_proposal():
    (proposal,) = TransferProposal.objects.filter(status=Status.PROPOSED)
    return proposal


# ---------------------------------------------------------------- the rule


def test_a_store_drowning_in_a_sku_beside_one_running_out_is_proposed_a_transfer(
    floor,
):
    """Oxford's 100 tees last 100 days; it keeps 56 days' worth (56) and 4 for walk-ins,
    so 40 are spare. Camden's 2 last a day: a week needs 14, so it is 12 short."""
    lane(floor["oxford"], floor["camden"], cost="0.75")

    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    assert (proposal.sku, proposal.from_location, proposal.to_location) == (
        floor["tee"],
        floor["oxford"],
        floor["camden"],
    )
    assert proposal.quantity == 12
    assert proposal.expected_units_saved == 12
    assert proposal.cost_per_unit == Decimal("0.75")
    assert proposal.cost == Decimal("9.00")
    assert (proposal.from_available, proposal.from_spare) == (100, 40)
    assert (proposal.from_rate, proposal.from_days_cover) == (1, 100)
    assert (proposal.to_available, proposal.to_short, proposal.to_days_cover) == (
        2,
        12,
        1,
    )
    assert proposal.distance_km == Decimal("2.6")
    assert [e.to_status for e in proposal.events.all()] == ["proposed"]


def test_the_walk_in_units_are_never_proposed_away(floor):
    """Oxford holds 62: 56 for its own sales, 4 for walk-ins, only 2 to spare."""
    StockEvents.post(
        MovementType.ADJUSTMENT,
        sku=floor["tee"],
        location=floor["oxford"],
        quantity=-38,
    )
    lane(floor["oxford"], floor["camden"])

    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    assert (proposal.quantity, proposal.from_spare, proposal.to_short) == (2, 2, 12)


def test_stock_that_sold_nothing_is_spare_beyond_the_walk_in_units(floor):
    """Hoodies have not sold at Oxford in four weeks: all but its 4 walk-in units may
    go to Camden, where they sell."""
    stock(floor["hoodie"], floor["oxford"], 9)
    sold_a_day(floor["hoodie"], floor["camden"], 1)
    lane(floor["oxford"], floor["camden"])

    made = transfer_proposals_generate(actor=NIGHT)

    hoodies = [p for p in made if p.sku_id == floor["hoodie"].pk]
    assert [(p.quantity, p.from_spare, p.from_days_cover) for p in hoodies] == [
        (5, 5, None)
    ]


def test_without_a_lane_from_the_surplus_nothing_is_proposed(floor):
    """The retailer set a lane from Camden to Oxford only: Oxford never sends."""
    lane(floor["camden"], floor["oxford"])

    assert transfer_proposals_generate(actor=NIGHT) == []
    assert not TransferProposal.objects.exists()


def test_the_nearest_shortage_is_served_first(floor):
    """Oxford has 5 to spare; Camden and Manchester both run out. Camden's lane is
    quicker; with the same lead time, Camden is the nearer."""
    StockEvents.post(
        MovementType.ADJUSTMENT,
        sku=floor["tee"],
        location=floor["oxford"],
        quantity=-35,
    )
    manchester = LocationFactory(
        code="MAN-MKT",
        name="Manchester",
        latitude=Decimal("53.4808"),
        longitude=Decimal("-2.2426"),
    )
    sold_a_day(floor["tee"], manchester, 3)
    lane(floor["oxford"], manchester, hours=24)
    lane(floor["oxford"], floor["camden"], hours=24)

    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    assert (proposal.to_location, proposal.quantity) == (floor["camden"], 5)


def test_a_big_spare_serves_the_next_shortage_once_the_nearest_is_covered(floor):
    manchester = LocationFactory(code="MAN-MKT", name="Manchester")
    sold_a_day(floor["tee"], manchester, 3)
    lane(floor["oxford"], floor["camden"], hours=24)
    lane(floor["oxford"], manchester, hours=48, cost="2.00")

    made = transfer_proposals_generate(actor=NIGHT)

    assert sorted((p.to_location.code, p.quantity, p.cost) for p in made) == [
        ("LON-CAM", 12, Decimal("9.00")),
        ("MAN-MKT", 21, Decimal("42.00")),
    ]


def test_units_already_on_their_way_are_not_proposed_again(floor):
    """Yesterday's approval is requested, not yet sent: Camden is not short again."""
    lane(floor["oxford"], floor["camden"])
    (first,) = transfer_proposals_generate(actor=NIGHT)
    transfer_proposal_approve(proposal_id=first.pk, actor=NIGHT)

    assert transfer_proposals_generate(actor=NIGHT) == []


def test_a_run_reads_the_same_few_times_however_many_skus(floor):
    """Set-based: the rates, the balances with their availability, the transfers on
    their way, once each, never once per SKU."""
    lane(floor["oxford"], floor["camden"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            transfer_proposals_generate(actor=NIGHT)
        return len(seen)

    transfer_proposals_generate(actor=NIGHT)  # so each run measured supersedes one
    one = queries()
    for n in range(6):
        sku = SkuFactory(code=f"SOCK-{n}")
        stock(sku, floor["oxford"], 100)
        stock(sku, floor["camden"], 1)
        sold_a_day(sku, floor["oxford"], 1)
        sold_a_day(sku, floor["camden"], 2)
    seven = queries()

    assert TransferProposal.objects.filter(status=Status.PROPOSED).count() == 7
    assert seven == one


# ------------------------------------------------------------- decisions


def test_approving_asks_the_source_for_the_units_and_commits_them_there(floor):
    lane(floor["oxford"], floor["camden"])
    (proposal,) = transfer_proposals_generate(actor=NIGHT)
    maria = Actor.of_user(floor["maria"])

    approved = transfer_proposal_approve(proposal_id=proposal.pk, actor=maria)

    transfer = approved.transfer
    assert approved.status == Status.APPROVED
    assert approved.approved_quantity == 12
    assert (approved.decided_by, approved.expected_units_saved) == ("user:maria", 12)
    assert (transfer.status, transfer.quantity, transfer.channel) == (
        TransferRequest.Status.REQUESTED,
        12,
        floor["tills"],
    )
    assert (transfer.from_location, transfer.to_location) == (
        floor["oxford"],
        floor["camden"],
    )
    assert balance_of(floor["tee"], floor["oxford"]).committed == 12
    assert [e.to_status for e in approved.events.all()] == ["proposed", "approved"]
    # The same approval again changes nothing.
    again = transfer_proposal_approve(proposal_id=proposal.pk, actor=maria)
    assert again.transfer_id == transfer.pk
    assert TransferRequest.objects.count() == 1


def test_a_manager_may_approve_another_quantity(floor):
    lane(floor["oxford"], floor["camden"])
    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    approved = transfer_proposal_approve(
        proposal_id=proposal.pk,
        actor=Actor.of_user(floor["maria"]),
        quantity=5,
        note="Camden's back room is full",
    )

    assert (approved.quantity, approved.approved_quantity) == (12, 5)
    assert approved.transfer.quantity == 5
    assert approved.cost == Decimal("3.75")
    assert approved.expected_units_saved == 5
    assert approved.note == "Camden's back room is full"


def test_rejecting_moves_nothing(floor):
    lane(floor["oxford"], floor["camden"])
    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    rejected = transfer_proposal_reject(
        proposal_id=proposal.pk,
        actor=Actor.of_user(floor["maria"]),
        reason="A delivery lands at Camden tomorrow",
    )

    assert rejected.status == Status.REJECTED
    assert rejected.note == "A delivery lands at Camden tomorrow"
    assert not TransferRequest.objects.exists()
    assert balance_of(floor["tee"], floor["oxford"]).committed == 0
    with pytest.raises(ProposalTransitionRefused):
        transfer_proposal_approve(proposal_id=proposal.pk, actor=NIGHT)


def test_approving_when_the_source_sold_them_meanwhile_is_refused_and_writes_nothing(
    floor,
):
    """Between the night and the manager's morning Oxford sold 90 tees: it holds 10
    and keeps 4 for walk-ins, so it cannot send 12."""
    lane(floor["oxford"], floor["camden"])
    (proposal,) = transfer_proposals_generate(actor=NIGHT)
    StockEvents.post(
        MovementType.SALE,
        sku=floor["tee"],
        location=floor["oxford"],
        quantity=90,
        channel=floor["tills"],
    )

    with pytest.raises(InsufficientStock) as refused:
        transfer_proposal_approve(
            proposal_id=proposal.pk, actor=Actor.of_user(floor["maria"])
        )

    assert refused.value.code == "insufficient_stock"
    proposal.refresh_from_db()
    assert (proposal.status, proposal.transfer_id, proposal.decided_by) == (
        Status.PROPOSED,
        None,
        "",
    )
    assert proposal.events.count() == 1
    assert not TransferRequest.objects.exists()
    assert balance_of(floor["tee"], floor["oxford"]).committed == 0
    # Six can still go (10 less the 4 walk-in units).
    approved = transfer_proposal_approve(
        proposal_id=proposal.pk, actor=NIGHT, quantity=6
    )
    assert approved.transfer.quantity == 6


def test_making_proposals_again_supersedes_those_still_undecided(floor):
    lane(floor["oxford"], floor["camden"])
    (decided,) = transfer_proposals_generate(actor=NIGHT)
    transfer_proposal_reject(proposal_id=decided.pk, actor=NIGHT)
    (undecided,) = transfer_proposals_generate(actor=NIGHT)

    (latest,) = transfer_proposals_generate(actor=Actor.of_user(floor["maria"]))

    undecided.refresh_from_db()
    decided.refresh_from_db()
    assert undecided.status == Status.SUPERSEDED
    assert [e.to_status for e in undecided.events.all()] == ["proposed", "superseded"]
    assert decided.status == Status.REJECTED  # a decision stays
    assert latest.status == Status.PROPOSED
    assert latest.proposed_by == "user:maria"
    with pytest.raises(ProposalTransitionRefused) as refused:
        transfer_proposal_approve(proposal_id=undecided.pk, actor=NIGHT)
    assert refused.value.extra["status"] == "superseded"


def test_a_lane_and_its_cost_are_set_in_the_admin(floor, client):
    """The retailer decides which stores send to which, and what a unit costs."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("owner", password="pw-123456!")
    client.force_login(admin)
    saved = client.post(
        "/admin/inventory/transferroute/add/",
        {
            "from_location": floor["oxford"].pk,
            "to_location": floor["camden"].pk,
            "lead_time_hours": 24,
            "cost_per_unit": "1.25",
        },
    )
    assert saved.status_code == 302
    assert "1.25" in client.get("/admin/inventory/transferroute/").content.decode()

    (proposal,) = transfer_proposals_generate(actor=NIGHT)
    assert (proposal.cost_per_unit, proposal.cost) == (
        Decimal("1.25"),
        Decimal("15.00"),
    )


# ------------------------------------------------------------------ the night


def test_the_nightly_job_is_on_beat_and_proposes(floor):
    job = PeriodicTask.objects.get(task=PROPOSE_TRANSFERS)
    assert job.enabled and (job.crontab.hour, job.crontab.minute) == ("3", "0")
    lane(floor["oxford"], floor["camden"])

    assert propose_transfers() == 1
    assert only_proposal().proposed_by == "system:propose_transfers"


# -------------------------------------------------------------------- the API


@pytest.fixture
def proposed(floor):
    lane(floor["oxford"], floor["camden"])
    sold_a_day(floor["hoodie"], floor["camden"], 1)
    stock(floor["hoodie"], floor["oxford"], 30)
    made = transfer_proposals_generate(actor=NIGHT)
    assert len(made) == 2
    return floor


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_api_lists_proposals_by_codes_with_their_filters(proposed, api):
    answer = api.get("/api/v1/transfer-proposals/")
    assert answer.status_code == 200
    assert answer.data["count"] == 2
    tee = next(row for row in answer.data["results"] if row["sku"] == "TEE-BLK-M")
    assert (tee["from_location"], tee["to_location"], tee["quantity"]) == (
        "LON-OXF",
        "LON-CAM",
        12,
    )
    assert (tee["transfer"], tee["transfer_status"], tee["cost"]) == (
        None,
        None,
        "9.00",
    )

    filtered = api.get(
        "/api/v1/transfer-proposals/",
        {"status": "proposed", "sku": "HOOD-GRE-L", "from_location": "LON-OXF"},
    )
    assert [row["sku"] for row in filtered.data["results"]] == ["HOOD-GRE-L"]
    assert (
        api.get("/api/v1/transfer-proposals/", {"to_location": "LON-OXF"}).data["count"]
        == 0
    )
    bad = api.get("/api/v1/transfer-proposals/", {"status": "maybe", "since": "soon"})
    assert bad.status_code == 400
    assert set(bad.data) >= {"status", "since"}


def test_a_manager_approves_over_the_api_and_reads_the_transfer(proposed):
    maria = signed_in(proposed["maria"])
    tee = TransferProposal.objects.get(sku=proposed["tee"])

    answer = maria.post(
        f"/api/v1/transfer-proposals/{tee.pk}/approve/", {"quantity": 10}
    )

    assert answer.status_code == 200, answer.data
    assert (answer.data["status"], answer.data["approved_quantity"]) == (
        "approved",
        10,
    )
    assert answer.data["transfer_status"] == "requested"
    assert answer.data["transfer"] == TransferRequest.objects.get().pk
    again = maria.post(f"/api/v1/transfer-proposals/{tee.pk}/approve/", {"quantity": 9})
    assert again.status_code == 409
    assert again.data["code"] == "transfer_proposal_transition_refused"


def test_the_api_refuses_bad_quantities_and_writes_nothing(proposed, api):
    tee = TransferProposal.objects.get(sku=proposed["tee"])
    url = f"/api/v1/transfer-proposals/{tee.pk}/approve/"

    for body in ({"quantity": 0}, {"quantity": "ten"}, {"quantity": 12, "qty": 1}):
        assert api.post(url, body).status_code == 400
    too_many = api.post(url, {"quantity": 500})
    assert too_many.status_code == 409
    assert too_many.data["code"] == "insufficient_stock"
    assert too_many.data["shortages"][0]["location"] == "LON-OXF"
    assert not TransferRequest.objects.exists()
    assert api.post("/api/v1/transfer-proposals/999999/reject/", {}).status_code == 404


def test_a_retailers_token_may_reject(proposed, api):
    hoodie = TransferProposal.objects.get(sku=proposed["hoodie"])

    answer = api.post(
        f"/api/v1/transfer-proposals/{hoodie.pk}/reject/", {"reason": "Season ends"}
    )

    assert answer.status_code == 200
    assert (answer.data["status"], answer.data["note"]) == ("rejected", "Season ends")
    assert answer.data["decided_by"] == "token:erp"


def test_store_staff_read_their_stores_proposals_and_decide_none(proposed):
    carol = signed_in(proposed["carol"])  # Camden, where both go
    tee = TransferProposal.objects.get(sku=proposed["tee"])

    assert carol.get("/api/v1/transfer-proposals/").data["count"] == 2
    refused = carol.post(f"/api/v1/transfer-proposals/{tee.pk}/approve/", {})
    assert refused.status_code == 403
    assert refused.data["code"] == "managers_decide"
    assert not TransferRequest.objects.exists()

    elsewhere = LocationFactory(code="LEEDS", name="Leeds")
    dan = signed_in(StaffFactory.at(elsewhere, username="dan"))
    assert dan.get("/api/v1/transfer-proposals/").data["count"] == 0
    assert dan.get(f"/api/v1/transfer-proposals/{tee.pk}/").status_code == 404


def test_a_channels_token_may_not_read_the_proposals(proposed, web_channel):
    _, raw = ApiTokenFactory.issue(name="web shop", channel_code="web")

    answer = client_for(raw).get("/api/v1/transfer-proposals/")

    assert answer.status_code == 403
    assert answer.data["code"] == "scope_missing"


# ---------------------------------------------------------------- the screen


def test_the_screen_is_for_managers_only(proposed, client):
    client.force_login(proposed["alice"])
    assert client.get("/store/transfers/").status_code == 404
    assert client.post("/store/transfers/propose/").status_code == 404


def test_the_manager_sees_the_proposals_and_a_refusal_in_words(proposed, client):
    client.force_login(proposed["maria"])
    tee = TransferProposal.objects.get(sku=proposed["tee"])

    page = client.get("/store/transfers/")
    assert page.status_code == 200
    assert b"Oxford Street" in page.content and b"TEE-BLK-M" in page.content

    refused = client.post(f"/store/transfers/{tee.pk}/approve/", {"quantity": "0"})
    assert refused.status_code == 400
    assert "Approve between 1 and 1,000,000 units." in refused.content.decode()
    short = client.post(f"/store/transfers/{tee.pk}/approve/", {"quantity": "97"})
    assert short.status_code == 409
    assert (
        "Oxford Street cannot spare 97 units of TEE-BLK-M now: beyond the 4 it keeps "
        "for walk-ins, it can spare 96." in short.content.decode()
    )
    assert not TransferRequest.objects.exists()

    done = client.post(f"/store/transfers/{tee.pk}/approve/", {"quantity": "12"})
    assert done.status_code == 302
    assert TransferRequest.objects.get().quantity == 12


# --------------------------------------------------------------- the dashboard


def test_the_dashboard_counts_the_transfers_and_what_sold_after_arrival(floor, client):
    """Approved 12 to Camden, sent and received; Camden sold 14 since: 12 of them
    came by the transfer (the other 2 it had)."""
    lane(floor["oxford"], floor["camden"], cost="0.50")
    (proposal,) = transfer_proposals_generate(actor=NIGHT)
    approved = transfer_proposal_approve(proposal_id=proposal.pk, actor=NIGHT)
    transfer_dispatch(transfer_id=approved.transfer_id, actor=NIGHT)
    transfer_receive(transfer_id=approved.transfer_id, actor=NIGHT)
    StockEvents.post(
        MovementType.SALE,
        sku=floor["tee"],
        location=floor["camden"],
        quantity=14,
        channel=floor["tills"],
    )
    today = timezone.localdate()
    table, totals = transfer_dashboard.transfers(
        period=Period(since=today, until=today),
        locations=[floor["camden"]],
    )

    assert totals == {
        "proposed": 1,
        "replaced": 0,
        "waiting": 0,
        "approved": 1,
        "approved_units": 12,
        "cost": Decimal("6.00"),
        "rejected": 0,
        "received": 1,
        "received_units": 12,
        "saved": 12,
        "sold": 12,
    }
    assert [(row["from"], row["to"]) for row in table.rows] == [("LON-OXF", "LON-CAM")]

    client.force_login(floor["maria"])
    page = client.get("/store/dashboard/").content.decode()
    assert "Transfers proposed: 1 approved, 12 units saved" in page
    csv = client.get("/store/dashboard/", {"export": "transfers"}).content.decode()
    assert csv.splitlines()[1].startswith("LON-OXF,Oxford Street,LON-CAM,Camden,1,")


def test_two_transfers_of_a_sku_share_its_sales_in_arrival_order(floor):
    """Two transfers of 10 tees reached Camden, on days 1 and 2 of the period; it
    sold 15 after the second arrived, and 6 more after the period ended: 15 came by
    the transfers (10 by the first, 5 by the second), not 20, and not 21."""
    lane(floor["oxford"], floor["camden"])
    today = timezone.localdate()
    day = {n: today - timedelta(days=5 - n) for n in range(6)}
    transfers = []
    for arrival in (day[1], day[2]):
        (proposal,) = transfer_proposals_generate(actor=NIGHT)
        approved = transfer_proposal_approve(
            proposal_id=proposal.pk, actor=NIGHT, quantity=10
        )
        transfer_dispatch(transfer_id=approved.transfer_id, actor=NIGHT)
        transfer_receive(transfer_id=approved.transfer_id, actor=NIGHT)
        transfers.append((approved, arrival))
    for approved, arrival in transfers:
        TransferProposal.objects.filter(pk=approved.pk).update(
            proposed_at=at(day[0], 9)
        )
        TransferRequest.objects.filter(pk=approved.transfer_id).update(
            received_at=at(arrival, 10)
        )
    camden_sold(floor, 15, at(day[2], 15))
    camden_sold(floor, 6, at(day[4], 12))  # after the period

    _, totals = transfer_dashboard.transfers(
        period=Period(since=day[0], until=day[3]), locations=[floor["camden"]]
    )

    assert (totals["received"], totals["received_units"], totals["sold"]) == (2, 20, 15)


def test_what_sold_before_the_second_arrived_is_not_credited_to_it(floor):
    """14 sold between the two arrivals: 10 of them came by the first transfer, 4
    from Camden's own stock. 3 sold after the second arrived: 13 in all."""
    lane(floor["oxford"], floor["camden"])
    today = timezone.localdate()
    first, second = today - timedelta(days=3), today - timedelta(days=2)
    for arrival in (first, second):
        (proposal,) = transfer_proposals_generate(actor=NIGHT)
        approved = transfer_proposal_approve(
            proposal_id=proposal.pk, actor=NIGHT, quantity=10
        )
        transfer_dispatch(transfer_id=approved.transfer_id, actor=NIGHT)
        transfer_receive(transfer_id=approved.transfer_id, actor=NIGHT)
        TransferRequest.objects.filter(pk=approved.transfer_id).update(
            received_at=at(arrival, 10)
        )
    camden_sold(floor, 14, at(first, 15))
    camden_sold(floor, 3, at(second, 15))

    _, totals = transfer_dashboard.transfers(
        period=Period(since=today, until=today), locations=[floor["camden"]]
    )

    assert totals["sold"] == 13


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def camden_sold(floor, units, when):
    StockEvents.post(
        MovementType.SALE,
        sku=floor["tee"],
        location=floor["camden"],
        quantity=units,
        channel=floor["tills"],
        occurred_at=when,
    )


# ------------------------------------------------- what is on its way, what is kept


def test_a_customers_transfer_on_its_way_does_not_hide_a_shortage(floor):
    """Oxford sends Camden 12 tees for a customer who now collects there, and 3 for
    a pickup problem sourced elsewhere, already in transit: those units are the
    customers'. Camden's own shelf is still 12 short within the week."""
    lane(floor["oxford"], floor["camden"])
    for units in (12, 3):
        customers = transfer_request(
            sku=floor["tee"],
            quantity=units,
            from_location=floor["oxford"],
            to_location=floor["camden"],
            channel=floor["web"],
            reason="Pickup order WEB-2001: the customer now collects at LON-CAM",
            actor=NIGHT,
        )
    transfer_dispatch(transfer_id=customers.pk, actor=NIGHT)

    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    assert (proposal.to_location, proposal.quantity) == (floor["camden"], 12)
    assert (proposal.to_short, proposal.to_on_the_way) == (12, 0)


def test_a_proposals_transfer_in_transit_is_on_its_way(floor):
    """Yesterday's approval of 8 left Oxford: Camden is 4 short, not 12."""
    lane(floor["oxford"], floor["camden"])
    (first,) = transfer_proposals_generate(actor=NIGHT)
    approved = transfer_proposal_approve(proposal_id=first.pk, actor=NIGHT, quantity=8)
    transfer_dispatch(transfer_id=approved.transfer_id, actor=NIGHT)

    (again,) = transfer_proposals_generate(actor=NIGHT)

    assert (again.quantity, again.to_on_the_way) == (4, 8)


def test_the_tills_buffer_stays_at_the_sender_so_a_proposal_is_approvable_in_full(
    floor,
):
    """The tills keep 3 of every SKU back. Oxford's 9 dead-stock hoodies: 4 for
    walk-ins and 3 for the tills stay, 2 may go (not 5, which no approval could
    commit). Its 62 tees: 56 for its sales, 4 for walk-ins, 3 for the tills: none."""
    floor["tills"].safety_buffer = 3
    floor["tills"].save(update_fields=["safety_buffer"])
    StockEvents.post(
        MovementType.ADJUSTMENT,
        sku=floor["tee"],
        location=floor["oxford"],
        quantity=-38,
    )
    stock(floor["hoodie"], floor["oxford"], 9)
    sold_a_day(floor["hoodie"], floor["camden"], 1)
    lane(floor["oxford"], floor["camden"])

    (proposal,) = transfer_proposals_generate(actor=NIGHT)

    assert (proposal.sku, proposal.quantity, proposal.from_spare) == (
        floor["hoodie"],
        2,
        2,
    )
    approved = transfer_proposal_approve(proposal_id=proposal.pk, actor=NIGHT)
    assert approved.transfer.quantity == 2
    assert balance_of(floor["hoodie"], floor["oxford"]).committed == 2


def every_lane_end(senders, receivers):
    """What a run read before it asked the database for its candidates: each SKU some
    destination sells, at every lane end where it sold or is held."""
    ends = senders | receivers
    selling = SalesRate.objects.filter(location_id__in=receivers, units__gt=0)
    rates = {
        (sku, place): (units, max(days, 1))
        for sku, place, units, days in SalesRate.objects.filter(
            location_id__in=ends,
            sku_id__in=selling.values("sku_id"),
            units__gt=0,
        ).values_list("sku_id", "location_id", "units", "days")
    }
    held = StockBalance.objects.filter(
        sku_id__in={sku for sku, _ in rates}, location_id__in=ends
    ).values_list("sku_id", "location_id")
    return [
        (sku, place, *rates.get((sku, place), (None, None)))
        for sku, place in set(rates) | set(held)
    ]


@pytest.mark.sqlite_too
def test_only_the_candidates_are_read_and_the_proposals_are_the_same(
    floor, monkeypatch
):
    """A run reads only the lane ends that may send or be short, yet proposes what
    the rule proposes from every figure, on the edges of the rule: Oxford (4 walk-in
    units) keeps exactly its 56 days of a slow SKU (no spare) or one more (1 spare);
    holds 4 dead hoodies (only its walk-in units) or 6; holds 70 polos of which 20
    are a hold past its expiry (available 70, not 50: 10 spare). Camden is exactly
    at its 7 days of one SKU (not short), and sells others it holds none of (short);
    the warehouse holds dead stock and sends both ways."""
    oxford, camden = floor["oxford"], floor["camden"]
    warehouse = LocationFactory(code="WH-NORTH")
    for sender, receiver in [
        (oxford, camden),
        (camden, oxford),
        (warehouse, camden),
        (warehouse, oxford),
    ]:
        lane(sender, receiver)
    slow, one_more = SkuFactory(code="SLOW-1"), SkuFactory(code="SLOW-2")
    for sku, units in [(slow, 14), (one_more, 15)]:
        stock(sku, oxford, units)  # ⌈5 × 56 ÷ 30⌉ = 10 kept beside 4 for walk-ins
        sold_a_day(sku, oxford, 5 / 30, days=30)
        sold_a_day(sku, camden, 1)  # no balance at Camden: 7 short
    stock(floor["hoodie"], oxford, 4)
    dead = SkuFactory(code="DEAD-6")
    stock(dead, oxford, 6)
    stock(dead, warehouse, 3)
    for sku in (floor["hoodie"], dead):
        sold_a_day(sku, camden, 1)
    stock(floor["polo"], oxford, 70)
    sold_a_day(floor["polo"], oxford, 1)
    sold_a_day(floor["polo"], camden, 1)
    lapsed = Holds.place(channel=floor["web"], lines=[(floor["polo"], oxford, 20)])
    Reservation.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    enough = SkuFactory(code="ENOUGH")
    stock(enough, camden, 14)  # 14 × 28 = 56 × 7: just not short
    sold_a_day(enough, camden, 2)
    stock(enough, oxford, 100)
    sold_a_day(enough, oxford, 1)

    def made():
        return sorted(
            (p.sku.code, p.from_location.code, p.to_location.code, p.quantity,
             p.from_available, p.from_spare, p.to_available, p.to_short)
            for p in transfer_proposals_generate(actor=NIGHT)
        )  # fmt: skip

    from_candidates = made()
    senders = {oxford.pk, camden.pk, warehouse.pk}
    read = proposal_selectors._candidates(senders, {oxford.pk, camden.pk})
    everywhere = every_lane_end(senders, {oxford.pk, camden.pk})
    monkeypatch.setattr(proposal_selectors, "_candidates", every_lane_end)

    assert made() == from_candidates
    assert len(read) < len(everywhere)
    assert from_candidates == [
        ("DEAD-6", "LON-OXF", "LON-CAM", 2, 6, 2, 0, 7),
        ("DEAD-6", "WH-NORTH", "LON-CAM", 3, 3, 3, 0, 7),
        ("POLO-BLU-M", "LON-OXF", "LON-CAM", 7, 70, 10, 0, 7),
        ("SLOW-2", "LON-OXF", "LON-CAM", 1, 15, 1, 0, 7),
        ("TEE-BLK-M", "LON-OXF", "LON-CAM", 12, 100, 40, 2, 12),
    ]
