"""What a read of availability names, read in one statement before its rows: the
SKUs (and which of them are kits), the locations and the channel, by code, as the
plain ``SkuRef``, ``LocationRef`` and ``ChannelRef`` of ``inventory.selectors``,
with the sources' health the rows' status is read by. The availability API's first
step (``inventory.apis.AvailabilityView``)."""

from dataclasses import dataclass

from catalog.models import Channel, Sku
from config.database import among, moment_from_row, read_rows
from config.replicas import reading_alias

from .models import Location
from .selectors import (
    SOURCES_FROM,
    ChannelRef,
    LocationRef,
    SkuRef,
    SourceStates,
    source_states_of,
)


@dataclass(frozen=True)
class AvailabilityRecords:
    """What an availability read names, and the sources' health it reads them by."""

    channel: ChannelRef | None
    skus: dict[str, SkuRef]
    locations: dict[str, LocationRef]  # in code order
    sources: SourceStates


def availability_records(
    *,
    sku_codes: set[str],
    location_codes: set[str],
    channel_code: str | None,
    every_location: bool = False,
) -> AvailabilityRecords:
    """The SKUs, locations (or ``every_location``) and channel an availability read
    names, as ``SkuRef``, ``LocationRef`` and ``ChannelRef``, and the sources' health:
    one statement. Codes not found are absent."""
    using = reading_alias()
    parts, params = [], []
    # Columns: which, id, code, a buffer, then a location's kind (a SKU's: 'kit' for
    # a kit) and its tills' last event; for a source ("h"): its kind, whether it is
    # delayed, its lag (as text).
    for which, model, codes, rest in (
        ("s", Sku, sku_codes, "safety_buffer, CASE WHEN is_kit THEN 'kit' END, NULL"),
        ("l", Location, location_codes, "NULL, kind, CAST(pos_last_event_at AS TEXT)"),
        ("c", Channel, {channel_code} - {None}, "safety_buffer, NULL, NULL"),
    ):
        if codes or (which == "l" and every_location):
            where = (
                ""
                if not codes
                else f" WHERE {among('code', codes, params, using=using)}"
            )
            parts.append(
                f"SELECT '{which}', id, code, {rest} FROM {model._meta.db_table}{where}"
            )
    parts.append(
        "SELECT 'h', NULL, channel.kind, NULL, CAST(health.delayed AS TEXT), "
        f"CAST(health.lag_p95_seconds AS TEXT) {SOURCES_FROM}"
    )
    skus, locations, channels, sources = {}, [], {}, []
    for which, pk, code, buffer, kind, last in read_rows(
        " UNION ALL ".join(parts), params, using=using
    ):
        if which == "s":
            skus[code] = SkuRef(pk, code, buffer, kind == "kit")
        elif which == "l":
            locations.append(LocationRef(pk, code, kind, moment_from_row(last)))
        elif which == "c":
            channels[code] = ChannelRef(pk, code, buffer)
        else:
            lag = None if last is None else float(last)
            sources.append((code, kind in ("true", "1"), lag))
    return AvailabilityRecords(
        channel=channels.get(channel_code),
        skus=skus,
        locations={ref.code: ref for ref in sorted(locations, key=_by_code)},
        sources=source_states_of(sources, using),
    )


def _by_code(ref) -> str:
    return ref.code
