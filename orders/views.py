"""The packing bench (/store/packing/): the shipped orders with units to pack at the
packer's location, each with its lines; one keyboard-first form to report units
not found or damaged (the order's number, the item's code or barcode, the units,
what happened, Enter); the units no location could take, each with its three
decisions; and "Shipped" for an order packed here.

Thin: each action calls one service (``orders.services.packing``: the report and
"Shipped"; ``packing_decisions``) and comes back to the bench (a plain form post,
then a redirect), its result at the top of the page where a screen reader reads it,
the focus on the next thing to do. Each form shown carries a one-off
``request_reference``: sent twice (a scanner's double Enter), the second changes
nothing.
A refusal comes back on the bench itself (400 or 409) with what was typed kept, the
message under the field to put right, and the focus there. Who may see what is
decided in ``config.access``: a location the person does not work at is a 404."""

from dataclasses import replace
from urllib.parse import urlencode
from uuid import uuid4

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import skus_by_code_or_barcode
from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import (
    chosen_store,
    first_messages,
    readable,
    render,
    staff_screen,
    whole_number,
)
from config.words import units
from inventory.models import Location

from . import selectors
from .models import Order, OrderLine, PackingProblem
from .services.packing import packing_report_short, packing_ship_here
from .services.packing_decisions import (
    decision_words,
    packing_problem_cancel,
    packing_problem_ship_later,
    packing_problem_substitute,
)


@require_GET
@staff_screen
def bench(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    location = chosen_store(request, locations)
    if location is None:
        return render(request, "no_store.html", status=403)
    kept = {
        "order": request.GET.get("order", "")[:100],
        "order_id": _order_id(request.GET),
        "quantity": "1",
    }
    return _bench(request, location, locations, kept=kept)


@require_POST
@staff_screen
def report(request: HttpRequest) -> HttpResponse:
    """Units of an order's line reported short, from the bench's one form."""
    location, locations = _location(request)
    form = request.POST
    try:
        order, line = _line_reported(form, location)
        problem = packing_report_short(
            order_id=order.pk,
            line_id=line.pk,
            quantity=whole_number(form, "quantity"),
            condition=form.get("condition", ""),
            note=form.get("note", "")[:300],
            actor=_actor(request),
        )
    except NotFound:
        raise
    except DomainError as refused:
        return _refused(request, location, locations, refused, form, on="report")
    messages.success(request, _reported_words(problem))
    if problem.status == PackingProblem.Status.OPEN:
        return _back(location, focus=f"problem-{problem.pk}")
    return _back(location)


@require_POST
@staff_screen
def decide(request: HttpRequest, problem_id: int, action: str) -> HttpResponse:
    """A decision on units no location could take: ship later, substitute, cancel."""
    location, locations = _location(request)
    problem = (
        PackingProblem.objects.select_related("line__sku")
        .filter(pk=problem_id, location=location)
        .first()
    )
    if problem is None:
        raise Http404("No such packing problem here.")
    form, actor = request.POST, _actor(request)

    def substitute() -> PackingProblem:
        code = form.get("substitute", "").strip()[:100]
        if not code:
            raise InvalidInput({"substitute": ["Scan or type the item offered."]})
        sku = skus_by_code_or_barcode(codes={code}).get(code)
        if sku is None:
            raise InvalidInput(
                {"substitute": [f"{code} is not in the catalogue: check the code."]}
            )
        return packing_problem_substitute(
            problem_id=problem.pk,
            actor=actor,
            substitute=sku,
            customer_answer=form.get("customer_answer", ""),
        )

    actions = {
        "ship-later": lambda: packing_problem_ship_later(
            problem_id=problem.pk, actor=actor
        ),
        "substitute": substitute,
        "cancel": lambda: packing_problem_cancel(problem_id=problem.pk, actor=actor),
    }
    if action not in actions:
        raise Http404("No such decision.")
    try:
        decided = actions[action]()
    except NotFound:
        raise
    except DomainError as refused:
        return _refused(
            request, location, locations, refused, form, on=action, target=problem.pk
        )
    messages.success(
        request,
        f"{decided.quantity} × {problem.line.sku.name}: {decision_words(decided)}.",
    )
    return _back(location)


@require_POST
@staff_screen
def ship(request: HttpRequest, order_id: int) -> HttpResponse:
    """Every unit of the order packed here left with the carrier; refused while
    units of it short here wait for a decision."""
    location, locations = _location(request)
    try:
        order, shipped = packing_ship_here(
            order_id=order_id, location=location, actor=_actor(request)
        )
    except NotFound:
        raise
    except DomainError as refused:
        return _refused(
            request, location, locations, refused, {}, on="ship", target=order_id
        )
    messages.success(
        request,
        f"Order {order.reference}: {units(shipped)} shipped from {location.code}.",
    )
    return _back(location)


# ---------------------------------------------------------------- the page

DECISIONS = ("ship-later", "substitute", "cancel")
# Where an order on the bench is, in a word.
STAGES = {
    Order.Status.ALLOCATED: "To pick",
    Order.Status.IN_PROGRESS: "Picking",
    Order.Status.READY: "Picked",
    Order.Status.PARTIALLY_SHIPPED: "Partly shipped",
}


def _bench(
    request: HttpRequest,
    location: Location,
    locations: list,
    *,
    kept: dict,
    result: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    orders = selectors.packing_bench(location=location)
    for order in orders:
        order.stage = STAGES.get(order.status, order.status)
    problems = selectors.packing_problems_open(location=location)
    focus = request.GET.get("focus", "") if result is None else result["on"]
    for problem in problems:
        # The problem just reported has the focus on its heading; a refused
        # decision keeps it on the form used, the refusal beside it.
        mine = result if result and result["target"] == problem.pk else None
        problem.result = mine if mine and mine["form"] in DECISIONS else None
        problem.focus = problem.result["form"] if problem.result else ""
        if focus == f"problem-{problem.pk}":
            problem.focus = "heading"
        # A one-off key per form and page shown: a scanner's double Enter sends
        # the same decision twice under one key, and the second changes nothing.
        problem.key = uuid4().hex
    shown = {f"problem-{p.pk}" for p in problems}
    shown |= {f"{p.focus}-{p.pk}" for p in problems if p.result}
    shown |= {f"ship-{order.pk}" for order in orders}
    if focus not in shown | {"order", "item", "quantity", "condition"}:
        focus = "item" if kept.get("order") else "order"
    for order in orders:
        order.focus = focus == f"ship-{order.pk}"
    context = {
        "location": location,
        "locations": locations,
        "orders": orders,
        "problems": problems,
        "conditions": PackingProblem.Condition.choices,
        "kept": kept,
        "result": result,
        "report_said": result["said"] if result and result["form"] == "report" else {},
        # The report's one-off key, as the decisions' (``problem.key``).
        "report_key": uuid4().hex,
        "focus": focus,
    }
    return render(request, "orders/packing.html", context, status=status)


def _refused(
    request, location, locations, refused: DomainError, form, *, on: str, target=None
):
    """The bench again, the refusal where it is put right: under the field it
    names, else beside the form used (``on``: the report, or a decision or "ship"
    on the ``target`` problem or order)."""
    fields = refused.field_errors if isinstance(refused, InvalidInput) else {}
    said = first_messages(fields)
    if "line" in said:  # a service's ``line`` is the item typed on the bench
        said.setdefault("item", said.pop("line"))
    focus = f"{on}-{target}"
    if on == "report":
        # The field the person puts right has the focus; the note never refuses.
        wrong = [n for n in ("order", "item", "quantity", "condition") if n in said]
        focus = wrong[0] if wrong else "item"
    result = {
        "on": focus,
        "form": on,
        "target": target,
        "text": readable(refused),
        "said": said,
    }
    kept = {
        key: form.get(key, "")[:300]
        for key in ("order", "item", "quantity", "condition", "note", "substitute")
    }
    kept["order_id"] = _order_id(form) if on == "report" and "order" not in said else ""
    # A refused code is named in its message and not kept in its field: the next
    # scan goes into an empty field, not after it.
    for field in ("order", "item"):
        if on == "report" and field in said:
            kept[field] = ""
    kept["customer_answer"] = form.get("customer_answer", "")
    status = 400 if isinstance(refused, InvalidInput) else 409
    return _bench(request, location, locations, kept=kept, result=result, status=status)


def _line_reported(form, location: Location) -> tuple[Order, OrderLine]:
    """The order's number and the item's code or barcode, as typed or scanned, to
    the order's line at this location with units on the shelf. The order is looked
    up by its number among every order being packed here (not only those the bench
    shows); the bench's "Report a short" link names its id too, which tells apart two
    channels' orders of the same number."""
    reference = form.get("order", "").strip()[:100]
    code = form.get("item", "").strip()[:100]
    errors: dict[str, list[str]] = {}
    if not reference:
        errors["order"] = ["Scan or type the order's number."]
    if not code:
        errors["item"] = ["Scan or type the item's code."]
    if errors:
        raise InvalidInput(errors)
    found = selectors.packing_orders_by_reference(
        location=location, reference=reference
    )
    chosen = _order_id(form)
    if len(found) > 1 and chosen:
        # The id from the link counts only for the number it came with.
        found = [order for order in found if str(order.pk) == chosen] or found
    if not found:
        raise InvalidInput(
            {"order": [f"No order {reference} to pack at {location.code}."]}
        )
    if len(found) > 1:
        channels = " and ".join(sorted(order.channel.code for order in found))
        raise InvalidInput(
            {
                "order": [
                    f"Channels {channels} each have an order {reference} to pack "
                    "here: use the Report a short link on the one you mean."
                ]
            }
        )
    order = found[0]
    sku = skus_by_code_or_barcode(codes={code}).get(code)
    lines = [line for line in order.here if sku is not None and line.sku_id == sku.pk]
    if not lines:
        raise InvalidInput(
            {"item": [f"{code} is not on order {order.reference} at {location.code}."]}
        )
    # Of two lines of the item here (a kit's part and the item alone), the one with
    # the most on the shelf.
    return order, max(lines, key=lambda line: line.unpicked_quantity)


def _order_id(form) -> str:
    """The order's id the bench's "Report a short" link names, if any."""
    given = form.get("order_id", "").strip()
    return given if given.isdigit() and len(given) < 19 else ""


def _reported_words(problem: PackingProblem) -> str:
    what = (
        f"{problem.quantity} × {problem.line.sku.name} "
        f"{problem.get_condition_display().lower()}: recorded, the stock corrected"
    )
    if problem.resolution == PackingProblem.Resolution.REROUTED:
        where = problem.rerouted_line.location.code
        return f"{what}. Re-routed to {where}: it ships from there."
    return f"{what}. No other location can send them: decide below."


def _location(request: HttpRequest) -> tuple[Location, list]:
    """The location the form was sent from: one the person works at, else 404."""
    locations = access.stores_of(request)
    code = request.POST.get("location", "")
    location = next((place for place in locations if place.code == code), None)
    if location is None:
        raise Http404("No such location.")
    return location, locations


def _actor(request: HttpRequest) -> Actor:
    # Packing is done at the store or the warehouse: its steps come from there. The
    # form's one-off key (``_bench``) makes a second send of it change nothing.
    key = request.POST.get("request_reference", "").strip()[:100]
    actor = Actor.of_user(request.user, source="store")
    return replace(actor, request_reference=key)


def _back(location: Location, focus: str = "") -> HttpResponse:
    query = {"location": location.code, **({"focus": focus} if focus else {})}
    return redirect(f"{reverse('orders:packing')}?{urlencode(query)}")
