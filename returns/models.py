"""Returns, whatever channel the goods were bought through: the Return (announced by a
channel or received at a counter), its lines with the reason, each ReturnInspection
that graded units of a line, and the ReturnEvent timeline of who did what and when.

A returned unit is never sellable on arrival: it enters quality control at the
location that received it, and leaves it only through a grading
(``returns.services``, which asks ``inventory.services`` to move the stock)."""

from django.conf import settings
from django.db import models

from config.timeline import TimelineEvent


class ReturnReason(models.TextChoices):
    WRONG_SIZE = "wrong_size", "Wrong size"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    DAMAGED_IN_TRANSIT = "damaged_in_transit", "Damaged in transit"
    DEFECTIVE = "defective", "Defective"
    CHANGED_MIND = "changed_mind", "Changed mind"
    WRONG_ITEM_SENT = "wrong_item_sent", "Wrong item sent"
    OTHER = "other", "Other"


class Return(models.Model):
    class Status(models.TextChoices):
        EXPECTED = "expected", "Expected: announced, not yet here"
        RECEIVED = "received", "Received: waiting for inspection"
        INSPECTING = "inspecting", "Inspecting"
        GRADED = "graded", "Graded: every unit has a grade"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled: never arrived"

    # The allowed transitions, and nothing else (config.transitions refuses the rest).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.EXPECTED: frozenset({Status.RECEIVED, Status.CANCELLED}),
        Status.RECEIVED: frozenset({Status.INSPECTING}),
        Status.INSPECTING: frozenset({Status.GRADED}),
        Status.GRADED: frozenset({Status.CLOSED}),
        Status.CLOSED: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    # Units of these returns sit in quality control, waiting for a grade.
    AWAITING_GRADE = (Status.RECEIVED, Status.INSPECTING)

    class Source(models.TextChoices):
        ANNOUNCED = "announced", "Announced by the channel"
        COUNTER = "counter", "Received at the counter"

    reference = models.CharField(
        max_length=64,
        help_text="The channel's return number (RMA), or the one a store gave it.",
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The channel the goods were bought through.",
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
    )
    till_receipt = models.CharField(
        max_length=64, blank=True, help_text="For a purchase at a till: its receipt."
    )
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where it is received (or will arrive).",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.EXPECTED
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    payload_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField()
    received_by = models.CharField(max_length=160, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Flagged for the manager: waited too long for inspection.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "reference"], name="return_reference_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["location", "status"], name="return_queue"),
            models.Index(fields=["received_at"], name="return_received_at"),
        ]

    def __str__(self) -> str:
        return f"Return {self.reference}"


class ReturnLine(models.Model):
    """Units of one SKU coming back, and why. ``expected_quantity`` is what the
    channel announced; ``quantity`` what arrived (0 until it does)."""

    customer_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_lines",
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    kit = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The kit these units came back in: a kit is received and graded "
        "by component.",
    )
    expected_quantity = models.PositiveIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=0)
    graded_quantity = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    reason_text = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity or self.expected_quantity}"

    @property
    def to_grade(self) -> int:
        return self.quantity - self.graded_quantity


class ReturnInspection(models.Model):
    """Units of one line given one grade by one person."""

    class Grade(models.TextChoices):
        RESELLABLE = "resellable", "Resellable: back on the shelf"
        DAMAGED = "damaged", "Damaged: kept, not for sale"
        RETURN_TO_VENDOR = "return_to_vendor", "Return to vendor"
        DESTROY = "destroy", "Destroy"

    line = models.ForeignKey(
        ReturnLine, on_delete=models.CASCADE, related_name="inspections"
    )
    grade = models.CharField(max_length=20, choices=Grade.choices)
    quantity = models.PositiveIntegerField()
    shelf_location = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where a resellable unit was put, as the staff member confirmed.",
    )
    condition = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=500, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(max_length=160)
    graded_at = models.DateTimeField()

    class Meta:
        ordering = ["graded_at", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.get_grade_display()}"


class ReturnEvent(TimelineEvent):
    """One step of a return's timeline: a change of status or a note-worthy act."""

    class Kind(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        STATUS = "status", "Status changed"
        GRADED = "graded", "Units graded"
        OVERDUE = "overdue", "Waiting too long for inspection"

    customer_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
