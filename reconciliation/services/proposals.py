"""Transfer proposals: made nightly (``reconciliation.propose_transfers``) and by a
manager's button, then approved (perhaps another quantity) or rejected by a manager.

The rule, per SKU, over the locations joined by a lane the retailer set
(``inventory.TransferRoute``, from the one that sends to the one that receives: the
retailer decides which stores send to which):

- r = units sold a day (``SalesRate``: units ÷ days, the dashboard's rate of sale);
  available = what the location can promise now (``inventory.availability``'s one
  rule, read by ``proposal_selectors.transfer_figures``); kept = what an approval's
  commitment keeps at the sender (``transfer_request``): its walk-in units
  (``walk_in_buffer``), the transfer channel's safety buffer there and the other
  channels' protections (``Figure.sendable``, the commitment's own check).
- **Surplus** where available > r × ``TRANSFER_SURPLUS_DAYS``: spare = what an
  approval could commit there while also keeping ⌈r × SURPLUS_DAYS⌉ (with no
  protections: available − ⌈r × SURPLUS_DAYS⌉ − walk-in − buffer), so a proposal is
  approvable in full as made. A location that sold none of it in the window but
  holds it: everything an approval could commit is spare (dead stock, better on a
  shelf that sells it).
- **Shortage** where r > 0 and available < r × ``TRANSFER_SHORTAGE_DAYS``:
  short = ⌈r × SHORTAGE_DAYS⌉ − available, less the units proposals already sent
  its way (requested and not yet sent, or in transit: yesterday's approvals), so a
  shortage being filled is not proposed again. A customer's transfer (a changed
  pickup store) is not counted: its units are the customer's.
- A SKU-location under review (an open stock conflict) is left out: its figure is in
  question.
- **Pairing**: the biggest spare first, with the nearest shortage its lanes reach
  (the lane's lead time, then the distance between the two locations' coordinates,
  then the code); it sends min(spare left, short left), then the next nearest, until
  its spare or the shortages are used up; then the next biggest spare.
- **Units saved** = units that would otherwise be short within SHORTAGE_DAYS: the
  quantity proposed, which never exceeds the shortage. Approved at another quantity,
  the fewer of the two (units beyond the proposal's share of the shortage save none).
- **Cost** = units × the lane's ``cost_per_unit``.

A run supersedes the proposals of earlier runs still undecided, in the same
transaction; two runs at once (beat and a manager) take turns on a table lock, and a
decision waits for a run under way (and a run for a decision).

An approval makes the ``TransferRequest`` (``inventory.services.transfers``): the
units are committed at the source keeping its walk-in units and the transfer
channel's terms (``proposal_selectors.transfer_channel``); if the source can no
longer spare them, it is refused with the transfer's 409 ``insufficient_stock`` and
nothing is written. The sending store then picks, sends and receives it as any other.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.access import Actor
from config.errors import Conflict, InvalidInput
from config.transitions import TransitionRefused, check, lock, move
from inventory.models import Location, TransferRoute
from inventory.services.transfers import transfer_request
from orders.routing import km_between

from ..proposal_models import TransferProposal, TransferProposalEvent
from ..proposal_selectors import Figure, transfer_channel, transfer_figures

Status = TransferProposal.Status
GENERATE = "transfer_proposals_generate"
APPROVE = "transfer_proposal_approve"
REJECT = "transfer_proposal_reject"
# The most units one approval may ask for: a typo, not a transfer, beyond it.
MOST_UNITS = 1_000_000


class ProposalTransitionRefused(TransitionRefused):
    code = "transfer_proposal_transition_refused"


class NoTransferChannel(Conflict):
    code = "no_transfer_channel"
    message = (
        "A transfer request is made under a sales channel and none is active: "
        "activate one (the tills) first; nothing was changed."
    )


@dataclass
class _Side:
    """One lane end's figures, and what is left of its spare or shortage."""

    figure: Figure
    total: int  # its spare, or the units it is short
    left: int

    @classmethod
    def of(cls, figure: Figure, units: int) -> "_Side":
        return cls(figure, units, units)


@transaction.atomic
def transfer_proposals_generate(
    *, actor: Actor, now: datetime | None = None
) -> list[TransferProposal]:
    """Propose transfers from the figures now; the undecided proposals of earlier
    runs are superseded. Returns the new proposals, most units saved first."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # One run at a time, and no decision half-way through one: the second waits.
        # Readers (the screen, the API, the dashboard) go on reading.
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {TransferProposal._meta.db_table} IN EXCLUSIVE MODE"
            )
    figures = transfer_figures()
    proposals = [
        proposal
        for sku_figures in figures.by_sku.values()
        for proposal in _pair(sku_figures, figures.lanes, actor, now)
    ]
    _supersede(actor, now)
    created = TransferProposal.objects.bulk_create(proposals)
    TransferProposalEvent.objects.bulk_create(
        TransferProposalEvent(
            proposal=proposal,
            action=GENERATE,
            to_status=Status.PROPOSED,
            actor=actor.name,
            source=actor.source,
            note=(
                f"{proposal.from_location.code} has {proposal.from_spare} to spare; "
                f"{proposal.to_location.code} is {proposal.to_short} short within "
                f"{settings.TRANSFER_SHORTAGE_DAYS} days."
            ),
            at=now,
        )
        for proposal in created
    )
    return sorted(created, key=lambda p: (-p.expected_units_saved, p.pk))


def _supersede(actor: Actor, now: datetime) -> None:
    """The undecided proposals of earlier runs give way. One UPDATE for a night's
    proposals, not ``move`` row by row (a save and an insert each, hundreds a
    night), so the table is read here as ``move`` would read it: only a status
    ``TRANSITIONS`` lets become ``superseded`` does; and each gets the timeline entry
    ``move`` would have recorded, in one insert. The run's table lock keeps every row
    as read until the UPDATE."""
    giving_way = [
        status
        for status, allowed in TransferProposal.TRANSITIONS.items()
        if Status.SUPERSEDED in allowed
    ]
    earlier = list(
        TransferProposal.objects.filter(status__in=giving_way).values_list(
            "pk", "status"
        )
    )
    if not earlier:
        return
    TransferProposal.objects.filter(pk__in=[pk for pk, _ in earlier]).update(
        status=Status.SUPERSEDED, decided_by=actor.name, decided_at=now
    )
    TransferProposalEvent.objects.bulk_create(
        TransferProposalEvent(
            proposal_id=pk,
            action=GENERATE,
            from_status=status,
            to_status=Status.SUPERSEDED,
            actor=actor.name,
            source=actor.source,
            note="Proposals made again from newer figures.",
            at=now,
        )
        for pk, status in earlier
    )


def _pair(
    figures: list[Figure],
    lanes: dict[tuple[int, int], TransferRoute],
    actor: Actor,
    now: datetime,
) -> list[TransferProposal]:
    """One SKU's proposals: the biggest spare first, each to its nearest shortages."""
    surplus_days = settings.TRANSFER_SURPLUS_DAYS
    shortage_days = settings.TRANSFER_SHORTAGE_DAYS
    senders = {source for source, _ in lanes}
    receivers = {destination for _, destination in lanes}
    spares, shorts = [], []
    for figure in figures:
        if figure.under_review:
            continue
        where = figure.location.pk
        if where in senders:
            spare = _spare(figure, surplus_days)
            if spare is not None and spare.left > 0:
                spares.append(spare)
        if where in receivers:
            short = _short(figure, shortage_days)
            if short is not None and short.left > 0:
                shorts.append(short)
    if not spares or not shorts:
        return []
    spares.sort(key=lambda s: (-s.left, s.figure.location.code))
    made = []
    for spare in spares:
        source = spare.figure.location
        reachable = sorted(
            (
                (lanes[(source.pk, short.figure.location.pk)], short)
                for short in shorts
                if (source.pk, short.figure.location.pk) in lanes
            ),
            key=lambda pair: _nearness(source, pair[0], pair[1].figure.location),
        )
        for lane, short in reachable:
            if spare.left == 0:
                break
            units = min(spare.left, short.left)
            if units <= 0:
                continue
            made.append(_proposal(spare, short, lane, units, actor, now))
            spare.left -= units
            short.left -= units
    return made


def _spare(figure: Figure, days: int) -> _Side | None:
    """What the sender can give: what an approval could commit there (its walk-in
    units, the transfer channel's buffer and the protections kept, as
    ``transfer_request`` keeps them) while it also keeps its own sales' needs."""
    if figure.rate == 0:
        # Sold none in the window: all an approval could send is spare (dead stock).
        return _Side.of(figure, figure.sendable())
    if figure.available <= figure.rate * days:
        return None
    return _Side.of(figure, figure.sendable(also_keeping=math.ceil(figure.rate * days)))


def _short(figure: Figure, days: int) -> _Side | None:
    if figure.rate == 0 or figure.available >= figure.rate * days:
        return None
    need = math.ceil(figure.rate * days)
    return _Side.of(figure, need - figure.available - figure.on_the_way)


def _nearness(source: Location, lane: TransferRoute, to: Location) -> tuple:
    distance = km_between(source, to)
    return (
        lane.lead_time_hours,
        math.inf if distance is None else distance,
        to.code,
    )


def _proposal(
    spare: _Side,
    short: _Side,
    lane: TransferRoute,
    units: int,
    actor: Actor,
    now: datetime,
) -> TransferProposal:
    sender, receiver = spare.figure, short.figure
    distance = km_between(sender.location, receiver.location)
    return TransferProposal(
        sku_id=sender.sku_id,
        from_location=sender.location,
        to_location=receiver.location,
        quantity=units,
        status=Status.PROPOSED,
        from_available=sender.available,
        from_rate=_decimal(sender.rate, 3),
        from_days_cover=_cover(sender),
        from_spare=spare.total,
        to_available=receiver.available,
        to_rate=_decimal(receiver.rate, 3),
        to_days_cover=_cover(receiver),
        to_on_the_way=receiver.on_the_way,
        to_short=short.total,
        lead_time_hours=lane.lead_time_hours,
        distance_km=None if distance is None else Decimal(f"{distance:.1f}"),
        expected_units_saved=units,
        cost_per_unit=lane.cost_per_unit,
        cost=units * lane.cost_per_unit,
        proposed_at=now,
        proposed_by=actor.name,
    )


def _cover(figure: Figure) -> Decimal | None:
    """Days the stock lasts at its rate (none left: 0); none when it sells none."""
    if figure.rate == 0:
        return None
    return _decimal(max(figure.available, 0) / figure.rate, 1)


def _decimal(value: Fraction, places: int) -> Decimal:
    return round(Decimal(value.numerator) / Decimal(value.denominator), places)


# ------------------------------------------------------------------ decisions


@transaction.atomic
def transfer_proposal_approve(
    *, proposal_id: int, actor: Actor, quantity: int | None = None, note: str = ""
) -> TransferProposal:
    """Approve the proposal, at ``quantity`` units if given (an edit), making its
    transfer request: the units committed at the source, beyond its walk-in units.
    Refused with 409 ``insufficient_stock`` when the source can no longer spare them
    (nothing is written); the same approval again changes nothing."""
    if quantity is not None and not 1 <= quantity <= MOST_UNITS:
        raise InvalidInput(
            {"quantity": [f"Approve between 1 and {MOST_UNITS:,} units."]}
        )
    proposal = _locked(proposal_id)
    units = proposal.quantity if quantity is None else quantity
    if proposal.status == Status.APPROVED and proposal.approved_quantity == units:
        return proposal
    check(
        proposal,
        Status.APPROVED,
        error=ProposalTransitionRefused,
        message=_refused(proposal, "approved"),
    )
    channel = transfer_channel()
    if channel is None:
        raise NoTransferChannel()
    # The proposal is locked first, then the balances (docs/ledger.md: documents
    # before balances); a refusal here rolls back everything, the proposal untouched.
    transfer = transfer_request(
        sku=proposal.sku,
        quantity=units,
        from_location=proposal.from_location,
        to_location=proposal.to_location,
        channel=channel,
        reason=(
            f"Transfer proposal {proposal.pk}: {proposal.to_location.code} runs out "
            f"within {settings.TRANSFER_SHORTAGE_DAYS} days."
            + (f" {note}" if note else "")
        ),
        actor=actor,
    )
    proposal.approved_quantity = units
    proposal.transfer = transfer
    proposal.expected_units_saved = min(units, proposal.quantity)
    proposal.cost = units * proposal.cost_per_unit
    _decided(proposal, actor, note)
    move(
        proposal,
        to=Status.APPROVED,
        actor=actor,
        action=APPROVE,
        at=proposal.decided_at,
        note=note,
        detail={
            "quantity": units,
            "proposed": proposal.quantity,
            "transfer": transfer.pk,
        },
        error=ProposalTransitionRefused,
        also=[
            "approved_quantity",
            "transfer",
            "expected_units_saved",
            "cost",
            "decided_by",
            "decided_at",
            "note",
        ],
    )
    return proposal


@transaction.atomic
def transfer_proposal_reject(
    *, proposal_id: int, actor: Actor, reason: str = ""
) -> TransferProposal:
    """Reject the proposal: nothing moves. The same rejection again changes nothing."""
    proposal = _locked(proposal_id)
    if proposal.status == Status.REJECTED:
        return proposal
    check(
        proposal,
        Status.REJECTED,
        error=ProposalTransitionRefused,
        message=_refused(proposal, "rejected"),
    )
    _decided(proposal, actor, reason)
    move(
        proposal,
        to=Status.REJECTED,
        actor=actor,
        action=REJECT,
        at=proposal.decided_at,
        note=reason,
        error=ProposalTransitionRefused,
        also=["decided_by", "decided_at", "note"],
    )
    return proposal


def _locked(proposal_id: int) -> TransferProposal:
    return lock(
        TransferProposal,
        proposal_id,
        related=("sku", "from_location", "to_location"),
        missing=f"No transfer proposal {proposal_id}.",
    )


def _decided(proposal: TransferProposal, actor: Actor, note: str) -> None:
    proposal.decided_by = actor.name
    proposal.decided_at = timezone.now()
    proposal.note = note[: TransferProposal._meta.get_field("note").max_length]


def _refused(proposal: TransferProposal, to: str) -> str:
    return (
        f"Transfer proposal {proposal.pk} cannot be {to}: it is already "
        f"{proposal.status}; nothing was changed."
    )
