"""Kits on an order being placed. A line naming a kit SKU becomes an ``OrderKitLine``
and one component line per component (``OrderLine.kit_line``, ``per_kit``; kits ×
per kit units), the kit as it stands when the order takes it (``catalog.kits``), or,
from a checkout's hold, as the hold took it (``ReservationKit.components``). A kit is
sold from the shelf: its components are committed in the order's one batch with
every other line, never promised against supply.

Also what a refusal says when a component is short: the units of one SKU at one
location are checked as one (the ledger posts the batch in order against the locked
balance, so a kit's lenses and a plain line's lens are one check), and the shortage
names the kits that asked for it. Whole kits when lines move on: ``kit_moves``."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalog.kits import Part, kit_parts
from catalog.models import Sku
from inventory.models import Location, Reservation
from inventory.movements import MAX_MOVEMENT_QUANTITY

from ..models import Order, OrderKitLine, OrderLine
from ..routing import RoutingLine
from .inputs import OrderLineInput


@dataclass(frozen=True)
class KitPlan:
    """``quantity`` kits of ``sku`` from ``location``, each made of ``parts``."""

    sku: Sku
    location: Location
    quantity: int
    parts: tuple[Part, ...]


def parts_of(lines: Sequence[OrderLineInput]) -> dict[int, list[Part]]:
    """The components of every kit the lines name, as the kits stand now: one query,
    none when no line names a kit."""
    kit_ids = {line.sku.pk for line in lines if line.sku.is_kit}
    return kit_parts(sku_ids=kit_ids) if kit_ids else {}


def kit_line_errors(line: OrderLineInput, parts: Mapping[int, list[Part]]) -> list[str]:
    """Why a kit line cannot be ordered (none for a plain line)."""
    if not line.sku.is_kit:
        return []
    found = parts.get(line.sku.pk)
    if not found:
        return [f"{line.sku.code} is a kit with no components any more."]
    gone = [part.sku.code for part in found if not part.sku.is_active]
    if gone:
        return [f"{line.sku.code}: its component {', '.join(gone)} is no longer sold."]
    if line.allow_future:
        return [
            f"{line.sku.code} is a kit: it is sold from the shelf, not pre-ordered."
        ]
    too_many = [
        part.sku.code
        for part in found
        if part.quantity * line.quantity > MAX_MOVEMENT_QUANTITY
    ]
    if too_many:
        return [
            f"{line.quantity} kits take more than {MAX_MOVEMENT_QUANTITY:,} units of "
            f"{', '.join(too_many)}."
        ]
    return []


def kit_plans(
    lines: Sequence[OrderLineInput],
    parts: Mapping[int, list[Part]],
    location_of,
) -> tuple[list[OrderLineInput], list[KitPlan]]:
    """The plain lines, and the kit lines planned at ``location_of(line)``."""
    plain = [line for line in lines if line.sku.pk not in parts]
    kits = [
        KitPlan(line.sku, location_of(line), line.quantity, tuple(parts[line.sku.pk]))
        for line in lines
        if line.sku.pk in parts
    ]
    return plain, kits


def routing_line(line: OrderLineInput, parts: Mapping[int, list[Part]]) -> RoutingLine:
    """The line as routing weighs it: a kit in kits of its components."""
    return RoutingLine(
        line.sku.pk,
        line.sku.code,
        line.quantity,
        tuple((part.sku.pk, part.quantity) for part in parts.get(line.sku.pk, ())),
    )


def stocked_skus(
    lines: Sequence[OrderLineInput], parts: Mapping[int, list[Part]]
) -> list[Sku]:
    """The SKUs on the shelves the lines need: plain ones, and the kits' components."""
    found: dict[int, Sku] = {}
    for line in lines:
        for sku in [part.sku for part in parts.get(line.sku.pk, ())] or [line.sku]:
            found.setdefault(sku.pk, sku)
    return list(found.values())


def held_plans(
    reservation: Reservation,
) -> tuple[list[tuple[Sku, Location, int]], list[KitPlan]]:
    """A checkout hold's units as the order's lines: each kit it took (with the
    components it took them with), and what is left of each held line besides its
    kits' units, a plain line."""
    held = list(reservation.lines.select_related("sku", "location").order_by("id"))
    taken_kits = list(reservation.kits.select_related("sku", "location").order_by("id"))
    skus = {row.sku_id: row.sku for row in held}
    missing = {
        part["sku_id"]
        for kit in taken_kits
        for part in kit.components
        if part["sku_id"] not in skus
    }
    if missing:
        skus.update(Sku.objects.in_bulk(missing))
    in_kits: dict[tuple[int, int], int] = defaultdict(int)
    plans = []
    for kit in taken_kits:
        parts = tuple(
            Part(skus[part["sku_id"]], part["quantity"]) for part in kit.components
        )
        for part in parts:
            in_kits[(part.sku.pk, kit.location_id)] += kit.quantity * part.quantity
        plans.append(KitPlan(kit.sku, kit.location, kit.quantity, parts))
    plain = [
        (row.sku, row.location, row.quantity - in_kits[(row.sku_id, row.location_id)])
        for row in held
        if row.quantity > in_kits[(row.sku_id, row.location_id)]
    ]
    return plain, plans


def kit_lines_create(
    order: Order, plans: Sequence[KitPlan]
) -> tuple[list[OrderKitLine], list[OrderLine]]:
    """The order's kit lines and their component lines, written."""
    if not plans:
        return [], []
    kit_lines = OrderKitLine.objects.bulk_create(
        [
            OrderKitLine(
                order=order,
                sku=plan.sku,
                location=plan.location,
                quantity=plan.quantity,
            )
            for plan in plans
        ]
    )
    components = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                sku=part.sku,
                location=plan.location,
                quantity=plan.quantity * part.quantity,
                kit_line=kit_line,
                per_kit=part.quantity,
            )
            for plan, kit_line in zip(plans, kit_lines, strict=True)
            for part in plan.parts
        ]
    )
    return kit_lines, components


def kits_shown(kit_lines: Sequence[OrderKitLine], rows: Sequence[OrderLine]) -> list:
    """The kit lines as the order's timeline names them: kits and their parts."""
    return [
        {
            "kit_line": kit_line.pk,
            "sku": kit_line.sku.code,
            "location": kit_line.location.code,
            "quantity": kit_line.quantity,
            "components": [
                {"line": row.pk, "sku": row.sku.code, "per_kit": row.per_kit}
                for row in rows
                if row.kit_line_id == kit_line.pk
            ],
        }
        for kit_line in kit_lines
    ]


def shortages_checked_together(
    shortages: Sequence[dict], batch: Sequence, kit_of: Mapping[str, str]
) -> list[dict]:
    """The ledger's refusals, one per SKU and location, as the check they were: every
    unit asked there (a kit's components and a plain line's alike), against what
    could be promised there before the batch took any. ``batch`` is the commitments
    as posted, each SKU and location's in ascending quantity, so the refused ones are
    the last of theirs (the first refused leaves the balance as it was, and every
    later one asks at least as much); ``kit_of`` names the kit of a commitment's
    reference (none for a plain line's). Each entry says ``kit``, the first kit that
    needed it (null when only plain lines did), and ``kits``, every one."""
    by_place: dict[tuple, list] = defaultdict(list)
    for line in batch:
        by_place[(line.sku.code, line.location.code)].append(line)
    refused: dict[tuple, list[dict]] = defaultdict(list)
    for short in shortages:
        refused[(short["sku"], short.get("location"))].append(short)
    checked = []
    for key, shorts in refused.items():
        lines = by_place.get(key, [])
        accepted = lines[: max(0, len(lines) - len(shorts))]
        kits = list(
            dict.fromkeys(kit_of[x.reference] for x in lines if x.reference in kit_of)
        )
        first = shorts[0]
        checked.append(
            {
                **first,
                "requested": sum(line.quantity for line in lines) or first["requested"],
                "available_to_promise": (first.get("available_to_promise") or 0)
                + sum(line.quantity for line in accepted),
                "kit": kits[0] if kits else None,
                "kits": kits,
            }
        )
    return checked
