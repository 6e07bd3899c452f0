"""The sync health page, under /store/sync/ (managers): each source's last event, lag
and refusals as the minute's check measured them, and each webhook subscription's
state, backlog and latest attempts. Reads only; subscriptions are changed in the
admin or the API. Each source's state is said in words (``source_state``): green
"In touch" only when it sent in the last hour and its lag is small, never beside a
lag of days."""

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from config import access
from config.screens import render, staff_screen

from .selectors import (
    pending_counts,
    recent_attempts,
    source_health_rows,
    subscription_queryset,
)


@dataclass(frozen=True)
class SourceState:
    words: str
    badge: str  # the badge's class: in-touch, source-late, source-delayed, quiet
    lag: float | None  # the larger of the hour's median and p95 lags, in seconds


def source_state(source, estimated_lag: int) -> SourceState:
    """What a manager needs to know about a source, in the order it matters: silent
    past its expected interval, never heard from, behind (its events arrive late),
    quiet (nothing this hour, not watched), else in touch."""
    lags = [
        lag
        for lag in (source.lag_median_seconds, source.lag_p95_seconds)
        if lag is not None
    ]
    lag = max(lags) if lags else None
    if source.delayed:
        return SourceState("Delayed", "source-delayed", lag)
    if not source.last_event_at:
        return SourceState("Not heard from", "quiet", lag)
    if lag is not None and lag > estimated_lag:
        return SourceState("Behind", "source-late", lag)
    if not source.events_last_hour:
        return SourceState("Quiet this hour", "quiet", lag)
    return SourceState("In touch", "in-touch", lag)


@require_GET
@staff_screen
def sync_health(request: HttpRequest) -> HttpResponse:
    if not access.sees_every_location(request.user):
        raise Http404("Sync health is for managers.")
    pending = pending_counts()
    subscriptions = list(subscription_queryset())
    for subscription in subscriptions:
        subscription.pending = pending.get(subscription.pk, 0)
    estimated_lag = settings.SYNC_ESTIMATED_LAG_SECONDS
    sources = source_health_rows()
    for source in sources:
        source.state = source_state(source, estimated_lag)
    return render(
        request,
        "sync/health.html",
        {
            "sources": sources,
            "subscriptions": subscriptions,
            "attempts": recent_attempts(limit=20),
            "estimated_lag": estimated_lag,
        },
    )
