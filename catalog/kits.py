"""Kits: SKUs sold as one while the shelves hold their parts. Which SKUs a kit is
made of is written here (``kit_components_set``, from ``sku_upsert``) and read here
(``kit_parts``; ``kit_definitions`` with the revision); what a kit can sell, and
holds, orders and returns of one, are inventory's, orders' and returns'
(``inventory.kit_availability``, ``inventory.services.kits``, ``orders.services.kits``,
``returns.services.kits``).

The rules of a definition:

- a component is never itself a kit, and a kit is never a component of another;
- the same component named twice is one component, its quantities summed (two lenses
  per kit are one part of quantity 2, so every check counts both);
- a SKU that holds stock, or is held or ordered anywhere, does not become a kit
  (``catalog.signals.sku_becoming_kit``, answered by inventory);
- a definition changed later never changes a hold or an order, which keep the
  components they took; ``Sku.kit_revision`` moves, so the kit's sequence does;
- a kit stays a kit (its components may change, never to none): closed
  (``is_active``), it stops selling.
"""

from collections.abc import Collection, Sequence
from typing import NamedTuple

from django.db import transaction

from config.errors import InvalidInput

from .models import MAX_COMPONENT_QUANTITY, MAX_KIT_COMPONENTS, KitComponent, Sku
from .signals import kit_redefined, sku_becoming_kit


class Part(NamedTuple):
    """One component of a kit: ``quantity`` units of ``sku`` in each kit."""

    sku: Sku
    quantity: int


def kit_components_set(*, kit: Sku, components: Sequence[tuple[Sku, int]]) -> bool:
    """Make ``kit`` (a locked row of this transaction) a kit of ``components`` (none:
    it stays a plain SKU, or is refused if it is a kit). True when the definition
    changed. InvalidInput, naming
    the components, for a definition the rules refuse; nothing is written then."""
    summed: dict[int, list] = {}
    for sku, quantity in components:
        summed.setdefault(sku.pk, [sku, 0])[1] += quantity
    with transaction.atomic():
        # The parts locked, in id order, so a part cannot become a kit meanwhile (and
        # its kit flag is read fresh); the kit's own row is locked by the caller.
        locked = {
            sku.pk: sku
            for sku in Sku.objects.select_for_update(no_key=True)
            .filter(pk__in=summed)
            .order_by("pk")
        }
        _check(kit, [(locked[pk], quantity) for pk, (_, quantity) in summed.items()])
        wanted = {pk: quantity for pk, (_, quantity) in summed.items()}
        current = dict(
            KitComponent.objects.filter(kit=kit).values_list("component_id", "quantity")
        )
        if wanted == current:
            return False
        if wanted and not kit.is_kit:
            sku_becoming_kit.send(sender=Sku, sku=kit)
        KitComponent.objects.filter(kit=kit).delete()
        KitComponent.objects.bulk_create(
            KitComponent(kit=kit, component_id=pk, quantity=quantity)
            for pk, quantity in sorted(wanted.items())
        )
        kit.is_kit = bool(wanted)
        kit.kit_revision += 1
        kit.save(update_fields=["is_kit", "kit_revision", "updated_at"])
        kit_redefined.send(sender=Sku, sku=kit, components=set(wanted) | set(current))
        return True


def _check(kit: Sku, parts: list[tuple[Sku, int]]) -> None:
    errors: list[str] = []
    if len(parts) > MAX_KIT_COMPONENTS:
        errors.append(f"At most {MAX_KIT_COMPONENTS} components.")
    for sku, quantity in parts:
        if sku.pk == kit.pk:
            errors.append(f"{kit.code} cannot be a component of itself.")
        elif sku.is_kit:
            errors.append(f"{sku.code} is a kit; a component cannot be a kit.")
        if not 1 <= quantity <= MAX_COMPONENT_QUANTITY:
            errors.append(
                f"{sku.code}: from 1 to {MAX_COMPONENT_QUANTITY:,} units per kit."
            )
    if kit.is_kit and not parts:
        # Its rows would stay with the channels, unannounced: a kit that should
        # stop selling is closed (is_active), and another SKU sells the parts.
        errors.append(
            f"{kit.code} is a kit and stays one: change its components, or set "
            "is_active to false to stop selling it."
        )
    if parts:
        within = (
            KitComponent.objects.filter(component=kit)
            .select_related("kit")
            .order_by("kit__code")
            .first()
        )
        if within is not None:
            errors.append(
                f"{kit.code} is a component of kit {within.kit.code}; a component "
                "cannot be a kit."
            )
    if errors:
        raise InvalidInput({"components": errors})


class Definition(NamedTuple):
    """A kit as one read found it: its code, its ``kit_revision`` and its parts, all
    of one moment (a redefinition moves the revision)."""

    code: str
    revision: int
    parts: list[Part]


def kit_definitions(*, sku_ids: Collection[int]) -> dict[int, Definition]:
    """Each kit among ``sku_ids`` (a SKU that is not a kit is left out), with its
    revision and its components in component code order: one query, so the revision
    and the parts belong together."""
    found: dict[int, Definition] = {}
    if not sku_ids:
        return found
    rows = (
        KitComponent.objects.filter(kit_id__in=sku_ids)
        .select_related("component", "kit")
        .order_by("kit_id", "component__code")
    )
    for row in rows:
        definition = found.get(row.kit_id)
        if definition is None:
            definition = found[row.kit_id] = Definition(
                row.kit.code, row.kit.kit_revision, []
            )
        definition.parts.append(Part(row.component, row.quantity))
    return found


def kit_parts(*, sku_ids: Collection[int]) -> dict[int, list[Part]]:
    """The components of each kit among ``sku_ids`` (a SKU that is not a kit is left
    out), in component code order: one query."""
    return {
        kit_id: definition.parts
        for kit_id, definition in kit_definitions(sku_ids=sku_ids).items()
    }


def kits_containing(*, sku_ids: Collection[int]) -> dict[int, set[int]]:
    """For each of ``sku_ids`` that is a component, the kits it goes into: one
    query."""
    found: dict[int, set[int]] = {}
    if not sku_ids:
        return found
    rows = KitComponent.objects.filter(component_id__in=sku_ids).values_list(
        "component_id", "kit_id"
    )
    for component_id, kit_id in rows:
        found.setdefault(component_id, set()).add(kit_id)
    return found
