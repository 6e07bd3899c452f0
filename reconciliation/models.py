"""Reconciliation owns what puts the records' disagreements with the world in front of
a person, and what measures how accurate the records are:

- ``ExceptionCase``: one queue for every kind of disagreement (an oversell conflict,
  an item not found at picking, an expired pickup, a return waiting too long, a count
  variance, ledger drift, and, from later work, snapshot disagreements, delayed syncs
  and failing webhooks). Any app raises into it through
  ``reconciliation.services.exception_raise``; the models here import only catalog
  and inventory, so every app may.
- ``CountTask`` and ``CountLine``: blind cycle counts; their results are the history
  Inventory Record Accuracy is computed from.
"""

from django.conf import settings
from django.db import models

from inventory.models import Location, StockConflict, StockMovement


class ExceptionKind(models.TextChoices):
    OVERSELL_CONFLICT = "oversell_conflict", "Oversell conflict"
    ITEM_NOT_FOUND = "item_not_found", "Item not found at picking"
    PICKUP_UNDECIDED = "pickup_undecided", "Pickup problem undecided"
    PICKUP_EXPIRED = "pickup_expired", "Pickup expired"
    RETURN_OVERDUE = "return_overdue", "Return waiting too long"
    COUNT_VARIANCE = "count_variance", "Count variance"
    LEDGER_DRIFT = "ledger_drift", "Ledger drift"
    SNAPSHOT_DISAGREEMENT = "snapshot_disagreement", "External snapshot disagrees"
    SYNC_DELAYED = "sync_delayed", "Sync delayed"
    WEBHOOK_FAILING = "webhook_failing", "Webhook delivery failing"


class Resolution(models.TextChoices):
    STOCK_ADJUSTED = "stock_adjusted", "Stock adjusted (posts an adjustment)"
    STOCK_FOUND = "stock_found", "Stock found: the records were right"
    RECOUNTED = "recounted", "Corrected by a count"
    CUSTOMER_SERVED = "customer_served", "Customer looked after"
    PUT_BACK = "put_back", "Units put back on the shelf"
    NO_ACTION = "no_action", "No action needed"
    SETTLED_AT_SOURCE = "settled_at_source", "Settled where it arose"
    OTHER = "other", "Other (say what)"


class ExceptionCase(models.Model):
    """One disagreement a person has to look at. ``key`` names its cause (the
    conflict, the pickup task, the return, the count line); while a case is open,
    raising the same key again updates it instead of opening a second one."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    # The allowed transitions, and nothing else.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.RESOLVED}),
        Status.RESOLVED: frozenset(),
    }

    kind = models.CharField(max_length=24, choices=ExceptionKind.choices)
    key = models.CharField(max_length=200, help_text="The cause, e.g. pickup_task:12.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    title = models.CharField(max_length=200)
    detail = models.CharField(max_length=1000, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    link = models.CharField(
        max_length=200, blank=True, help_text="Where the cause is worked on."
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    stock_conflict = models.ForeignKey(
        StockConflict,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    times_raised = models.PositiveIntegerField(default=1)
    first_raised_at = models.DateTimeField()
    last_raised_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)
    resolved_by = models.CharField(max_length=160, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The ledger entry the resolution posted.",
    )

    class Meta:
        ordering = ["first_raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="open"),
                name="exception_one_open_per_cause",
            )
        ]
        indexes = [
            models.Index(fields=["status", "kind"], name="exception_status_kind"),
            models.Index(fields=["status", "location"], name="exception_status_loc"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class ExceptionEvent(models.Model):
    """The case's timeline: raised, raised again, assigned, a comment, resolved."""

    class Kind(models.TextChoices):
        RAISED = "raised", "Raised"
        RAISED_AGAIN = "raised_again", "Raised again"
        ASSIGNED = "assigned", "Assigned"
        COMMENT = "comment", "Comment"
        RESOLVED = "resolved", "Resolved"

    case = models.ForeignKey(
        ExceptionCase, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=14, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.CharField(max_length=160)
    note = models.CharField(max_length=1000, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}"


class CountTask(models.Model):
    """A blind count of some SKUs at one location: generated nightly, or started by a
    manager. Counted blind: the screen never shows what the system holds."""

    class Origin(models.TextChoices):
        NIGHTLY = "nightly", "Nightly cycle count"
        AD_HOC = "ad_hoc", "Ad-hoc count"

    class Status(models.TextChoices):
        OPEN = "open", "To count"
        RECOUNT = "recount", "Recount asked for"
        AWAITING_APPROVAL = "awaiting_approval", "Variance awaiting approval"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset(
            {Status.RECOUNT, Status.AWAITING_APPROVAL, Status.DONE, Status.CANCELLED}
        ),
        Status.RECOUNT: frozenset({Status.AWAITING_APPROVAL, Status.DONE}),
        Status.AWAITING_APPROVAL: frozenset({Status.DONE}),
        Status.DONE: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    # Staff count while the task is in one of these.
    COUNTING = frozenset({Status.OPEN, Status.RECOUNT})

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN
    )
    for_date = models.DateField(help_text="The day it is to be counted.")
    tolerance_units = models.PositiveIntegerField(default=0)
    tolerance_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-for_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "for_date"],
                condition=models.Q(origin="nightly"),
                name="count_one_nightly_per_day",
            )
        ]
        indexes = [
            models.Index(fields=["location", "status"], name="count_task_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_origin_display()} #{self.pk}"


class CountLine(models.Model):
    """One SKU on a count. ``system_on_hand`` is what the records held as of the
    count's moment, written when the count is compared and never shown to the
    counter. ``result`` is what Inventory Record Accuracy reads."""

    class Status(models.TextChoices):
        TO_COUNT = "to_count", "To count"
        TO_RECOUNT = "to_recount", "To recount"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        ACCURATE = "accurate", "Accurate"
        APPROVED = "approved", "Variance approved"
        REJECTED = "rejected", "Variance rejected"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.TO_COUNT: frozenset(
            {Status.ACCURATE, Status.TO_RECOUNT, Status.AWAITING_APPROVAL}
        ),
        Status.TO_RECOUNT: frozenset({Status.ACCURATE, Status.AWAITING_APPROVAL}),
        Status.AWAITING_APPROVAL: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.ACCURATE: frozenset(),
        Status.APPROVED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    class Result(models.TextChoices):
        WITHIN_TOLERANCE = "within", "Within tolerance"
        BEYOND_TOLERANCE = "beyond", "Beyond tolerance"

    task = models.ForeignKey(CountTask, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.TO_COUNT
    )
    counted = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    counted_by = models.CharField(max_length=160, blank=True)
    first_count = models.PositiveIntegerField(null=True, blank=True)
    first_system_on_hand = models.BigIntegerField(null=True, blank=True)
    system_on_hand = models.BigIntegerField(null=True, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=160, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    posted = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The count entry this line posted to the ledger.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "sku"], name="count_line_once")
        ]
        indexes = [
            models.Index(fields=["result_at"], name="count_line_result_at"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} on count {self.task_id}"

    @property
    def variance(self) -> int | None:
        if self.counted is None or self.system_on_hand is None:
            return None
        return self.counted - self.system_on_hand


class CountTaskEvent(models.Model):
    """Every change of a count's status, with who and when."""

    task = models.ForeignKey(CountTask, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.CharField(max_length=160)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} by {self.actor}"
