"""Where each line of an order being placed is fulfilled from, and the decision
shown for it: the checkout hold's locations, the pickup store, the locations the
channel named, or routed (``orders.routing``) on a fresh snapshot of the channel's
network (``selectors.routing_candidates``). A kit line is planned whole at one
location (split only where the channel allows it), as a ``kits.KitPlan``. Reads
only: ``placing`` writes what is planned."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from catalog.kits import Part
from catalog.models import Channel, Sku
from config.errors import InvalidInput
from inventory.errors import InsufficientStock
from inventory.models import Location

from .. import selectors
from ..models import Method, Order
from ..routing import Weights, nearest_that_can_fill, route
from . import kits
from .inputs import Delivery, OrderLineInput
from .kits import KitPlan

ROUTING_WEIGHTS = Weights()


@dataclass
class Plan:
    """Where each line's units come from, and the decision to show for it."""

    lines: list[tuple[Sku, Location, int]]  # plain lines
    routing: dict
    walk_in_kept: set[int] = field(default_factory=set)  # location ids
    kits: list[KitPlan] = field(default_factory=list)


def plan_lines(
    order: Order,
    lines: Sequence[OrderLineInput],
    parts: dict[int, list[Part]],
    delivery: Delivery,
    now: datetime,
) -> Plan:
    """Which location fulfils each line, and the decision shown on the timeline."""
    if order.reservation is not None:
        held, held_kits = kits.held_plans(order.reservation)
        places = sorted(
            {row[1].code for row in held} | {kit.location.code for kit in held_kits}
        )
        return Plan(
            lines=held,
            kits=held_kits,
            routing={
                "strategy": "reservation",
                "reason": f"The checkout held these units at {', '.join(places)}; "
                "the order is fulfilled from there.",
            },
        )
    if order.pickup_location is not None:
        store = order.pickup_location
        plain, kit_plans = kits.kit_plans(lines, parts, lambda line: store)
        return Plan(
            lines=[(line.sku, store, line.quantity) for line in plain],
            kits=kit_plans,
            routing={
                "strategy": "pickup",
                "reason": f"The customer collects at {store.code}, so it fulfils "
                "the order.",
            },
        )
    shipped_from_stores = {
        line.location.pk
        for line in lines
        if line.location is not None and line.location.kind == Location.Kind.STORE
    }
    if all(line.location is not None for line in lines):
        places = sorted({line.location.code for line in lines})
        plain, kit_plans = kits.kit_plans(lines, parts, lambda line: line.location)
        return Plan(
            lines=[(line.sku, line.location, line.quantity) for line in plain],
            kits=kit_plans,
            routing={
                "strategy": "chosen_by_channel",
                "reason": f"The channel named the location: {', '.join(places)}.",
            },
            walk_in_kept=shipped_from_stores,
        )
    return _routed(order, lines, parts, delivery, now)


def _routed(
    order: Order,
    lines: Sequence[OrderLineInput],
    parts: dict[int, list[Part]],
    delivery: Delivery,
    now: datetime,
) -> Plan:
    if any(line.location is not None for line in lines):
        raise InvalidInput(
            {"lines": ["Name a location on every line, or on none to have it routed."]}
        )
    skus = {line.sku.pk: line.sku for line in lines}
    candidates = selectors.routing_candidates(
        channel=order.channel,
        skus=kits.stocked_skus(lines, parts),
        method=order.fulfilment_method,
        now=now,
    )
    decision = route(
        lines=[kits.routing_line(line, parts) for line in lines],
        candidates=candidates,
        destination=delivery.point,
        weights=ROUTING_WEIGHTS,
        kit_split=order.channel.allow_kit_split,
    )
    if decision.shortages:
        kit_codes = {skus[pk].code for pk in parts}
        raise InsufficientStock(
            "No location, alone or with others, can fill every line; nothing was "
            "committed.",
            shortages=[
                {
                    "sku": short["sku"],
                    "location": None,
                    "requested": short["requested"],
                    "available_to_promise": short["requested"] - short["short"],
                    **_kit_named(short["sku"], kit_codes),
                }
                for short in decision.shortages
            ],
        )
    locations = Location.objects.in_bulk([a.location_id for a in decision.allocations])
    planned = [
        (skus[sku_id], locations[allocation.location_id], units)
        for allocation in decision.allocations
        for sku_id, units in allocation.units.items()
    ]
    return Plan(
        lines=[line for line in planned if line[0].pk not in parts],
        kits=[
            KitPlan(sku, location, units, tuple(parts[sku.pk]))
            for sku, location, units in planned
            if sku.pk in parts
        ],
        routing=decision.as_json(),
        walk_in_kept={
            location.pk
            for location in locations.values()
            if location.kind == Location.Kind.STORE
        },
    )


def stores_that_can_fill(
    channel: Channel,
    lines: Sequence[OrderLineInput],
    parts: dict[int, list[Part]],
    store: Location,
) -> list[dict]:
    candidates = selectors.routing_candidates(
        channel=channel,
        skus=kits.stocked_skus(lines, parts),
        method=Method.PICKUP,
        now=timezone.now(),
    )
    origin = None
    if store.latitude is not None and store.longitude is not None:
        origin = (float(store.latitude), float(store.longitude))
    return nearest_that_can_fill(
        lines=[kits.routing_line(line, parts) for line in lines],
        candidates=[c for c in candidates if c.location_id != store.pk],
        origin=origin,
    )


def _kit_named(code: str, kit_codes: set[str]) -> dict:
    """What a routed order's shortage says of kits, when it has any: the kit no
    location could fill names itself."""
    if not kit_codes:
        return {}
    is_kit = code in kit_codes
    return {"kit": code if is_kit else None, "kits": [code] if is_kit else []}
