"""Reads of transfer proposals: the figures a proposal run weighs, in a fixed number of
statements whatever the number of SKUs, and the proposals as the screen and the API
list them.

``transfer_figures`` reads, for every SKU that sells at a location some lane leads
to, each lane end's rate of sale (``SalesRate``), what it can promise now (the one
availability rule, ``inventory.selectors.availability_rows``), what an approval could
commit there (``Figure.sendable``: the transfer channel's terms there, read as the
commitment reads them, ``inventory.terms.channel_terms``) and the units proposals
already sent its way (requested or in transit). One statement each: the lanes, the
rates, where those SKUs are held, the SKUs, their availability (and the sources'
health), the transfer channel and its terms at the senders, the proposals' transfers
on their way. ``transfer_channel`` is the channel an approved proposal's transfer
request is made under.
"""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from catalog.models import Channel, Sku
from inventory.availability import promisable, safety_buffer_for
from inventory.models import Location, StockBalance, TransferRequest, TransferRoute
from inventory.selectors import AvailabilityStatus, availability_rows
from inventory.terms import NO_TERMS, channel_terms

from .models import SalesRate
from .proposal_models import TransferProposal

# A transfer's units are on their way from its request until they are received.
ON_THE_WAY = (TransferRequest.Status.REQUESTED, TransferRequest.Status.DISPATCHED)


@dataclass(frozen=True)
class Figure:
    """One SKU at one lane end, as a proposal run weighs it."""

    sku_id: int
    location: Location
    available: int
    rate: Fraction  # units sold a day; 0 when it sold none in the window
    on_the_way: int  # units proposals sent its way: requested, or in transit
    under_review: bool
    # What an approval's commitment here keeps back (``transfer_request`` under
    # ``transfer_channel``): the channel's buffer and the walk-in units, and the
    # protections in force (the channel's own, the other channels').
    keep: int = 0
    own: int = 0
    others: int = 0

    def sendable(self, *, also_keeping: int = 0) -> int:
        """The units an approval could commit here now, keeping ``also_keeping``
        more: the commitment's own check (``inventory.availability.promisable``)
        on the same terms, so a proposal within it is approvable in full."""
        return promisable(
            available=self.available,
            keep=self.keep + also_keeping,
            own=self.own,
            others=self.others,
        )


@dataclass(frozen=True)
class Figures:
    lanes: dict[tuple[int, int], TransferRoute]  # (from id, to id): the lane
    by_sku: dict[int, list[Figure]]


def transfer_channel() -> Channel | None:
    """The channel a proposed transfer is requested under (``TransferRequest.channel``
    is required, and its commitment at the source keeps that channel's buffer): the
    retailer's tills (the first active ``store_pos`` channel by code), since the
    units go to a store's shelf; failing that, the first active channel by code;
    None when there is none."""
    active = Channel.objects.filter(is_active=True)
    return (
        active.filter(kind=Channel.Kind.STORE_POS).order_by("code").first()
        or active.order_by("code").first()
    )


def transfer_figures() -> Figures:
    """Every SKU that sells at a lane's destination, at every lane end where it sold
    or holds stock. Kits hold no stock and are never among them."""
    lanes = {
        (lane.from_location_id, lane.to_location_id): lane
        for lane in TransferRoute.objects.filter(
            from_location__is_active=True, to_location__is_active=True
        )
        .exclude(from_location=F("to_location"))
        .select_related("from_location", "to_location")
    }
    if not lanes:
        return Figures(lanes={}, by_sku={})
    senders = {source for source, _ in lanes}
    receivers = {destination for _, destination in lanes}
    # The SKUs some destination sells: nowhere else can a shortage be.
    selling = SalesRate.objects.filter(location_id__in=receivers, units__gt=0).values(
        "sku_id"
    )
    rates = {
        (sku_id, location_id): Fraction(units, max(days, 1))
        for sku_id, location_id, units, days in SalesRate.objects.filter(
            location_id__in=senders | receivers, sku_id__in=selling, units__gt=0
        ).values_list("sku_id", "location_id", "units", "days")
    }
    if not rates:
        return Figures(lanes=lanes, by_sku={})
    sku_ids = {sku_id for sku_id, _ in rates}
    # Each lane end where one of those SKUs sold or is held (a balance of it).
    held = StockBalance.objects.filter(
        sku_id__in=sku_ids, location_id__in=senders | receivers
    ).values_list("sku_id", "location_id")
    keys = sorted(set(rates) | set(held))
    skus = Sku.objects.filter(is_kit=False).in_bulk(sku_ids)
    places = {
        place.pk: place
        for lane in lanes.values()
        for place in (lane.from_location, lane.to_location)
    }
    on_the_way = _proposals_on_their_way(receivers, sku_ids)
    pairs = [(skus[sku], places[place]) for sku, place in keys if sku in skus]
    channel = transfer_channel()
    terms = channel_terms(
        channel_id=None if channel is None else channel.pk,
        keys={(sku.pk, place.pk) for sku, place in pairs if place.pk in senders},
        now=timezone.now(),
    )
    by_sku: dict[int, list[Figure]] = {}
    for row in availability_rows(pairs=pairs, channel=None):
        key = (row.sku.pk, row.location.pk)
        velocity, own, others, _ = terms.get(key, NO_TERMS)
        # As ``commitments_place`` keeps them for a transfer (the network a channel
        # sells from does not bound what it commits for a transfer).
        buffer = safety_buffer_for(
            sku=row.sku, channel=channel, velocity_buffer=velocity
        )
        by_sku.setdefault(row.sku.pk, []).append(
            Figure(
                sku_id=row.sku.pk,
                location=row.location,
                available=row.available,
                rate=rates.get(key, Fraction(0)),
                on_the_way=on_the_way.get(key, 0),
                under_review=row.status == AvailabilityStatus.UNDER_REVIEW,
                keep=buffer + row.location.walk_in_buffer,
                own=own,
                others=others,
            )
        )
    return Figures(lanes=lanes, by_sku=by_sku)


def _proposals_on_their_way(
    receivers: set[int], sku_ids: set[int]
) -> dict[tuple[int, int], int]:
    """Units of the transfers proposals made that are on their way to each (SKU,
    receiving location): requested and not yet sent, or in transit. Only a
    proposal's own (``TransferProposal.transfer``): every other transfer is a
    customer's (a changed pickup store, a pickup problem sourced elsewhere) and its
    units are theirs, so counting them would hide a shortage; a transfer that no
    proposal made cannot be told from a customer's here without reading pickup
    (above this app), and leaving it out errs towards proposing, which a manager
    can reject, not towards hiding a shortage."""
    return {
        (row["sku_id"], row["to_location_id"]): row["units"]
        for row in TransferProposal.objects.filter(
            transfer__status__in=ON_THE_WAY,
            to_location_id__in=receivers,
            sku_id__in=sku_ids,
        )
        .values("sku_id", "to_location_id")
        .annotate(units=Sum("transfer__quantity"))
        .order_by()
    }


# ------------------------------------------------------------------ the lists


def proposal_queryset() -> QuerySet[TransferProposal]:
    return TransferProposal.objects.select_related(
        "sku", "from_location", "to_location", "transfer"
    )


def proposals_filtered(
    proposals: QuerySet[TransferProposal],
    *,
    status: str = "",
    sku: str = "",
    from_location: Location | None = None,
    to_location: Location | None = None,
    since: datetime | None = None,
) -> QuerySet[TransferProposal]:
    """The filters of the screen and the API, already checked by the caller."""
    if status:
        proposals = proposals.filter(status=status)
    if sku:
        proposals = proposals.filter(sku__code=sku)
    if from_location is not None:
        proposals = proposals.filter(from_location=from_location)
    if to_location is not None:
        proposals = proposals.filter(to_location=to_location)
    if since is not None:
        proposals = proposals.filter(proposed_at__gte=since)
    return proposals
