"""Store-to-store transfers in a simulated day: the nightly rates of sale in place
before opening (``sales_rates_seed``), then, under ``transfers=on``, the area
manager's proposals run and decided before opening, the sending locations
dispatching at opening and the receiving ones receiving after the lane's lead time,
all through the real services (``reconciliation.services`` for the proposals,
``pickup.services`` at a store, ``inventory.services.transfers`` at the warehouse).

The rates are seeded rather than computed: a simulated day has no history, and the
nightly job (``sales_rates_refresh``) over one morning's ledger would find nothing
sold. What it would have found over its trailing ``SALES_RATE_DAYS`` of a steady
trade is, for each SKU-location, a Poisson count of the demand model's expected
daily sales times the days: that is what is seeded, from a generator of its own, so
every policy compared reads the same rates (and a slow mover that happened to sell
nothing in the window looks like dead stock, as it would in the product)."""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.access import Actor
from inventory.errors import InsufficientStock
from inventory.models import TransferRequest, TransferRoute
from inventory.services import transfers as inventory_transfers
from pickup import services as pickup
from reconciliation.models import SalesRate, TransferProposal
from reconciliation.services import (
    transfer_proposal_approve,
    transfer_proposal_reject,
    transfer_proposals_generate,
)

from .network import Network, poisson

# When, on the simulated clock: the nightly job that computed the rates ran at 02:00
# (hours before opening); the manager decides the proposals half an hour before the
# doors open, after the night's stock position is booked; the vans leave at opening.
RATES_COMPUTED_BEFORE_OPENING = timedelta(hours=6)
PROPOSALS_BEFORE_OPENING = timedelta(minutes=30)


def sales_rates_seed(*, network: Network, seed: int, computed_at) -> int:
    """The nightly rates of sale as the job would have left them: for each SKU at
    each location, a Poisson count of its expected sales over the trailing window,
    kept where it sold (as ``sales_rates_refresh`` keeps only what sold). Returns
    the rows written."""
    rng = random.Random(f"rates:{seed}")
    days = max(1, settings.SALES_RATE_DAYS)
    locations = {location.code: location for location in network.locations}
    rows = []
    for (sku, place), daily in sorted(network.spec.expected_daily.items()):
        units = poisson(rng, daily * days)
        if units > 0:
            rows.append(
                SalesRate(
                    sku=network.skus[sku],
                    location=locations[place],
                    units=units,
                    days=days,
                    computed_at=computed_at,
                )
            )
    with transaction.atomic():
        SalesRate.objects.all().delete()
        SalesRate.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def cost_per_unit_saved(proposal: TransferProposal) -> Decimal:
    """What the proposal costs for each unit it saves from running short."""
    return proposal.cost / max(proposal.expected_units_saved, 1)


class StoreTransfers:
    """The transfers' part of ``engine.TradingDay``."""

    def schedule_transfers(self) -> None:
        """Under ``transfers=on``, the manager's decisions before opening."""
        if self.policy.transfers_on:
            self.at(self.opens - PROPOSALS_BEFORE_OPENING, self.transfers_decide)

    def transfers_decide(self) -> None:
        """The area manager runs the proposals and decides each: approved, or under
        ``transfers=on:COST`` rejected when it costs more than COST a unit saved.
        Each approved one goes in the sending location's van at opening."""
        manager = Actor.of_user(self.network.manager)
        limit = self.policy.transfer_cost_limit
        for proposal in transfer_proposals_generate(actor=manager, now=timezone.now()):
            per_unit = cost_per_unit_saved(proposal)
            if limit is not None and per_unit > limit:
                transfer_proposal_reject(
                    proposal_id=proposal.pk,
                    actor=manager,
                    reason=f"Costs {per_unit:.2f} a unit saved; the limit is {limit}.",
                )
                continue
            try:
                approved = transfer_proposal_approve(
                    proposal_id=proposal.pk, actor=manager
                )
            except InsufficientStock:
                # The source can no longer spare them (an earlier approval took
                # them): the proposal stays undecided, as on the screen.
                self.tallies.transfer_approvals_refused += 1
                continue
            self.at(self.opens, self.transfer_dispatch, approved.transfer_id)

    def transfer_dispatch(self, transfer_id: int) -> None:
        """The sending location's staff put the units in the van and confirm it; the
        receiving store confirms them when the van arrives, after the lane's lead
        time, if that is before closing (else they are still on the road tonight)."""
        transfer = TransferRequest.objects.select_related(
            "sku", "from_location", "to_location"
        ).get(pk=transfer_id)
        sender, receiver = transfer.from_location, transfer.to_location
        self._transfer_step(sender, transfer_id, dispatch=True)
        sku = transfer.sku.code
        sent = self.floor.send(
            (sku, sender.code), (sku, receiver.code), transfer.quantity
        )
        hours = TransferRoute.objects.get(
            from_location=sender, to_location=receiver
        ).lead_time_hours
        arrives = timezone.now() + timedelta(hours=hours)
        if arrives <= self.closes:
            self.at(arrives, self.transfer_receive, transfer_id, sent)

    def transfer_receive(self, transfer_id: int, sent: int) -> None:
        transfer = TransferRequest.objects.select_related("sku", "to_location").get(
            pk=transfer_id
        )
        self._transfer_step(transfer.to_location, transfer_id, dispatch=False)
        self.floor.arrive((transfer.sku.code, transfer.to_location.code), sent)

    def _transfer_step(self, location, transfer_id: int, *, dispatch: bool) -> None:
        """A store works a transfer on the pickup screens; the warehouse through its
        own system."""
        staff = self.network.staff[location.code]
        if location.kind == "store":
            step = (
                pickup.pickup_transfer_dispatch
                if dispatch
                else pickup.pickup_transfer_receive
            )
            step(transfer_id=transfer_id, actor=Actor.of_user(staff))
            return
        step = (
            inventory_transfers.transfer_dispatch
            if dispatch
            else inventory_transfers.transfer_receive
        )
        step(transfer_id=transfer_id, actor=Actor.of_user(staff, source="wms"))
