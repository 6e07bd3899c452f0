"""How each record that holds part of an order's story is told as steps of it, in a
service agent's words: the order's own timeline, its pickup task's steps (the
decisions about missing items among them), the messages sent to the customer, its
returns and their grades, and its exception cases; a pre-order's units told with the
delivery they wait for (promised, arrived, a new date, no delivery left); a change of
pickup store with what became of each item, and the items that came after it from the
store the customer left. Reads only;
``support.selectors`` gathers the records and puts the steps in time order.

Items and places are named as people name them (``support.names``); a step the
order's timeline already tells is not told again from the task's."""

import re
from datetime import datetime

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from orders.models import COLLECTED_METHODS, Order, OrderEvent
from pickup.models import PickupNotice, PickupTask
from reconciliation.models import ExceptionCase
from returns.models import Return, ReturnInspection, ReturnReason

from .names import Names, Step

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


def where(order: Order, *, first_store: str = "") -> str:
    """How the customer gets the order, in words: collected at its store (the one
    they first chose, ``first_store``, when the story tells its placing), or sent to
    their town."""
    method = order.get_fulfilment_method_display()
    if order.fulfilment_method in COLLECTED_METHODS and order.pickup_location:
        return f"{method} at {first_store or order.pickup_location.name}"
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
    sent = _sent_after_a_move(events)
    for event in events:
        step = _order_step(order, event, names, has_task)
        if event.kind == OrderEvent.Kind.REFILLED and _transfer_named(event) in sent:
            step = _arrived(event, names, sent[_transfer_named(event)])
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


def _sent_after_a_move(events: list[OrderEvent]) -> dict[int, str]:
    """The transfers a change of pickup store sent the order's items on, each with
    the store it came from."""
    sent = {}
    for event in events:
        if event.kind != OrderEvent.Kind.PICKUP_LOCATION_CHANGED:
            continue
        detail = event.detail if isinstance(event.detail, dict) else {}
        for row in detail.get("lines", []):
            if isinstance(row, dict) and row.get("transfer"):
                sent[row["transfer"]] = row.get("from_location") or detail.get("from")
    return sent


# A transfer's units committed again on receipt (pickup.services.problems writes
# "Transfer <id> from <store> received.").
TRANSFER_RECEIVED = re.compile(r"^Transfer (?P<id>\d+) from ")


def _transfer_named(event: OrderEvent) -> int | None:
    found = TRANSFER_RECEIVED.match(event.note or "")
    return int(found["id"]) if found else None


def _arrived(event: OrderEvent, names: Names, sender: str) -> Step:
    rows = event.detail.get("lines", []) if isinstance(event.detail, dict) else []
    return Step(
        event.at, "Arrived",
        f"Arrived from {names.place(sender)}: {names.units(rows)}",
        detail="Set aside for the customer at the store they chose",
    )  # fmt: skip


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
            detail=where(order, first_store=_first_store(order, names)),
        )  # fmt: skip
    if event.kind == Kind.ROUTED:
        # Routing is the system's decision, whoever placed the order; the places
        # it chose are those the order was placed at (a change of pickup store
        # since then tells its own step).
        places = sorted(
            {names.place(code) for code in _placed_at(order)}
            or {line.location.name for line in order.lines.all()}
        )
        return Step(
            event.at, "Routed", f"Routed to {' and '.join(places)}", detail=why,
            actor="system:routing",
        )  # fmt: skip
    if event.kind == Kind.PICKED:
        return Step(event.at, "Picked", f"Picked {units}")
    if event.kind == Kind.SHORT:
        condition = str(event.detail.get("condition", "not_found")).replace("_", " ")
        return Step(
            event.at, "Short",
            f"Short at {'picking' if has_task else 'packing'}: {units} {condition}",
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
    if event.kind == Kind.PICKUP_LOCATION_CHANGED:
        return _moved(event, rows, names)
    if event.kind == Kind.REROUTED:
        return _rerouted(event, names)
    return _order_status_step(order, event, why, has_task)


def _rerouted(event: OrderEvent, names: Names) -> Step:
    """Units short at packing sent from another location: routing's decision, with
    its reason (orders.services.packing)."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    row = {"sku": detail.get("sku", ""), "quantity": detail.get("quantity", 0)}
    return Step(
        event.at,
        "Re-routed",
        f"Re-routed: {names.units([row])} from "
        f"{names.place(str(detail.get('from_location', '')))} to "
        f"{names.place(str(detail.get('to_location', '')))}",
        detail=names.in_words(str(detail.get("reason", ""))),
        actor="system:routing",
    )


def _first_store(order: Order, names: Names) -> str:
    """The store the customer first chose to collect at, if they changed it since."""
    for event in order.events.all():
        if event.kind == OrderEvent.Kind.PICKUP_LOCATION_CHANGED:
            detail = event.detail if isinstance(event.detail, dict) else {}
            return names.place(detail.get("from", "")) if detail.get("from") else ""
    return ""


def _placed_at(order: Order) -> set[str]:
    """The locations the order's lines had when it was placed."""
    for event in order.events.all():
        if event.kind == OrderEvent.Kind.PLACED and isinstance(event.detail, dict):
            return {
                row["location"]
                for row in event.detail.get("lines", [])
                if isinstance(row, dict) and row.get("location")
            }
    return set()


def _moved(event: OrderEvent, rows: list[dict], names: Names) -> Step:
    """The customer collects at another store: what became of each item, and when it
    is ready now."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    was, now = names.place(detail.get("from", "")), names.place(detail.get("to", ""))
    said = []
    for row in rows:
        parts = []
        if row.get("committed"):
            parts.append(f"{row['committed']} set aside at {now}")
        if row.get("return_to_stock"):
            parts.append(
                f"{row['return_to_stock']} picked at {was} goes back on its shelf"
            )
        if row.get("on_transfer"):
            parts.append(f"{row['on_transfer']} on its way from {was}")
        item = names.item(row.get("sku", ""))
        said.append(f"{row.get('quantity', '')} × {item}: {', '.join(parts)}")
    promise = detail.get("promised_by") or {}
    ready = f"ready by {names.moment(promise.get('to'))}"
    if promise.get("from") and names.moment(promise["from"]) != names.moment(
        promise.get("to")
    ):
        ready += f" (was {names.moment(promise['from'])})"
    return Step(
        event.at, "Moved", f"Pickup store changed from {was} to {now}",
        detail="; ".join([*said, ready]) + ".",
    )  # fmt: skip


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
