"""Availability of kits: the one place a kit's row at a location is made, from its
components' rows there (``inventory.selectors.availability_rows``, the one rule:
buffers, protections, lapsed holds, status).

A kit holds no stock of its own (``catalog.kits``): its row at a location, for a
channel, is

- every bucket 0 (``on_hand``, ``reserved``, …): its units are its components';
- ``available``: the minimum over its components of floor(component's
  ``available`` ÷ units per kit); ``available_to_promise`` the same over their
  ``available_to_promise``, so each component's own buffer, protections and holds
  count as they do for that component, and the kit's ``safety_buffer`` is 0 (the
  buffers are inside its components' figures);
- ``status``: the least certain of its components' (``least_certain``);
- ``sequence``: ``kit_revision × KIT_REVISION_STEP`` plus the sum of its components'
  balance sequences there: it rises whenever any component's does, and a
  redefinition (``kit_revision`` moves) never makes it fall, since the step is far
  above any sum of sequences;
- ``as_of``: the latest of its components';
- ``components``: per component its code, units per kit, ``available``,
  ``available_to_promise`` and ``status``, as ``ComponentFigures``.

A kit with no components left (redefined meanwhile) reads 0 everywhere.

``availability_rows`` hands any read naming a kit here (``availability_rows_with_
kits``): the kits' definitions in one query, then one ``availability_rows`` read of
the plain SKUs asked for and every component at every location asked for (a
component is never a kit, so it comes straight back). Sync reads a kit's row the
same way when a component changes (``kits_defined(component_ids=…)``, then
``kit_rows``).
"""

from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from catalog.models import KIT_REVISION_STEP, Channel, KitComponent
from config.replicas import reading_alias

from .movements import BUCKETS
from .selectors import (
    AvailabilityRow,
    SkuRef,
    SourceStates,
    availability_rows,
    least_certain,
)


class ComponentFigures(NamedTuple):
    """One component's figures in a kit's row."""

    sku: str  # its code
    quantity: int  # units per kit
    available: int
    available_to_promise: int
    status: str


class KitRow(AvailabilityRow):
    """A kit's row: an ``AvailabilityRow`` (its buckets 0) with its components'
    figures."""

    __slots__ = ("components",)

    def __init__(self) -> None:
        for bucket in BUCKETS:
            setattr(self, bucket, 0)


class Kit(NamedTuple):
    """A kit as its row is made: the kit itself, its revision and its parts (each
    component with its units per kit), in component code order."""

    ref: SkuRef
    revision: int
    parts: tuple[tuple[SkuRef, int], ...]


def kits_defined(
    *,
    kit_ids: Collection[int] = (),
    component_ids: Collection[int] = (),
) -> dict[int, Kit]:
    """The kits among ``kit_ids``, or the kits containing any of ``component_ids``,
    by id, with their parts: one query, on the database this request reads from. A
    kit with no components is absent."""
    if not kit_ids and not component_ids:
        return {}
    rows = KitComponent.objects.using(reading_alias())
    if kit_ids:
        rows = rows.filter(kit_id__in=set(kit_ids))
    else:
        rows = rows.filter(
            kit_id__in=KitComponent.objects.filter(
                component_id__in=set(component_ids)
            ).values("kit_id")
        )
    fields = ("kit_id", "kit__code", "kit__safety_buffer", "kit__kit_revision")
    found: dict[int, tuple[SkuRef, int, list]] = {}
    for kit_id, code, buffer, revision, *part, quantity in rows.values_list(
        *fields, "component_id", "component__code", "component__safety_buffer",
        "quantity",
    ).order_by("kit_id", "component__code"):  # fmt: skip
        kit = found.get(kit_id)
        if kit is None:
            kit = found[kit_id] = (SkuRef(kit_id, code, buffer, True), revision, [])
        kit[2].append((SkuRef(*part), quantity))
    return {
        kit_id: Kit(ref, revision, tuple(parts))
        for kit_id, (ref, revision, parts) in found.items()
    }


def kits_by_component(kits: Iterable[Kit]) -> dict[int, list[Kit]]:
    """Which of ``kits`` each component goes into, by component id."""
    found: dict[int, list[Kit]] = {}
    for kit in kits:
        for part, _ in kit.parts:
            found.setdefault(part.pk, []).append(kit)
    return found


def kit_rows(
    *,
    pairs: Sequence[tuple[Kit, Any]],
    channel: Channel | None,
    sources: SourceStates | None = None,
) -> list[KitRow]:
    """The row of each (kit, location) pair, in that order (each location as
    ``availability_rows`` takes it): one ``availability_rows`` read of their
    components."""
    _, rows = _read(
        [], [(kit, kit.ref, place) for kit, place in pairs], channel, sources
    )
    return rows


def availability_rows_with_kits(
    *,
    pairs: Sequence[tuple[Any, Any]],
    channel: Channel | None,
    sources: SourceStates | None = None,
    kits: dict[int, Kit] | None = None,
) -> list[AvailabilityRow]:
    """``availability_rows`` of pairs some of whose SKUs are kits (``is_kit``), in
    their order: a kit's row made from its components', with the SKU record the
    caller named; every other row as ``availability_rows`` reads it. ``kits``: the
    kits' definitions when the caller has read them (``kits_defined``)."""
    if kits is None:
        kits = kits_defined(kit_ids={sku.pk for sku, _ in pairs if sku.is_kit})
    plain, wanted = [], []
    for sku, location in pairs:
        if sku.is_kit:
            # Its definition gone meanwhile: a kit of nothing, which reads 0.
            kit = kits.get(sku.pk) or Kit(sku, 0, ())
            wanted.append((kit, sku, location))
        else:
            plain.append((sku, location))
    plain_rows, made = (iter(rows) for rows in _read(plain, wanted, channel, sources))
    return [next(made) if sku.is_kit else next(plain_rows) for sku, _ in pairs]


def _read(plain: list, wanted: list, channel, sources):
    """The plain pairs' rows and the (kit, SKU record, location) triples' rows, from
    one ``availability_rows`` read."""
    parts = {
        (part.pk, place.pk): (part, place)
        for kit, _, place in wanted
        for part, _ in kit.parts
    }
    rows = availability_rows(
        pairs=[*plain, *parts.values()], channel=channel, sources=sources
    )
    of_parts = {(row.sku.pk, row.location.pk): row for row in rows[len(plain) :]}
    made = [
        _kit_row(
            kit,
            sku,
            place,
            channel,
            [(of_parts[(part.pk, place.pk)], quantity) for part, quantity in kit.parts],
        )
        for kit, sku, place in wanted
    ]
    return rows[: len(plain)], made


def _kit_row(
    kit: Kit, sku, location, channel, parts: list[tuple[AvailabilityRow, int]]
) -> KitRow:
    row = KitRow()
    row.sku, row.location, row.channel = sku, location, channel
    row.available = min((part.available // per for part, per in parts), default=0)
    row.available_to_promise = min(
        (part.available_to_promise // per for part, per in parts), default=0
    )
    row.safety_buffer = 0
    row.status = least_certain(part.status for part, _ in parts)
    row.sequence = kit.revision * KIT_REVISION_STEP + sum(
        part.sequence for part, _ in parts
    )
    row.as_of = max(
        (part.as_of for part, _ in parts if part.as_of is not None), default=None
    )
    row.components = [
        ComponentFigures(
            part.sku.code,
            per,
            part.available,
            part.available_to_promise,
            part.status,
        )
        for part, per in parts
    ]
    return row
