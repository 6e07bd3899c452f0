"""The sync health page, under /store/sync/ (managers): each source's last event, lag
and refusals as the minute's check measured them, and each webhook subscription's
state, backlog and latest attempts. Reads only; subscriptions are changed in the
admin or the API."""

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


@require_GET
@staff_screen
def sync_health(request: HttpRequest) -> HttpResponse:
    if not access.sees_every_location(request.user):
        raise Http404("Sync health is for managers.")
    pending = pending_counts()
    subscriptions = list(subscription_queryset())
    for subscription in subscriptions:
        subscription.pending = pending.get(subscription.pk, 0)
    return render(
        request,
        "sync/health.html",
        {
            "sources": source_health_rows(),
            "subscriptions": subscriptions,
            "attempts": recent_attempts(limit=20),
            "estimated_lag": settings.SYNC_ESTIMATED_LAG_SECONDS,
        },
    )
