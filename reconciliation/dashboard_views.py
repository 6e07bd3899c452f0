"""The managers' dashboard, /store/dashboard/: what a head of stores opens every
morning. Filters (location, period) live in the URL and swap the figures by HTMX;
every table downloads as CSV (``?export=<table>``) with all its rows. Store staff see
their own stores' figures only. Thin: the figures come from ``dashboard``."""

import csv

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from config.screens import render, staff_screen
from inventory import access

from . import dashboard
from .selectors import exceptions_visible_to
from .views import period_asked

DEFAULT_DAYS = 28
# Rows of the long tables on the screen; the CSV has them all.
SCREEN_ROWS = 25
TABLES = (
    "accuracy",
    "cancellations_by_location",
    "cancellations_by_sku",
    "conflicts_per_week",
    "open_exceptions",
    "days_of_supply",
    "sell_through",
)


@require_GET
@staff_screen
def dashboard_page(request: HttpRequest) -> HttpResponse:
    stores = access.stores_of(request)
    if not stores:
        return render(request, "no_store.html", status=403)
    since, until, errors = period_asked(request, DEFAULT_DAYS)
    chosen = request.GET.get("location", "")
    locations = (
        [store for store in stores if store.code == chosen] if chosen else stores
    )
    if not locations:
        errors.append(f"{chosen} is not one of your locations; showing all of them.")
        locations, chosen = stores, ""
    period = dashboard.Period(since=since, until=until)
    everywhere = access.sees_every_location(request.user) and not chosen
    export = request.GET.get("export")
    if export is not None:
        if export not in TABLES:
            return HttpResponse(
                f"No table {export!r}: one of {', '.join(TABLES)}.",
                status=400,
                content_type="text/plain",
            )
        table = _figures(period, locations, everywhere, request.user, limit=None)[0][
            export
        ]
        return _csv(table, period)
    tables, charts = _figures(
        period, locations, everywhere, request.user, limit=SCREEN_ROWS
    )
    context = {
        "stores": stores,
        "chosen": chosen,
        "since": since,
        "until": until,
        "errors": errors,
        "tables": tables,
        "charts": charts,
        "at_risk_days": dashboard.AT_RISK_DAYS,
        "rate_days": settings.SALES_RATE_DAYS,
        "query": request.GET.urlencode(),
    }
    template = (
        "reconciliation/_dashboard_body.html"
        if request.htmx
        else "reconciliation/dashboard.html"
    )
    return render(request, template, context)


def _figures(period, locations, everywhere: bool, user, limit: int | None):
    """Every figure, tables by name and charts by name. Computed even for one CSV:
    each is one query, and one place decides what each table holds."""
    tables, charts = {}, {}
    tables["accuracy"], charts["accuracy"] = dashboard.accuracy(
        period=period, locations=locations
    )
    (
        tables["cancellations_by_location"],
        charts["cancellations"],
    ) = dashboard.cancellations_by_location(period=period, locations=locations)
    tables["cancellations_by_sku"] = dashboard.cancellations_by_sku(
        period=period, locations=locations, limit=limit
    )
    tables["conflicts_per_week"], charts["conflicts"] = dashboard.conflicts_per_week(
        period=period, locations=locations
    )
    tables["open_exceptions"], charts["exceptions"] = dashboard.open_exceptions(
        visible=exceptions_visible_to(user),
        locations=locations,
        everywhere=everywhere,
    )
    tables["days_of_supply"], charts["supply"] = dashboard.days_of_supply(
        locations=locations, limit=limit
    )
    tables["sell_through"], charts["sell_through"] = dashboard.sell_through(
        period=period, locations=locations
    )
    return tables, charts


def _csv(table: dashboard.Table, period: dashboard.Period) -> HttpResponse:
    answer = HttpResponse(content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = (
        f'attachment; filename="{table.name}-{period.since}-{period.until}.csv"'
    )
    writer = csv.writer(answer)
    writer.writerow([heading for _, heading in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row[key]) for key, _ in table.columns])
    return answer


def _cell(value):
    """A spreadsheet runs a cell starting with = + - @ (or a tab or return before
    one) as a formula: a SKU name sent
    by an integration is data, so it is opened as text."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
