"""Reads of a channel's network: the locations it sells from
(``inventory.models.NetworkLocation``). A channel that names none sells from every
active location, as every channel did before networks existed. Routing, the
channel's holds and its orders keep to its network; network availability sums it."""

from collections.abc import Iterable

from catalog.models import Channel

from .models import Location, NetworkLocation


def network_location_ids(*, channel_id: int) -> frozenset[int] | None:
    """The ids of the locations the channel sells from; None when it names none (it
    sells from every active location)."""
    return networks_of(channel_ids=[channel_id])[channel_id]


def networks_of(*, channel_ids: Iterable[int]) -> dict[int, frozenset[int] | None]:
    """``network_location_ids`` of each channel, in one query."""
    channel_ids = list(channel_ids)
    named: dict[int, set[int]] = {}
    for channel_id, location_id in NetworkLocation.objects.filter(
        channel_id__in=set(channel_ids)
    ).values_list("channel_id", "location_id"):
        named.setdefault(channel_id, set()).add(location_id)
    return {
        channel_id: frozenset(named[channel_id]) if channel_id in named else None
        for channel_id in channel_ids
    }


def network_locations(*, channel: Channel) -> list[Location]:
    """The active locations the channel sells from, in code order."""
    ids = network_location_ids(channel_id=channel.pk)
    queryset = Location.objects.filter(is_active=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return list(queryset.order_by("code"))


def outside_network(
    *, channel: Channel, locations: Iterable[Location]
) -> list[Location]:
    """Those of ``locations`` the channel does not sell from, each once."""
    ids = network_location_ids(channel_id=channel.pk)
    if ids is None:
        return []
    outside: dict[int, Location] = {}
    for location in locations:
        if location.pk not in ids:
            outside.setdefault(location.pk, location)
    return list(outside.values())


def not_in_network_message(*, channel: Channel, location: Location) -> str:
    """What a caller is told of a line at a location outside the channel's network."""
    return (
        f"Location {location.code!r} is not in channel {channel.code!r}'s network: "
        "it does not sell from there."
    )
