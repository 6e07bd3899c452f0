"""The store team's returns screens: find the purchase at the counter and receive
what comes back, the inspection queue and one return with its grading, and the
managers' insight (return rates, overdue inspections, CSV). Thin: each action calls
one service. Who may see what is decided in ``config.access``: a return at
another store is a 404."""

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Channel
from catalog.selectors import skus_by_code_or_barcode
from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.exports import csv_download
from config.moments import FIRST_DAY, LAST_DAY
from config.screens import chosen_store, readable, render, staff_screen, whole_number
from orders.models import Order

from . import selectors, services
from .models import Return, ReturnInspection, ReturnReason
from .services import Customer, Purchase, ReturnLineInput

# Rows on the till-receipt form: a receipt rarely carries more items coming back.
TILL_ROWS = 4
INSIGHT_DEFAULT_DAYS = 30


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
    return render(request, "returns/home.html", context)


@require_http_methods(["GET", "POST"])
@staff_screen
def receive_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """Goods from an order of any channel, on the counter."""
    locations, location = _store(request)
    if location is None:
        return _no_store(request)
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    lines = selectors.returnable_lines(order)
    rows = [_row(request.POST, line.pk, line=line) for line in lines]
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
            _attach_line_errors(chosen, invalid)
        except DomainError as refused:
            error, status = readable(refused), 409
        else:
            return _received(request, received)
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
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_screen
def receive_till(request: HttpRequest) -> HttpResponse:
    """Goods bought at a till, by the receipt: the till sends stock, not receipts,
    so the counter states what comes back."""
    locations, location = _store(request)
    if location is None:
        return _no_store(request)
    tills = list(Channel.objects.filter(kind=Channel.Kind.STORE_POS, is_active=True))
    form = request.POST
    rows = [_row(form, n) for n in range(1, TILL_ROWS + 1)]
    receipt = form.get("till_receipt", "").strip()
    error, status = "", 200
    if request.method == "POST":
        try:
            received = _receive_till(request, location, tills, receipt, rows)
        except InvalidInput as invalid:
            error, status = readable(invalid), 400
        except DomainError as refused:
            error, status = readable(refused), 409
        else:
            return _received(request, received)
    return render(
        request,
        "returns/receive_till.html",
        {
            "location": location,
            "locations": locations,
            "tills": tills,
            "till": form.get("till", ""),
            "till_receipt": receipt,
            "rows": rows,
            "reasons": ReturnReason.choices,
            "error": error,
        },
        status=status,
    )


def _receive_till(request, location, tills, receipt, rows) -> Return:
    till = next((t for t in tills if t.code == request.POST.get("till")), None)
    errors: dict[str, list[str]] = {}
    if till is None:
        errors["till"] = ["Choose the till it was bought at."]
    if not receipt:
        errors["till_receipt"] = ["Enter the receipt number."]
    chosen = [row for row in rows if row["code"]]
    if not chosen:
        errors["lines"] = ["Scan or type at least one item."]
    scanned = skus_by_code_or_barcode(codes={row["code"] for row in chosen})
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
    _attach_line_errors(chosen, invalid)
    raise invalid


def _row(form, key, line=None) -> dict:
    """One line of a receiving form as typed (kept on a refusal, so nothing typed
    is lost)."""
    raw = form.get(f"quantity-{key}", "")
    try:
        quantity = int(raw) if raw.strip() else 0
    except ValueError:
        quantity = -1
    return {
        "key": key,
        "line": line,
        "code": form.get(f"sku-{key}", "").strip(),
        "quantity": quantity,
        "raw_quantity": raw,
        "reason": form.get(f"reason-{key}", ""),
        "reason_text": form.get(f"reason_text-{key}", ""),
        "errors": {},
    }


def _attach_line_errors(chosen: list[dict], invalid: InvalidInput) -> None:
    for row, problem in zip(
        chosen, invalid.field_errors.get("lines", []), strict=False
    ):
        if isinstance(problem, dict) and problem:
            row["errors"] = problem


def _received(request: HttpRequest, received: Return) -> HttpResponse:
    units = sum(line.quantity for line in received.lines.all())
    messages.success(
        request,
        f"Return {received.reference}: {units} unit(s) received into quality "
        "control. Grade each one below; nothing is sellable until then.",
    )
    return redirect("returns:return", return_id=received.pk)


@require_GET
@staff_screen
def return_page(request: HttpRequest, return_id: int) -> HttpResponse:
    found = _visible_return(request, return_id)
    return render(request, "returns/return.html", _return_context(found, request))


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
    error, field_errors = "", {}
    try:
        actions[action]()
    except NotFound:
        raise
    except InvalidInput as invalid:
        error, field_errors = readable(invalid), invalid.field_errors
    except DomainError as refused:
        error = readable(refused)
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or DONE[action])
        return redirect("returns:return", return_id=found.pk)
    context = _return_context(selectors.return_queryset().get(pk=found.pk), request)
    context.update(
        error=error,
        field_errors=field_errors,
        done="" if error else DONE[action],
        failed_line=form.get("line", "") if error else "",
        posted=form if error else {},
    )
    return render(request, "returns/_return.html", context, status=200)


DONE = {
    "receive": "Received into quality control. Grade each unit below.",
    "start": "Inspection started.",
    "grade": "Graded.",
    "close": "Closed.",
}


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
    return {
        "found": found,
        # Where an announced parcel can be received: the store it was announced for
        # first, when the member of staff works there.
        "receiving_stores": sorted(stores, key=lambda place: place != found.location),
        "location": found.location,
        "lines": list(found.lines.all()),
        "events": list(found.events.all()),
        "grades": ReturnInspection.Grade.choices,
        "awaiting_grade": found.status in Return.AWAITING_GRADE,
        "target_hours": settings.RETURNS_INSPECTION_TARGET_HOURS,
    }


# ---------------------------------------------------------------- managers


@require_GET
@staff_screen
def insight(request: HttpRequest) -> HttpResponse:
    if not access.sees_every_location(request.user):
        return render(request, "returns/managers_only.html", status=403)
    since, until, errors = _period(request.GET)
    group = request.GET.get("group", "channel")
    if group not in selectors.GROUPINGS:
        group = "channel"
    rows = selectors.return_rates(since=since, until=until, group=group)
    if request.GET.get("format") == "csv":
        return _csv(rows, group, since, until)
    locations = access.stores_of(request)
    chart_top = max((row.rate or 0 for row in rows), default=0) or 1
    return render(
        request,
        "returns/insight.html",
        {
            "rows": rows,
            "group": group,
            "groupings": selectors.GROUPINGS,
            "since": since.date(),
            "until": (until - timedelta(days=1)).date(),
            "errors": errors,
            "chart": [
                {"row": row, "width": round(100 * (row.rate or 0) / chart_top, 1)}
                for row in rows[:-1][:15]
            ],
            "overdue": selectors.overdue_returns(locations=locations),
            "target_hours": settings.RETURNS_INSPECTION_TARGET_HOURS,
            "query": request.GET.urlencode(),
        },
        status=400 if errors else 200,
    )


def _period(query) -> tuple[datetime, datetime, list[str]]:
    """``since`` to ``until`` as whole days, both included; the last 30 days when
    left out. A date that does not read is said so, and the default used."""
    today = timezone.localdate()
    errors = []

    def day(name: str, default):
        raw = query.get(name, "")
        if not raw:
            return default
        try:
            value = parse_date(raw)
        except ValueError:
            value = None
        if value is None:
            errors.append(f"{name.capitalize()}: {raw!r} is not a date (YYYY-MM-DD).")
            return default
        if not FIRST_DAY <= value <= LAST_DAY:
            errors.append(
                f"{name.capitalize()}: {value:%Y-%m-%d} is outside "
                f"{FIRST_DAY:%Y}–{LAST_DAY:%Y}."
            )
            return default
        return value

    first = day("since", today - timedelta(days=INSIGHT_DEFAULT_DAYS - 1))
    last = day("until", today)
    if first > last:
        errors.append("Since must be on or before until.")
        first, last = last, first
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
        errors,
    )


def _csv(rows, group: str, since: datetime, until: datetime) -> HttpResponse:
    name = f"return-rates-by-{group}-{since:%Y%m%d}-{until - timedelta(days=1):%Y%m%d}"
    heading = [
        group,
        "name",
        "sold",
        "returned",
        "return_rate_pct",
        "sold_online",
        "returned_online",
        "return_rate_online_pct",
        "sold_in_store",
        "returned_in_store",
        "return_rate_in_store_pct",
    ]
    return csv_download(
        filename=f"{name}.csv",
        rows=[
            heading,
            *(
                [
                    row.key or "all",
                    row.label,
                    row.sold,
                    row.returned,
                    _pct(row.rate),
                    row.sold_online,
                    row.returned_online,
                    _pct(row.rate_online),
                    row.sold_in_store,
                    row.returned_in_store,
                    _pct(row.rate_in_store),
                ]
                for row in rows
            ),
        ],
    )


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1f}"
