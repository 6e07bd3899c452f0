"""The day's demand, drawn from the seed before any policy acts on it: walk-in
shoppers at the tills, online shoppers, and shelf losses nobody records. Every policy
compared meets the same shoppers at the same moments; whatever a shopper decides
later (how long the till takes to report, when they collect, whether they bring it
back) comes from a generator of their own, so a policy that changes one shopper's
fate leaves every other draw as it was."""

import math
import random
from bisect import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from .config import DayConfig
from .network import NetworkSpec

# Online shoppers by channel, and how many units they want.
CHANNEL_MIX = (("web", 0.55), ("app", 0.30), ("marketplace", 0.15))
QUANTITY_MIX = ((1, 0.85), (2, 0.15))


@dataclass(frozen=True)
class TillVisit:
    index: int
    at: datetime
    store: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class OnlineShopper:
    index: int
    at: datetime
    channel: str
    sku: str
    quantity: int
    # "pickup" at ``store``, or "ship".
    method: str
    store: str | None
    abandons: bool
    cart_minutes: float


@dataclass(frozen=True)
class ShelfLoss:
    """A unit gone from the shelf with no record: theft, or damage binned unreported."""

    index: int
    at: datetime
    store: str
    sku: str


@dataclass
class DayDemand:
    till_visits: list[TillVisit]
    online_shoppers: list[OnlineShopper]
    shelf_losses: list[ShelfLoss]


def own_draws(seed: int, kind: str, index: int) -> random.Random:
    """The generator of one shopper (or event) alone."""
    return random.Random(f"{seed}:{kind}:{index}")


def demand_draw(*, config: DayConfig, spec: NetworkSpec) -> DayDemand:
    rng = random.Random(f"demand:{config.seed}")
    opens = config.opens_at
    seconds = config.hours * 3600
    codes = [sku.code for sku in spec.skus]
    store_weights = list(accumulate(sku.store_rate for sku in spec.skus))
    online_weights = list(accumulate(sku.online_rate for sku in spec.skus))
    stores = [store.code for store in spec.stores]

    till_visits = [
        TillVisit(
            index=n,
            at=at,
            store=store,
            sku=_choose(rng, codes, store_weights),
            quantity=_mix(rng, QUANTITY_MIX),
        )
        for n, (store, at) in enumerate(
            _store_arrivals(
                rng, stores, opens, seconds, config.till_sales_per_store_hour
            )
        )
    ]
    shoppers: list[OnlineShopper] = []
    for at in _arrivals(rng, opens, seconds, config.online_shoppers_per_hour):
        channel = _mix(rng, CHANNEL_MIX)
        pickup = channel != "marketplace" and rng.random() < config.pickup_share
        shoppers.append(
            OnlineShopper(
                index=len(shoppers),
                at=at,
                channel=channel,
                sku=_choose(rng, codes, online_weights),
                quantity=_mix(rng, QUANTITY_MIX),
                method="pickup" if pickup else "ship",
                store=rng.choice(stores) if pickup else None,
                abandons=rng.random() < config.abandon_rate,
                cart_minutes=rng.lognormvariate(math.log(config.cart_minutes), 0.8),
            )
        )
    # Shrink is a share of what the tills sell, taken mostly from fast movers.
    losses_per_store_hour = config.shrink_rate * config.till_sales_per_store_hour * 1.15
    shelf_losses = [
        ShelfLoss(index=n, at=at, store=store, sku=_choose(rng, codes, store_weights))
        for n, (store, at) in enumerate(
            _store_arrivals(rng, stores, opens, seconds, losses_per_store_hour)
        )
    ]
    till_visits.sort(key=lambda visit: (visit.at, visit.index))
    return DayDemand(
        till_visits=till_visits, online_shoppers=shoppers, shelf_losses=shelf_losses
    )


def _store_arrivals(rng, stores, opens, seconds, per_hour):
    """(store, moment) for each store's own Poisson process, store by store; drawn
    lazily so each arrival's other draws follow it, as the day has always drawn them."""
    for store in stores:
        for at in _arrivals(rng, opens, seconds, per_hour):
            yield store, at


def _arrivals(rng: random.Random, opens: datetime, seconds: int, per_hour: float):
    """Moments of a Poisson process over the day, to the second."""
    if per_hour <= 0:
        return
    at = 0.0
    while True:
        at += rng.expovariate(per_hour / 3600)
        if at >= seconds:
            return
        yield opens + timedelta(seconds=int(at))


def _choose(rng: random.Random, codes: list[str], cumulative: list[float]) -> str:
    return codes[min(bisect(cumulative, rng.random() * cumulative[-1]), len(codes) - 1)]


def _mix(rng: random.Random, mix):
    point, total = rng.random(), 0.0
    for value, share in mix:
        total += share
        if point < total:
            return value
    return mix[-1][0]
