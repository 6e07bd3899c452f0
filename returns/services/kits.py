"""Kits coming back. A kit holds no stock of its own, so a return line naming a kit
becomes one line per component, each naming the kit (``ReturnLine.kit``), and is
received and graded as any line: each part goes where its own grade puts it.

- Of an order: the kits come off the order's kit lines of that kit, oldest first, a
  whole kit at a time. Each component's units (kits x ``per_kit``) come off that kit
  line's component line (``OrderLine.kit_line``), within what the line may still
  give back (``returnable_quantities``), so a kit returned beyond what was bought is
  refused as any SKU is. The parts are the order's, as sold, whatever the kit is
  made of now. A kit the order did not sell as a kit is refused: parts the order
  sold alone come back by their own codes.
- Without an order (a till receipt): the kit's components as it is defined now
  (``catalog.kits.kit_parts``).
"""

from collections.abc import Sequence
from dataclasses import replace

from django.db.models import Prefetch

from catalog.kits import Part, kit_parts
from inventory.movements import MAX_MOVEMENT_QUANTITY
from orders.models import Order, OrderKitLine, OrderLine

from ..selectors import returnable_quantities


def kits_named(lines: Sequence, order: Order | None) -> dict[int, list[Part]]:
    """The kits the return lines name, by id, each with its components as it is
    defined now; and, on a return of an order, the SKUs the order sold as kits,
    whatever they are now (their parts are the order's, as sold)."""
    found = kit_parts(sku_ids={line.sku.pk for line in lines if line.sku.is_kit})
    if order is not None:
        sold_as_kits = OrderKitLine.objects.filter(
            order=order, sku__in={line.sku.pk for line in lines}
        ).values_list("sku_id", flat=True)
        for kit_id in sold_as_kits:
            found.setdefault(kit_id, [])
    return found


def kit_taken(
    order: Order | None, line, parts: list[Part], claimed: dict[int, int]
) -> tuple[list, str]:
    """The kit line ``line`` as component lines: ``(input, order line, units)``
    each, the input naming the component and the kit; or why it cannot come back.
    ``claimed`` holds what earlier lines of the same return take off the order."""
    if order is not None:
        return _off_order(order, line, claimed)
    taken = []
    for part in parts:
        units = line.quantity * part.quantity
        if units > MAX_MOVEMENT_QUANTITY:
            return [], (
                f"{line.quantity:,} of {line.sku.code} is {units:,} × "
                f"{part.sku.code}: at most {MAX_MOVEMENT_QUANTITY:,}."
            )
        taken.append((_component(line, part.sku, units), None, units))
    return taken, ""


def _off_order(order: Order, line, claimed: dict[int, int]) -> tuple[list, str]:
    kit = line.sku
    kit_lines = list(
        OrderKitLine.objects.filter(order=order, sku=kit)
        .order_by("id")
        .prefetch_related(
            Prefetch(
                "components",
                OrderLine.objects.select_related("sku", "kit_line").order_by("id"),
            )
        )
    )
    kit_lines = [each for each in kit_lines if each.components.all()]
    if not kit_lines:
        return [], (
            f"{kit.code} was not sold as a kit on order {order.reference}: take its "
            "items back one by one."
        )
    room = returnable_quantities(
        [part for each in kit_lines for part in each.components.all()]
    )
    taken, wanted = [], line.quantity
    for kit_line in kit_lines:
        parts = list(kit_line.components.all())
        # Whole kits only: a kit short of a part is not a kit coming back.
        whole = min((room[p.pk] - claimed.get(p.pk, 0)) // p.per_kit for p in parts)
        kits = min(wanted, max(whole, 0))
        if kits:
            for part in parts:
                units = kits * part.per_kit
                taken.append((_component(line, part.sku, units, part), part, units))
            wanted -= kits
    if not wanted:
        return taken, ""
    bought = sum(
        min(part.fulfilled_quantity // part.per_kit for part in each.components.all())
        for each in kit_lines
    )
    if not bought:
        return [], (
            f"No {kit.code} kit on order {order.reference} has been delivered yet: "
            "cancel it instead."
        )
    return [], (
        f"Only {line.quantity - wanted} of {kit.code} can come back: {bought} bought "
        f"on order {order.reference}, the rest already returned or announced."
    )


def _component(line, sku, units: int, order_line: OrderLine | None = None):
    return replace(line, sku=sku, quantity=units, kit=line.sku, order_line=order_line)
