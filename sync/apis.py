"""The API of channel sync.

- ``/api/v1/webhooks/``: a channel's webhook subscriptions: create, read, change,
  delete; ``attempts`` lists the latest attempts; ``resend`` sends again from a point
  in time; ``rotate-secret`` makes a new secret (the previous one signs too for a
  while). A token bound to a channel sees and makes its own channel's only;
  signed-in staff must be managers.
- ``GET /api/v1/availability/changes/``: the change feed, for a channel that pulls.
- ``GET /api/v1/sync-health/``: how each source is keeping in touch.
"""

from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import channels_by_code
from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
    sees_every_location,
    with_bound_channel,
)
from config.errors import Gone, PermissionRefused
from config.replicas import ReadsFromReplica
from inventory.renderers import STOCK_RENDERERS

from .network_selectors import network_change_events, network_feed_changes
from .selectors import (
    FeedBounds,
    change_events,
    feed_bounds,
    feed_changes,
    pending_counts,
    source_health_rows,
    subscription_queryset,
)
from .serializers import (
    ChangeFeedSerializer,
    CursorExpiredSerializer,
    NetworkChangeFeedSerializer,
    ResendSerializer,
    SourceHealthSerializer,
    WebhookAttemptSerializer,
    WebhookSubscriptionChangeSerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSerializer,
)
from .services import (
    SubscriptionInput,
    changes_place,
    webhook_resend,
    webhook_secret_rotate,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)


class CursorExpired(Gone):
    code = "cursor_expired"


def _integrations_or_managers(request, what: str) -> None:
    if request.auth is None and not sees_every_location(request.user):
        raise PermissionRefused(f"{what} are for integrations and managers.")


@extend_schema_view(
    list=extend_schema(summary="Webhook subscriptions"),
    retrieve=extend_schema(summary="One webhook subscription"),
    destroy=extend_schema(summary="Delete a webhook subscription and its history"),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.WEBHOOKS
    serializer_class = WebhookSubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Its create and rotate-secret answers carry the secret, shown once: an
    # Idempotency-Key's answer is not stored for them (docs/api.md).
    idempotency_keeps_answer = {"create": False, "rotate_secret": False}

    def get_queryset(self):
        subscriptions = subscription_queryset()
        bound = bound_channel_code(self.request)
        if bound is not None:
            subscriptions = subscriptions.filter(channel__code=bound)
        return subscriptions

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "pending": pending_counts()}

    @extend_schema(
        summary="Subscribe a channel to availability changes",
        description=(
            "Every change of a SKU's availability at a location is POSTed to `url` "
            "as JSON, signed with `secret` (docs/sync.md shows how to check it), "
            "followed by the row of each kit containing that SKU there. The "
            "secret is answered here once; keep it."
        ),
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
    )
    def create(self, request):
        given = WebhookSubscriptionInputSerializer(
            data=with_bound_channel(request, request.data)
        )
        given.is_valid(raise_exception=True)
        data = given.validated_data
        ensure_may_act_for_channel(request, data["channel"])
        channel = channels_by_code(codes={data["channel"]}).get(data["channel"])
        if channel is None:
            raise ValidationError({"channel": ["No such channel."]})
        subscription = webhook_subscription_create(
            subscription=SubscriptionInput(
                channel=channel,
                url=data["url"],
                event_kinds=data["event_kinds"],
                is_active=data["is_active"],
                secret=data.get("secret", ""),
                low_stock_threshold=data["low_stock_threshold"],
                signature_scheme=data["signature_scheme"],
                format=data["format"],
            ),
            actor=Actor.of_request(request),
        )
        return Response(
            WebhookSubscriptionCreatedSerializer(
                subscription, context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        webhook_subscription_delete(
            subscription_id=instance.pk, actor=Actor.of_request(self.request)
        )

    @extend_schema(
        summary="Change a webhook subscription's URL, kinds, active flag, secret or "
        "low-stock threshold",
        request=WebhookSubscriptionChangeSerializer,
        responses={200: WebhookSubscriptionSerializer},
    )
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        given = WebhookSubscriptionChangeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        subscription = webhook_subscription_update(
            subscription_id=subscription.pk,
            changes=given.validated_data,
            actor=Actor.of_request(request),
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="Send again every change since a point in time",
        description=(
            "For a receiver that lost data or was failing: the latest numbers of "
            "every SKU and location that changed since `since` are queued again (one "
            "event each) and a failing subscription is healthy again."
        ),
        request=ResendSerializer,
        responses={200: WebhookSubscriptionSerializer},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        subscription = self.get_object()
        given = ResendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        subscription = webhook_resend(
            subscription_id=subscription.pk,
            since=given.validated_data["since"],
            actor=Actor.of_request(request),
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="Rotate the subscription's secret",
        description=(
            "A new secret is made and answered here, once. For "
            f"{settings.WEBHOOK_SECRET_GRACE_HOURS:g} hours "
            "(`WEBHOOK_SECRET_GRACE_HOURS`, until `previous_secret_expires_at`) "
            "every delivery carries a signature by the previous secret too (standard: "
            "a second `v1,` entry in `webhook-signature`; onestock-v1: a second `v1=` "
            "in `OneStock-Signature`), so the receiver switches secrets without "
            "refusing a delivery. Rotating again forgets the oldest."
        ),
        request=None,
        responses={200: WebhookSubscriptionCreatedSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = self.get_object()
        subscription = webhook_secret_rotate(
            subscription_id=subscription.pk, actor=Actor.of_request(request)
        )
        return Response(
            WebhookSubscriptionCreatedSerializer(
                subscription, context=self.get_serializer_context()
            ).data
        )

    @extend_schema(
        summary="The latest delivery attempts (newest first, at most 100)",
        responses={200: WebhookAttemptSerializer(many=True)},
    )
    # A plain list (the latest 100), neither paginated nor filtered.
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def attempts(self, request, pk=None):
        subscription = self.get_object()
        attempts = subscription.attempts.all()[:100]
        return Response(WebhookAttemptSerializer(attempts, many=True).data)


class _FeedKind(NamedTuple):
    """One kind of the change feed: its bounds among the feed's, where to read it
    whole after a 410, a page of it, and its events."""

    bounds: Callable[[FeedBounds], tuple[int, int]]
    whole: str
    page: Callable[..., list]
    events: Callable[..., list[dict]]


FEED_KINDS = {
    "availability": _FeedKind(
        bounds=lambda b: (b.pruned_through, b.last_position),
        whole="/api/v1/availability/",
        page=lambda *, after, limit, channel: feed_changes(after=after, limit=limit),
        events=change_events,
    ),
    # A channel's network figures (every channel's, with no channel named).
    "network": _FeedKind(
        bounds=lambda b: (b.network_pruned_through, b.network_last_position),
        whole="/api/v1/availability/network/",
        page=lambda *, after, limit, channel: network_feed_changes(
            after=after, limit=limit, channel_id=channel.pk if channel else None
        ),
        events=lambda *, changes, channel: network_change_events(changes=changes),
    ),
}


class AvailabilityChangesView(ReadsFromReplica, APIView):
    """The change feed: every change of availability, in order, from a cursor."""

    read_scope = Scope.READ_AVAILABILITY
    # A page of a thousand changes is about 400 KB of JSON: orjson writes it in half
    # the time, byte for byte as DRF's renderer would.
    renderer_classes = STOCK_RENDERERS

    @extend_schema(
        summary="Availability changes since a cursor",
        description=(
            "Changes in feed order, each with every quantity as of the change and "
            "what `channel` may promise from it. Read on with `next_cursor`: a "
            "channel that was offline catches up from its last cursor and misses "
            "nothing, repeats nothing. No cursor: from the oldest change kept "
            f"({settings.SYNC_FEED_RETENTION_DAYS} days). 410 `cursor_expired` when "
            "changes after the cursor are no longer kept: take its `latest_cursor`, "
            "read `/api/v1/availability/` whole (each row has its `sequence`), then "
            "follow the feed from `latest_cursor`, dropping what is not newer. 400 "
            "for a cursor ahead of the feed. `kind=network`: the changes of the "
            "channels' network figures instead (`network_availability.changed`), "
            "in a feed with positions of its own; read "
            "`/api/v1/availability/network/` whole after a 410. A kit: after the "
            "page's last change of one of its components at a location, the kit's "
            "row there (read now, with its `components`), at that change's "
            "`position`, its id that change's and the kit's (`evt_<change>.<kit>`); "
            "a page may so hold more events than `limit`."
        ),
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=list(FEED_KINDS),
                description="`availability` (default): changes at a location; "
                "`network`: a channel's network figures (every channel's when no "
                "channel is named), each cursor of its own.",
            ),
            OpenApiParameter(
                "channel",
                OpenApiTypes.STR,
                description="Whose available-to-promise (its safety buffer); a "
                "token bound to a channel reads its own.",
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"At most {settings.SYNC_FEED_PAGE_MAX}; default 100.",
            ),
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="AvailabilityChangesPage",
                serializers=[ChangeFeedSerializer, NetworkChangeFeedSerializer],
                resource_type_field_name=None,
            ),
            410: OpenApiResponse(
                CursorExpiredSerializer,
                description="`cursor_expired`: changes after the cursor are no "
                "longer kept; start again from `latest_cursor`.",
            ),
        },
    )
    def get(self, request):
        given = request.query_params
        errors = {}
        asked = given.get("cursor")
        after = None if asked is None else _number(asked, "cursor", errors, minimum=0)
        limit = _number(given.get("limit", "100"), "limit", errors, minimum=1)
        if limit is not None and limit > settings.SYNC_FEED_PAGE_MAX:
            errors["limit"] = [f"At most {settings.SYNC_FEED_PAGE_MAX}."]
        kind = given.get("kind", "availability")
        if kind not in FEED_KINDS:
            errors["kind"] = [f"One of {', '.join(FEED_KINDS)}."]
        code = given.get("channel") or bound_channel_code(request)
        channel = None
        if code:
            ensure_may_act_for_channel(request, code)
            channel = channels_by_code(codes={code}).get(code)
            if channel is None:
                errors["channel"] = ["No such channel."]
        bounds = feed_bounds()
        network = kind == "network"
        if bounds.unplaced or (
            network and bounds.network_through < bounds.last_position
        ):
            # Reading places what has committed, so the feed is current even while
            # no worker runs. Only when something waits: placing takes the feed's
            # lock, on which every reader would otherwise queue. A reader of the
            # network kind has the networks summed for it too.
            changes_place(networks=network)
            bounds = feed_bounds()
        # Each kind has positions of its own (docs/sync.md).
        bounded = FEED_KINDS.get(kind, FEED_KINDS["availability"])
        pruned_through, last = bounded.bounds(bounds)
        if after is not None and after > last:
            errors["cursor"] = [f"Ahead of the feed, whose latest cursor is {last}."]
        if errors:
            raise ValidationError(errors)
        if after is None:
            after = pruned_through
        elif after < pruned_through:
            raise CursorExpired(
                f"Changes after {after} are no longer kept: read "
                f"{bounded.whole} whole, then follow the feed from "
                f"latest_cursor ({last}).",
                latest_cursor=str(last),
            )
        changes = bounded.page(after=after, limit=limit + 1, channel=channel)
        if after < bounded.bounds(feed_bounds())[0]:
            # Pruned between the look at the bounds and the read: some are gone.
            raise CursorExpired(
                f"Changes after {after} are no longer kept.", latest_cursor=str(last)
            )
        more = len(changes) > limit
        changes = changes[:limit]
        return Response(
            {
                "changes": bounded.events(changes=changes, channel=channel),
                "next_cursor": str(changes[-1].position if changes else after),
                "has_more": more,
            }
        )


def _number(text: str, name: str, errors: dict, minimum: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        errors[name] = ["A whole number."]
        return None
    if value < minimum:
        errors[name] = [f"At least {minimum}."]
        return None
    return value


class SyncHealthView(APIView):
    read_scope = Scope.READ_AVAILABILITY

    @extend_schema(
        summary="How each source is keeping in touch",
        description=(
            "Per channel that sends stock events: the last event received, the lag "
            "from occurred-at to recorded-at over the last hour (median, p95), and "
            "what was rejected, repeated or refused; measured every minute. A "
            "channel's token reads its own channel's row only."
        ),
        responses={200: SourceHealthSerializer(many=True)},
    )
    def get(self, request):
        _integrations_or_managers(request, "Sync health figures")
        # A channel's token reads its own figures: another's lag and refusals are
        # that channel's business.
        rows = source_health_rows(channel_code=bound_channel_code(request))
        return Response(SourceHealthSerializer(rows, many=True).data)
