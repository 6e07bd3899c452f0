"""How each record that holds part of an order's story is told as steps of it, in a
service agent's words: the order's own timeline, its pickup task's steps (the
decisions about missing items among them), the messages sent to the customer, its
returns and their grades, and its exception cases; a pre-order's units told with the
delivery they wait for (promised, arrived, a new date, no delivery left). Reads only;
``support.selectors`` gathers the records and puts the steps in time order.

Items and places are named as people name them (``Names``); a step the order's
timeline already tells is not told again from the task's."""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.models import Location, Supply, SupplyPromise
from orders.models import COLLECTED_METHODS, Order, OrderEvent
from pickup.models import PickupNotice, PickupTask
from reconciliation.models import ExceptionCase
from returns.models import Return, ReturnInspection, ReturnReason

ORDER_WORDS = {
    Order.Status.PLACED: "Placed",
    Order.Status.ALLOCATED: "Waiting to be picked",
    Order.Status.IN_PROGRESS: "Being picked",
    Order.Status.READY: "Ready",
    Order.Status.PARTIALLY_SHIPPED: "Partly shipped",
    Order.Status.SHIPPED: "Shipped",
    Order.Status.COLLECTED: "Collected",
    Order.Status.CLOSED: "Closed",
    Order.Status.CANCELLED: "Cancelled",
}


def order_status_words(order: Order) -> str:
    """The order's state as a person says it."""
    if order.status in (Order.Status.PLACED, Order.Status.ALLOCATED) and _all_awaiting(
        order
    ):
        return "Waiting for supply"
    if order.status == Order.Status.READY:
        return (
            "Ready to collect"
            if order.fulfilment_method in COLLECTED_METHODS
            else "Ready to send"
        )
    return ORDER_WORDS.get(order.status, order.get_status_display())


def _all_awaiting(order: Order) -> bool:
    """Every unit still to send waits for a delivery (a pre-order): nothing to pick."""
    still_to_send = [
        (line.quantity - line.cancelled_quantity - line.fulfilled_quantity, line)
        for line in order.lines.all()
    ]
    waiting = [(units, line) for units, line in still_to_send if units > 0]
    return bool(waiting) and all(
        line.awaiting_supply_quantity >= units for units, line in waiting
    )


@dataclass
class Step:
    """One moment of the story: when, what (a short tag and a sentence), who, and
    where to read more."""

    at: datetime
    tag: str  # one word, also the step's style: Placed, Picking, Short, …
    words: str
    actor: str = ""  # as recorded (user:…, token:…, system:…), shown with |who
    detail: str = ""
    link: str = ""
    link_text: str = ""
    rank: int = 0  # among steps at the same moment: the order's first

    @property
    def style(self) -> str:
        return self.tag.lower().replace(" ", "-")


def store_zone(order: Order) -> str:
    """The time zone of the store the order is collected at or fulfilled from:
    its times are told in that store's time."""
    lines = list(order.lines.all())
    home = order.pickup_location or (lines[0].location if lines else None)
    return (home.time_zone if home else "") or "UTC"


class Names:
    """Items and places by the names people use (codes kept beside items, which
    customers read from their receipt)."""

    def __init__(self, order: Order):
        lines = list(order.lines.all())
        self.skus = {line.sku.code: line.sku.name for line in lines}
        places = {line.location for line in lines}
        if order.pickup_location:
            places.add(order.pickup_location)
        codes = set(codes_in(order.routing))
        known = {place.code for place in places}
        places |= set(Location.objects.filter(code__in=codes - known))
        self.places = {place.code: place.name for place in places}
        self.split = len({line.location_id for line in lines}) > 1
        self.zone = store_zone(order)
        self.supplies = _supplies_by_reference(lines)

    def item(self, code: str) -> str:
        name = self.skus.get(code)
        return f"{name} ({code})" if name else code

    def place(self, code: str) -> str:
        return self.places.get(code, code)

    def units(self, rows: list[dict], *, at_place: bool = False) -> str:
        """Units as "2 × Tee black M (TEE-BLK-M), 1 × …", from a timeline entry's
        lines."""
        parts = []
        for row in rows:
            part = f"{row.get('quantity', '')} × {self.item(row.get('sku', ''))}"
            if at_place and self.split and row.get("location"):
                part += f" at {self.place(row['location'])}"
            parts.append(part)
        return ", ".join(parts)

    def day(self, when: datetime | str | None) -> str:
        """A date as people say it, in the store's time: "Mon 14 Dec" (with the year
        when it is not this one); "no date yet" for none."""
        if isinstance(when, str):
            when = parse_datetime(when)
        if when is None:
            return "no date yet"
        local = timezone.localtime(when, ZoneInfo(self.zone))
        year = f" {local.year}" if local.year != timezone.now().year else ""
        return f"{local:%a} {local.day} {local:%b}{year}"

    def delivery(self, reference: str, kind: str = "") -> str:
        """The delivery units come with, as people name it: a purchase order by its
        number, a transfer by where it comes from (``kind``: as a timeline entry
        names it, for a delivery no line is promised from any more)."""
        supply = self.supplies.get(reference)
        if supply is None:
            if kind == Supply.Kind.PURCHASE and reference:
                return f"purchase order {reference}"
            if kind == Supply.Kind.TRANSFER:
                return "a transfer"
            return f"delivery {reference}" if reference else "a delivery"
        if supply.kind == Supply.Kind.TRANSFER:
            sender = supply.from_location.name if supply.from_location else ""
            return f"a transfer from {sender}" if sender else "a transfer"
        return f"purchase order {reference}"

    def in_words(self, text: str) -> str:
        """A recorded sentence with its place and item codes given as names."""
        for code, name in sorted(
            [*self.places.items(), *self.skus.items()], key=lambda p: -len(p[0])
        ):
            # A function, not the name itself: re.sub reads a string as a template
            # ("Bag 1\2" would be a group reference and fail).
            text = re.sub(rf"\b{re.escape(code)}\b", lambda _, name=name: name, text)
        return text


def _supplies_by_reference(lines) -> dict[str, Supply]:
    """The deliveries the order's lines were ever promised from, by reference (what
    the order's timeline names them by)."""
    supply_ids = SupplyPromise.objects.filter(
        owner_kind=SupplyPromise.Owner.ORDER_LINE,
        owner_id__in=[line.pk for line in lines],
        supply__isnull=False,
    ).values("supply_id")
    return {
        supply.reference: supply
        for supply in Supply.objects.filter(pk__in=supply_ids).select_related(
            "sku", "location", "from_location"
        )
        if supply.reference
    }


def codes_in(value) -> list[str]:
    """Location codes a routing decision names (its allocations and candidates)."""
    if isinstance(value, dict):
        found = [
            value[key]
            for key in ("location", "code")
            if isinstance(value.get(key), str)
        ]
        return found + [code for item in value.values() for code in codes_in(item)]
    if isinstance(value, list):
        return [code for item in value for code in codes_in(item)]
    return []


def where(order: Order) -> str:
    method = order.get_fulfilment_method_display()
    if order.fulfilment_method in COLLECTED_METHODS and order.pickup_location:
        return f"{method} at {order.pickup_location.name}"
    town = ", ".join(
        part for part in (order.delivery_city, order.delivery_postal_code) if part
    )
    return f"{method} to {town}" if town else method


# Which source tells a moment first when several record it at once.
ORDER, TASK, NOTICE, RETURN, CASE = range(5)


def order_steps(order: Order, names: Names, *, has_task: bool) -> list[Step]:
    steps = []
    events = list(order.events.all())
    # Units promised against a delivery when the order was placed (or added to): what
    # was set aside then was the rest.
    promised = _units_at(events, {OrderEvent.Kind.SUPPLY_PROMISED})
    ordered = _units_at(events, {OrderEvent.Kind.PLACED, OrderEvent.Kind.LINE_ADDED})
    for event in events:
        step = _order_step(order, event, names, has_task)
        if step is not None:
            step.at, step.rank = event.at, ORDER
            step.actor = step.actor or event.actor
            if step.tag == "Set aside" and promised.get(event.at):
                step.words = (
                    "What was on the shelf set aside for the customer; the rest "
                    "waits for a delivery"
                    if ordered.get(event.at, 0) > promised[event.at]
                    else "Nothing on the shelf yet: every item waits for a delivery"
                )
            steps.append(step)
    return steps


def _units_at(events: list[OrderEvent], kinds) -> dict[datetime, int]:
    """Units the entries of these kinds name, by the moment they were recorded."""
    units: dict[datetime, int] = {}
    for event in events:
        if event.kind in kinds and isinstance(event.detail, dict):
            units[event.at] = units.get(event.at, 0) + sum(
                int(row.get("quantity") or 0)
                for row in event.detail.get("lines", [])
                if isinstance(row, dict)
            )
    return units


def _order_step(
    order: Order, event: OrderEvent, names: Names, has_task: bool
) -> Step | None:
    rows = event.detail.get("lines", []) if isinstance(event.detail, dict) else []
    units = names.units(rows, at_place=True)
    why = names.in_words(event.note)
    Kind = OrderEvent.Kind
    if event.kind == Kind.PLACED:
        return Step(
            event.at, "Placed",
            f"Placed through {order.channel.name}: {_placed(event, rows, names)}",
            detail=where(order),
        )  # fmt: skip
    if event.kind == Kind.ROUTED:
        # Routing is the system's decision, whoever placed the order.
        places = sorted({line.location.name for line in order.lines.all()})
        return Step(
            event.at, "Routed", f"Routed to {' and '.join(places)}", detail=why,
            actor="system:routing",
        )  # fmt: skip
    if event.kind == Kind.PICKED:
        return Step(event.at, "Picked", f"Picked {units}")
    if event.kind == Kind.SHORT:
        condition = str(event.detail.get("condition", "not_found")).replace("_", " ")
        return Step(
            event.at, "Short", f"Short at picking: {units} {condition}",
            detail=f"“{event.note}”" if event.note else "",
        )  # fmt: skip
    if event.kind == Kind.REFILLED:
        return Step(event.at, "Picking", f"Missing items set aside again: {units}")
    if event.kind == Kind.LINE_ADDED:
        return Step(event.at, "Added", f"Added to the order: {units}", detail=why)
    if event.kind == Kind.CANCELLED:
        whole = event.to_status == Order.Status.CANCELLED
        return Step(
            event.at, "Cancelled",
            "Order cancelled" + (f": {units}" if units else "")
            if whole else f"Cancelled {units}",
            detail=f"Why: {why}" if why else "",
        )  # fmt: skip
    if event.kind == Kind.SHIPPED:
        return Step(event.at, "Shipped", f"Shipped {units}")
    if event.kind == Kind.COLLECTED:
        return Step(event.at, "Collected", f"Collected by the customer: {units}")
    if event.kind == Kind.RETURN_TO_STOCK:
        return Step(
            event.at, "Put back", f"To go back on the shelf: {units}", detail=why
        )
    if event.kind == Kind.PUT_AWAY:
        return Step(event.at, "Put back", f"Back on the shelf: {units}")
    if event.kind in SUPPLY_KINDS:
        return _supply_step(event, rows, names, why)
    return _order_status_step(order, event, why, has_task)


def _placed(event: OrderEvent, rows: list[dict], names: Names) -> str:
    """What was ordered, a kit with its parts: "1 × CAM-KIT (BODY-X, 2 × LENS-50)"."""
    kits = event.detail.get("kits", [])
    in_kits = {part["line"] for kit in kits for part in kit["components"]}
    plain = names.units(
        [r for r in rows if r.get("line") not in in_kits], at_place=True
    )
    told = [
        f"{kit['quantity']} × {names.item(kit['sku'])} ("
        + ", ".join(
            (f"{part['per_kit']} × " if part["per_kit"] > 1 else "") + part["sku"]
            for part in kit["components"]
        )
        + ")"
        for kit in kits
    ]
    return ", ".join(([plain] if plain else []) + told)


SUPPLY_KINDS = {
    OrderEvent.Kind.SUPPLY_PROMISED,
    OrderEvent.Kind.SUPPLY_ARRIVED,
    OrderEvent.Kind.PROMISE_DATE_CHANGED,
    OrderEvent.Kind.SUPPLY_DELAYED,
}
# The reason recorded after a new date or a lost delivery (orders.services.preorders
# writes "... now due <date> (was <date>): <why>" and "... come from: <why>").
AFTER_DATE = re.compile(r" now due \S+(?: \(was \S+\))?: (?P<why>.*)$", re.S)
AFTER_NO_SUPPLY = re.compile(r" left to come from: (?P<why>.*)$", re.S)


def _supply_step(event: OrderEvent, rows: list[dict], names: Names, why: str) -> Step:
    """A pre-order's units: promised against a delivery, arrived, given a new date,
    or left with no delivery to come from."""
    Kind = OrderEvent.Kind
    detail = event.detail if isinstance(event.detail, dict) else {}
    if event.kind == Kind.SUPPLY_PROMISED:
        said = [
            f"{row.get('quantity', '')} × {names.item(row.get('sku', ''))} at "
            f"{names.place(row.get('location', ''))}, promised from "
            f"{_promised_from(names, row)} due {names.day(row.get('expected_at'))}"
            for row in rows
        ]
        return Step(
            event.at, "Pre-ordered", "Pre-ordered " + "; ".join(said),
            detail="Not on the shelf yet: set aside for the customer when it arrives",
        )  # fmt: skip
    if event.kind == Kind.SUPPLY_ARRIVED:
        said = [
            f"{row.get('quantity', '')} × {names.item(row.get('sku', ''))} arrived at "
            f"{names.place(row.get('location', ''))} with "
            + " and ".join(
                names.delivery(supply.get("reference", ""))
                for supply in row.get("supply") or [{}]
            )
            for row in rows
        ]
        return Step(
            event.at, "Arrived", "; ".join(said),
            detail="Set aside for the customer: on its way to them like any order",
        )  # fmt: skip
    item = names.item(str(detail.get("sku", "")))
    place = names.place(str(detail.get("location", "")))
    if event.kind == Kind.PROMISE_DATE_CHANGED:
        was = f" (was {names.day(detail['from'])})" if detail.get("from") else ""
        found = AFTER_DATE.search(event.note)
        return Step(
            event.at, "New date",
            f"{item} at {place} now due {names.day(detail.get('to'))}{was}",
            detail=names.in_words(found["why"]) if found else why,
        )  # fmt: skip
    found = AFTER_NO_SUPPLY.search(event.note)
    return Step(
        event.at, "Delayed",
        f"{detail.get('unsupplied', '')} × {item} at {place}: no delivery left to "
        "come from",
        detail=names.in_words(found["why"]) if found else why,
    )  # fmt: skip


def _promised_from(names: Names, row: dict) -> str:
    """The delivery a line was first promised from: as the entry names it, else the
    one delivery the line's promises lie on that was due that date; else "a
    delivery"."""
    named = [
        names.delivery(supply.get("reference", ""), supply.get("kind", ""))
        for supply in row.get("supply") or []
        if isinstance(supply, dict) and supply.get("reference")
    ]
    if named:
        return " and ".join(named)
    due = parse_datetime(str(row.get("expected_at") or ""))
    matching = [
        reference
        for reference, supply in names.supplies.items()
        if supply.sku.code == row.get("sku")
        and supply.location.code == row.get("location")
        and supply.expected_at == due
    ]
    return names.delivery(matching[0]) if len(matching) == 1 else "a delivery"


def _order_status_step(
    order: Order, event: OrderEvent, why: str, has_task: bool
) -> Step | None:
    if event.to_status == Order.Status.ALLOCATED:
        return Step(
            event.at, "Set aside", "Every item set aside for the customer",
            actor="system:system",
        )  # fmt: skip
    if event.to_status == Order.Status.READY:
        if has_task:
            return None  # the pickup task tells it, with the shelf it waits on
        return Step(event.at, "Ready", "Every item picked and ready to send")
    if event.to_status == Order.Status.CLOSED:
        return Step(event.at, "Closed", "Order closed", detail=why)
    if event.to_status == Order.Status.CANCELLED:
        return Step(event.at, "Cancelled", "Order cancelled", detail=why)
    if event.to_status == Order.Status.IN_PROGRESS:
        return None  # the picks tell it
    words = ORDER_WORDS.get(event.to_status, "Order changed")
    return Step(event.at, "Order", words, detail=why)


# The task's own steps a service agent needs; the rest the order tells already
# (opened with the order, picks, shortages, the customer collecting).
TASK_WORDS = {
    "pickup_claim": ("Picking", "Pickup taken on"),
    "pickup_take_over": ("Picking", "Pickup taken over by a colleague"),
    "pickup_release": ("Picking", "Pickup let go for a colleague"),
    "pickup_start": ("Picking", "Picking started"),
    "pickup_hold": ("Waiting", "Waiting for items from another store"),
    "pickup_picked": ("Picked", "Every item picked, in the pickup-hold area"),
    "pickup_ready": ("Ready", "Ready to collect: the customer was told"),
    "pickup_decide": ("Decided", "Decided about the missing items"),
    "pickup_problem_closed": ("Decided", "Missing items no longer needed"),
    "pickup_escalate": ("Waiting", "Sent to the manager: undecided too long"),
    "pickup_expire": ("Expired", "Not collected in time: the order was cancelled"),
    "pickup_out_of_step": ("Exception", "The pickup task could not follow the order"),
}


def task_steps(task: PickupTask | None, names: Names) -> list[Step]:
    if task is None:
        return []
    link = reverse("pickup:task", args=[task.pk])
    steps = []
    for event in task.events.order_by("at", "id"):
        known = TASK_WORDS.get(event.action)
        if known is None:
            continue
        tag, words = known
        steps.append(
            Step(
                event.at, tag, words, actor=event.actor,
                detail=names.in_words(event.note),
                link=link if tag in ("Decided", "Waiting") else "",
                link_text="Open the pickup task" if tag in ("Decided", "Waiting") else "",
                rank=TASK,
            )
        )  # fmt: skip
    return steps


def notice_steps(task: PickupTask | None) -> list[Step]:
    if task is None:
        return []
    steps = []
    for notice in PickupNotice.objects.filter(task=task).order_by("created_at", "id"):
        if notice.failure:
            sent = f"Not delivered to {notice.to}: {notice.failure}"
        elif notice.sent_at:
            sent = f"Sent to {notice.to}"
        else:
            sent = f"Waiting to be sent to {notice.to}"
        steps.append(
            Step(
                notice.created_at, "Message",
                f"Message to the customer: “{notice.subject}”", actor="system:pickup",
                detail=sent, rank=NOTICE,
            )
        )  # fmt: skip
    return steps


GRADE_WORDS = dict(ReturnInspection.Grade.choices)
REASON_WORDS = dict(ReturnReason.choices)


def return_steps(returns: list[Return], names: Names) -> list[Step]:
    steps = []
    for found in returns:
        link = reverse("returns:return", args=[found.pk])
        items = ", ".join(
            f"{line.quantity or line.expected_quantity} × {names.item(line.sku.code)}, "
            f"{REASON_WORDS.get(line.reason, line.reason).lower()}"
            for line in found.lines.all()
        )
        told = []
        for event in found.events.all():
            step = _return_step(found, event, items, names)
            if step is not None:
                step.at, step.rank, step.actor = event.at, RETURN, event.actor
                told.append(step)
        if told:  # one link per return, on its first step
            told[0].link, told[0].link_text = link, f"Open return {found.reference}"
        steps += told
    return steps


def _return_step(found: Return, event, items: str, names: Names) -> Step | None:
    status = Return.Status
    if event.kind == "announced":
        return Step(
            event.at, "Return", f"Return {found.reference} announced: {items}",
            detail=f"Expected at {found.location.name}",
        )  # fmt: skip
    if event.kind == "graded":
        detail = event.detail if isinstance(event.detail, dict) else {}
        grade = GRADE_WORDS.get(detail.get("grade", ""), detail.get("grade", ""))
        shelf = detail.get("shelf_location")
        return Step(
            event.at, "Graded",
            f"Returned {detail.get('quantity', '')} × "
            f"{names.item(detail.get('sku', ''))} graded {grade.lower()}",
            detail=f"Put on shelf {shelf}" if shelf else event.note,
        )  # fmt: skip
    if event.kind == "overdue":
        return Step(event.at, "Return", "Return waiting too long for inspection")
    if event.to_status == status.RECEIVED:
        return Step(
            event.at, "Return",
            f"Brought back at {found.location.name}: {items}",
        )  # fmt: skip
    if event.to_status == status.CLOSED:
        return Step(
            event.at, "Return", f"Return {found.reference} closed", detail=event.note
        )
    if event.to_status == status.CANCELLED:
        return Step(
            event.at, "Return", f"Return {found.reference} called off: never arrived",
            detail=event.note,
        )  # fmt: skip
    return None  # inspection started, every unit graded: the grades tell it


CASE_WORDS = {
    "raised": "Exception raised",
    "raised_again": "Exception raised again",
    "assigned": "Exception given to someone",
    "comment": "Note on the exception",
    "resolved": "Exception resolved",
}


def case_steps(cases: list[ExceptionCase], names: Names) -> list[Step]:
    steps = []
    for case in cases:
        link = reverse("reconciliation:exception", args=[case.pk])
        for event in case.events.all():
            words = CASE_WORDS.get(event.kind)
            if words is None:
                continue
            if event.kind == "resolved":
                detail = case.get_resolution_display() or event.note
                if case.resolution_note:
                    detail = f"{detail}: {case.resolution_note}"
            elif event.kind in ("raised", "raised_again"):
                detail = names.in_words(case.title)
            else:
                detail = names.in_words(event.note)
            steps.append(
                Step(
                    event.at, "Exception", f"{words}: {case.get_kind_display().lower()}",
                    actor=event.actor, detail=detail, link=link,
                    link_text=f"Open exception case {case.pk}", rank=CASE,
                )
            )  # fmt: skip
    return steps
