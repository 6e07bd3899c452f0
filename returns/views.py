"""The store team's returns screens: find the purchase at the counter and receive
what comes back (by order, or by till receipt with a scanner), the inspection queue
and one return with its grading, and the managers' insight (return rates, overdue
inspections, CSV: ``insight.py``). Thin: each action calls one service. Who may see what is decided
in ``config.access``: a return at another store is a 404.

The queue and a return's page follow what colleagues do (``config.screens.live``:
HTMX polling; static/js/returns.js holds a poll back while someone has typed into
the page). Focus goes to the next thing to do: a region rendered for a poll names
no ``autofocus``, so a poll never moves the cursor."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Channel
from catalog.selectors import skus_by_code_or_barcode
from config import access, words
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import (
    chosen_store,
    live,
    live_digest,
    readable,
    render,
    staff_screen,
    whole_number,
)
from orders.models import Order

from . import forms, selectors, services
from .models import Return, ReturnInspection, ReturnReason
from .services import Customer, Purchase, ReturnLineInput


def _actor(request: HttpRequest) -> Actor:
    return Actor.of_user(request.user, source="store")


def _store(request: HttpRequest):
    """The member of staff's stores and the one on screen; none: a 403 page."""
    locations = access.stores_of(request)
    return locations, chosen_store(request, locations)


def _no_store(request: HttpRequest) -> HttpResponse:
    return render(request, "no_store.html", status=403)


@require_GET
@staff_screen
def returns_home(request: HttpRequest) -> HttpResponse:
    locations, location = _store(request)
    if location is None:
        return _no_store(request)
    search = request.GET.get("q", "").strip()
    context = {
        "location": location,
        "locations": locations,
        "search": search,
        "found_orders": selectors.purchases_matching(search=search),
        "found_expected": selectors.expected_matching(search=search),
        "target_hours": settings.RETURNS_INSPECTION_TARGET_HOURS,
        "manager": access.sees_every_location(request.user),
        **selectors.store_returns(location=location),
    }
    if request.htmx and request.htmx.target == "found":
        return render(request, "returns/_found.html", context)
    if request.htmx and request.htmx.target == "queue":
        return live(request, "returns/_queue.html", context)
    seen = live_digest(request, "returns/_queue.html", context)
    return render(request, "returns/home.html", {**context, "seen": seen})


@require_http_methods(["GET", "POST"])
@staff_screen
def receive_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """Goods from an order of any channel, on the counter: a scan of an item counts
    it on its line (static/js/returns.js), or the units are typed."""
    locations, location = _store(request)
    if location is None:
        return _no_store(request)
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    lines = selectors.returnable_lines(order)
    rows = [forms.row(request.POST, line.pk, line=line) for line in lines]
    error, status = "", 200
    if request.method == "POST":
        chosen = [row for row in rows if row["quantity"]]
        try:
            received = services.return_receive_at_counter(
                purchase=Purchase(channel=order.channel, order=order),
                location=location,
                lines=[
                    ReturnLineInput(
                        sku=row["line"].sku,
                        order_line=row["line"],
                        quantity=row["quantity"],
                        reason=row["reason"],
                        reason_text=row["reason_text"],
                    )
                    for row in chosen
                ],
                actor=_actor(request),
            )
        except InvalidInput as invalid:
            error, status = readable(invalid), 400
            forms.attach_line_errors(chosen, invalid)
        except DomainError as refused:
            error, status = readable(refused), 409
        else:
            return _received(request, received)
    # After a refusal the cursor is on the first field to put right; on the scan
    # field otherwise.
    focus = forms.first_row_problem([r for r in rows if r["line"].returnable]) or "scan"
    forms.mark_focus(rows, focus)
    if error and focus != "scan":
        error = "Put right the line marked above, then send again."
    return render(
        request,
        "returns/receive_order.html",
        {
            "location": location,
            "locations": locations,
            "order": order,
            "rows": rows,
            "announced": selectors.open_announcements(order),
            "reasons": ReturnReason.choices,
            "error": error,
            "focus": focus,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_screen
def receive_till(request: HttpRequest) -> HttpResponse:
    """Goods bought at a till, by the receipt: the till sends stock, not receipts,
    so the counter states what comes back. The cursor starts on the receipt number;
    a scanner's Enter moves on (static/js/returns.js) and never sends the form."""
    locations, location = _store(request)
    if location is None:
        return _no_store(request)
    tills = list(Channel.objects.filter(kind=Channel.Kind.STORE_POS, is_active=True))
    form = request.POST
    rows = [forms.row(form, key) for key in forms.till_row_keys(form)]
    receipt = form.get("till_receipt", "").strip()
    error, field_errors, status = "", {}, 200
    if request.method == "POST":
        try:
            received = _receive_till(request, location, tills, receipt, rows)
        except InvalidInput as invalid:
            field_errors, status = invalid.field_errors, 400
            error = readable(invalid)
        except DomainError as refused:
            error, status = readable(refused), 409
        else:
            return _received(request, received)
    lines_problem = [
        problem for problem in field_errors.get("lines", []) if isinstance(problem, str)
    ]
    focus = next(
        (name for name in ("till_receipt", "till") if field_errors.get(name)), ""
    )
    focus = focus or forms.first_row_problem(rows, code_field="sku")
    if lines_problem and not focus:
        focus = f"sku-{rows[0]['key']}"
    focus = focus or ("" if error else "till_receipt")
    forms.mark_focus(rows, focus)
    return render(
        request,
        "returns/receive_till.html",
        {
            "location": location,
            "locations": locations,
            "tills": tills,
            "till": form.get("till", ""),
            "till_receipt": receipt,
            "customer_name": form.get("customer_name", ""),
            "rows": rows,
            "reasons": ReturnReason.choices,
            "field_errors": field_errors,
            "lines_problem": " ".join(dict.fromkeys(lines_problem)),
            # A refusal no field explains (a closed store, a clash) sits by the button.
            "error": "" if field_errors and set(field_errors) <= TILL_FIELDS else error,
            "focus": focus,
        },
        status=status,
    )


@require_GET
@staff_screen
def till_item(request: HttpRequest) -> HttpResponse:
    """What a scanned code is, for the till-return form to say beside the row: for
    whoever may use that form (a store on screen), of the items the form takes."""
    if _store(request)[1] is None:
        return JsonResponse(
            {"message": "You are not a member of any store's team: ask your manager."},
            status=403,
        )
    code = request.GET.get("code", "").strip()[:64]
    sku = _items({code}).get(code) if code else None
    if sku is None:
        return JsonResponse(
            {
                "code": code,
                "message": f"No item {code!r}: check the code or type the SKU.",
            },
            status=404,
        )
    found = {"code": sku.code, "name": sku.name, "barcode": sku.barcode}
    if sku.is_kit:  # a kit comes back as its items: the row says which
        found["parts"] = selectors.kit_contents(sku)
    return JsonResponse(found)


def _receive_till(request, location, tills, receipt, rows) -> Return:
    till = _till_chosen(tills, request.POST.get("till", ""))
    errors: dict[str, list[str]] = {}
    if till is None:
        errors["till"] = ["Choose the till it was bought at."]
    if not receipt:
        errors["till_receipt"] = ["Scan or type the receipt number."]
    chosen = [row for row in rows if row["code"]]
    if not chosen:
        errors["lines"] = ["Scan or type at least one item."]
    scanned = _items({row["code"] for row in chosen})
    for row in chosen:
        row["sku"] = scanned.get(row["code"])
        if row["sku"] is None:
            row["errors"] = {"sku": [f"No item {row['code']!r}."]}
            errors.setdefault("lines", []).append(f"No item {row['code']!r}.")
    if errors:
        raise InvalidInput(errors)
    invalid = None
    try:
        return services.return_receive_at_counter(
            purchase=Purchase(channel=till, till_receipt=receipt[:64]),
            location=location,
            lines=[
                ReturnLineInput(
                    sku=row["sku"],
                    quantity=row["quantity"],
                    reason=row["reason"],
                    reason_text=row["reason_text"],
                )
                for row in chosen
            ],
            customer=Customer(name=request.POST.get("customer_name", "")[:200]),
            actor=_actor(request),
        )
    except InvalidInput as refused:
        invalid = refused
    forms.attach_line_errors(chosen, invalid)
    raise invalid


def _items(codes: set[str]) -> dict:
    """The items a till return takes, by code or barcode, in the lookup beside a row
    and in the post alike, so a scan the form accepted is one the post accepts. An
    item no longer sold still comes back: it was bought when it was."""
    return skus_by_code_or_barcode(codes=codes)


# What the till form says beside a field; anything else is said by its button.
TILL_FIELDS = {"till", "till_receipt", "lines"}


def _till_chosen(tills: list[Channel], code: str) -> Channel | None:
    """The till named on the form; a store with one till needs no choice."""
    if not code and len(tills) == 1:
        return tills[0]
    return next((till for till in tills if till.code == code), None)


def _received(request: HttpRequest, received: Return) -> HttpResponse:
    count = sum(line.quantity for line in received.lines.all())
    messages.success(
        request,
        f"Return {received.reference}: {words.units(count)} received into quality "
        "control. Grade each one below; nothing is sellable until then.",
    )
    return redirect("returns:return", return_id=received.pk)


@require_GET
@staff_screen
def return_page(request: HttpRequest, return_id: int) -> HttpResponse:
    found = _visible_return(request, return_id)
    context = _return_context(found, request)
    if request.htmx:
        # A poll: the region alone, with no autofocus to pull the cursor away.
        return live(request, "returns/_return.html", {**context, "focus": ""})
    # The digest of the region as a poll renders it (no autofocus).
    seen = live_digest(request, "returns/_return.html", {**context, "focus": ""})
    return render(request, "returns/return.html", {**context, "seen": seen})


@require_POST
@staff_screen
def return_action(request: HttpRequest, return_id: int, action: str) -> HttpResponse:
    found = _visible_return(request, return_id)
    form, actor = request.POST, _actor(request)
    actions: dict[str, Callable] = {
        "receive": lambda: services.return_receive_expected(
            return_id=found.pk,
            quantities={
                line.pk: _quantity(form, f"quantity-{line.pk}")
                for line in found.lines.all()
            },
            actor=actor,
            location=_receiving_store(request, found, form.get("location", "")),
        ),
        "start": lambda: services.return_inspection_start(
            return_id=found.pk, actor=actor
        ),
        "grade": lambda: services.return_line_grade(
            return_id=found.pk,
            line_id=whole_number(form, "line"),
            grade=form.get("grade", ""),
            quantity=_quantity(form, "quantity"),
            actor=actor,
            shelf_location=form.get("shelf_location", ""),
            condition=form.get("condition", ""),
            note=form.get("note", ""),
        ),
        "close": lambda: services.return_close(
            return_id=found.pk, actor=actor, note=form.get("note", "")
        ),
    }
    if action not in actions:
        raise Http404("No such action.")
    error, field_errors, done = "", {}, None
    try:
        done = actions[action]()
    except NotFound:
        raise
    except InvalidInput as invalid:
        error, field_errors = readable(invalid), invalid.field_errors
    except DomainError as refused:
        error = readable(refused)
    said = error or _done(action, done)
    if not request.htmx:
        (messages.error if error else messages.success)(request, said)
        return redirect("returns:return", return_id=found.pk)
    found = selectors.return_queryset().get(pk=found.pk)
    context = _return_context(found, request)
    failed_line = form.get("line", "") if error and action == "grade" else ""
    step = f"line-{failed_line}" if failed_line else context["step"]
    if error and action != "grade":
        step = action
    if step not in _steps_shown(found, context["lines"]):
        # Refused for something no longer on the screen (a colleague moved the
        # return on): said at the top of it.
        step, failed_line = "", ""
    context.update(
        error=error,
        field_errors=field_errors,
        done="" if error else said,
        step=step,
        focus=_focus_after(step, error, field_errors, failed_line),
        failed_line=failed_line,
        posted=form if error else {},
    )
    return live(request, "returns/_return.html", context)


def _done(action: str, done) -> str:
    if action == "grade" and isinstance(done, ReturnInspection):
        line = done.line
        said = f"Graded {done.quantity} × {line.sku.code}: {done.get_grade_display()}"
        return said + (f", on {done.shelf_location}." if done.shelf_location else ".")
    return DONE[action]


DONE = {
    "receive": "Received into quality control. Grade each unit below.",
    "start": "Inspection started.",
    "grade": "Graded.",
    "close": "Closed: the return is finished.",
}


def _focus_after(step: str, error: str, field_errors: dict, failed_line: str) -> str:
    """The field the cursor goes to after an action: the one to put right after a
    refusal, else the first field of the next thing to do."""
    if failed_line:
        for field in ("grade", "quantity", "shelf_location"):
            if field_errors.get(field):
                return f"{field}-{failed_line}"
        return f"grade-{failed_line}"
    return _STEP_FOCUS.get(step, "") or (
        f"grade-{step[5:]}" if step.startswith("line-") else ""
    )


_STEP_FOCUS = {"receive": "receive-first", "start": "start", "close": "close-note"}


def _quantity(form, name: str) -> int:
    raw = form.get(name, "").strip()
    return whole_number(form, name) if raw else 0


def _receiving_store(request: HttpRequest, found: Return, code: str):
    """The store an announced parcel is received at: one the member of staff works
    at, as chosen on the form (by default the one it was announced for)."""
    code = code or found.location.code
    for place in access.stores_of(request):
        if place.code == code:
            return place
    raise InvalidInput({"location": ["Choose the store you are receiving it at."]})


def _visible_return(request: HttpRequest, return_id: int) -> Return:
    locations = access.stores_of(request)
    found = selectors.return_for_staff(locations=locations, return_id=return_id)
    if found is None:
        raise Http404("No such return.")
    return found


def _return_context(found: Return, request: HttpRequest) -> dict:
    stores = access.stores_of(request)
    lines = list(found.lines.all())
    step = _next_step(found, lines)
    return {
        "found": found,
        # Where an announced parcel can be received: the store it was announced for
        # first, when the member of staff works there.
        "receiving_stores": sorted(stores, key=lambda place: place != found.location),
        "location": found.location,
        "lines": lines,
        "events": list(found.events.all()),
        "grades": ReturnInspection.Grade.choices,
        "awaiting_grade": found.status in Return.AWAITING_GRADE,
        "target_hours": settings.RETURNS_INSPECTION_TARGET_HOURS,
        "step": step,
        "focus": _focus_after(step, "", {}, ""),
    }


def _steps_shown(found: Return, lines: list) -> set[str]:
    """The parts of the return's page an action's result can sit by."""
    shown = {
        Return.Status.EXPECTED: {"receive"},
        Return.Status.RECEIVED: {"start"},
        Return.Status.GRADED: {"close"},
    }.get(found.status, set())
    if found.status in Return.AWAITING_GRADE:
        shown |= {f"line-{line.pk}" for line in lines if line.to_grade > 0}
    return shown


def _next_step(found: Return, lines: list) -> str:
    """What the person at the bench does next: receive the parcel, grade the first
    line with units left, or close the return."""
    if found.status == Return.Status.EXPECTED:
        return "receive"
    if found.status in Return.AWAITING_GRADE:
        line = next((line for line in lines if line.to_grade > 0), None)
        return f"line-{line.pk}" if line else ""
    if found.status == Return.Status.GRADED:
        return "close"
    return ""
