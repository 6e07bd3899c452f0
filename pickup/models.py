"""Click-and-collect at the store: the PickupTask that takes a pickup order from the
shelf to the customer's hands, its timeline (PickupTaskEvent), the units a picker
could not find and what was decided about them (PickupProblem), and every message
sent to the customer (PickupNotice)."""

from django.conf import settings
from django.db import models

from config.timeline import TimelineEvent


class PickupTask(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CLAIMED = "claimed", "Claimed"
        PICKING = "picking", "Picking"
        ON_HOLD = "on_hold", "Waiting for a transfer"
        PICKED = "picked", "Picked: in the pickup-hold area"
        READY = "ready", "Ready for the customer"
        COLLECTED = "collected", "Collected"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired: not collected"

    # The allowed transitions, and nothing else (config.transitions refuses the rest).
    # Back to new, or to waiting for a transfer, from anywhere before collection: a
    # changed pickup store (the task moves there and starts again).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.NEW: frozenset({Status.CLAIMED, Status.ON_HOLD, Status.CANCELLED}),
        # Claimed back to new: the picker let it go for someone else.
        Status.CLAIMED: frozenset(
            {Status.NEW, Status.PICKING, Status.ON_HOLD, Status.CANCELLED}
        ),
        Status.PICKING: frozenset(
            {Status.NEW, Status.PICKED, Status.ON_HOLD, Status.CANCELLED}
        ),
        Status.ON_HOLD: frozenset({Status.PICKING, Status.PICKED, Status.CANCELLED}),
        # Picked back to picking: a substitute line was added after the last pick.
        Status.PICKED: frozenset(
            {Status.NEW, Status.READY, Status.PICKING, Status.ON_HOLD, Status.CANCELLED}
        ),
        Status.READY: frozenset(
            {
                Status.NEW,
                Status.ON_HOLD,
                Status.COLLECTED,
                Status.EXPIRED,
                Status.CANCELLED,
            }
        ),
        Status.COLLECTED: frozenset({Status.CLOSED}),
        Status.CLOSED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.EXPIRED: frozenset(),
    }
    # The queue screen's groups, in the order a team works them.
    OPEN_STATUSES = (
        Status.NEW,
        Status.CLAIMED,
        Status.PICKING,
        Status.ON_HOLD,
        Status.PICKED,
        Status.READY,
    )

    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="pickup_task"
    )
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    due_at = models.DateTimeField(help_text="When the customer was told it is ready.")
    collection_code = models.CharField(
        max_length=6, help_text="The code the customer shows at the counter."
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    hold_slot = models.CharField(
        max_length=40, blank=True, help_text="Where it waits: a shelf or bin label."
    )
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["location", "status", "due_at"], name="pickup_queue"),
            models.Index(fields=["status", "expires_at"], name="pickup_expiry"),
        ]

    def __str__(self) -> str:
        return f"Pickup {self.order_id} @ {self.location_id} ({self.status})"


class PickupTaskEvent(TimelineEvent):
    """One step of a task: the status it left and reached (or a note), what was done
    (``action``), who, from which system and when."""

    task = models.ForeignKey(
        PickupTask, on_delete=models.CASCADE, related_name="events"
    )

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_status} → {self.to_status}"

    @property
    def to_label(self) -> str:
        return PickupTask.Status(self.to_status).label if self.to_status else ""


class PickupProblem(models.Model):
    """Units of a line the picker could not take: not on the shelf, or damaged. The
    stock fact is recorded when reported; the customer's order waits for a decision,
    and an undecided problem goes to the manager after a while.

    Also the units of an order whose customer changed pickup store that the new
    store lacked (``on_the_way``): nothing was lost, the store the customer left
    sends them (``transfer``), and the task waits for them as for any transfer."""

    class Condition(models.TextChoices):
        NOT_FOUND = "not_found", "Not found"
        DAMAGED = "damaged", "Damaged"
        ON_THE_WAY = "on_the_way", "Coming from the store the customer left"

    class Resolution(models.TextChoices):
        SOURCE_ELSEWHERE = "source_elsewhere", "Source from another branch"
        SUBSTITUTE = "substitute", "Offer a substitute"
        SHIP_LATER = "ship_later", "Ship to the customer later"
        CANCEL = "cancel", "Cancel these units and tell the customer"

    class Status(models.TextChoices):
        OPEN = "open", "Open: waiting for a decision"
        WAITING = "waiting", "Waiting for a transfer"
        RESOLVED = "resolved", "Resolved"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.WAITING, Status.RESOLVED}),
        Status.WAITING: frozenset({Status.RESOLVED}),
        Status.RESOLVED: frozenset(),
    }

    class Answer(models.TextChoices):
        ACCEPTED = "accepted", "Customer accepted"
        DECLINED = "declined", "Customer declined"

    task = models.ForeignKey(
        PickupTask, on_delete=models.CASCADE, related_name="problems"
    )
    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=12, choices=Condition.choices)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    transfer = models.ForeignKey(
        "inventory.TransferRequest",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    substitute_sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    customer_answer = models.CharField(
        max_length=10, choices=Answer.choices, blank=True
    )
    follow_up_order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The order that ships the units later.",
    )
    reported_by = models.CharField(max_length=160)
    reported_at = models.DateTimeField()
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="Sent to the manager: undecided too long."
    )
    resolved_by = models.CharField(max_length=160, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reported_at", "id"]
        indexes = [
            models.Index(fields=["status", "reported_at"], name="pickup_problem_open")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.condition} on task {self.task_id}"


class PickupNotice(models.Model):
    """A message to the customer, recorded whether or not delivery succeeded."""

    class Kind(models.TextChoices):
        READY = "ready", "Ready for collection"
        REMINDER = "reminder", "Reminder before expiry"
        EXPIRED = "expired", "Expired"
        UNITS_CANCELLED = "units_cancelled", "Some items cancelled"
        SUBSTITUTE = "substitute", "Substitute added"
        SHIP_LATER = "ship_later", "Items shipped later"
        LOCATION_CHANGED = "location_changed", "Pickup store changed"

    task = models.ForeignKey(
        PickupTask, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"
