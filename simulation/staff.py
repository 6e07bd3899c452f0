"""What store and warehouse staff do in a simulated day: pickup rounds at each store
through the pickup screens' services (picking what they find, cancelling what they
cannot), the customers who come to collect, packing rounds that pick and ship
through the order services (reporting what they cannot find through the packing
flow), and the goods customers bring back, received and
inspected at the counter."""

import math
from datetime import timedelta

from django.utils import timezone

from config.access import Actor
from inventory.models import Location
from orders import services as orders
from orders.models import Method, Order, OrderLine, PackingProblem
from orders.services import packing, packing_decisions
from pickup import services as pickup
from pickup.models import PickupTask
from returns import services as returns

from .demand import own_draws

SHIPPED_METHODS = (Method.SHIP,)
# How many pickup orders a store's team works in one round, and shipped orders a
# location packs in one.
PICKUP_TASKS_PER_ROUND = 4
SHIP_ORDERS_PER_ROUND = {"warehouse": 80, "store": 6}
INSPECTION_ROUND_MINUTES = 60
# After a pickup order is ready: when its customer comes (lognormal median, minutes),
# and the share who do not come today.
COLLECTION_MEDIAN_MINUTES = 90
NO_SHOW_TODAY = 0.15


class StoreStaff:
    """The staff's part of ``engine.TradingDay``."""

    # ------------------------------------------------------------------ pickups

    def pickup_round(self, store: Location) -> None:
        actor = Actor.of_user(self.network.staff[store.code])
        tasks = list(
            PickupTask.objects.filter(location=store, status=PickupTask.Status.NEW)
            .order_by("due_at", "pk")
            .values_list("pk", "order_id")[:PICKUP_TASKS_PER_ROUND]
        )
        for task_id, order_id in tasks:
            pickup.pickup_task_claim(task_id=task_id, actor=actor)
            pickup.pickup_task_start(task_id=task_id, actor=actor)
            for line in self._open_lines(order_id):
                found = self._look_for(line, store)
                if found:
                    pickup.pickup_line_pick(
                        task_id=task_id,
                        line_id=line.pk,
                        actor=actor,
                        scanned=line.sku.code,
                        quantity=found,
                    )
                    self.floor.pick((line.sku.code, store.code), found)
                missing = line.unpicked_quantity - found
                if missing:
                    problem = pickup.pickup_line_short(
                        task_id=task_id,
                        line_id=line.pk,
                        actor=actor,
                        quantity=missing,
                        condition="not_found",
                    )
                    pickup.pickup_problem_cancel(problem_id=problem.pk, actor=actor)
                    self._stock_cancelled(order_id, store, missing)
            task = PickupTask.objects.get(pk=task_id)
            if task.status == PickupTask.Status.PICKED:
                pickup.pickup_task_mark_ready(task_id=task_id, actor=actor)
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
        actor = Actor.of_user(self.network.staff[store.code])
        task = PickupTask.objects.get(pk=task_id)
        held = self._held_units(order_id)
        pickup.pickup_task_hand_over(
            task_id=task_id, actor=actor, collection_code=task.collection_code
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
        actor = Actor.of_user(staff, source="wms")
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
                        actor=actor,
                    )
                    self.floor.pick((line.sku.code, location.code), found)
                    shipped.append((line, found))
                missing = line.unpicked_quantity - found
                if missing:
                    self._report_short(order_id, line, location, missing, actor)
            if shipped:
                orders.order_ship(
                    order_id=order_id,
                    lines=[
                        orders.LineQuantity(line_id=line.pk, quantity=units)
                        for line, units in shipped
                    ],
                    actor=actor,
                    carrier="Royal Mail",
                )
                for line, units in shipped:
                    self.floor.hand_over(
                        (line.sku.code, location.code), units, "shipped"
                    )
                store = self._return_store(order_id)
                self._maybe_brought_back(order_id, store)

    def _report_short(
        self,
        order_id: int,
        line: OrderLine,
        location: Location,
        missing: int,
        actor: Actor,
    ) -> None:
        """The packer reports the units not found; the system re-routes them when
        one other location can fill them all (its own ship round packs the new
        line), else the packer cancels them and the customer is told."""
        problem = packing.packing_report_short(
            order_id=order_id,
            line_id=line.pk,
            quantity=missing,
            condition="not_found",
            actor=actor,
        )
        if problem.status == PackingProblem.Status.OPEN:
            packing_decisions.packing_problem_cancel(problem_id=problem.pk, actor=actor)
            self._stock_cancelled(order_id, location, missing)
        else:
            self.tallies.rerouted_units += missing

    def _return_store(self, order_id: int) -> Location:
        draws = own_draws(self.config.seed, "return-store", order_id)
        return draws.choice(self.network.stores)

    # ------------------------------------------------------------------ returns

    def _maybe_brought_back(self, order_id: int, store: Location) -> None:
        # A routed order split across locations is shipped in parts; its customer
        # decides once whether to bring it back.
        if order_id in self.return_decided:
            return
        self.return_decided.add(order_id)
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
            actor=Actor.of_user(staff),
        )
        self.floor.take_back((line.sku.code, store.code), 1)
        self.tallies.customer_returns += 1
        later = timezone.now() + timedelta(minutes=INSPECTION_ROUND_MINUTES)
        self.at(later, self.inspect_return, found.pk, store)

    def inspect_return(self, return_id: int, store: Location) -> None:
        staff = self.network.staff[store.code]
        actor = Actor.of_user(staff)
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
                shelf_location="returns rail" if resellable else "",
                condition="" if resellable else "Torn seam",
            )
            self.floor.grade((line.sku.code, store.code), line.quantity, resellable)
        returns.return_close(return_id=return_id, actor=actor)
