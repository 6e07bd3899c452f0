"""Writes to a channel's network: the locations it sells from
(``inventory.models.NetworkLocation``; none named: every active location), and the
channel's own record written with it in one transaction (the channel API's PUT).

A network redrawn changes no stock and no location's figure for the channel, but it
changes the channel's network availability (the sums over its network): the
balances holding stock at the locations that entered or left are announced again
(``terms_announce``), and the outbox carries them to sync, which sums the networks
again (``sync.services.network``). Balances with nothing on hand add nothing to a
sum, so they are left alone: a redraw announces at most the stock actually there.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction

from catalog.models import Channel
from catalog.services import channel_upsert
from config.access import Actor
from config.errors import InvalidInput
from config.records import UNSET

from ..models import Location, NetworkLocation, StockBalance, VelocityBuffer
from ..networks import network_locations
from .terms import terms_announce

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkRedrawn:
    """What a redraw did: the codes of the locations that entered and left what the
    channel sells from, and how many balances were announced again."""

    entered: list[str]
    left: list[str]
    announced: int


def network_set(
    *, channel: Channel, locations: Collection[Location], actor: Actor
) -> NetworkRedrawn:
    """The channel sells from exactly ``locations`` from now on; none: from every
    active location. A closed location is refused (400), nothing written. The
    channel's row is locked first (two redraws of one channel never interleave);
    its rows are replaced, and the balances with stock on hand at the locations
    that entered or left are announced again. Holds and orders placed before keep
    their locations. One transaction (the caller's, when there is one)."""
    wanted = {location.pk: location for location in locations}
    closed = sorted(
        location.code for location in wanted.values() if not location.is_active
    )
    if closed:
        raise InvalidInput(
            {"sells_from": [closed_location_message(code) for code in closed]}
        )
    with transaction.atomic():
        Channel.objects.select_for_update(no_key=True).filter(pk=channel.pk).exists()
        before = _sells_from(channel)
        named = NetworkLocation.objects.filter(channel=channel)
        named.exclude(location_id__in=wanted).delete()
        kept = set(named.values_list("location_id", flat=True))
        NetworkLocation.objects.bulk_create(
            NetworkLocation(channel=channel, location_id=pk)
            for pk in sorted(wanted.keys() - kept)
        )
        after = _sells_from(channel)
        moved = before ^ after
        keys = set(
            StockBalance.objects.filter(
                location_id__in=moved, on_hand__gt=0
            ).values_list("sku_id", "location_id")
        )
        announced = terms_announce(keys=keys)
        codes = dict(Location.objects.filter(pk__in=moved).values_list("pk", "code"))
    redrawn = NetworkRedrawn(
        entered=sorted(codes[pk] for pk in after - before),
        left=sorted(codes[pk] for pk in before - after),
        announced=announced,
    )
    log.info(
        "%s redrew %s's network: %s entered, %s left, %d balances announced",
        actor.name,
        channel.code,
        redrawn.entered or "none",
        redrawn.left or "none",
        announced,
    )
    return redrawn


def channel_network_upsert(
    *,
    code: str,
    actor: Actor,
    sells_from: Collection[Location] = UNSET,
    buffer_policy: str = UNSET,
    **fields,
) -> tuple[Channel, bool]:
    """Create or update the channel by code (``catalog.services.channel_upsert``)
    and, when ``sells_from`` is given, its network (``network_set``), in one
    transaction: a refused network leaves the channel as it was. A changed
    ``buffer_policy`` starts or stops the channel's velocity buffers, so the
    balances that have one for it are announced again."""
    with transaction.atomic():
        policy_before = (
            Channel.objects.select_for_update(no_key=True)
            .filter(code=code)
            .values_list("buffer_policy", flat=True)
            .first()
        )
        channel, created = channel_upsert(
            code=code, buffer_policy=buffer_policy, **fields
        )
        if sells_from is not UNSET:
            network_set(channel=channel, locations=sells_from, actor=actor)
        if policy_before is not None and channel.buffer_policy != policy_before:
            terms_announce(
                keys=set(
                    VelocityBuffer.objects.filter(channel=channel).values_list(
                        "sku_id", "location_id"
                    )
                )
            )
    return channel, created


def _sells_from(channel: Channel) -> set[int]:
    """The ids of the active locations the channel sells from, as stored now."""
    return {location.pk for location in network_locations(channel=channel)}


def closed_location_message(code: str) -> str:
    """What a caller is told of a closed location named in a network."""
    return f"Location {code!r} is closed: a channel sells only from open locations."
