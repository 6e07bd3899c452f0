"""The simulated retail network: stores across Britain, a warehouse, a catalogue whose
SKUs sell at a spread of speeds (many slow movers, a few fast), the four sales
channels, a store team and the lanes between locations (``lanes_draw``: each store to
its nearest stores and to and from the warehouse, with a lead time and a cost per
unit from the distance). Drawn from the seed, then written through the catalogue
and inventory services like any integration's master data, with the units a policy
protects for one channel (``allocations_protect``) set as a manager sets them. The
opening stock may be given an imbalance (``stock_shape``) that every policy meets."""

import math
import random
from dataclasses import dataclass, field
from datetime import time
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from catalog.models import Channel, Sku
from catalog.services import channel_upsert, product_upsert, sku_upsert
from config.access import Actor
from inventory.models import Location, StaffMembership, TransferRoute
from inventory.services import allocation_set, location_upsert
from inventory.velocity import velocity_buffer

from .config import DayConfig, Policy

# (city, latitude, longitude): stores beyond twenty open a second branch in a city.
CITIES = [
    ("London", 51.5154, -0.1410), ("Manchester", 53.4826, -2.2416),
    ("Birmingham", 52.4797, -1.8973), ("Leeds", 53.7973, -1.5426),
    ("Glasgow", 55.8609, -4.2514), ("Liverpool", 53.4058, -2.9822),
    ("Bristol", 51.4585, -2.5852), ("Sheffield", 53.3811, -1.4701),
    ("Edinburgh", 55.9533, -3.1883), ("Newcastle", 54.9738, -1.6132),
    ("Nottingham", 52.9536, -1.1505), ("Cardiff", 51.4816, -3.1791),
    ("Leicester", 52.6369, -1.1398), ("Southampton", 50.9097, -1.4044),
    ("Brighton", 50.8225, -0.1372), ("Oxford", 51.7520, -1.2577),
    ("Cambridge", 52.2053, 0.1218), ("York", 53.9590, -1.0815),
    ("Norwich", 52.6309, 1.2974), ("Exeter", 50.7184, -3.5339),
]  # fmt: skip

WAREHOUSE = "SIM-WH"
WAREHOUSE_AT = (52.2580, -1.1620)  # Daventry
# (code, name, kind, reservation time-to-live in seconds)
CHANNELS = [
    ("pos", "Store tills", "store_pos", 300),
    ("web", "Web shop", "web", 900),
    ("app", "Mobile app", "app", 900),
    ("marketplace", "Marketplace", "marketplace", 1800),
    ("wms", "Warehouse management system", "back_office", 900),
]
ONLINE_CHANNELS = ("web", "app", "marketplace")
# The fewest units a store shows of anything it ranges.
STORE_MINIMUM_PRESENTATION = 1
# The opening stock's imbalance (``stock_shape``): an overstocked SKU-store holds
# this many days of its expected sales (dead stock), and at least this many units.
OVERSTOCK_DAYS = (60, 120)
OVERSTOCK_MINIMUM_UNITS = 3
# Lanes (``lanes_draw``): each store to its nearest few, both ways; the road is this
# much longer than the straight line; a van at this speed after an hour's handling;
# a unit costs a fixed handling charge and a share of the van by the kilometre.
LANE_NEIGHBOURS = 3
ROAD_FACTOR = 1.3
VAN_KMH = 60
LANE_HANDLING_HOURS = 1
LANE_COST_FIXED = Decimal("0.40")
LANE_COST_PER_KM = Decimal("0.005")


@dataclass(frozen=True)
class SkuSpec:
    code: str
    name: str
    # Units a store sells a day at the tills (its rate of sale).
    store_rate: float
    # Units the whole online business sells a day.
    online_rate: float

    @property
    def velocity_buffer(self) -> int:
        """The velocity policy's buffer: nothing on a slow mover (a unit a week is
        rarely sold twice in an hour), more as sales speed up and the chance grows
        that the till sells the last unit before the back office hears of it: the
        tiers of ``inventory.velocity``, the ones the live buffers use."""
        return velocity_buffer(self.store_rate)


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    city: str
    latitude: float
    longitude: float
    ships: bool


@dataclass(frozen=True)
class LaneSpec:
    """A lane the retailer set between two locations (``inventory.TransferRoute``)."""

    sender: str
    receiver: str
    km: float  # by road
    lead_time_hours: int
    cost_per_unit: Decimal


@dataclass
class NetworkSpec:
    stores: list[StoreSpec]
    skus: list[SkuSpec]
    # Opening stock: (sku code, location code) -> units.
    opening_stock: dict[tuple[str, str], int] = field(default_factory=dict)
    # Units each SKU-location is expected to sell a day: (sku, location) -> units.
    expected_daily: dict[tuple[str, str], float] = field(default_factory=dict)
    lanes: list[LaneSpec] = field(default_factory=list)


def network_draw(config: DayConfig) -> NetworkSpec:
    """The network for ``config.seed``, without touching the database."""
    rng = random.Random(f"network:{config.seed}")
    stores = []
    for n in range(config.stores):
        city, lat, lon = CITIES[n % len(CITIES)]
        branch = n // len(CITIES) + 1
        stores.append(
            StoreSpec(
                code=f"ST{n + 1:02d}",
                name=f"{city} {'High Street' if branch == 1 else f'branch {branch}'}",
                city=city,
                latitude=lat + 0.01 * (branch - 1),
                longitude=lon,
                # One store in four ships online orders too.
                ships=n % 4 == 0,
            )
        )
    # Popularity follows a long tail: a Pareto draw, so a few SKUs sell a lot.
    weights = [rng.paretovariate(1.2) for _ in range(config.skus)]
    weights.sort(reverse=True)
    total = sum(weights)
    till_units_per_store_day = config.till_sales_per_store_hour * config.hours * 1.2
    online_units_per_day = config.online_shoppers_per_hour * config.hours * 1.1
    skus = [
        SkuSpec(
            code=f"SIM-{n + 1:05d}",
            name=f"Simulated item {n + 1}",
            store_rate=till_units_per_store_day * w / total,
            online_rate=online_units_per_day * w / total,
        )
        for n, w in enumerate(weights)
    ]
    opening: dict[tuple[str, str], int] = {}
    daily: dict[tuple[str, str], float] = {}
    for sku in skus:
        # Pickup demand lands on stores too: a store covers its share of it.
        per_store_online = sku.online_rate * config.pickup_share / max(1, len(stores))
        for store in stores:
            daily[(sku.code, store.code)] = sku.store_rate + per_store_online
            expected = (sku.store_rate + per_store_online) * config.store_days_of_cover
            stock = poisson(rng, expected)
            opening[(sku.code, store.code)] = max(STORE_MINIMUM_PRESENTATION, stock)
        daily[(sku.code, WAREHOUSE)] = sku.online_rate * (1 - config.pickup_share)
        opening[(sku.code, WAREHOUSE)] = max(
            2, poisson(rng, sku.online_rate * (1 - config.pickup_share) * 5)
        )
    spec = NetworkSpec(
        stores=stores,
        skus=skus,
        opening_stock=opening,
        expected_daily=daily,
        lanes=lanes_draw(stores),
    )
    if config.overstock_share or config.understock_share:
        stock_shape(spec, config)
    return spec


def stock_shape(spec: NetworkSpec, config: DayConfig) -> None:
    """Unbalance the stores' opening stock: ``overstock_share`` of SKU-stores hold 60
    to 120 days of their expected sales (at least three units), ``understock_share``
    under a day of them (mostly none). A generator of its own, three draws for every
    SKU-store whatever the shares, so the day without an imbalance is the day it has
    always been, and a larger share only adds SKU-stores to those already chosen."""
    rng = random.Random(f"stock-shape:{config.seed}")
    for sku in spec.skus:
        for store in spec.stores:
            key = (sku.code, store.code)
            point, days, part_of_a_day = (
                rng.random(),
                rng.uniform(*OVERSTOCK_DAYS),
                rng.random(),
            )
            daily = spec.expected_daily[key]
            if point < config.overstock_share:
                spec.opening_stock[key] = max(
                    spec.opening_stock[key],
                    OVERSTOCK_MINIMUM_UNITS,
                    math.ceil(daily * days),
                )
            elif point >= 1 - config.understock_share:
                spec.opening_stock[key] = math.floor(daily * part_of_a_day)


def lanes_draw(stores: list[StoreSpec]) -> list[LaneSpec]:
    """Each store to its ``LANE_NEIGHBOURS`` nearest stores, and a lane back along
    each; each store to and from the warehouse. The lead time and the cost per unit
    follow the road distance (``ROAD_FACTOR`` times the straight line)."""
    places = {store.code: (store.latitude, store.longitude) for store in stores}
    pairs: set[tuple[str, str]] = set()
    for store in stores:
        nearest = sorted(
            (other for other in stores if other.code != store.code),
            key=lambda other: (_km(places[store.code], places[other.code]), other.code),
        )[:LANE_NEIGHBOURS]
        for other in nearest:
            pairs |= {(store.code, other.code), (other.code, store.code)}
        pairs |= {(store.code, WAREHOUSE), (WAREHOUSE, store.code)}
    places[WAREHOUSE] = WAREHOUSE_AT
    lanes = []
    for sender, receiver in sorted(pairs):
        road = ROAD_FACTOR * _km(places[sender], places[receiver])
        cost = LANE_COST_FIXED + LANE_COST_PER_KM * Decimal(f"{road:.1f}")
        lanes.append(
            LaneSpec(
                sender=sender,
                receiver=receiver,
                km=round(road, 1),
                lead_time_hours=math.ceil(LANE_HANDLING_HOURS + road / VAN_KMH),
                cost_per_unit=cost.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            )
        )
    return lanes


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The straight-line (great-circle) distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class Network:
    """The network as written: records to act on."""

    spec: NetworkSpec
    stores: list[Location]
    warehouse: Location
    skus: dict[str, Sku]
    channels: dict[str, Channel]
    staff: dict[str, object]  # location code -> its member of staff
    manager: object

    @property
    def locations(self) -> list[Location]:
        return [*self.stores, self.warehouse]


def network_build(*, spec: NetworkSpec, policy: Policy) -> Network:
    """Write the network through the services, with ``policy``'s buffers."""
    stores = [
        location_upsert(
            code=store.code,
            name=store.name,
            kind="store",
            city=store.city,
            country="GB",
            latitude=Decimal(f"{store.latitude:.4f}"),
            longitude=Decimal(f"{store.longitude:.4f}"),
            time_zone="UTC",
            pickup_enabled=True,
            ship_from_store_enabled=store.ships,
            opens_at=time(8, 0),
            pickup_cutoff=time(18, 0),
            pickup_preparation_minutes=120,
        )[0]
        for store in spec.stores
    ]
    warehouse, _ = location_upsert(
        code=WAREHOUSE,
        name="Daventry Warehouse",
        kind="warehouse",
        city="Daventry",
        country="GB",
        latitude=Decimal(f"{WAREHOUSE_AT[0]:.4f}"),
        longitude=Decimal(f"{WAREHOUSE_AT[1]:.4f}"),
        time_zone="UTC",
    )
    lanes_build(spec=spec, locations={loc.code: loc for loc in [*stores, warehouse]})
    online_buffer = 0 if policy.buffer == "velocity" else int(policy.buffer)
    channels = {
        code: channel_upsert(
            code=code,
            name=name,
            kind=kind,
            safety_buffer=online_buffer if code in ONLINE_CHANNELS else 0,
            reservation_ttl_seconds=ttl,
        )[0]
        for code, name, kind, ttl in CHANNELS
    }
    product, _ = product_upsert(code="SIM", name="Simulated range", brand="Northfold")
    skus = {
        spec_sku.code: sku_upsert(
            code=spec_sku.code,
            name=spec_sku.name,
            product=product,
            safety_buffer=spec_sku.velocity_buffer
            if policy.buffer == "velocity"
            else None,
        )[0]
        for spec_sku in spec.skus
    }
    staff = {}
    users = get_user_model()
    for location in [*stores, warehouse]:
        user, _ = users.objects.get_or_create(
            username=f"sim-{location.code.lower()}",
            defaults={"first_name": "Staff", "last_name": location.code},
        )
        StaffMembership.objects.get_or_create(user=user, location=location)
        staff[location.code] = user
    manager, created = users.objects.get_or_create(
        username="sim-manager", defaults={"first_name": "Area", "last_name": "Manager"}
    )
    if created:
        manager.user_permissions.add(
            Permission.objects.get(codename="act_at_every_location")
        )
    network = Network(
        spec=spec,
        stores=stores,
        warehouse=warehouse,
        skus=skus,
        channels=channels,
        staff=staff,
        manager=manager,
    )
    allocations_protect(network=network, policy=policy)
    return network


def lanes_build(*, spec: NetworkSpec, locations: dict[str, Location]) -> None:
    """The lanes, as a manager sets them in the back-office (no service writes a
    lane: they are master data, like a location's hours)."""
    TransferRoute.objects.bulk_create(
        TransferRoute(
            from_location=locations[lane.sender],
            to_location=locations[lane.receiver],
            lead_time_hours=lane.lead_time_hours,
            cost_per_unit=lane.cost_per_unit,
        )
        for lane in spec.lanes
    )


def allocation_locations(network: Network, channel: str) -> list[Location]:
    """Where ``channel`` sells from in the simulated day, so where a protection for it
    counts: the marketplace's orders are routed to the warehouse and the stores that
    ship; the web shop's and the app's are held at the warehouse (shipped) or at a
    store (collected); the tills sell at the stores."""
    if channel == "marketplace":
        stores = [store for store in network.stores if store.ship_from_store_enabled]
        return [network.warehouse, *stores]
    if channel == "pos":
        return list(network.stores)
    return network.locations


def allocations_protect(*, network: Network, policy: Policy) -> int:
    """``policy``'s protection: ``allocation_units`` of every SKU for its channel at
    each of its ``allocation_locations``, set by the area manager through the service
    the allocations API calls; how many were set. Runs before the opening stock, so
    no balance is announced again yet."""
    name = policy.allocation_channel
    if name is None:
        return 0
    channel, actor = network.channels[name], Actor.of_user(network.manager)
    places = allocation_locations(network, name)
    # One transaction for the lot: tens of thousands of commits would take longer
    # than the day itself.
    with transaction.atomic():
        for location in places:
            for sku in network.skus.values():
                allocation_set(
                    channel=channel,
                    sku=sku,
                    location=location,
                    units=policy.allocation_units,
                    actor=actor,
                )
    return len(places) * len(network.skus)
