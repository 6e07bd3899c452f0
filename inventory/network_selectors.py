"""Reads of a channel's network as a whole: a channel's record with the locations
it sells from, and network availability, the per-location figures of
``inventory.selectors.availability_rows`` (the one rule) summed over the network.

For one SKU and one channel:

- ``available_to_promise``, ``on_hand``, ``available``: the sums over the active
  locations of the channel's network (``inventory.networks``; none named: every
  active location) of each location's figure for that channel;
- ``locations``: how many of them have any available-to-promise;
- ``status``: the least certain of theirs (``under_review`` before ``delayed``
  before ``estimated`` before ``confirmed``);
- ``as_of``: the latest of theirs.

Only the locations where the SKU has a balance are read: a location where it never
moved has nothing to add, and its status says nothing about this SKU. With none,
every figure is 0, the status ``confirmed`` and ``as_of`` empty.

The ``sequence`` a network figure is answered with is sync's (``sync.models.
NetworkFigure``): this module reads stock, not what channels were told.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from catalog.models import Channel, Sku
from catalog.selectors import channel_queryset

from .models import Location, NetworkLocation, StockBalance
from .networks import networks_of
from .selectors import (
    AvailabilityStatus,
    SourceStates,
    availability_rows,
    source_states,
)

# The least certain status wins: the higher the rank, the less certain.
STATUS_RANK = {
    AvailabilityStatus.CONFIRMED.value: 0,
    AvailabilityStatus.ESTIMATED.value: 1,
    AvailabilityStatus.DELAYED.value: 2,
    AvailabilityStatus.UNDER_REVIEW.value: 3,
}


def least_certain(statuses) -> str:
    """The least certain of ``statuses``; ``confirmed`` when there are none."""
    return max(
        statuses, key=STATUS_RANK.__getitem__, default=AvailabilityStatus.CONFIRMED
    )


@dataclass
class NetworkRow:
    """One SKU's availability across one channel's network."""

    sku_id: int
    sku: str  # its code
    channel_id: int
    channel: str  # its code
    available_to_promise: int = 0
    on_hand: int = 0
    available: int = 0
    locations: int = 0
    status: str = AvailabilityStatus.CONFIRMED.value
    as_of: datetime | None = None


def channel_network_queryset() -> QuerySet[Channel]:
    """Channels with the locations they name (``sells_from``), for the channel API."""
    return channel_queryset().prefetch_related(
        Prefetch("network", NetworkLocation.objects.select_related("location"))
    )


def sells_from_codes(*, channel: Channel) -> list[str]:
    """The codes of the locations the channel names, sorted; empty: it names none
    (it sells from every active location). From the prefetched network when the
    channel was read with it (``channel_network_queryset``), else one query."""
    cache = getattr(channel, "_prefetched_objects_cache", {})
    if "network" in cache:
        return sorted(row.location.code for row in cache["network"])
    return sorted(
        NetworkLocation.objects.filter(channel=channel).values_list(
            "location__code", flat=True
        )
    )


def network_availability(
    *, channel: Channel, skus: Sequence[Sku], sources: SourceStates | None = None
) -> list[NetworkRow]:
    """One row per SKU of ``skus``, in their order, for ``channel`` (its ``pk``,
    ``code`` and ``safety_buffer``; each SKU its ``pk``, ``code`` and
    ``safety_buffer``)."""
    figures = network_figures(channels=[channel], skus=skus, sources=sources)
    return [figures[(channel.pk, sku.pk)] for sku in skus]


def network_figures(
    *,
    channels: Sequence[Channel],
    skus: Sequence[Sku],
    sources: SourceStates | None = None,
) -> dict[tuple[int, int], NetworkRow]:
    """The network row of every (channel id, SKU id) pair of ``channels`` and
    ``skus``: the balances and the locations read once for them all, then one
    ``availability_rows`` read per channel over the pairs of its network."""
    figures = {
        (channel.pk, sku.pk): NetworkRow(sku.pk, sku.code, channel.pk, channel.code)
        for channel in channels
        for sku in skus
    }
    if not figures:
        return figures
    by_id = {sku.pk: sku for sku in skus}
    held = list(
        StockBalance.objects.filter(sku_id__in=by_id, location__is_active=True)
        .order_by("sku_id", "location_id")
        .values_list("sku_id", "location_id")
    )
    if not held:
        return figures
    places = {
        place.pk: place
        for place in Location.objects.filter(pk__in={place for _, place in held}).only(
            "id", "code", "kind", "pos_last_event_at"
        )
    }
    if sources is None:
        sources = source_states()
    networks = networks_of(channel_ids=[channel.pk for channel in channels])
    for channel in channels:
        network = networks[channel.pk]
        pairs = [
            (by_id[sku], places[place])
            for sku, place in held
            if network is None or place in network
        ]
        rows = availability_rows(pairs=pairs, channel=channel, sources=sources)
        statuses: dict[int, list[str]] = {}
        for row in rows:
            figure = figures[(channel.pk, row.sku.pk)]
            figure.available_to_promise += row.available_to_promise
            figure.on_hand += row.on_hand
            figure.available += row.available
            figure.locations += row.available_to_promise > 0
            statuses.setdefault(row.sku.pk, []).append(row.status)
            if row.as_of is not None and (
                figure.as_of is None or row.as_of > figure.as_of
            ):
                figure.as_of = row.as_of
        for sku_id, seen in statuses.items():
            figures[(channel.pk, sku_id)].status = least_certain(seen)
    return figures
