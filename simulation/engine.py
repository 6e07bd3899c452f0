"""A trading day driven through the real system: the integrations (tills, web shop,
app, marketplace, warehouse system) through the REST API with their own tokens, store
staff and managers through the services their screens call, and the beat jobs through
the services their tasks call. The clock is the simulated one (time-machine), so
every record carries the moment it happened in the day.

The engine is a queue of timed events, taken in order of time and then of scheduling,
so the same seed gives the same day. This module keeps the clock, the integrations'
clients, the opening stock and the day's schedule; what each party does is in
``tills``, ``shoppers``, ``staff``, ``transfers`` and ``night``, and what the day
leaves for the report in ``outcome``."""

import heapq
import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from catalog.models import Sku
from integrations.services import api_token_create
from inventory.models import Location
from inventory.services import reservations_expire

from .config import DayConfig, Policy
from .demand import DayDemand, ShelfLoss
from .floor import ShopFloor
from .network import Network
from .night import NightCounts
from .outcome import DayResult, Tallies
from .shoppers import OnlineShoppers
from .staff import StoreStaff
from .tills import Tills, batches
from .transfers import RATES_COMPUTED_BEFORE_OPENING, StoreTransfers, sales_rates_seed

SHIP_ROUND_MINUTES = 30


class TradingDay(Tills, OnlineShoppers, StoreStaff, StoreTransfers, NightCounts):
    """One day: the shared state every party reads (the network, the shop floor,
    the tallies, the queue) and the clock that runs them."""

    def __init__(
        self,
        *,
        config: DayConfig,
        policy: Policy,
        network: Network,
        demand: DayDemand,
        progress: Callable[[int, int, str], None] = lambda done, total, at: None,
    ):
        self.config, self.policy, self.network = config, policy, network
        self.demand = demand
        self.progress = progress
        self.opens = config.opens_at
        self.closes = self.opens + timedelta(hours=config.hours)
        self.floor = ShopFloor()
        self.tallies = Tallies()
        self.queue: list = []
        self.order_of_scheduling = itertools.count()
        self.locations = {loc.code: loc for loc in network.locations}
        self.skus: dict[str, Sku] = network.skus
        self.till_batch: list[dict] = []
        self.last_till_event: dict[str, datetime] = {}
        self.return_decided: set[int] = set()  # orders, see StoreStaff
        self.steps = 0

    # ------------------------------------------------------------------ the clock

    def at(self, when: datetime, action: Callable, *args) -> None:
        heapq.heappush(self.queue, (when, next(self.order_of_scheduling), action, args))

    def run(self) -> DayResult:
        start = self.opens - timedelta(hours=1)
        with time_machine.travel(start, tick=False) as clock:
            self.clock = clock
            self.before_opening(start)
            self.schedule_transfers()
            self._schedule_the_day()
            while self.queue:
                when, _, action, args = heapq.heappop(self.queue)
                clock.move_to(when)
                action(*args)
                self.steps += 1
                if self.steps % 50 == 0:
                    self.progress(
                        self.steps, self.steps + len(self.queue), f"{when:%H:%M}"
                    )
            self.progress(self.steps, self.steps, "night")
        return DayResult(
            policy=self.policy,
            config=self.config,
            network=self.network,
            floor=self.floor,
            tallies=self.tallies,
            opens=self.opens,
            closes=self.closes,
        )

    def before_opening(self, start: datetime) -> None:
        """The integrations connected, last night's stock position booked, and the
        nightly rates of sale in place (``transfers.sales_rates_seed``)."""
        self._connect_integrations()
        self.progress(0, 0, "opening stock")
        self._open_the_shops(start)
        sales_rates_seed(
            network=self.network,
            seed=self.config.seed,
            computed_at=self.opens - RATES_COMPUTED_BEFORE_OPENING,
        )

    # ------------------------------------------------------------- integrations

    def _connect_integrations(self) -> None:
        self.api: dict[str, Client] = {}
        for channel in ("pos", "web", "app", "marketplace", "wms"):
            _, raw = api_token_create(name=f"simulated {channel}", channel_code=channel)
            self.api[channel] = Client(
                HTTP_AUTHORIZATION=f"Token {raw}", SERVER_NAME="localhost"
            )

    def _post(self, channel: str, path: str, body) -> tuple[int, dict]:
        response = self.api[channel].post(
            path, data=json.dumps(body), content_type="application/json"
        )
        return response.status_code, response.json()

    def _get(self, channel: str, path: str, params: dict) -> tuple[int, dict]:
        response = self.api[channel].get(path, params)
        return response.status_code, response.json()

    def _open_the_shops(self, start: datetime) -> None:
        """The opening stock, received through the warehouse system's feed."""
        lines = []
        for (sku, location), units in sorted(self.network.spec.opening_stock.items()):
            if not units:
                continue  # sold out (an understocked shelf): nothing to receive
            self.floor.receive((sku, location), units)
            lines.append(
                {
                    "reference": f"OPEN-{location}-{sku}",
                    "type": "receipt",
                    "sku": sku,
                    "location": location,
                    "quantity": units,
                    "occurred_at": start.isoformat(),
                    "channel": "wms",
                }
            )
        for batch in batches(lines):
            status, body = self._post("wms", "/api/v1/movements/", batch)
            refused = [
                row for row in body.get("results", []) if row["status"] != "created"
            ]
            if status != 200 or refused:
                raise RuntimeError(f"Opening stock refused: {status} {refused[:3]}")

    def _schedule_the_day(self) -> None:
        for visit in self.demand.till_visits:
            self.at(visit.at, self.till_visit, visit)
        for shopper in self.demand.online_shoppers:
            self.at(shopper.at, self.shopper_arrives, shopper)
        for loss in self.demand.shelf_losses:
            self.at(loss.at, self.shelf_loss, loss)
        minute = timedelta(minutes=1)
        for n in range(self.config.hours * 60):
            # The beat job that lets lapsed holds go, every minute.
            self.at(self.opens + n * minute, self.holds_expire)
        for n, store in enumerate(self.network.stores):
            # Rounds are staggered so not every store works at the same minute.
            first = self.opens + timedelta(minutes=n % self.config.pickup_round_minutes)
            every = timedelta(minutes=self.config.pickup_round_minutes)
            when = first
            while when < self.closes:
                self.at(when, self.pickup_round, store)
                when += every
        for location in self._shipping_locations():
            when = self.opens + timedelta(minutes=SHIP_ROUND_MINUTES)
            while when <= self.closes:
                self.at(when, self.ship_round, location)
                when += timedelta(minutes=SHIP_ROUND_MINUTES)
        if self.policy.pos_sync == "hourly":
            for hour in range(1, self.config.hours + 1):
                self.at(self.opens + timedelta(hours=hour), self.send_till_batch)
        # After closing: the nightly batch, then the night's cycle counts.
        self.at(self.closes + timedelta(minutes=30), self.send_till_batch)
        self.at(self.closes + timedelta(hours=2), self.night_counts)

    def _shipping_locations(self) -> list[Location]:
        stores = [
            store for store in self.network.stores if store.ship_from_store_enabled
        ]
        return [self.network.warehouse, *stores]

    def shelf_loss(self, loss: ShelfLoss) -> None:
        self.floor.lose((loss.sku, loss.store))

    def holds_expire(self) -> None:
        reservations_expire(now=timezone.now())


def day_run(
    *,
    config: DayConfig,
    policy: Policy,
    network: Network,
    demand: DayDemand,
    progress: Callable[[int, int, str], None] = lambda done, total, at: None,
) -> DayResult:
    return TradingDay(
        config=config, policy=policy, network=network, demand=demand, progress=progress
    ).run()
