"""Reads of channel sync: the events a change becomes (one shape for a webhook and
for the feed), a page of the feed, subscriptions with something to send, and the
sources' health."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from catalog.models import Channel
from inventory.models import AvailabilityChange, SourceHealth
from inventory.movements import BUCKETS
from inventory.selectors import availability_statuses, safety_buffer_for

from .models import (
    EventKind,
    FeedState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


def change_events(
    *, changes: Sequence[AvailabilityChange], channel: Channel | None
) -> list[dict]:
    """Each change as the event a channel is sent: every quantity as of the change,
    what the channel may promise from it, and the status read now. The changes come
    with their SKU and location."""
    statuses = availability_statuses(
        pairs={(change.sku_id, change.location_id) for change in changes},
        locations={change.location_id: change.location for change in changes},
    )
    events = []
    for change in changes:
        buffer = safety_buffer_for(sku=change.sku, channel=channel)
        quantities = {bucket: getattr(change, bucket) for bucket in BUCKETS}
        quantities["available"] = change.available
        events.append(
            {
                "id": f"evt_{change.pk}",
                "type": EventKind.AVAILABILITY_CHANGED.value,
                "created_at": change.changed_at.isoformat(),
                "data": {
                    "position": change.position,
                    "sku": change.sku.code,
                    "location": change.location.code,
                    "sequence": change.sequence,
                    "channel": channel.code if channel else None,
                    "quantities": quantities,
                    "safety_buffer": buffer,
                    "available_to_promise": max(0, change.available - buffer),
                    "status": statuses[(change.sku_id, change.location_id)],
                },
            }
        )
    return events


def feed_changes(*, after: int, limit: int) -> list[AvailabilityChange]:
    """Placed changes after position ``after``, in feed order."""
    return list(
        AvailabilityChange.objects.filter(position__gt=after)
        .select_related("sku", "location")
        .order_by("position")[:limit]
    )


def feed_bounds() -> tuple[int, int]:
    """(highest position pruned, last position given): a cursor below the first has
    lost changes; one above the second is not one we gave."""
    state = FeedState.objects.filter(pk=1).first()
    if state is None:
        return 0, 0
    return state.pruned_through, state.last_position


def subscriptions_with_due_deliveries() -> list[int]:
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            subscription__is_active=True,
        )
        .exclude(subscription__state=WebhookSubscription.State.FAILING)
        .exclude(subscription__retry_at__gt=now)
        .values_list("subscription_id", flat=True)
        .distinct()
        .order_by("subscription_id")
    )


def subscription_queryset():
    return WebhookSubscription.objects.select_related("channel").order_by(
        "channel__code", "id"
    )


def pending_counts() -> dict[int, int]:
    return dict(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .values("subscription_id")
        .annotate(n=Count("id"))
        .values_list("subscription_id", "n")
    )


def source_health_rows(*, channel_code: str | None = None) -> list[SourceHealth]:
    """Every source's figures, or one channel's (what its own token may read)."""
    rows = SourceHealth.objects.select_related("channel").order_by("channel__code")
    if channel_code is not None:
        rows = rows.filter(channel__code=channel_code)
    return list(rows)


def recent_attempts(*, limit: int) -> list[WebhookAttempt]:
    return list(
        WebhookAttempt.objects.select_related("subscription__channel").order_by(
            "-attempted_at", "-id"
        )[:limit]
    )


def seconds_to_next_retry(*, failed_since: datetime) -> float | None:
    """How long until the first subscription that failed since ``failed_since`` may
    send again, if it has something pending."""
    first = WebhookSubscription.objects.filter(
        is_active=True,
        state=WebhookSubscription.State.RETRYING,
        last_failure_at__gte=failed_since,
        deliveries__status=WebhookDelivery.Status.PENDING,
    ).aggregate(first=Min("retry_at"))["first"]
    if first is None:
        return None
    return (first - timezone.now()).total_seconds()
