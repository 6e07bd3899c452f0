"""A trading day driven through the real system: the integrations (tills, web shop,
app, marketplace, warehouse system) through the REST API with their own tokens, store
staff and managers through the services their screens call, and the beat jobs through
the services their tasks call. The clock is the simulated one (time-machine), so
every record carries the moment it happened in the day.

The engine is a queue of timed events, taken in order of time and then of scheduling,
so the same seed gives the same day."""

import heapq
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from catalog.models import Sku
from integrations.services import api_token_create
from inventory.models import Location, StockBalance
from inventory.services import reservations_expire
from orders import services as orders
from orders.models import Method, Order, OrderLine
from pickup import services as pickup
from pickup.models import PickupTask
from reconciliation.models import CountLine, CountTask
from reconciliation.services.counts import (
    count_line_decide,
    count_line_set,
    count_task_submit,
    count_tasks_generate,
)
from returns import services as returns

from .config import DayConfig, Policy
from .demand import DayDemand, OnlineShopper, ShelfLoss, TillVisit, own_draws
from .floor import ShopFloor
from .network import WAREHOUSE, Network

SHIPPED_METHODS = (Method.SHIP,)
# How many pickup orders a store's team works in one round, and shipped orders a
# location packs in one.
PICKUP_TASKS_PER_ROUND = 4
SHIP_ORDERS_PER_ROUND = {"warehouse": 80, "store": 6}
SHIP_ROUND_MINUTES = 30
INSPECTION_ROUND_MINUTES = 60
# After a pickup order is ready: when its customer comes (lognormal median, minutes),
# and the share who do not come today.
COLLECTION_MEDIAN_MINUTES = 90
NO_SHOW_TODAY = 0.15
# Till batches hold at most this many events (the movements API's batch limit).
BATCH_LIMIT = 1000


@dataclass
class Refusal:
    stage: str  # "cart", "browse", "checkout" or "order"
    channel: str
    location: str | None
    units: int
    # The system had the units but the buffer kept them back.
    by_buffer: bool
    # The units were physically there, free of every other promise.
    physically_there: bool


@dataclass
class Tallies:
    """What the simulated people did and met, for the report."""

    shoppers: Counter = field(default_factory=Counter)
    refusals: list[Refusal] = field(default_factory=list)
    walk_in_units_wanted: int = 0
    walk_in_units_sold: int = 0
    pos_events: Counter = field(default_factory=Counter)
    pos_lag_seconds: list[float] = field(default_factory=list)
    not_found: Counter = field(default_factory=Counter)  # location -> units
    stock_cancelled: Counter = field(default_factory=Counter)  # location -> units
    stock_cancelled_orders: set = field(default_factory=set)
    customer_cancelled_units: int = 0
    customer_returns: int = 0
    accuracy_before_counts: float = 0.0
    accuracy_after_counts: float = 0.0
    counted_lines: int = 0


@dataclass
class DayResult:
    policy: Policy
    config: DayConfig
    network: Network
    floor: ShopFloor
    tallies: Tallies
    opens: datetime
    closes: datetime


class TradingDay:
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
        self.steps = 0

    # ------------------------------------------------------------------ the clock

    def at(self, when: datetime, action: Callable, *args) -> None:
        heapq.heappush(self.queue, (when, next(self.order_of_scheduling), action, args))

    def run(self) -> DayResult:
        start = self.opens - timedelta(hours=1)
        with time_machine.travel(start, tick=False) as clock:
            self.clock = clock
            self._connect_integrations()
            self.progress(0, 0, "opening stock")
            self._open_the_shops(start)
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
        for batch in _batches(lines):
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

    # ---------------------------------------------------------------- the tills

    def till_visit(self, visit: TillVisit) -> None:
        draws = own_draws(self.config.seed, "till", visit.index)
        delay = self._till_delay(draws)
        duplicate = draws.random() < self.config.pos_duplicate_rate
        resend_after = timedelta(seconds=draws.expovariate(1 / 120))
        self.tallies.walk_in_units_wanted += visit.quantity
        sold = self.floor.sell_at_till((visit.sku, visit.store), visit.quantity)
        if not sold:
            return
        self.tallies.walk_in_units_sold += sold
        event = {
            "reference": f"TILL-{visit.store}-{visit.index:06d}",
            "type": "sale",
            "sku": visit.sku,
            "location": visit.store,
            "quantity": sold,
            "occurred_at": visit.at.isoformat(),
            "channel": "pos",
        }
        if self.policy.pos_sync == "realtime":
            self.at(visit.at + delay, self.send_till_events, [event])
            if duplicate:
                self.at(visit.at + delay + resend_after, self.send_till_events, [event])
        else:
            self.till_batch.append(event)
            if duplicate:
                self.till_batch.append(event)

    def _till_delay(self, draws) -> timedelta:
        median, p95 = self.config.pos_delay_median_s, self.config.pos_delay_p95_s
        sigma = max(math.log(max(p95, median) / median) / 1.645, 0.01)
        return timedelta(seconds=draws.lognormvariate(math.log(median), sigma))

    def send_till_batch(self) -> None:
        batch, self.till_batch = self.till_batch, []
        for part in _batches(batch):
            self.send_till_events(part)

    def send_till_events(self, events: list[dict]) -> None:
        if not events:
            return
        now = timezone.now()
        status, body = self._post("pos", "/api/v1/movements/", events)
        if status != 200:
            raise RuntimeError(f"The tills' events were refused: {status} {body}")
        for event, row in zip(events, body["results"], strict=True):
            self.tallies.pos_events[row["status"]] += 1
            if row["status"] != "created":
                continue
            occurred = datetime.fromisoformat(event["occurred_at"])
            self.tallies.pos_lag_seconds.append((now - occurred).total_seconds())
            store = event["location"]
            if occurred < self.last_till_event.get(store, occurred):
                self.tallies.pos_events["out of order"] += 1
            self.last_till_event[store] = max(
                occurred, self.last_till_event.get(store, occurred)
            )

    def shelf_loss(self, loss: ShelfLoss) -> None:
        self.floor.lose((loss.sku, loss.store))

    def holds_expire(self) -> None:
        reservations_expire(now=timezone.now())

    # --------------------------------------------------------- online shoppers

    def shopper_arrives(self, shopper: OnlineShopper) -> None:
        self.tallies.shoppers[shopper.channel] += 1
        decides_at = shopper.at + timedelta(minutes=shopper.cart_minutes)
        if shopper.channel == "marketplace":
            # A marketplace sends the order once its customer has paid.
            self.at(decides_at, self.shopper_decides, shopper, None)
            return
        location = shopper.store or WAREHOUSE
        if self.policy.reserve_at == "cart":
            status, body = self._post(
                shopper.channel,
                "/api/v1/reservations/",
                {
                    "reference": f"CART-{shopper.index:06d}",
                    "lines": [self._line(shopper, held=True)],
                },
            )
            if status == 201:
                self.at(decides_at, self.shopper_decides, shopper, body["id"])
            else:
                self._refused(shopper, "cart", status, body)
            return
        status, body = self._get(
            shopper.channel,
            "/api/v1/availability/",
            {"sku": shopper.sku, "location": location, "channel": shopper.channel},
        )
        rows = body.get("results", [])
        if rows and rows[0]["available_to_promise"] >= shopper.quantity:
            self.at(decides_at, self.shopper_decides, shopper, None)
        else:
            self._refused(shopper, "browse", 409, {"code": "insufficient_stock"})

    def shopper_decides(self, shopper: OnlineShopper, reservation_id: int | None):
        draws = own_draws(self.config.seed, "shopper", shopper.index)
        lets_it_lapse = draws.random() < 0.5
        if shopper.abandons and shopper.channel != "marketplace":
            self.tallies.shoppers["abandoned their cart"] += 1
            if reservation_id is not None and not lets_it_lapse:
                self._post(
                    shopper.channel,
                    f"/api/v1/reservations/{reservation_id}/release/",
                    {},
                )
            return
        body = self._order_body(shopper)
        if reservation_id is not None:
            status, answer = self._post(
                shopper.channel,
                "/api/v1/orders/",
                {**body, "reservation": reservation_id},
            )
            if status == 409 and answer.get("code") == "reservation_transition_refused":
                # The hold lapsed while they dithered: the shop tries afresh.
                self.tallies.shoppers["hold lapsed before paying"] += 1
                reservation_id = None
        if reservation_id is None:
            status, answer = self._post(
                shopper.channel,
                "/api/v1/orders/",
                {**body, "lines": [self._line(shopper, held=False)]},
            )
        if status == 201:
            if draws.random() < self.config.customer_cancel_rate:
                later = timezone.now() + timedelta(minutes=draws.uniform(5, 60))
                self.at(later, self.customer_cancels, shopper, answer["id"])
            return
        stage = "order" if shopper.channel == "marketplace" else "checkout"
        self._refused(shopper, stage, status, answer)

    def customer_cancels(self, shopper: OnlineShopper, order_id: int) -> None:
        """Only while nothing is picked: after that the store says it is too late."""
        if Order.objects.get(pk=order_id).status != Order.Status.ALLOCATED:
            self.tallies.shoppers["cancelled too late"] += 1
            return
        status, answer = self._post(
            shopper.channel,
            f"/api/v1/orders/{order_id}/cancel/",
            {"reason": "The customer changed their mind."},
        )
        if status != 200:
            raise RuntimeError(f"Cancelling order {order_id}: {status} {answer}")
        self.tallies.customer_cancelled_units += shopper.quantity

    def _line(self, shopper: OnlineShopper, *, held: bool) -> dict:
        """A cart line: a hold names where the units are kept (the pickup store, or
        the warehouse for delivery); a pickup order's lines take the order's store;
        the marketplace's are routed."""
        line = {"sku": shopper.sku, "quantity": shopper.quantity}
        if held:
            line["location"] = shopper.store or WAREHOUSE
        elif shopper.method != "pickup" and shopper.channel != "marketplace":
            line["location"] = WAREHOUSE
        return line

    def _order_body(self, shopper: OnlineShopper) -> dict:
        body = {
            "reference": f"{shopper.channel.upper()}-{shopper.index:06d}",
            "fulfilment_method": shopper.method,
            "customer": {
                "name": f"Shopper {shopper.index}",
                "email": f"shopper{shopper.index}@example.com",
            },
        }
        if shopper.method == "pickup":
            body["pickup_location"] = shopper.store
        else:
            body["delivery_address"] = {
                "address": f"{shopper.index} High Street",
                "city": "Coventry",
                "postal_code": "CV1 1AA",
                "country": "GB",
                "latitude": 52.4068,
                "longitude": -1.5197,
            }
        return body

    def _refused(self, shopper: OnlineShopper, stage: str, status: int, body) -> None:
        if status != 409 or body.get("code") != "insufficient_stock":
            raise RuntimeError(f"Shopper {shopper.index} met {status}: {body}")
        if shopper.store:
            places = [shopper.store]
        elif shopper.channel == "marketplace":
            places = [loc.code for loc in self._shipping_locations()]
        else:
            places = [WAREHOUSE]
        by_buffer = there = False
        for place in places:
            balance = StockBalance.objects.filter(
                sku=self.skus[shopper.sku], location=self.locations[place]
            ).first()
            if balance is None:
                continue
            promised = balance.committed + balance.reserved
            available = (
                balance.on_hand
                - promised
                - balance.picked
                - balance.damaged
                - balance.quality_control
            )
            by_buffer |= available >= shopper.quantity
            there |= (
                self.floor.shelf[(shopper.sku, place)] - promised >= shopper.quantity
            )
        self.tallies.refusals.append(
            Refusal(
                stage=stage,
                channel=shopper.channel,
                location=shopper.store,
                units=shopper.quantity,
                by_buffer=by_buffer,
                physically_there=there,
            )
        )

    # ---------------------------------------------------------------- the stores

    def pickup_round(self, store: Location) -> None:
        staff = self.network.staff[store.code]
        tasks = list(
            PickupTask.objects.filter(location=store, status=PickupTask.Status.NEW)
            .order_by("due_at", "pk")
            .values_list("pk", "order_id")[:PICKUP_TASKS_PER_ROUND]
        )
        for task_id, order_id in tasks:
            pickup.pickup_task_claim(task_id=task_id, staff=staff)
            pickup.pickup_task_start(task_id=task_id, staff=staff)
            for line in self._open_lines(order_id):
                found = self._look_for(line, store)
                if found:
                    pickup.pickup_line_pick(
                        task_id=task_id,
                        line_id=line.pk,
                        staff=staff,
                        scanned=line.sku.code,
                        quantity=found,
                    )
                    self.floor.pick((line.sku.code, store.code), found)
                missing = line.unpicked_quantity - found
                if missing:
                    problem = pickup.pickup_line_short(
                        task_id=task_id,
                        line_id=line.pk,
                        staff=staff,
                        quantity=missing,
                        condition="not_found",
                    )
                    pickup.pickup_problem_cancel(problem_id=problem.pk, staff=staff)
                    self._stock_cancelled(order_id, store, missing)
            task = PickupTask.objects.get(pk=task_id)
            if task.status == PickupTask.Status.PICKED:
                pickup.pickup_task_mark_ready(task_id=task_id, staff=staff)
                self._customer_comes(order_id, task_id, store)

    def _open_lines(self, order_id: int) -> list[OrderLine]:
        lines = OrderLine.objects.filter(order_id=order_id).select_related("sku")
        return [line for line in lines.order_by("pk") if line.unpicked_quantity > 0]

    def _look_for(self, line: OrderLine, location: Location) -> int:
        """How many of the line's units the picker finds: those on the shelf, less
        any misplaced where nobody looks."""
        draws = own_draws(self.config.seed, f"pick:{location.code}", line.pk)
        on_shelf = self.floor.shelf[(line.sku.code, location.code)]
        wanted = min(line.unpicked_quantity, on_shelf)
        found = sum(draws.random() >= self.config.misplaced_rate for _ in range(wanted))
        self.tallies.not_found[location.code] += line.unpicked_quantity - found
        return found

    def _stock_cancelled(self, order_id: int, location: Location, units: int) -> None:
        self.tallies.stock_cancelled[location.code] += units
        self.tallies.stock_cancelled_orders.add(order_id)

    def _customer_comes(self, order_id: int, task_id: int, store: Location) -> None:
        draws = own_draws(self.config.seed, "collect", order_id)
        minutes = draws.lognormvariate(math.log(COLLECTION_MEDIAN_MINUTES), 0.7)
        comes = draws.random() >= NO_SHOW_TODAY
        when = timezone.now() + timedelta(minutes=minutes)
        if comes and when < self.closes:
            self.at(when, self.customer_collects, order_id, task_id, store)

    def customer_collects(self, order_id: int, task_id: int, store: Location) -> None:
        staff = self.network.staff[store.code]
        task = PickupTask.objects.get(pk=task_id)
        held = self._held_units(order_id)
        pickup.pickup_task_hand_over(
            task_id=task_id, staff=staff, collection_code=task.collection_code
        )
        for sku, units in held:
            self.floor.hand_over((sku, store.code), units, "collected by customers")
        self._maybe_brought_back(order_id, store)

    def _held_units(self, order_id: int) -> list[tuple[str, int]]:
        return [
            (sku, units)
            for sku, units in OrderLine.objects.filter(order_id=order_id)
            .order_by("pk")
            .values_list("sku__code", "picked_quantity")
            if units
        ]

    def ship_round(self, location: Location) -> None:
        staff = self.network.staff[location.code]
        who = orders.Who(actor=f"user:{staff.username}", source="wms")
        limit = SHIP_ORDERS_PER_ROUND[
            "warehouse" if location.kind == "warehouse" else "store"
        ]
        # A routed order may be split across locations: each packs its own lines.
        order_ids = list(
            OrderLine.objects.filter(
                location=location,
                status=OrderLine.Status.ALLOCATED,
                order__fulfilment_method__in=SHIPPED_METHODS,
            )
            .order_by("order__placed_at", "order_id")
            .values_list("order_id", flat=True)
            .distinct()[:limit]
        )
        for order_id in order_ids:
            shipped = []
            for line in self._open_lines(order_id):
                if line.location_id != location.pk:
                    continue
                found = self._look_for(line, location)
                if found:
                    orders.order_pick(
                        order_id=order_id,
                        lines=[orders.LineQuantity(line_id=line.pk, quantity=found)],
                        who=who,
                    )
                    self.floor.pick((line.sku.code, location.code), found)
                    shipped.append((line, found))
                missing = line.unpicked_quantity - found
                if missing:
                    orders.order_report_short(
                        order_id=order_id,
                        line_id=line.pk,
                        quantity=missing,
                        condition="not_found",
                        who=who,
                    )
                    orders.order_cancel_short(
                        order_id=order_id,
                        line_id=line.pk,
                        quantity=missing,
                        who=who,
                        reason="Not found when picking; customer told.",
                    )
                    self._stock_cancelled(order_id, location, missing)
            if shipped:
                orders.order_ship(
                    order_id=order_id,
                    lines=[
                        orders.LineQuantity(line_id=line.pk, quantity=units)
                        for line, units in shipped
                    ],
                    who=who,
                    carrier="Royal Mail",
                )
                for line, units in shipped:
                    self.floor.hand_over(
                        (line.sku.code, location.code), units, "shipped"
                    )
                store = self._return_store(order_id)
                self._maybe_brought_back(order_id, store)

    def _return_store(self, order_id: int) -> Location:
        draws = own_draws(self.config.seed, "return-store", order_id)
        return draws.choice(self.network.stores)

    # ------------------------------------------------------------------ returns

    def _maybe_brought_back(self, order_id: int, store: Location) -> None:
        draws = own_draws(self.config.seed, "return", order_id)
        if draws.random() >= self.config.return_rate:
            return
        when = timezone.now() + timedelta(minutes=draws.uniform(30, 240))
        if when < self.closes:
            self.at(when, self.customer_returns, order_id, store)

    def customer_returns(self, order_id: int, store: Location) -> None:
        order = Order.objects.select_related("channel").get(pk=order_id)
        line = (
            order.lines.select_related("sku")
            .filter(fulfilled_quantity__gt=0)
            .order_by("pk")
            .first()
        )
        staff = self.network.staff[store.code]
        found = returns.return_receive_at_counter(
            purchase=returns.Purchase(channel=order.channel, order=order),
            location=store,
            lines=[
                returns.ReturnLineInput(
                    sku=line.sku, quantity=1, reason="changed_mind", order_line=line
                )
            ],
            actor=f"user:{staff.username}",
        )
        self.floor.take_back((line.sku.code, store.code), 1)
        self.tallies.customer_returns += 1
        later = timezone.now() + timedelta(minutes=INSPECTION_ROUND_MINUTES)
        self.at(later, self.inspect_return, found.pk, store)

    def inspect_return(self, return_id: int, store: Location) -> None:
        staff = self.network.staff[store.code]
        actor = f"user:{staff.username}"
        draws = own_draws(self.config.seed, "inspection", return_id)
        found = returns.return_inspection_start(return_id=return_id, actor=actor)
        for line in found.lines.select_related("sku").order_by("pk"):
            resellable = draws.random() < self.config.return_sellable_rate
            returns.return_line_grade(
                return_id=return_id,
                line_id=line.pk,
                grade="resellable" if resellable else "damaged",
                quantity=line.quantity,
                actor=actor,
                staff=staff,
                shelf_location="returns rail" if resellable else "",
                condition="" if resellable else "Torn seam",
            )
            self.floor.grade((line.sku.code, store.code), line.quantity, resellable)
        returns.return_close(return_id=return_id, actor=actor)

    # --------------------------------------------------------------- the night

    def night_counts(self) -> None:
        """Tonight's cycle counts, counted blind with the occasional slip of a
        counter; a variance is recounted, and the manager approves what stands."""
        self.tallies.accuracy_before_counts = self.true_accuracy()
        count_tasks_generate(day=self.closes.date())
        manager = self.network.manager
        for task in CountTask.objects.order_by("pk").select_related("location"):
            staff = self.network.staff[task.location.code]
            self._count(task, staff, recount=False)
            count_task_submit(task_id=task.pk, staff=staff)
            if task.lines.filter(status=CountLine.Status.TO_RECOUNT).exists():
                self._count(task, staff, recount=True)
                count_task_submit(task_id=task.pk, staff=staff)
            for line_id in task.lines.filter(
                status=CountLine.Status.AWAITING_APPROVAL
            ).values_list("pk", flat=True):
                count_line_decide(
                    task_id=task.pk, line_id=line_id, approve=True, staff=manager
                )
        self.tallies.accuracy_after_counts = self.true_accuracy()

    def _count(self, task: CountTask, staff, *, recount: bool) -> None:
        wanted = CountLine.Status.TO_RECOUNT if recount else CountLine.Status.TO_COUNT
        for line in task.lines.filter(status=wanted).select_related("sku"):
            draws = own_draws(self.config.seed, f"count:{int(recount)}", line.pk)
            truth = self.floor.on_hand((line.sku.code, task.location.code))
            counted = truth
            if draws.random() < self.config.count_error_rate:
                counted = max(0, truth + draws.choice((-2, -1, 1, 1, 2)))
            count_line_set(
                task_id=task.pk, line_id=line.pk, quantity=counted, staff=staff
            )
            self.tallies.counted_lines += 1

    def true_accuracy(self) -> float:
        """Share of SKU-locations whose recorded on-hand is what is really there."""
        recorded = {
            (sku, location): on_hand
            for sku, location, on_hand in StockBalance.objects.values_list(
                "sku__code", "location__code", "on_hand"
            )
        }
        keys = set(recorded) | self.floor.keys()
        right = sum(recorded.get(key, 0) == self.floor.on_hand(key) for key in keys)
        return right / len(keys) if keys else 1.0


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


def _batches(rows: list) -> list[list]:
    return [rows[n : n + BATCH_LIMIT] for n in range(0, len(rows), BATCH_LIMIT)]
