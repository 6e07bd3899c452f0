"""Reads for customer service: finding an order by its number, the customer's email
or phone, within what the member of staff may see; and the order's whole story in
time order, gathered from every record that holds part of it (the order's own
timeline, its pickup task and the problems decided on it, the messages sent to the
customer, its returns and their grades, and the exception cases it raised), each
told in words by ``support.steps``; and, for an order the customer may still collect
elsewhere, the stores they may choose and a refused change in words.

Nothing here writes. Each app's records are read as that app keeps them."""

import re
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from config import access
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import readable
from inventory.models import Location
from inventory.networks import network_locations
from orders.models import Order
from orders.selectors import order_queryset
from orders.services.relocation import MAY_MOVE
from pickup.models import PickupProblem, PickupTask
from pickup.services.cases import (
    expired_key,
    not_found_key,
    out_of_step_key,
    undecided_key,
)
from reconciliation.models import ExceptionCase
from reconciliation.receivers import packing_problem_key
from reconciliation.selectors import exceptions_visible_to
from returns.models import Return
from returns.selectors import return_queryset
from returns.services.moves import overdue_key

from .names import Names, Step, store_zone
from .steps import (
    case_steps,
    notice_steps,
    order_status_words,
    order_steps,
    return_steps,
    task_steps,
    where,
)

FOUND_LIMIT = 30
SEARCH_LONGEST = 200
# A phone number is told apart from an order number by its digits: at least this
# many, and nothing but what people write between them.
PHONE_DIGITS = 9
PHONE_CHARACTERS = re.compile(r"^[\d\s()+.\-/]+$")
# What people write between a phone number's digits, taken out of the stored one
# the same way on PostgreSQL and SQLite (the demo's engine).
PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "+", "/")
# A longer number in an address is a mistyped one: no row has it.
BIGGEST_ID = 2**63 - 1

# ------------------------------------------------------------------ finding


@dataclass(frozen=True)
class Found:
    orders: list[Order]
    looked_for: str  # "order number", "email" or "phone number or order number"
    more: bool  # more matched than are shown


def visible_orders(user) -> QuerySet[Order]:
    """Orders that touch a store the member of staff works at (a line fulfilled
    there, collected there, or brought back there); a manager's are every order."""
    orders = Order.objects.all()
    if access.sees_every_location(user):
        return orders
    stores = access.staff_locations(user=user)
    touching = (
        Q(lines__location__in=stores)
        | Q(pickup_location__in=stores)
        | Q(returns__location__in=stores)
    )
    return orders.filter(pk__in=Order.objects.filter(touching).values("pk"))


def orders_found(*, user, search: str) -> Found:
    """Orders matching what a service agent typed: an order number (any case, spaces
    ignored), an email (any case) or a phone number (spaces, dashes and brackets
    ignored; +44, 0044 and a leading 0 are the same number). Newest first."""
    term = " ".join((search or "").split())
    if not term:
        raise InvalidInput(
            {"q": ["Type an order number, the customer's email or their phone number."]}
        )
    if any(ord(character) < 32 or ord(character) == 127 for character in term):
        # A scanner's control code, or a pasted NUL: PostgreSQL cannot even compare it.
        raise InvalidInput(
            {"q": ["That holds a character no order number, email or phone has."]}
        )
    if len(term) > SEARCH_LONGEST:
        raise InvalidInput(
            {"q": ["That is too long for an order number, email or phone number."]}
        )
    orders = visible_orders(user)
    if "@" in term:
        matching, looked_for = Q(customer_email__iexact=term.replace(" ", "")), "email"
    else:
        number = term.lstrip("#").strip()
        matching = Q(reference__iexact=number) | Q(
            reference__iexact=number.replace(" ", "")
        )
        looked_for = "order number"
        national = phone_key(term)
        if national:
            # Worked out in the same pass, on the orders this person may see only
            # (no index serves an ending).
            orders = orders.annotate(phone_digits=_phone_digits())
            matching |= Q(phone_digits__endswith=national)
            looked_for = "phone number or order number"
    found = list(
        orders.filter(matching)
        .select_related("channel", "pickup_location")
        .prefetch_related("lines__location")
        .order_by("-placed_at", "-id")[: FOUND_LIMIT + 1]
    )
    for order in found:
        order.status_words = order_status_words(order)
        order.zone = store_zone(order)
    return Found(
        orders=found[:FOUND_LIMIT], looked_for=looked_for, more=len(found) > FOUND_LIMIT
    )


def phone_key(term: str) -> str:
    """The number without its country code or trunk 0 ("+44 7700 900123",
    "07700-900123" and "0044 (0)7700 900123" are all "7700900123"); empty when
    ``term`` is not a phone number."""
    if not PHONE_CHARACTERS.match(term):
        return ""
    digits = re.sub(r"\D", "", term)
    if len(digits) < PHONE_DIGITS:
        return ""
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("44") and len(digits) >= 12:
        digits = digits[2:]
    return digits.lstrip("0")


def _phone_digits() -> Replace:
    """An order's phone as its digits alone, for a number searched for to be
    matched as the end of it however either was written."""
    stripped = F("customer_phone")
    for separator in PHONE_SEPARATORS:
        stripped = Replace(stripped, Value(separator), Value(""))
    return stripped


def order_for_staff(*, user, order_id: int) -> Order:
    """The order with its lines and timeline, if ``user`` may see it; otherwise
    it is not found (an order at another store is never hinted at)."""
    if not 0 < order_id <= BIGGEST_ID:
        raise NotFound(f"No order {order_id}.")
    order = order_queryset().filter(
        pk__in=visible_orders(user).filter(pk=order_id).values("pk")
    )
    found = order.first()
    if found is None:
        raise NotFound(f"No order {order_id}.")
    return found


# ------------------------------------------------------------------ the story


@dataclass
class Story:
    order: Order
    status_words: str
    zone: str  # the store's time zone the story is told in
    where: str  # how the customer gets it, in words
    lines: list = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    task: PickupTask | None = None
    returns: list[Return] = field(default_factory=list)
    cases: list[ExceptionCase] = field(default_factory=list)
    follow_ups: list[Order] = field(default_factory=list)
    follows: Order | None = None
    # The stores the customer may collect at instead; none when it cannot change.
    pickup_stores: list[Location] = field(default_factory=list)


def order_story(*, order: Order, user) -> Story:
    """Everything that happened to ``order``, oldest first, in plain words."""
    names = Names(order)
    task = PickupTask.objects.filter(order=order).select_related("location").first()
    returns = list(return_queryset().filter(order=order).order_by("created_at", "id"))
    problems = (
        list(
            PickupProblem.objects.filter(task=task).select_related(
                "line__sku",
                "substitute_sku",
                "follow_up_order",
                "transfer__from_location",
            )
        )
        if task
        else []
    )
    cases = _cases(order, task, problems, returns, user)
    steps = [
        *order_steps(order, names, has_task=task is not None),
        *task_steps(task, names),
        *notice_steps(task),
        *return_steps(returns, names),
        *case_steps(cases, names),
    ]
    steps.sort(key=lambda step: (step.at, step.rank))
    follows = (
        PickupProblem.objects.filter(follow_up_order=order)
        .select_related("task__order")
        .first()
    )
    return Story(
        order=order,
        status_words=order_status_words(order),
        zone=names.zone,
        where=where(order),
        lines=_lines(order, names, problems),
        steps=steps,
        task=task,
        returns=returns,
        cases=cases,
        follow_ups=[p.follow_up_order for p in problems if p.follow_up_order_id],
        follows=follows.task.order if follows else None,
        pickup_stores=pickup_stores(order=order),
    )


LINE_WORDS = {
    "allocated": "Waiting to be picked",
    "picking": "Being picked",
    "picked": "Picked",
    "short": "Missing: waiting for a decision",
    "awaiting_supply": "Pre-ordered: waiting for a delivery",
    "partially_fulfilled": "Partly with the customer",
    "fulfilled": "With the customer",
    "cancelled": "Cancelled",
}


def _lines(order: Order, names: Names, problems: list[PickupProblem]) -> list:
    lines = list(order.lines.all())
    returned = _returned_units(lines)
    # Units on their way from the store the customer left are short, not missing.
    coming = {
        problem.line_id: problem.transfer.from_location.name
        for problem in problems
        if problem.condition == PickupProblem.Condition.ON_THE_WAY
        and problem.status == PickupProblem.Status.WAITING
    }
    for line in lines:
        line.status_words = LINE_WORDS.get(line.status, line.get_status_display())
        if line.status == line.Status.SHORT and line.pk in coming:
            line.status_words = f"On its way from {coming[line.pk]}"
        line.returned = returned.get(line.pk, 0)
        # A pre-order's units not here yet, and the date the customer was promised.
        line.awaiting_words = (
            f"{line.awaiting_supply_quantity} waiting for a delivery, due "
            f"{names.day(line.supply_expected_at)}"
            if line.awaiting_supply_quantity
            else ""
        )
    return lines


def _returned_units(lines) -> dict[int, int]:
    units: dict[int, int] = {}
    for row in (
        Return.objects.filter(lines__order_line__in=lines)
        .exclude(status=Return.Status.CANCELLED)
        .values("lines__order_line", "lines__quantity")
    ):
        line = row["lines__order_line"]
        units[line] = units.get(line, 0) + row["lines__quantity"]
    return units


# Which source tells a moment first when several record it at once.
def _cases(order, task, problems, returns, user) -> list[ExceptionCase]:
    """The exception cases this order raised, by the causes pickup and returns name
    them with (pickup/services/cases.py, returns/services/moves.py), pre-orders left
    without a delivery (reconciliation/receivers.py), and oversell
    conflicts its own ledger entries caused; as far as ``user`` may see them."""
    keys = [expired_key(order.pk)] + [overdue_key(found) for found in returns]
    # Pre-ordered units left with no delivery (reconciliation/receivers.py).
    keys += [f"supply_delayed:order_line:{line.pk}" for line in order.lines.all()]
    for problem in problems:
        keys += [not_found_key(problem.pk), undecided_key(problem.pk)]
    # Units a packer could not find (reconciliation/receivers.py).
    keys += [
        packing_problem_key(pk)
        for pk in order.packing_problems.values_list("pk", flat=True)
    ]
    if task is not None:
        keys.append(out_of_step_key(task.pk))
    caused = Q(key__in=keys) | Q(
        stock_conflict__movement__reference__startswith=f"#order/{order.pk}/"
    )
    return list(
        exceptions_visible_to(user)
        .filter(caused)
        .prefetch_related("events")
        .order_by("first_raised_at", "id")
    )


# ------------------------------------------------------------------ another store


def pickup_stores(*, order: Order) -> list[Location]:
    """The stores a customer collecting ``order`` may choose instead, by name: those
    of its channel's network that hand over pickups, its own left out; none once the
    order is past changing (or is not collected at all)."""
    if not order.is_collected_by_customer or order.status not in MAY_MOVE:
        return []
    return sorted(
        (
            store
            for store in network_locations(channel=order.channel)
            if store.pickup_enabled
            and store.kind == Location.Kind.STORE
            and store.pk != order.pickup_location_id
        ),
        key=lambda store: store.name,
    )


def store_chosen(*, code: str) -> Location:
    """The store a service agent chose by its code; a readable 400 otherwise."""
    code = code.strip()
    if not code:
        raise InvalidInput(
            {"pickup_location": ["Choose the store the customer will collect at."]}
        )
    store = Location.objects.filter(code=code).first() if len(code) <= 64 else None
    if store is None:
        raise InvalidInput({"pickup_location": [f"There is no store {code!r}."]})
    return store


def store_change_refused(error: DomainError, *, places: list[Location]) -> str:
    """A refused change of pickup store in one paragraph, the ``places`` it names
    by their names: the reason, and for a store that lacks the items, the stores
    that could have them ready instead."""
    said = readable(error)
    for place in sorted(places, key=lambda place: -len(place.code)):
        said = re.sub(rf"\b{re.escape(place.code)}\b", lambda _, p=place: p.name, said)
    nearest = error.extra.get("nearest_stores") or []
    if error.code != "insufficient_stock":
        return said
    if not nearest:
        return f"{said} No store near it has every item either."
    names = dict(
        Location.objects.filter(
            code__in=[found["location"] for found in nearest]
        ).values_list("code", "name")
    )
    stores = ", ".join(
        names.get(found["location"], found["location"])
        + (
            f" ({found['distance_km']:.1f} km)"
            if found.get("distance_km") is not None
            else ""
        )
        for found in nearest
    )
    return f"{said} Stores that could have every item ready: {stores}."
