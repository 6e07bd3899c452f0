"""Recording demand turned away for lack of stock (RefusedDemand): each line a
refused hold or order named short, written after the refusal rolled back, so the
managers' dashboard can count the sales lost. A refusal sent again under the same
reference is recorded once."""

from collections.abc import Sequence

from django.db import IntegrityError, transaction

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
) -> list[RefusedDemand]:
    """``shortages`` as an ``InsufficientStock`` names them (``sku`` and
    ``location`` codes, ``requested``, ``available_to_promise``). Never raises for
    what it cannot place: a refusal must still reach the caller as it was."""
    del actor  # who asked is the channel's business; the record is the channel's
    skus = {
        sku.code: sku
        for sku in Sku.objects.filter(code__in={s["sku"] for s in shortages})
    }
    places = {
        place.code: place
        for place in Location.objects.filter(
            code__in={s["location"] for s in shortages if s.get("location")}
        )
    }
    recorded = []
    for short in shortages:
        sku = skus.get(short.get("sku"))
        if sku is None:
            continue
        location = places.get(short.get("location") or "")
        key = {
            "channel": channel,
            "kind": kind,
            "reference": reference[:100],
            "sku": sku,
            "location": location,
        }
        if RefusedDemand.objects.filter(**key).exists():
            continue
        try:
            with transaction.atomic():
                recorded.append(
                    RefusedDemand.objects.create(
                        **key,
                        requested=max(int(short.get("requested") or 0), 0),
                        available=max(int(short.get("available_to_promise") or 0), 0),
                    )
                )
        except IntegrityError:
            continue  # the same refusal, recorded by a twin request a moment ago
    return recorded
