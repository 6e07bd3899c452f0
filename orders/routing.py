"""Which location fulfils a shipped order, and why: a pure function over a snapshot.

``route`` takes the order's lines, the customer's coordinates and one ``Candidate``
per location (its stock for the selling channel and what routing weighs) and returns
a ``RoutingDecision``: the allocation, every candidate with its score or the reason it
was ruled out, and one sentence saying why the winner won. It reads no database and
no clock, so the same snapshot always gives the same answer (``orders.selectors``
builds the snapshot; ``orders.services`` commits what it decides).

The rules, in order:

1. A candidate is ruled out when it does not ship for this method, has no capacity
   left today, or is farther from the customer than it ships.
2. A store never ships the units it keeps for walk-in customers (its buffer).
3. One shipment beats a split: among the candidates that can fill the whole order,
   the lowest score wins; score = km × ``per_km`` + shipping cost × ``per_cost`` +
   ``full_load`` × the share of today's capacity already used (lower is better).
4. Only when no candidate can fill it, the order is split: the candidate covering the
   most units first (lower score on a tie), and so on until every unit is placed. What
   no candidate has is a shortage.
5. A kit line (``RoutingLine.parts``) is counted in kits: a location can give as many
   as its scarcest component allows, each component's walk-in units kept back. A kit
   goes whole to one location unless the channel allows splitting kits
   (``kit_split``); a unit one line takes (a kit's component, a plain line of the same
   SKU, another kit sharing it) is not counted again for another: kits first.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Weights:
    """Points per km, per unit of shipping cost, and for a location at full load."""

    per_km: float = 1.0
    per_cost: float = 10.0
    full_load: float = 50.0
    # A location without coordinates is scored as if it were this far away.
    unknown_distance_km: float = 1000.0


@dataclass(frozen=True)
class RoutingLine:
    """Units of a SKU, or kits of a kit SKU: ``parts`` (component id, units per kit)
    when it is one."""

    sku_id: int
    sku_code: str
    quantity: int
    parts: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One location as routing sees it, for one order."""

    location_id: int
    code: str
    is_store: bool
    ships: bool  # ships for this fulfilment method
    latitude: float | None
    longitude: float | None
    shipping_cost: float
    orders_today: int
    daily_capacity: int | None  # None: no limit
    walk_in_buffer: int
    service_radius_km: float | None  # None: ships anywhere
    # Units of each SKU the selling channel may promise here (its buffer kept back).
    available_to_promise: Mapping[int, int] = field(default_factory=dict)

    def shippable(self, sku_id: int) -> int:
        """What routing may send from here: a store keeps its walk-in units."""
        keep = self.walk_in_buffer if self.is_store else 0
        return max(0, self.available_to_promise.get(sku_id, 0) - keep)


@dataclass(frozen=True)
class Verdict:
    """How one candidate fared: ruled out with a reason, or scored."""

    code: str
    distance_km: float | None
    shipping_cost: float
    orders_today: int
    daily_capacity: int | None
    units_available: int
    fills_whole_order: bool
    score: float | None
    ruled_out: str = ""

    def as_json(self) -> dict:
        return {
            "location": self.code,
            "distance_km": _rounded(self.distance_km),
            "shipping_cost": round(self.shipping_cost, 2),
            "orders_today": self.orders_today,
            "daily_capacity": self.daily_capacity,
            "units_available": self.units_available,
            "fills_whole_order": self.fills_whole_order,
            "score": _rounded(self.score),
            "ruled_out": self.ruled_out,
        }


@dataclass(frozen=True)
class Allocation:
    location_id: int
    code: str
    units: dict[int, int]  # sku id → quantity


@dataclass(frozen=True)
class RoutingDecision:
    allocations: list[Allocation]
    verdicts: list[Verdict]
    reason: str
    shortages: list[dict] = field(default_factory=list)

    @property
    def is_split(self) -> bool:
        return len(self.allocations) > 1

    def as_json(self) -> dict:
        return {
            "strategy": "routed",
            "reason": self.reason,
            "split": self.is_split,
            "allocations": [
                {"location": a.code, "units": sum(a.units.values())}
                for a in self.allocations
            ],
            "candidates": [verdict.as_json() for verdict in self.verdicts],
        }


def route(
    *,
    lines: Sequence[RoutingLine],
    candidates: Sequence[Candidate],
    destination: tuple[float, float] | None,
    weights: Weights = Weights(),
    kit_split: bool = False,
) -> RoutingDecision:
    """Decide which location(s) fulfil ``lines``; see the module's rules."""
    wanted = {line.sku_id: line.quantity for line in lines}
    total = sum(wanted.values())
    eligible: list[tuple[float, Candidate]] = []
    verdicts: list[Verdict] = []
    whole: list[tuple[float, str, Candidate, Verdict]] = []
    for candidate in candidates:
        distance = _distance(candidate, destination)
        units = sum(_given(lines, wanted, candidate.shippable, kit_split).values())
        fills = units == total
        ruled_out = _ruled_out(candidate, distance, units, total, _counted(lines))
        score = None
        if not ruled_out or (not fills and _only_short(candidate, distance)):
            score = _score(candidate, distance, weights)
        verdict = Verdict(
            code=candidate.code,
            distance_km=distance,
            shipping_cost=candidate.shipping_cost,
            orders_today=candidate.orders_today,
            daily_capacity=candidate.daily_capacity,
            units_available=units,
            fills_whole_order=fills and not ruled_out,
            score=score,
            ruled_out=ruled_out,
        )
        verdicts.append(verdict)
        if score is not None:
            eligible.append((score, candidate))
            if fills and not ruled_out:
                whole.append((score, candidate.code, candidate, verdict))
    verdicts.sort(
        key=lambda v: (not v.fills_whole_order, v.score is None, v.score or 0.0, v.code)
    )
    by_code = {verdict.code: verdict for verdict in verdicts}
    if whole:
        whole.sort(key=lambda item: (item[0], item[1]))
        winner = whole[0][2]
        return RoutingDecision(
            allocations=[Allocation(winner.location_id, winner.code, dict(wanted))],
            verdicts=verdicts,
            reason=_why_single(whole, eligible, by_code, weights),
        )
    return _split(lines, eligible, verdicts, kit_split)


def _given(
    lines: Sequence[RoutingLine],
    wanted: Mapping[int, int],
    stock: Callable[[int], int],
    kit_split: bool,
) -> dict[int, int]:
    """What one location can give of each line still ``wanted`` (sku id: units, or
    kits of a kit line), out of ``stock`` (its units of a SKU), each unit given once.
    Kit lines take first: a kit goes whole (unless ``kit_split``), a plain line takes
    whatever is left."""
    left: dict[int, int] = {}

    def have(sku_id: int) -> int:
        if sku_id not in left:
            left[sku_id] = stock(sku_id)
        return left[sku_id]

    given: dict[int, int] = {}
    for line in sorted(lines, key=lambda line: not line.parts):
        want = wanted.get(line.sku_id, 0)
        if want <= 0:
            continue
        if line.parts:
            units = min(want, *(have(part) // per for part, per in line.parts))
            if units < want and not kit_split:
                units = 0
            for part, per in line.parts:
                left[part] -= units * per
        else:
            units = min(have(line.sku_id), want)
            left[line.sku_id] -= units
        if units:
            given[line.sku_id] = units
    return given


def _counted(lines: Sequence[RoutingLine]) -> str:
    """What routing's figures count: units, or with a kit line, items where a kit
    counts as one (its components come with it)."""
    return (
        "items (a kit counts as one)" if any(line.parts for line in lines) else "units"
    )


def _ruled_out(
    candidate: Candidate,
    distance: float | None,
    units: int,
    total: int,
    counted: str = "units",
) -> str:
    if not candidate.ships:
        return "does not ship orders of this kind"
    capacity = candidate.daily_capacity
    if capacity is not None and candidate.orders_today >= capacity:
        return f"over capacity: {candidate.orders_today} of {capacity} orders today"
    radius = candidate.service_radius_km
    if radius is not None and distance is not None and distance > radius:
        return f"too far: {distance:.0f} km, ships within {radius:.0f} km"
    if units < total:
        kept = " (walk-in units kept back)" if candidate.walk_in_buffer else ""
        return f"not enough stock: {units} of {total} {counted}{kept}"
    return ""


def _only_short(candidate: Candidate, distance: float | None) -> bool:
    """Ruled out for stock alone: it may still take part in a split."""
    return not _ruled_out(candidate, distance, 0, 0)


def _score(candidate: Candidate, distance: float | None, weights: Weights) -> float:
    km = weights.unknown_distance_km if distance is None else distance
    load = 0.0
    if candidate.daily_capacity:
        load = candidate.orders_today / candidate.daily_capacity
    return (
        km * weights.per_km
        + candidate.shipping_cost * weights.per_cost
        + load * weights.full_load
    )


def _why_single(
    whole: list[tuple[float, str, Candidate, Verdict]],
    eligible: list[tuple[float, Candidate]],
    by_code: dict[str, Verdict],
    weights: Weights,
) -> str:
    winner = by_code[whole[0][1]]
    if len(whole) == 1:
        nearer = [
            c.code
            for score, c in eligible
            if c.code != winner.code and score < whole[0][0]
        ]
        if nearer:
            return (
                f"{winner.code} is the only location that can fill the whole order: "
                f"one shipment beats a split, though {', '.join(sorted(nearer))} "
                "scored better with part of it."
            )
        return f"{winner.code} is the only location that can fill the whole order."
    runner = by_code[whole[1][1]]
    factor = _deciding_factor(winner, runner, weights)
    return (
        f"{winner.code} fills the whole order and wins on {factor} over "
        f"{runner.code}, the next best of {len(whole)} that could."
    )


def _deciding_factor(winner: Verdict, runner: Verdict, weights: Weights) -> str:
    """The term of the score where the winner gained the most on the runner-up."""

    def far(verdict: Verdict) -> float:
        known = verdict.distance_km
        return weights.unknown_distance_km if known is None else known

    km = far(runner) - far(winner)
    gains = {
        "distance": (
            km * weights.per_km,
            f"distance ({_km(winner.distance_km)} against {_km(runner.distance_km)})",
        ),
        "shipping cost": (
            (runner.shipping_cost - winner.shipping_cost) * weights.per_cost,
            f"shipping cost ({winner.shipping_cost:.2f} against "
            f"{runner.shipping_cost:.2f})",
        ),
        "capacity": (
            (_load(runner) - _load(winner)) * weights.full_load,
            f"capacity left today ({_capacity(winner)} against {_capacity(runner)})",
        ),
    }
    best = max(gains.values(), key=lambda gain: gain[0])
    if best[0] <= 0:
        return "its code, all else being equal"
    return best[1]


def _split(
    lines: Sequence[RoutingLine],
    eligible: list[tuple[float, Candidate]],
    verdicts: list[Verdict],
    kit_split: bool,
) -> RoutingDecision:
    remaining = {line.sku_id: line.quantity for line in lines}
    pool = sorted(eligible, key=lambda item: (item[0], item[1].code))
    allocations: list[Allocation] = []
    while any(remaining.values()) and pool:

        def covers(item: tuple[float, Candidate]) -> int:
            given = _given(lines, remaining, item[1].shippable, kit_split)
            return sum(given.values())

        best = max(pool, key=lambda item: (covers(item), -item[0]))
        if covers(best) == 0:
            break
        pool.remove(best)
        candidate = best[1]
        units = _given(lines, remaining, candidate.shippable, kit_split)
        for sku_id, taken in units.items():
            remaining[sku_id] -= taken
        allocations.append(Allocation(candidate.location_id, candidate.code, units))
    shortages = [
        {
            "sku": line.sku_code,
            "requested": line.quantity,
            "short": remaining[line.sku_id],
        }
        for line in lines
        if remaining[line.sku_id]
    ]
    if shortages:
        reason = "No location, alone or together with others, has every unit."
    else:
        counted = "units" if not any(line.parts for line in lines) else "items"
        parts = ", ".join(
            f"{a.code} ({sum(a.units.values())} {counted})" for a in allocations
        )
        reason = (
            "No single location can fill the whole order: split across "
            f"{parts}, the fewest shipments that cover it."
        )
    return RoutingDecision(
        allocations=[] if shortages else allocations,
        verdicts=verdicts,
        reason=reason,
        shortages=shortages,
    )


def nearest_that_can_fill(
    *,
    lines: Sequence[RoutingLine],
    candidates: Sequence[Candidate],
    origin: tuple[float, float] | None,
    limit: int = 5,
) -> list[dict]:
    """For a short pickup: the other stores that could fill the order, nearest to the
    customer's chosen store first (walk-in units included: the customer walks in)."""
    found = []
    wanted = {line.sku_id: line.quantity for line in lines}
    for candidate in candidates:
        if not candidate.ships:
            continue
        stock = candidate.available_to_promise
        given = _given(
            lines, wanted, lambda sku_id, stock=stock: stock.get(sku_id, 0), False
        )
        if given == wanted:
            found.append((_distance(candidate, origin), candidate.code))
    found.sort(key=lambda item: (item[0] is None, item[0] or 0.0, item[1]))
    return [
        {"location": code, "distance_km": _rounded(distance)}
        for distance, code in found[:limit]
    ]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def km_between(here, there) -> float | None:
    """Kilometres between two places with ``latitude`` and ``longitude`` (two
    locations); None when either has no coordinates."""
    points = (here.latitude, here.longitude, there.latitude, there.longitude)
    if any(point is None for point in points):
        return None
    return haversine_km(
        (float(here.latitude), float(here.longitude)),
        (float(there.latitude), float(there.longitude)),
    )


def _distance(candidate: Candidate, point: tuple[float, float] | None) -> float | None:
    if point is None or candidate.latitude is None or candidate.longitude is None:
        return None
    return haversine_km((candidate.latitude, candidate.longitude), point)


def _load(verdict: Verdict) -> float:
    if not verdict.daily_capacity:
        return 0.0
    return verdict.orders_today / verdict.daily_capacity


def _capacity(verdict: Verdict) -> str:
    if verdict.daily_capacity is None:
        return "no limit"
    return (
        f"{verdict.daily_capacity - verdict.orders_today} of {verdict.daily_capacity}"
    )


def _km(distance: float | None) -> str:
    return "distance unknown" if distance is None else f"{distance:.1f} km"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
