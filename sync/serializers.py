"""Webhook subscriptions, their attempts, the change feed and the sources' health as
the API shows them, and the strict input for subscriptions and re-sends."""

from rest_framework import serializers

from config.api import (
    CodeField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.schema import ErrorSerializer
from inventory.models import SourceHealth
from inventory.selectors import AvailabilityStatus
from inventory.serializers import KitComponentAvailabilitySerializer, source_moment

from .models import EventKind, WebhookAttempt, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    pending = serializers.SerializerMethodField(
        help_text="Changes waiting to be sent (one per SKU and location)."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id", "channel", "url", "event_kinds", "is_active", "low_stock_threshold",
            "signature_scheme", "format", "previous_secret_expires_at",
            "state", "state_changed_at", "consecutive_failures", "retry_at",
            "last_success_at", "last_failure_at", "pending", "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "previous_secret_expires_at": {
                "help_text": "After a rotation: until then deliveries carry a "
                "signature by the previous secret too."
            }
        }

    def get_pending(self, subscription) -> int:
        return self.context.get("pending", {}).get(subscription.pk, 0)


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """As above, with the secret: shown when it is set (made, or rotated), never
    again."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


LOW_STOCK_HELP = (
    "Units. Set: also sends availability.low when the channel's available-to-promise "
    "falls to or below it, and availability.restocked when it rises above, once per "
    "crossing (if event_kinds is empty or names them). Null: none."
)

SCHEME_HELP = (
    "How deliveries are signed: standard (Standard Webhooks: webhook-id, "
    "webhook-timestamp, webhook-signature), or onestock-v1 (OneStock-Signature, as "
    "subscriptions made before it). Chosen when subscribing."
)
FORMAT_HELP = (
    "The body: onestock (the event as documented) or cloudevents (a CloudEvent 1.0 "
    "in structured JSON, application/cloudevents+json)."
)


class WebhookSubscriptionInputSerializer(StrictInputSerializer):
    writes = WebhookSubscription
    channel = CodeField(help_text="The channel the events are for.")
    url = serializers.URLField(max_length=500)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices),
        required=False,
        default=list,
        help_text="Empty (or left out): every kind but "
        "network_availability.changed and order.supply_arrived, which are sent "
        "only when named.",
    )
    is_active = StrictBooleanField(required=False, default=True)
    secret = StrictCharField(
        required=False,
        min_length=16,
        max_length=100,
        help_text="Left out: one is made and answered once. For the standard "
        "scheme: whsec_ and the base64 of 24 to 64 random bytes.",
    )
    low_stock_threshold = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text=LOW_STOCK_HELP,
    )
    signature_scheme = serializers.ChoiceField(
        choices=WebhookSubscription.SignatureScheme.choices,
        required=False,
        default=WebhookSubscription.SignatureScheme.STANDARD,
        help_text=SCHEME_HELP,
    )
    format = serializers.ChoiceField(
        choices=WebhookSubscription.Format.choices,
        required=False,
        default=WebhookSubscription.Format.ONESTOCK,
        help_text=FORMAT_HELP,
    )


class WebhookSubscriptionChangeSerializer(StrictInputSerializer):
    writes = WebhookSubscription
    url = serializers.URLField(max_length=500, required=False)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), required=False
    )
    is_active = StrictBooleanField(required=False)
    secret = StrictCharField(required=False, min_length=16, max_length=100)
    low_stock_threshold = StrictIntegerField(
        required=False, allow_null=True, min_value=0, help_text=LOW_STOCK_HELP
    )
    format = serializers.ChoiceField(
        choices=WebhookSubscription.Format.choices,
        required=False,
        help_text=FORMAT_HELP,
    )


class ResendSerializer(StrictInputSerializer):
    since = StrictCharField(
        help_text="ISO 8601 with an offset: every SKU and location that changed since "
        "then is sent again, with its latest numbers."
    )

    def validate_since(self, value):
        return source_moment(value)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "event_id", "sequence", "attempted_at", "status_code", "latency_ms",
            "error", "succeeded",
        ]  # fmt: skip


class QuantitiesSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField()
    committed = serializers.IntegerField()
    picked = serializers.IntegerField()
    reserved = serializers.IntegerField()
    damaged = serializers.IntegerField()
    quality_control = serializers.IntegerField()
    in_transit = serializers.IntegerField()
    incoming = serializers.IntegerField()
    available = serializers.IntegerField()


class ChangeDataSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Its place in the feed.")
    sku = serializers.CharField()
    location = serializers.CharField()
    sequence = serializers.IntegerField(
        help_text="Counts this SKU's changes at this location: drop anything at or "
        "below the highest you have applied. A kit's rises with any of its "
        "components' (its revision × 10^12 plus their sequences there)."
    )
    channel = serializers.CharField(allow_null=True)
    quantities = QuantitiesSerializer()
    safety_buffer = serializers.IntegerField()
    available_to_promise = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    components = KitComponentAvailabilitySerializer(
        many=True,
        required=False,
        help_text="A kit's event only (absent from a plain SKU's): its components' "
        "figures, read when the event was made, like the kit's own; its quantities "
        "are 0 but `available`.",
    )


class ChangeEventSerializer(serializers.Serializer):
    """The shape of a webhook's body and of a feed entry."""

    id = serializers.CharField(
        help_text="The same change has the same id, always. A kit's row riding on a "
        "change of one of its components: that change's id, a dot and the kit's."
    )
    type = serializers.ChoiceField(choices=EventKind.choices)
    created_at = serializers.DateTimeField()
    data = ChangeDataSerializer()


class ChangeFeedSerializer(serializers.Serializer):
    changes = ChangeEventSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Send it back as `cursor` to read on from here."
    )
    has_more = serializers.BooleanField()


class CursorExpiredSerializer(ErrorSerializer):
    """The feed's 410 (`code` `cursor_expired`): changes after the cursor are no
    longer kept."""

    latest_cursor = serializers.CharField(
        help_text="Read /api/v1/availability/ whole, then follow the feed from here."
    )

    class Meta:
        ref_name = "CursorExpired"


class SourceHealthSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = serializers.CharField(source="channel.kind", read_only=True)

    class Meta:
        model = SourceHealth
        fields = [
            "channel", "kind", "expected_interval_seconds", "last_event_at",
            "last_occurred_at", "events_last_hour", "lag_median_seconds",
            "lag_p95_seconds", "rejected_last_hour", "duplicates_last_hour",
            "clashes_last_hour", "refused_last_hour", "delayed", "checked_at",
        ]  # fmt: skip


class NetworkAvailabilitySerializer(serializers.Serializer):
    """One row of ``GET /api/v1/availability/network/``, and the ``data`` of a
    ``network_availability.changed`` event (there with its ``position``)."""

    sku = serializers.CharField()
    channel = serializers.CharField()
    available_to_promise = serializers.IntegerField(
        help_text="The sum over the channel's network of what it may promise at each "
        "location."
    )
    on_hand = serializers.IntegerField(help_text="The sum over the network.")
    available = serializers.IntegerField(help_text="The sum over the network.")
    locations = serializers.IntegerField(
        help_text="How many locations of the network have any available-to-promise."
    )
    status = serializers.ChoiceField(
        choices=AvailabilityStatus.choices,
        help_text="The least certain of its locations' statuses.",
    )
    sequence = serializers.IntegerField(
        help_text="Moves whenever `available_to_promise` moves, per SKU and channel: "
        "drop any event at or below the highest you have applied."
    )
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="The latest as-of among its locations."
    )

    class Meta:
        ref_name = "NetworkAvailability"


class NetworkChangeDataSerializer(NetworkAvailabilitySerializer):
    position = serializers.IntegerField(help_text="Its place in the network feed.")

    class Meta:
        ref_name = "NetworkChangeData"


class NetworkChangeEventSerializer(serializers.Serializer):
    """A `network_availability.changed` webhook's body, and a `?kind=network` feed
    entry."""

    id = serializers.CharField(help_text="The same change has the same id, always.")
    type = serializers.ChoiceField(choices=EventKind.choices)
    created_at = serializers.DateTimeField()
    data = NetworkChangeDataSerializer()


class NetworkChangeFeedSerializer(serializers.Serializer):
    changes = NetworkChangeEventSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Send it back as `cursor` (with `kind=network`) to read on."
    )
    has_more = serializers.BooleanField()
