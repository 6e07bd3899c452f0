"""The managers' returns insight (``/store/returns/insight/``): the returns waiting
too long for inspection, then the return rate over a chosen period by channel, SKU
(online against in store) or reason, as a chart, a table and a CSV export of the
same rows. Thin: the rates are ``selectors.return_rates``."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET

from config import access
from config.exports import csv_download
from config.moments import FIRST_DAY, LAST_DAY
from config.replicas import reads_from_replica
from config.screens import render, staff_screen

from . import selectors

INSIGHT_DEFAULT_DAYS = 30


@require_GET
@staff_screen
@reads_from_replica
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
