"""Protected allocations, set and removed: units of one SKU at one location kept for one
channel (``inventory.models.Allocation``; the rule that reads them is
``inventory.availability.promisable``). Each change is announced again
(``terms_announce``): every channel's webhooks and feed carry the figures worked out
with the new terms.

- ``allocation_set``: protect ``units`` (create or change); 0 removes it.
- ``allocation_remove``: lift it; none there is a 404.

Locking: the allocation's own row first (it is the document here), then the balance
at its SKU and location (``terms_announce``, the one lock order of
``inventory.locking``). A hold or an order that takes the balance's lock after this
transaction commits reads the new protection; one that took it before counted the
old one, and what it took shows as a shortfall (``inventory.allocations``) if the
protection is no longer covered.
"""

import logging

from django.db import IntegrityError, transaction

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import InvalidInput, NotFound

from ..models import Allocation, Location
from ..models.channels import MAX_ALLOCATION_UNITS
from ..networks import not_in_network_message, outside_network
from .terms import terms_announce

logger = logging.getLogger(__name__)


def allocation_set(
    *, channel: Channel, sku: Sku, location: Location, units: int, actor: Actor
) -> tuple[Allocation | None, bool]:
    """Protect ``units`` of ``sku`` at ``location`` for ``channel``: (the allocation,
    whether it was created). ``units`` 0 removes any there: (None, False). The same
    units again change nothing and announce nothing.

    Refused with ``InvalidInput`` (400), nothing written: units outside 0 to
    ``MAX_ALLOCATION_UNITS``; a closed channel, or a back-office system (it reports
    stock, it sells none); a closed location, or one outside the channel's network;
    a kit (it holds no stock: its components are protected).
    Lifting (0) is refused for none of these: a protection can always be lifted."""
    if not 0 <= units <= MAX_ALLOCATION_UNITS:
        raise InvalidInput(
            {"units": [f"Must be from 0 to {MAX_ALLOCATION_UNITS}."]},
            "Units protected must be from 0 to the limit.",
        )
    if units == 0:
        with transaction.atomic():
            _lift(channel=channel, sku=sku, location=location, actor=actor)
        return None, False
    if sku.is_kit:
        # A kit holds no stock: what it sells is its components', protected as such.
        raise InvalidInput(
            {"sku": [f"{sku.code} is a kit: protect units of its components."]}
        )
    _ensure_may_protect(channel=channel, location=location)
    key = {(sku.pk, location.pk)}
    with transaction.atomic():
        allocation = _locked(channel=channel, sku=sku, location=location)
        if allocation is not None and allocation.units == units:
            return allocation, False
        terms_announce(keys=key)
        if allocation is not None:
            allocation.units, allocation.updated_by = units, actor.name
            allocation.save(update_fields=["units", "updated_by", "updated_at"])
            return allocation, False
        try:
            with transaction.atomic():
                allocation = Allocation.objects.create(
                    channel=channel,
                    sku=sku,
                    location=location,
                    units=units,
                    updated_by=actor.name,
                )
            return allocation, True
        except IntegrityError:
            # Another request created it at the same moment: its row, now changed.
            allocation = _locked(channel=channel, sku=sku, location=location)
            allocation.units, allocation.updated_by = units, actor.name
            allocation.save(update_fields=["units", "updated_by", "updated_at"])
            return allocation, False


def allocation_remove(
    *, channel: Channel, sku: Sku, location: Location, actor: Actor
) -> Allocation:
    """Lift the protection of ``sku`` at ``location`` for ``channel``; the allocation
    as it was (without its id). None there: ``NotFound`` (404)."""
    with transaction.atomic():
        removed = _lift(channel=channel, sku=sku, location=location, actor=actor)
    if removed is None:
        raise NotFound(
            f"No units of {sku.code} at {location.code} are protected for "
            f"channel {channel.code}."
        )
    return removed


def _lift(
    *, channel: Channel, sku: Sku, location: Location, actor: Actor
) -> Allocation | None:
    """Delete the allocation there, if any, and announce the balance again; the
    allocation deleted, or None. In the caller's transaction. The row is gone, so
    who lifted it is in the log."""
    allocation = _locked(channel=channel, sku=sku, location=location)
    if allocation is None:
        return None
    terms_announce(keys={(sku.pk, location.pk)})
    allocation.delete()
    logger.info(
        "protection lifted: %s of %s at %s for %s, by %s",
        allocation.units, sku.code, location.code, channel.code, actor.name,
    )  # fmt: skip
    return allocation


def _locked(*, channel: Channel, sku: Sku, location: Location) -> Allocation | None:
    return (
        Allocation.objects.select_for_update(no_key=True)
        .filter(channel=channel, sku=sku, location=location)
        .first()
    )


def _ensure_may_protect(*, channel: Channel, location: Location) -> None:
    errors: dict[str, list[str]] = {}
    if not channel.is_active:
        errors["channel"] = [f"Channel {channel.code!r} is closed: it sells nothing."]
    elif channel.kind == Channel.Kind.BACK_OFFICE:
        errors["channel"] = [
            f"Channel {channel.code!r} is a back-office system: it reports stock "
            "and sells none, so nothing is protected for it."
        ]
    if not location.is_active:
        errors["location"] = [
            f"Location {location.code!r} is closed: nothing is sold from it."
        ]
    elif outside_network(channel=channel, locations=[location]):
        errors["location"] = [
            not_in_network_message(channel=channel, location=location)
        ]
    if errors:
        raise InvalidInput(errors, "Units cannot be protected there for this channel.")
