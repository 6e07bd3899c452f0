"""Reads of transfer proposals: the figures a proposal run weighs, in a fixed number of
statements whatever the number of SKUs, and the proposals as the screen and the API
list them.

``transfer_figures`` reads, for every SKU that sells at a location some lane leads
to, at each lane end that may send it or be short of it (the database passes on only
those: a superset of what the rule picks), its rate of sale (``SalesRate``), what it
can promise now (the one availability rule, ``inventory.selectors.availability_rows``),
what an approval could commit there (``Figure.sendable``: the transfer channel's terms
there, read as the commitment reads them, ``inventory.terms.channel_terms``) and the
units proposals already sent its way (requested or in transit). One statement each: the lanes, the
candidates with their rates, the SKUs, their availability (and the sources'
health), the transfer channel and its terms at the senders, the proposals' transfers
on their way. ``transfer_channel`` is the channel an approved proposal's transfer
request is made under.
"""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from catalog.models import Channel, Sku
from config.database import among, read_rows
from inventory.availability import available_sql, promisable, safety_buffer_for
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
    """Each SKU that sells at a lane's destination, at the lane ends that may send it
    or be short of it (``_candidates``: the rule picks the same from these as from
    every lane end where it sold or is held). Kits hold no stock and are never
    among them."""
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
    found = _candidates(senders, receivers)
    if not found:
        return Figures(lanes=lanes, by_sku={})
    rates = {
        (sku_id, location_id): Fraction(units, days)
        for sku_id, location_id, units, days in found
        if units is not None
    }
    sku_ids = {sku_id for sku_id, *_ in found}
    keys = sorted({(sku_id, location_id) for sku_id, location_id, *_ in found})
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


def _candidates(senders: set[int], receivers: set[int]) -> list[tuple]:
    """(SKU, location, units sold, days) of each lane end the rule may pick, for the
    SKUs some destination sells (nowhere else can a shortage be), in one statement:
    a superset of the rule's senders and receivers, so the exact rule
    (``services.proposals``) picks the same from these as from every figure, and a
    run reads a figure for the few that can send or are short (9 % of a network's
    SKU-locations in the bench), not for every SKU at every lane end.

    - A sender whose available (the one rule, ``available_sql``) plus its reserved
      units (its lapsed holds are among them, and availability adds those back),
      less its walk-in units, exceeds ⌈units × SURPLUS_DAYS ÷ days⌉, or 0 when it
      sold none: an approval keeps at least the walk-in units and the surplus days.
    - A receiver that sold some, below its shortage days (a rate with no balance
      row: available 0). Its available read here is at most the rule's.

    Units and days are None where it sold none in the window; days at least 1."""
    ends = senders | receivers
    params: list = []
    balance, rate = StockBalance._meta.db_table, SalesRate._meta.db_table
    sold_at_ends = among("location_id", ends, params, using=DEFAULT_DB_ALIAS)
    sold_at_receivers = among("location_id", receivers, params, using=DEFAULT_DB_ALIAS)
    held_at_ends = among("b.location_id", ends, params, using=DEFAULT_DB_ALIAS)
    sending = among("b.location_id", senders, params, using=DEFAULT_DB_ALIAS)
    params += [settings.TRANSFER_SURPLUS_DAYS]
    receiving = among("b.location_id", receivers, params, using=DEFAULT_DB_ALIAS)
    params += [settings.TRANSFER_SHORTAGE_DAYS]
    short_without_balance = among(
        "rate.location_id", receivers, params, using=DEFAULT_DB_ALIAS
    )
    available = available_sql("b")
    statement = f"""
        WITH rate AS (
            SELECT sku_id, location_id, CAST(units AS BIGINT) AS units,
                   CASE WHEN days < 1 THEN 1 ELSE days END AS days
            FROM {rate}
            WHERE units > 0 AND {sold_at_ends} AND sku_id IN (
                SELECT sku_id FROM {rate} WHERE units > 0 AND {sold_at_receivers}
            )
        )
        SELECT b.sku_id, b.location_id, rate.units, rate.days
        FROM {balance} b
        JOIN {Location._meta.db_table} place ON place.id = b.location_id
        LEFT JOIN rate ON rate.sku_id = b.sku_id AND rate.location_id = b.location_id
        WHERE {held_at_ends} AND b.sku_id IN (SELECT sku_id FROM rate) AND (
            ({sending} AND CASE WHEN rate.units IS NULL
                THEN {available} + b.reserved - place.walk_in_buffer > 0
                ELSE ({available} + b.reserved - place.walk_in_buffer - 1) * rate.days
                     >= rate.units * %s END)
            OR ({receiving} AND rate.units IS NOT NULL
                AND {available} * rate.days < rate.units * %s)
        )
        UNION ALL
        SELECT rate.sku_id, rate.location_id, rate.units, rate.days
        FROM rate
        WHERE {short_without_balance} AND NOT EXISTS (
            SELECT 1 FROM {balance} b
            WHERE b.sku_id = rate.sku_id AND b.location_id = rate.location_id
        )
    """
    return read_rows(statement, params, using=DEFAULT_DB_ALIAS)


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
