"""Recording demand turned away for lack of stock (RefusedDemand): each line a
refused hold or order named short, written after the refusal rolled back, so the
managers' dashboard can count the sales lost. A refusal sent again under the same
reference is recorded once."""

from collections.abc import Iterable, Sequence

from django.db import transaction

from catalog.models import Channel, Sku
from config.access import Actor

from ..models import Location, RefusedDemand


def demand_refused_record(
    *,
    channel: Channel,
    kind: str,
    reference: str,
    shortages: Sequence[dict],
    actor: Actor,
    known: Iterable[Sku | Location] = (),
) -> None:
    """``shortages`` as an ``InsufficientStock`` names them (``sku`` and
    ``location`` codes, ``requested``, ``available_to_promise``); ``known`` the SKUs
    and locations the caller already holds, so a refusal in a busy sale costs one
    insert, not lookups. What it cannot place is left out: the refusal must still
    reach the caller as it was."""
    del actor  # the demand is the channel's, whoever sent it
    skus = {item.code: item for item in known if isinstance(item, Sku)}
    places = {item.code: item for item in known if isinstance(item, Location)}
    wanted_skus = {s["sku"] for s in shortages} - skus.keys()
    if wanted_skus:
        skus.update((sku.code, sku) for sku in Sku.objects.filter(code__in=wanted_skus))
    wanted_places = {s["location"] for s in shortages if s.get("location")}
    if wanted_places - places.keys():
        places.update(
            (place.code, place)
            for place in Location.objects.filter(code__in=wanted_places - places.keys())
        )
    rows = [
        RefusedDemand(
            channel=channel,
            kind=kind,
            reference=reference[:100],
            sku=skus[short["sku"]],
            location=places.get(short.get("location") or ""),
            requested=max(int(short.get("requested") or 0), 0),
            available=max(int(short.get("available_to_promise") or 0), 0),
        )
        for short in shortages
        if short.get("sku") in skus
    ]
    # The same refusal sent again is recorded once: the unique index drops a line
    # at a location; a line no location could fill (no location, which the index
    # cannot compare) is looked for first.
    nowhere = [row for row in rows if row.location is None]
    if nowhere:
        seen = set(
            RefusedDemand.objects.filter(
                channel=channel,
                kind=kind,
                reference=reference[:100],
                location__isnull=True,
                sku__in=[row.sku for row in nowhere],
            ).values_list("sku_id", flat=True)
        )
        rows = [
            row for row in rows if row.location is not None or row.sku_id not in seen
        ]
    if rows:
        with transaction.atomic():
            RefusedDemand.objects.bulk_create(rows, ignore_conflicts=True)
