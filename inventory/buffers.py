"""Reads of the buffers a channel keeps back, SKU-location by SKU-location, and where
each comes from (``GET /api/v1/buffers/``): the SKU's own ``safety_buffer`` (source
``sku``), which always wins; else, under the ``velocity`` policy, the velocity buffer
computed there (``velocity``, with the rate of sale it came from and when:
``inventory.services.buffers``); else the channel's own ``safety_buffer``
(``channel``). The figure is the one rule's (``inventory.availability.safety_buffer``),
the same that every availability read, hold and commitment applies.

Reads go to the database this request reads from (``config.replicas``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import models

from catalog.models import Channel, Sku
from config.replicas import reading_alias

from .availability import safety_buffer
from .models import Location, VelocityBuffer


class BufferSource(models.TextChoices):
    SKU = "sku", "The SKU's own buffer"
    VELOCITY = "velocity", "The channel's velocity buffer there"
    CHANNEL = "channel", "The channel's own buffer"


@dataclass(frozen=True)
class BufferRow:
    """What a channel keeps back of one SKU at one location, and why."""

    channel: str
    sku: str
    location: str
    buffer: int
    source: str
    rate: float | None  # units a day, when the velocity buffer applies
    computed_at: datetime | None


def buffer_rows(
    *, channel: Channel, pairs: Sequence[tuple[Sku, Location]]
) -> list[BufferRow]:
    """The buffer at each (SKU, location) pair, in that order: one statement for the
    channel's velocity buffers at the pairs (none unless its policy is velocity)."""
    velocity = {}
    if pairs and channel.buffer_policy == Channel.BufferPolicy.VELOCITY:
        keys = {(sku.pk, place.pk) for sku, place in pairs}
        velocity = {
            (row.sku_id, row.location_id): row
            for row in VelocityBuffer.objects.using(reading_alias())
            .filter(
                channel=channel,
                sku_id__in={sku for sku, _ in keys},
                location_id__in={place for _, place in keys},
            )
            .only("sku_id", "location_id", "units", "rate", "computed_at")
        }
    rows = []
    for sku, place in pairs:
        found = velocity.get((sku.pk, place.pk))
        units = None if found is None else found.units
        if sku.safety_buffer is not None:
            source = BufferSource.SKU
        elif found is not None:
            source = BufferSource.VELOCITY
        else:
            source = BufferSource.CHANNEL
        applies = source == BufferSource.VELOCITY
        rows.append(
            BufferRow(
                channel=channel.code,
                sku=sku.code,
                location=place.code,
                buffer=safety_buffer(sku.safety_buffer, channel.safety_buffer, units),
                source=source.value,
                rate=found.rate if applies else None,
                computed_at=found.computed_at if applies else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ChannelBuffers:
    """A channel and where its buffers stand: how many velocity buffers it has and
    when they were last computed (none: never)."""

    channel: Channel
    velocity_buffers: int
    computed_at: datetime | None


def channels_buffers() -> list[ChannelBuffers]:
    """Every active channel (velocity ones first, then by name) with its velocity
    buffers counted: one grouped statement, and one for the channels."""
    counts = {
        row["channel_id"]: row
        for row in VelocityBuffer.objects.order_by()
        .values("channel_id")
        .annotate(rows=models.Count("id"), last=models.Max("computed_at"))
    }
    channels = Channel.objects.filter(is_active=True).order_by("name")
    found = [
        ChannelBuffers(
            channel=channel,
            velocity_buffers=counts.get(channel.pk, {}).get("rows", 0),
            computed_at=counts.get(channel.pk, {}).get("last"),
        )
        for channel in channels
    ]
    return sorted(
        found,
        key=lambda row: row.channel.buffer_policy != Channel.BufferPolicy.VELOCITY,
    )
