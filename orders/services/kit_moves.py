"""Kits when an order's lines move on (``moves.lines_move``). A kit's units move on its
component lines like any others (picked, short, shipped, collected one component at
a time); what is particular to a kit is that it is cancelled whole:

- a request may name a kit line (``KitQuantity``): that many kits, each component
  line by its units per kit;
- a cancellation that would leave part of a kit (some of one component cancelled,
  not the rest of the kit) is refused (``KitSplitRefused``), unless the channel
  allows splitting kits (``Channel.allow_kit_split``);
- a component's short units cancelled by a decision (nothing takes their place)
  take the rest of their kit with them: the kit cannot go whole, so it does not go.

A kit already left in part (a component's units served another way, a channel that
splits kits) is no longer held to it."""

from collections import defaultdict
from collections.abc import Callable, Sequence

from config import words

from ..models import Order, OrderLine
from .inputs import KitQuantity, KitSplitRefused

Wanted = list[tuple[OrderLine, int]]


def kit_units(
    kit: KitQuantity,
    rows: dict[int, OrderLine],
    room: Callable[[OrderLine], int],
    done: str,
) -> tuple[Wanted, dict[str, list[str]]]:
    """The units of each component ``kit`` asks for (``quantity`` None: every kit
    that can), or the problem with it, in the shape of the request's line."""
    parts = [row for row in rows.values() if row.kit_line_id == kit.kit_line_id]
    if not parts:
        return [], {"kit_line": [f"No kit line {kit.kit_line_id} on this order."]}
    can = min(room(row) // row.per_kit for row in parts)
    kits = can if kit.quantity is None else kit.quantity
    if kits < 1 or kits > can:
        return [], {
            "quantity": [
                f"{words.units(can, 'kit')} of this kit line can be {done}; "
                f"asked {kits}."
            ]
        }
    return [(row, kits * row.per_kit) for row in parts], {}


def kits_kept_whole(order: Order, rows: dict[int, OrderLine], wanted: Wanted) -> Wanted:
    """Refuse a cancellation that leaves part of a kit (``KitSplitRefused``, naming
    it), unless the channel splits kits."""
    if order.channel.allow_kit_split:
        return wanted
    asked = dict((row.pk, units) for row, units in wanted)
    for kit_line_id, parts in _kits_touched(rows, wanted).items():
        if _whole(parts, {}) and not _whole(parts, asked):
            kit = parts[0].kit_line
            raise KitSplitRefused(
                f"That would leave part of kit {kit.sku.code} (kit line "
                f"{kit_line_id}): cancel whole kits, naming the kit line, or every "
                f"component {'; '.join(_per_kit(parts))}. Nothing was changed.",
                kit_line=kit_line_id,
                kit=kit.sku.code,
            )
    return wanted


def kits_cancelled_whole(
    order: Order, rows: dict[int, OrderLine], wanted: Wanted
) -> Wanted:
    """The units asked, and the rest of every kit they leave in part: each component
    of the kit cancelled down to the whole kits its scarcest component still has."""
    if order.channel.allow_kit_split:
        return wanted
    asked = dict((row.pk, units) for row, units in wanted)
    widened = dict(asked)
    for parts in _kits_touched(rows, wanted).values():
        if not _whole(parts, {}):
            continue
        kits_left = min(_kept(row, asked) // row.per_kit for row in parts)
        for row in parts:
            # Units already shipped stay shipped: only open ones can go.
            more = min(
                _kept(row, asked) - kits_left * row.per_kit,
                row.open_quantity - asked.get(row.pk, 0),
            )
            if more > 0:
                widened[row.pk] = widened.get(row.pk, 0) + more
    return [(rows[pk], units) for pk, units in widened.items()]


def _kits_touched(rows: dict[int, OrderLine], wanted: Wanted) -> dict:
    touched = {row.kit_line_id for row, _ in wanted if row.kit_line_id is not None}
    parts: dict[int, list[OrderLine]] = defaultdict(list)
    for row in rows.values():
        if row.kit_line_id in touched:
            parts[row.kit_line_id].append(row)
    return parts


def _kept(row: OrderLine, cancelling: dict[int, int]) -> int:
    """Units of the line not cancelled, once ``cancelling`` is."""
    return row.quantity - row.cancelled_quantity - cancelling.get(row.pk, 0)


def _whole(parts: Sequence[OrderLine], cancelling: dict[int, int]) -> bool:
    """Whether the components keep the same whole number of kits."""
    kits = {divmod(_kept(row, cancelling), row.per_kit) for row in parts}
    return len(kits) == 1 and next(iter(kits))[1] == 0


def _per_kit(parts: Sequence[OrderLine]) -> list[str]:
    return [f"{row.per_kit} × {row.sku.code} (line {row.pk}) per kit" for row in parts]
