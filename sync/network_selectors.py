"""Reads of the network kind: which channels have network figures, the figures as
stored, a page of the network feed, and the one shape a network figure is answered
and sent in (``network_body``): a row of ``GET /api/v1/availability/network/`` and
the ``data`` of a ``network_availability.changed`` event (with its ``position``)."""

from collections.abc import Collection, Sequence

from catalog.models import Channel

from .models import EventKind, NetworkChange, NetworkFigure

NETWORK_KIND = EventKind.NETWORK_AVAILABILITY_CHANGED.value


def selling_channels() -> list[Channel]:
    """The channels whose networks are summed: open, and selling (a back-office
    system reports stock but sells nothing)."""
    return list(
        Channel.objects.filter(is_active=True)
        .exclude(kind=Channel.Kind.BACK_OFFICE)
        .order_by("pk")
    )


def sells(channel: Channel) -> bool:
    return channel.is_active and channel.kind != Channel.Kind.BACK_OFFICE


def network_body(figure, *, sku: str, channel: str, sequence: int) -> dict:
    """A network figure as answered and sent: ``figure`` is anything with its
    quantities (``inventory.network_selectors.NetworkRow``, ``NetworkFigure``,
    ``NetworkChange``)."""
    return {
        "sku": sku,
        "channel": channel,
        "available_to_promise": figure.available_to_promise,
        "on_hand": figure.on_hand,
        "available": figure.available,
        "locations": figure.locations,
        "status": figure.status,
        "sequence": sequence,
        "as_of": None if figure.as_of is None else figure.as_of.isoformat(),
    }


def stored_figures(
    *, channel_id: int, sku_ids: Collection[int]
) -> dict[int, NetworkFigure]:
    """The channel's stored figures of these SKUs, by SKU id: one query."""
    return {
        figure.sku_id: figure
        for figure in NetworkFigure.objects.filter(
            channel_id=channel_id, sku_id__in=set(sku_ids)
        )
    }


def network_change_events(*, changes: Sequence[NetworkChange]) -> list[dict]:
    """Each change as the event its channel is sent (``select_related`` its SKU and
    channel)."""
    return [
        {
            "id": f"evt_net_{change.pk}",
            "type": NETWORK_KIND,
            "created_at": change.changed_at.isoformat(),
            "data": {
                "position": change.position,
                **network_body(
                    change,
                    sku=change.sku.code,
                    channel=change.channel.code,
                    sequence=change.sequence,
                ),
            },
        }
        for change in changes
    ]


def _changes():
    return NetworkChange.objects.select_related("sku", "channel").only(
        *(field.name for field in NetworkChange._meta.concrete_fields),
        "sku__code",
        "channel__code",
    )


def network_feed_changes(
    *, after: int, limit: int, channel_id: int | None = None
) -> list[NetworkChange]:
    """Network changes after position ``after``, in feed order, of one channel or of
    every one: one query."""
    changes = _changes().filter(position__gt=after)
    if channel_id is not None:
        changes = changes.filter(channel_id=channel_id)
    return list(changes.order_by("position")[:limit])


def network_changes_by_id(*, ids: Collection[int]) -> dict[int, NetworkChange]:
    """The network changes of these ids that are still kept, by id: one query."""
    if not ids:
        return {}
    return {change.pk: change for change in _changes().filter(pk__in=set(ids))}
