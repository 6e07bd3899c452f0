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

A kit is never split across locations: its network figures are the sums of its
rows at each location (``inventory.kit_availability``: its ``on_hand`` 0), read at
the locations where every one of its components has a balance (anywhere else it
has nothing to add).

The ``sequence`` a network figure is answered with is sync's (``sync.models.
NetworkFigure``): this module reads stock, not what channels were told.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from catalog.models import Channel, Sku
from catalog.selectors import channel_queryset

from .kit_availability import availability_rows_with_kits, kits_defined
from .models import Location, NetworkLocation, StockBalance
from .networks import networks_of
from .selectors import (
    AvailabilityStatus,
    SourceStates,
    availability_rows,
    least_certain,
    source_states,
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
    ``skus`` (each with its ``is_kit``): the balances and the locations read once
    for them all (and a kit's definition, when one is a kit), then one
    ``availability_rows`` read per channel over the pairs of its network."""
    figures = {
        (channel.pk, sku.pk): NetworkRow(sku.pk, sku.code, channel.pk, channel.code)
        for channel in channels
        for sku in skus
    }
    if not figures:
        return figures
    by_id = {sku.pk: sku for sku in skus}
    kits = kits_defined(kit_ids=[sku.pk for sku in skus if sku.is_kit])
    components = {part.pk for kit in kits.values() for part, _ in kit.parts}
    held = list(
        StockBalance.objects.filter(
            sku_id__in=by_id.keys() | components, location__is_active=True
        )
        .order_by("sku_id", "location_id")
        .values_list("sku_id", "location_id")
    )
    if kits:
        held = _with_kits(held, by_id, kits)
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
        if kits:  # their definitions read once for every channel
            rows = availability_rows_with_kits(
                pairs=pairs, channel=channel, sources=sources, kits=kits
            )
        else:
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


def _with_kits(
    held: list[tuple[int, int]], asked: dict, kits: dict
) -> list[tuple[int, int]]:
    """The (SKU, location) pairs of the SKUs ``asked`` that have a balance, and of
    each kit among them the locations where all its components have one, in the
    same order."""
    balances = set(held)
    places = sorted({place for _, place in held})
    kept = [(sku, place) for sku, place in held if sku in asked]
    for kit_id, kit in kits.items():
        kept += [
            (kit_id, place)
            for place in places
            if all((part.pk, place) in balances for part, _ in kit.parts)
        ]
    return sorted(kept)
