"""Holds of kits: a cart that names a kit holds every component of it, or nothing.

A kit holds no stock of its own (``catalog.kits``). Before a hold is placed, each of
its kit lines becomes the units of its components at the kit's location, summed with
every other unit of the same SKU there that the cart asks for (another kit's, or a
plain line's), so one hold line and one check under the balance's lock cover them
all: a kit of two lenses and a lens besides is one check of three lenses, never two
checks that each see the shelf whole. The lines are then held as any others, in the
one (SKU, location) lock order, all or nothing (``reservations.reservation_place``).

What each kit took is kept beside the hold (``ReservationKit``): how many kits, and
what one was made of then, so an order taking the hold over gets its kit lines back,
and a kit redefined later changes nothing held.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import transaction

from catalog.kits import Definition, kit_definitions
from catalog.models import Sku
from config.errors import InvalidInput

from ..models import Location, Reservation, ReservationKit
from ..movements import MAX_MOVEMENT_QUANTITY

# The kits this process has read, by code, with their ids: the checkout takes a cart
# naming one apart before its one server call (``checkout``), which writes the hold
# only while each kit's revision is still the one read here; otherwise it steps
# aside, and the general path reads the kit afresh and remembers it. Forgetting costs
# no more than one hold by the general path, so the memory is simply emptied when
# full.
_KNOWN: dict[str, tuple[int, Definition]] = {}
MAX_KNOWN = 10_000


@dataclass(frozen=True)
class KitTaken:
    """A kit line of a cart: ``quantity`` kits of ``sku`` at ``location``, each made
    of ``components`` (``[{"sku_id", "sku", "quantity"}]``, per kit), as the kit
    stood at ``revision``."""

    sku: Sku
    location: Location
    quantity: int
    components: list[dict]
    revision: int


@dataclass(frozen=True)
class Expanded:
    """A cart with its kits taken apart: ``lines`` as a hold holds them (one per SKU
    and location), ``kits`` what each kit line took, ``for_kits`` the codes of the
    kits that need each (SKU code, location code)."""

    lines: list
    kits: list[KitTaken]
    for_kits: dict[tuple[str, str], list[str]]


def cart_expand(
    *,
    lines: Sequence,
    line_type: type,
    known: dict[str, tuple[int, Definition]] | None = None,
) -> Expanded:
    """The cart's kit lines (a SKU with ``is_kit``) as their components' units,
    summed per (SKU, location) with the cart's other lines; ``line_type`` builds a
    line from (sku, location, quantity). A cart with no kit comes back as it was.

    The kits' definitions are read (and remembered for the checkout) unless
    ``known`` gives them, by kit code, as the checkout remembered them. InvalidInput,
    in the cart's shape, for a kit whose components no longer sell or whose units
    would pass a line's bound; nothing is read when there is no kit."""
    for line in lines:
        if not line.sku.is_kit:
            _KNOWN.pop(line.sku.code, None)  # a kit no longer, if it was one
    kit_codes = {line.sku.code for line in lines if line.sku.is_kit}
    if not kit_codes:
        return Expanded(list(lines), [], {})
    if known is None:
        known = _read({line.sku.pk for line in lines if line.sku.is_kit})
    summed: dict[tuple[str, str], list] = {}
    kits: list[KitTaken] = []
    for_kits: dict[tuple[str, str], list[str]] = {}
    errors: list[dict[str, list[str]]] = []
    for line in lines:
        problems: dict[str, list[str]] = {}
        definition = known.get(line.sku.code, (0, None))[1]
        if line.sku.code not in kit_codes:
            _add(summed, line.sku, line.location, line.quantity)
        elif definition is None or not definition.parts:
            problems["sku"] = [f"Kit {line.sku.code} has no components."]
        else:
            kits.append(
                KitTaken(
                    sku=line.sku,
                    location=line.location,
                    quantity=line.quantity,
                    components=[
                        {
                            "sku_id": part.sku.pk,
                            "sku": part.sku.code,
                            "quantity": part.quantity,
                        }
                        for part in definition.parts
                    ],
                    revision=definition.revision,
                )
            )
            for part in definition.parts:
                if not part.sku.is_active:
                    problems.setdefault("sku", []).append(
                        f"{part.sku.code}, a component of kit {line.sku.code}, is no "
                        "longer sold."
                    )
                _add(summed, part.sku, line.location, part.quantity * line.quantity)
                for_kits.setdefault((part.sku.code, line.location.code), []).append(
                    line.sku.code
                )
        errors.append(problems)
    # Units summed past a line's bound: said on the kit lines that took them there.
    over = {
        key for key, (_, _, units) in summed.items() if units > MAX_MOVEMENT_QUANTITY
    }
    for line, problems in zip(lines, errors, strict=True):
        definition = known.get(line.sku.code, (0, None))[1]
        too_many = [
            part.sku.code
            for part in (definition.parts if definition else [])
            if line.sku.code in kit_codes
            and (part.sku.code, line.location.code) in over
        ]
        if too_many and not problems:
            problems["quantity"] = [
                f"{line.quantity} kits take more than {MAX_MOVEMENT_QUANTITY:,} "
                f"units of {', '.join(too_many)} at {line.location.code}."
            ]
    if any(errors):
        raise InvalidInput({"lines": errors})
    return Expanded(
        [line_type(sku, location, units) for sku, location, units in summed.values()],
        kits,
        for_kits,
    )


def _read(kit_ids: set[int]) -> dict[str, tuple[int, Definition]]:
    """The kits' definitions as they stand, by code, remembered for the checkout."""
    read = {
        definition.code: (kit_id, definition)
        for kit_id, definition in kit_definitions(sku_ids=kit_ids).items()
    }
    # Remembered once what was read is committed: a definition written in this same
    # transaction and rolled back is never taken for the kit's.
    transaction.on_commit(lambda: _remember(read))
    return read


def _remember(read: dict[str, tuple[int, Definition]]) -> None:
    if len(_KNOWN) + len(read) > MAX_KNOWN:
        _KNOWN.clear()
    _KNOWN.update(read)


def kits_known(*, codes: Collection[str]) -> dict[str, tuple[int, Definition]]:
    """Of ``codes``, the kits this process has read, by code, with their ids."""
    # ``get``: another thread may forget a kit between a test and a read.
    found = {code: _KNOWN.get(code) for code in codes}
    return {code: known for code, known in found.items() if known is not None}


def _add(summed: dict, sku: Sku, location: Location, units: int) -> None:
    entry = summed.setdefault((sku.code, location.code), [sku, location, 0])
    entry[2] += units


def kits_record(*, reservation: Reservation, kits: Sequence[KitTaken]) -> list:
    """What each kit line of a hold took, beside its lines."""
    if not kits:
        return []
    return ReservationKit.objects.bulk_create(
        ReservationKit(
            reservation=reservation,
            sku=taken.sku,
            location=taken.location,
            quantity=taken.quantity,
            components=taken.components,
        )
        for taken in kits
    )


def shortages_for_kits(shortages: list[dict], expanded: Expanded) -> list[dict]:
    """Each shortage of a cart with kits, saying which of its kits needed the SKU
    there (``kits``: their codes; empty for units asked for alone)."""
    for shortage in shortages:
        shortage["kits"] = expanded.for_kits.get(
            (shortage["sku"], shortage["location"]), []
        )
    return shortages
