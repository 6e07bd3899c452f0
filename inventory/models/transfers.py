"""Units asked for from another location (TransferRequest), and its timeline
(TransferEvent: each move, who made it, when and why)."""

from django.db import models

from config.timeline import TimelineEvent

from .locations import Location


class TransferRequest(models.Model):
    """Units asked for from another location: committed there when asked (so it
    cannot sell them), in transit once dispatched, on hand here once received. Each
    step is on its timeline (``events``); the latest of each kind is also stamped on
    the request (``<step>_by``, ``<step>_at``), which the pickup screens read."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        DISPATCHED = "dispatched", "Dispatched: on the way"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
        Status.DISPATCHED: frozenset({Status.RECEIVED}),
        Status.RECEIVED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_in"
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The channel whose order the units are for.",
    )
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.CharField(max_length=160)
    requested_at = models.DateTimeField()
    dispatched_by = models.CharField(max_length=160, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    received_by = models.CharField(max_length=160, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=160, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["from_location", "status"], name="transfer_from"),
            models.Index(fields=["to_location", "status"], name="transfer_to"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.quantity} × {self.sku_id} "
            f"{self.from_location_id} → {self.to_location_id}"
        )


class TransferEvent(TimelineEvent):
    """One step of a transfer request on its timeline (``TransferRequest.events``):
    asked for, dispatched, received or cancelled; who took it and from which
    system, when, and why."""

    transfer = models.ForeignKey(
        TransferRequest, on_delete=models.CASCADE, related_name="events"
    )
    to_status = models.CharField(max_length=20, choices=TransferRequest.Status.choices)

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"
