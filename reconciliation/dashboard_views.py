"""The managers' dashboard, /store/dashboard/: what a head of stores opens every
morning. It leads with the losses (shrink by store and reason, lost sales, the
SKU-locations at risk) in units and money, then the protections short of stock, the
late supply and the pre-orders waiting for supply; the other figures (incoming by
expected date first, then the transfers proposed and what became of them) sit folded
under them, the two heaviest computed only when opened (``ON_OPENING``).
Filters (location, period) live in the URL and swap the figures by HTMX; every table
downloads as CSV (``?export=<table>``) with all its rows. Store staff see their own
stores' figures only. Thin: the figures come from ``losses``, ``protections``,
``supply_dashboard``, ``transfer_dashboard`` and ``dashboard``."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from config import access
from config.exports import csv_download
from config.replicas import reads_from_replica
from config.screens import render, staff_screen

from . import dashboard, losses, protections, supply_dashboard, transfer_dashboard
from .selectors import exceptions_visible_to
from .views import period_asked

DEFAULT_DAYS = 28
# Rows of the long tables on the screen; the CSV has them all.
SCREEN_ROWS = 25
# The losses lead: a short list, the rest in the CSV.
AT_RISK_ROWS = 10


@dataclass(frozen=True)
class Asked:
    """What the figures are asked for: the filters, who asks, how many rows."""

    period: dashboard.Period
    locations: list
    everywhere: bool
    user: object
    limit: int | None

    def rows(self, on_screen: int) -> int | None:
        return None if self.limit is None else on_screen


# The folded figures whose sums are the page's heaviest (a period of sales per
# location; every SKU-location's days of supply): computed when their fold is first
# opened (``?figure=<name>``, by HTMX), so the page a manager opens every morning
# costs what its losses cost.
ON_OPENING = ("sell_through", "days_of_supply")

# Each table by name: the name of its chart (None: no chart) and how it is computed.
# A CSV export computes its own table only.
FIGURES: dict[str, tuple[str | None, Callable[[Asked], object]]] = {
    "shrink": (
        "shrink",
        lambda a: losses.shrink(period=a.period, locations=a.locations),
    ),
    "lost_sales": (
        "lost_sales",
        lambda a: losses.lost_sales(
            period=a.period, locations=a.locations, everywhere=a.everywhere
        ),
    ),
    "at_risk": (
        "at_risk",
        lambda a: losses.at_risk(
            locations=a.locations,
            rate_days=settings.SALES_RATE_DAYS,
            limit=a.rows(AT_RISK_ROWS),
        ),
    ),
    "protections_short": (
        None,
        lambda a: protections.protections_short_table(
            locations=a.locations, limit=a.limit
        ),
    ),
    "late_supply": (
        None,
        lambda a: supply_dashboard.late_supply(locations=a.locations, limit=a.limit),
    ),
    "incoming": (
        None,
        lambda a: supply_dashboard.incoming_by_date(
            locations=a.locations, limit=a.limit
        ),
    ),
    "preorders": (
        "preorders",
        lambda a: supply_dashboard.preorders(locations=a.locations, limit=a.limit),
    ),
    "transfers": (
        "transfers",
        lambda a: transfer_dashboard.transfers(period=a.period, locations=a.locations),
    ),
    "accuracy": (
        "accuracy",
        lambda a: dashboard.accuracy(period=a.period, locations=a.locations),
    ),
    "cancellations_by_location": (
        "cancellations",
        lambda a: dashboard.cancellations_by_location(
            period=a.period, locations=a.locations
        ),
    ),
    "cancellations_by_sku": (
        None,
        lambda a: dashboard.cancellations_by_sku(
            period=a.period, locations=a.locations, limit=a.limit
        ),
    ),
    "conflicts_per_week": (
        "conflicts",
        lambda a: dashboard.conflicts_per_week(period=a.period, locations=a.locations),
    ),
    "open_exceptions": (
        "exceptions",
        lambda a: dashboard.open_exceptions(
            visible=exceptions_visible_to(a.user),
            locations=a.locations,
            everywhere=a.everywhere,
        ),
    ),
    "days_of_supply": (
        "supply",
        lambda a: dashboard.days_of_supply(locations=a.locations, limit=a.limit),
    ),
    "sell_through": (
        "sell_through",
        lambda a: dashboard.sell_through(period=a.period, locations=a.locations),
    ),
}


@require_GET
@staff_screen
@reads_from_replica
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
    asked = Asked(
        period=period,
        locations=locations,
        everywhere=everywhere,
        user=request.user,
        limit=None if export is not None else SCREEN_ROWS,
    )
    if export is not None:
        if export not in FIGURES:
            return HttpResponse(
                f"No table {export!r}: one of {', '.join(FIGURES)}.",
                status=400,
                content_type="text/plain",
            )
        tables, _ = _figures(asked, [export])
        return _csv(tables[export], period)
    opened = request.GET.get("figure")
    if opened is not None and opened not in ON_OPENING:
        return HttpResponse(
            f"No figure {opened!r} to open: one of {', '.join(ON_OPENING)}.",
            status=400,
            content_type="text/plain",
        )
    names = [opened] if opened else [n for n in FIGURES if n not in ON_OPENING]
    tables, charts = _figures(asked, names)
    context = {
        "stores": stores,
        "chosen": chosen,
        "chosen_name": locations[0].name if chosen else "",
        "since": since,
        "until": until,
        "errors": errors,
        "tables": tables,
        "charts": charts,
        "at_risk_days": dashboard.AT_RISK_DAYS,
        "at_risk_rule": losses.AT_RISK_RULE.format(rate_days=settings.SALES_RATE_DAYS),
        "rate_days": settings.SALES_RATE_DAYS,
        "shortage_days": settings.TRANSFER_SHORTAGE_DAYS,
        "currency": settings.CURRENCY_SYMBOL,
        "query": request.GET.urlencode(),
    }
    if opened:
        return render(
            request, "reconciliation/_figure_opened.html", {**context, "name": opened}
        )
    template = (
        "reconciliation/_dashboard_body.html"
        if request.htmx
        else "reconciliation/dashboard.html"
    )
    return render(request, template, context)


def _figures(asked: Asked, names) -> tuple[dict, dict]:
    """The tables named, by name, and their charts, by chart name."""
    tables, charts = {}, {}
    for name in names:
        chart, figure = FIGURES[name]
        if chart is None:
            tables[name] = figure(asked)
        else:
            tables[name], charts[chart] = figure(asked)
    return tables, charts


def _csv(table: dashboard.Table, period: dashboard.Period) -> HttpResponse:
    return csv_download(
        filename=f"{table.name}-{period.since}-{period.until}.csv",
        rows=[[heading for _, heading in table.columns], *table.cells],
    )
