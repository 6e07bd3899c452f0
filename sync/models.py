"""What the channels are sent: webhook subscriptions per channel with the timeline of
their state, the deliveries waiting for each (at most one per SKU and location: a
newer change replaces the one not yet sent), every attempt to send them, and the
feed's position. The changes themselves are inventory's outbox
(``inventory.AvailabilityChange``), and the sources' health is inventory's too
(``inventory.SourceHealth``), since availability's status is read from it."""

import base64
import secrets

from django.db import models

from config.timeline import TimelineEvent


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64: what Standard Webhooks' libraries
    decode to the HMAC key, and, used whole, an ``onestock-v1`` secret as well."""
    return f"whsec_{base64.b64encode(secrets.token_bytes(32)).decode()}"


class EventKind(models.TextChoices):
    AVAILABILITY_CHANGED = "availability.changed", "Availability changed"
    NETWORK_AVAILABILITY_CHANGED = (
        "network_availability.changed",
        "Network availability changed",
    )
    AVAILABILITY_LOW = (
        "availability.low",
        "Availability fell to the low-stock threshold",
    )
    AVAILABILITY_RESTOCKED = (
        "availability.restocked",
        "Availability rose above the low-stock threshold",
    )
    ORDER_SUPPLY_ARRIVED = (
        "order.supply_arrived",
        "A pre-order's supply arrived: its units are committed",
    )


# Kinds whose body is another shape than availability's: sent only when named.
NAMED_ONLY = frozenset(
    {EventKind.NETWORK_AVAILABILITY_CHANGED, EventKind.ORDER_SUPPLY_ARRIVED}
)


class WebhookSubscription(models.Model):
    """Where one channel wants its changes pushed. ``state`` says how sending goes:
    ``healthy``; ``retrying`` after a failed attempt, waiting until ``retry_at``;
    ``failing`` once the retry schedule (about a day) ran out, or at once when the
    receiver answered 410 Gone (then also switched off), when nothing is sent until
    a person re-sends from a point in time. How a delivery is signed
    (``signature_scheme``) and shaped (``format``): sync/signing.py and
    sync/cloudevents.py."""

    class State(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        RETRYING = "retrying", "Retrying"
        FAILING = "failing", "Failing"

    class SignatureScheme(models.TextChoices):
        STANDARD = "standard", "Standard Webhooks (webhook-id, -timestamp, -signature)"
        ONESTOCK_V1 = "onestock-v1", "OneStock v1 (OneStock-Signature, hex)"

    class Format(models.TextChoices):
        ONESTOCK = "onestock", "OneStock's event JSON"
        CLOUDEVENTS = "cloudevents", "CloudEvents 1.0, structured JSON"

    TRANSITIONS = {
        # Straight to failing: a receiver that answered 410 Gone.
        State.HEALTHY: {State.RETRYING, State.FAILING},
        State.RETRYING: {State.HEALTHY, State.RETRYING, State.FAILING},
        State.FAILING: {State.HEALTHY},
    }
    # The API's and the admin's word for its status (config.transitions reads it).
    STATUS_FIELD = "state"

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.PROTECT, related_name="webhooks"
    )
    url = models.URLField(max_length=500, help_text="Receives a JSON POST per event.")
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        help_text="Signs every delivery (HMAC-SHA256); shared with the receiver.",
    )
    # The secret before the last rotation: deliveries carry its signature too until
    # ``previous_secret_expires_at`` (WEBHOOK_SECRET_GRACE_HOURS), so a receiver
    # switches secrets without refusing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    signature_scheme = models.CharField(
        max_length=12,
        choices=SignatureScheme.choices,
        default=SignatureScheme.STANDARD,
        help_text="standard: Standard Webhooks' headers; onestock-v1: the "
        "OneStock-Signature header of subscriptions made before it.",
    )
    format = models.CharField(
        max_length=12,
        choices=Format.choices,
        default=Format.ONESTOCK,
        help_text="onestock: the event as documented; cloudevents: the event as a "
        "CloudEvent (structured JSON, application/cloudevents+json).",
    )
    event_kinds = models.JSONField(
        default=list,
        help_text="Which kinds of event to send; empty means every kind but "
        "network_availability.changed and order.supply_arrived, which are sent "
        "only when named.",
    )
    is_active = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="If set, also sends availability.low when the channel's "
        "available-to-promise falls to or below this many units, and "
        "availability.restocked when it rises above, once per crossing.",
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.HEALTHY, editable=False
    )
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    state_changed_by = models.CharField(max_length=160, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel__code", "id"]

    def __str__(self) -> str:
        return f"{self.channel.code} → {self.url}"

    def wants(self, kind: str) -> bool:
        """Whether ``kind`` is sent. None named: every kind there was before the
        network kind; that one and the orders' kind a receiver must ask for (their
        bodies are other shapes)."""
        if self.event_kinds:
            return kind in self.event_kinds
        return kind not in NAMED_ONLY

    def signing_secrets(self, now) -> list[str]:
        """The secrets a delivery is signed with at ``now``: the current one, then
        the previous one while its grace lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookSubscriptionEvent(TimelineEvent):
    """A subscription's timeline: made, and every change of its state (retrying,
    failing, healthy again), with who, when and why."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="events"
    )

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} by {self.actor}"


class WebhookDelivery(models.Model):
    """One event for one subscription: the latest change of a SKU at a location not
    yet delivered (``change``), or of a SKU across the subscription's channel's
    network (``network_change``, no location), or one entry of an order's timeline
    (``order_event``, no SKU nor location). While it is ``pending`` a newer change
    of the same SKU and location, or of the same SKU's network figure, takes its
    place (the unique indexes), so a burst (the changes committed within
    ``WEBHOOK_COALESCE_SECONDS`` of the first, before the push runs), or an outage,
    is sent as one event with the latest numbers. An order's event is never
    replaced: each is a delivery of its own."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The database refuses to drop a change a delivery still points at; DO_NOTHING
    # lets the nightly pruning delete in one statement rather than row by row.
    change = models.ForeignKey(
        "inventory.AvailabilityChange",
        on_delete=models.DO_NOTHING,
        related_name="+",
        null=True,
        blank=True,
    )
    network_change = models.ForeignKey(
        "NetworkChange",
        on_delete=models.DO_NOTHING,
        related_name="+",
        null=True,
        blank=True,
    )
    # Sent as it was recorded; deleted with it (an order's events go with the order).
    order_event = models.ForeignKey(
        "orders.OrderEvent",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        null=True,
        blank=True,
        help_text="Empty for an order's event.",
    )
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        null=True,
        blank=True,
        help_text="Empty for the network kind and an order's event.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "sku", "location"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_one_pending",
            ),
            models.UniqueConstraint(
                fields=["subscription", "sku"],
                condition=models.Q(status="pending", location__isnull=True),
                name="webhook_delivery_one_pending_for_the_network",
            ),
            # An order's event waits once per subscription (a re-send while it
            # waits adds none); its NULL SKU and location keep it out of the two
            # indexes above, so two events are never one delivery.
            models.UniqueConstraint(
                fields=["subscription", "order_event"],
                condition=models.Q(status="pending", order_event__isnull=False),
                name="webhook_delivery_order_event_once",
            ),
            # A change of a SKU at a location, of its network figure, or an order's
            # event: one of three.
            models.CheckConstraint(
                condition=models.Q(
                    change__isnull=False,
                    sku__isnull=False,
                    location__isnull=False,
                    network_change__isnull=True,
                    order_event__isnull=True,
                )
                | models.Q(
                    change__isnull=True,
                    sku__isnull=False,
                    location__isnull=True,
                    network_change__isnull=False,
                    order_event__isnull=True,
                )
                | models.Q(
                    change__isnull=True,
                    sku__isnull=True,
                    location__isnull=True,
                    network_change__isnull=True,
                    order_event__isnull=False,
                ),
                name="webhook_delivery_one_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            )
        ]

    def __str__(self) -> str:
        if self.network_change_id is not None:
            what = f"network change {self.network_change_id}"
        elif self.order_event_id is not None:
            what = f"order event {self.order_event_id}"
        else:
            what = f"change {self.change_id}"
        return f"{self.subscription_id}: {what} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST: what the receiver answered, or why there was no answer."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="attempts"
    )
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_records"
    )
    event_id = models.CharField(max_length=40)
    sequence = models.BigIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            models.Index(
                fields=["subscription", "-attempted_at"], name="webhook_attempt_recent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.status_code or self.error[:40]}"


class FeedState(models.Model):
    """The feed's one row: the last position given, and the highest position pruned
    (a cursor before it may have missed changes), for the changes at a location and,
    apart (``network_``), for the network figures' changes (``NetworkChange``). Its
    row lock makes placing one at a time; kept apart from the changes so a feed
    pruned empty never starts again from 1."""

    last_position = models.BigIntegerField(default=0)
    pruned_through = models.BigIntegerField(default=0)
    network_last_position = models.BigIntegerField(default=0)
    network_pruned_through = models.BigIntegerField(default=0)
    # The highest position whose SKUs the network figures were summed for
    # (sync.services.network.network_figures_catch_up): the networks trail the feed
    # by at most one catch-up, and never miss a placed change.
    network_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed at {self.last_position}"


class LowStockMark(models.Model):
    """Which side of its low-stock threshold a subscription last heard a SKU was on,
    at one location or (no location) across the channel's network: an event is sent
    only when a figure crosses it, once per crossing."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="low_stock_marks"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty: the channel's network as a whole.",
    )
    is_low = models.BooleanField()
    available_to_promise = models.BigIntegerField()
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["subscription_id", "sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "sku", "location"],
                condition=models.Q(location__isnull=False),
                name="low_stock_mark_once_at_a_location",
            ),
            models.UniqueConstraint(
                fields=["subscription", "sku"],
                condition=models.Q(location__isnull=True),
                name="low_stock_mark_once_for_the_network",
            ),
        ]

    def __str__(self) -> str:
        where = self.location_id or "network"
        return f"{self.subscription_id}: {self.sku_id}@{where} low={self.is_low}"


class NetworkFigure(models.Model):
    """One SKU's availability across one selling channel's network, as last summed
    (``sync.services.network``): the figures ``GET /api/v1/availability/network/``
    answers with, and its ``sequence``, which moves whenever ``available_to_promise``
    does (and only then). No row: never summed, or nothing there yet (all 0,
    sequence 0)."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="+"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    available_to_promise = models.BigIntegerField(default=0)
    on_hand = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    locations = models.PositiveIntegerField(
        default=0, help_text="Locations of the network with any available-to-promise."
    )
    status = models.CharField(
        max_length=12,
        default="confirmed",
        help_text="The least certain of its locations' statuses.",
    )
    sequence = models.BigIntegerField(
        default=0, help_text="Moves by one whenever available_to_promise moves."
    )
    as_of = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(help_text="When it was last summed differently.")

    class Meta:
        ordering = ["channel_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "sku"], name="network_figure_once"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.sku_id} across {self.channel_id}'s network: "
            f"{self.available_to_promise} (#{self.sequence})"
        )


class NetworkChange(models.Model):
    """A network figure's total moved: the outbox of the network kind, one row per
    step of its ``sequence``, in a feed of its own (``position``, given with no gaps
    under the feed's lock, ``FeedState.network_last_position``). Pruned with the
    changes at a location, after ``SYNC_FEED_RETENTION_DAYS``."""

    position = models.BigIntegerField(unique=True)
    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="+"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    sequence = models.BigIntegerField()
    available_to_promise = models.BigIntegerField()
    on_hand = models.BigIntegerField()
    available = models.BigIntegerField()
    locations = models.PositiveIntegerField()
    status = models.CharField(max_length=12)
    as_of = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(
                fields=["channel", "position"], name="network_change_by_channel"
            ),
            models.Index(fields=["changed_at"], name="network_change_changed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.sku_id} for {self.channel_id} #{self.sequence}"
