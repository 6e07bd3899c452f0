"""Reconciliation owns what puts the records' disagreements with the world in front of
a person, and what measures how accurate the records are:

- ``ExceptionCase``: one queue for every kind of disagreement (an oversell conflict,
  an item not found at picking, an expired pickup, a return waiting too long, a count
  variance, ledger drift, a snapshot disagreement, a delayed sync, a failing
  webhook). Any app raises into it through
  ``reconciliation.services.exception_raise``; the models here import only catalog,
  inventory and config, so every app may.
- ``CountTask`` and ``CountLine``: blind cycle counts; their results are the history
  Inventory Record Accuracy is computed from.
- ``ReconciliationRun``: each nightly (or started) proof of the balances against the
  ledger and of the channels' ``StockSnapshot``s against it.
- The timelines of a case, a count and a run (``ExceptionEvent``, ``CountTaskEvent``,
  ``ReconciliationRunEvent``), each a ``config.timeline.TimelineEvent``.
- ``SalesRate``: the nightly rate of sale per SKU and location, for days of supply.
- ``TransferProposal`` and its timeline (``proposal_models``): units proposed from
  where they will not sell soon to where they run out, for a manager to decide.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.timeline import TimelineEvent
from inventory.models import Location, StockConflict, StockMovement

# Kept in their own module (this one is long); imported here so Django finds them.
from .proposal_models import TransferProposal, TransferProposalEvent  # noqa: F401


class ExceptionKind(models.TextChoices):
    OVERSELL_CONFLICT = "oversell_conflict", "Oversell conflict"
    ITEM_NOT_FOUND = "item_not_found", "Item not found at picking"
    PICKUP_UNDECIDED = "pickup_undecided", "Pickup problem undecided"
    PICKUP_EXPIRED = "pickup_expired", "Pickup expired"
    PICKUP_OUT_OF_STEP = "pickup_out_of_step", "Pickup task out of step with its order"
    RETURN_OVERDUE = "return_overdue", "Return waiting too long"
    COUNT_VARIANCE = "count_variance", "Count variance"
    LEDGER_DRIFT = "ledger_drift", "Ledger drift"
    SNAPSHOT_DISAGREEMENT = "snapshot_disagreement", "External snapshot disagrees"
    SYNC_DELAYED = "sync_delayed", "Sync delayed"
    WEBHOOK_FAILING = "webhook_failing", "Webhook delivery failing"
    SUPPLY_DELAYED = "supply_delayed", "Pre-ordered units without supply"


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
    key = models.CharField(max_length=255, help_text="The cause, e.g. pickup_task:12.")
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


class ExceptionEvent(TimelineEvent):
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
    kind = models.CharField(max_length=20, choices=Kind.choices)

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


class CountTaskEvent(TimelineEvent):
    """Every change of a count's status, with who and when."""

    task = models.ForeignKey(CountTask, on_delete=models.CASCADE, related_name="events")

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} by {self.actor}"


class StockSnapshot(models.Model):
    """A channel's own view of on-hand at one moment (a POS's or a web shop's stock
    file), sent in pages and compared by the nightly run with the ledger as of
    ``taken_at``. Idempotent by ``(channel, snapshot_id)`` and page number."""

    class Status(models.TextChoices):
        RECEIVING = "receiving", "Receiving pages"
        COMPLETE = "complete", "Complete, waiting for the nightly run"
        COMPARED = "compared", "Compared with the ledger"
        SUPERSEDED = "superseded", "Superseded by a later snapshot, not compared"

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.PROTECT, related_name="+"
    )
    snapshot_id = models.CharField(max_length=100)
    taken_at = models.DateTimeField(help_text="The moment the figures describe.")
    page_count = models.PositiveIntegerField()
    pages_received = models.PositiveIntegerField(default=0)
    rows_received = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.RECEIVING
    )
    received_by = models.CharField(max_length=160)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    compared_at = models.DateTimeField(null=True, blank=True)
    compared_in = models.ForeignKey(
        "ReconciliationRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="snapshots",
    )
    disagreements = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "snapshot_id"], name="snapshot_id_unique_per_channel"
            )
        ]
        indexes = [models.Index(fields=["status", "taken_at"], name="snapshot_status")]

    def __str__(self) -> str:
        return f"{self.snapshot_id} ({self.status})"


class StockSnapshotPage(models.Model):
    """One page as received: its digest makes a resend a no-op and a different page
    under the same number a conflict."""

    snapshot = models.ForeignKey(
        StockSnapshot, on_delete=models.CASCADE, related_name="pages"
    )
    number = models.PositiveIntegerField()
    row_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "number"], name="snapshot_page_unique"
            )
        ]

    def __str__(self) -> str:
        return f"page {self.number} of {self.snapshot_id}"


class StockSnapshotRow(models.Model):
    snapshot = models.ForeignKey(
        StockSnapshot, on_delete=models.CASCADE, related_name="rows"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    on_hand = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "sku", "location"], name="snapshot_row_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.on_hand} × {self.sku_id} @ {self.location_id}"


class ReconciliationRun(models.Model):
    """One reconciliation: every balance against the ledger (drift), then each
    channel's latest snapshot against the ledger as of its moment. Each step commits
    with its progress, so a run cut off half-way is finished by the next start from
    where it stopped, never counted twice."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Stopped by an error (the next start finishes it)"
        ABANDONED = "abandoned", "Failed too often; a new run replaced it"

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly job"
        MANAGER = "manager", "Started by a manager"
        COMMAND = "command", "manage.py reconcile"

    class Phase(models.TextChoices):
        LEDGER = "ledger", "Balances against the ledger"
        SNAPSHOTS = "snapshots", "Snapshots against the ledger"
        DONE = "done", "Done"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.RUNNING: frozenset(
            {Status.FINISHED, Status.FAILED, Status.RUNNING, Status.ABANDONED}
        ),
        Status.FAILED: frozenset({Status.RUNNING, Status.ABANDONED}),
        Status.FINISHED: frozenset(),
        Status.ABANDONED: frozenset(),
    }

    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    started_by = models.CharField(max_length=160)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.LEDGER)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    entries_checked = models.BigIntegerField(default=0)
    balances_checked = models.BigIntegerField(default=0)
    drift_found = models.PositiveIntegerField(default=0)
    snapshots_compared = models.PositiveIntegerField(default=0)
    snapshot_rows_checked = models.BigIntegerField(default=0)
    disagreements_found = models.PositiveIntegerField(default=0)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    # Where the snapshot phase stopped: {"snapshot": id, "after_row": id}.
    checkpoint = models.JSONField(default=dict, blank=True)
    # The rows found, for the run's page: {"drift": [...], "disagreements": [...]}.
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    resumed = models.PositiveIntegerField(
        default=0, help_text="How many times a start finished this run."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One run at a time: two would repair the same balance twice.
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="one_reconciliation_running",
            )
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def history(self) -> list[dict]:
        """Every start, stop and resume (its timeline), in the words of the run's
        page: what happened, by whom, when."""
        return [
            {"event": event.kind, "by": event.actor, "at": event.at}
            for event in self.events.all()
        ]

    @property
    def stalled(self) -> bool:
        """Running, but no step for longer than a step may take: its worker is gone
        (the next start takes it over)."""
        limit = timedelta(seconds=settings.RECONCILIATION_STALE_SECONDS)
        return self.status == self.Status.RUNNING and (
            timezone.now() - self.heartbeat_at > limit
        )

    @property
    def percent(self) -> int:
        if self.status == self.Status.FINISHED:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class ReconciliationRunEvent(TimelineEvent):
    """A run's timeline: started, stopped (an error, an interruption), taken up again,
    abandoned, finished; who and when."""

    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        RESUMED = "resumed", "Resumed"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"
        ABANDONED = "abandoned", "Abandoned"
        FINISHED = "finished", "Finished"

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}"


class SalesRate(models.Model):
    """Units sold of a SKU at a location over the trailing ``days`` (till sales and
    fulfilled orders, every channel), computed each night by
    ``services.rates.sales_rates_refresh``: the dashboard's days of supply divide
    live availability by it, so the page never sums a month of the ledger."""

    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    units = models.BigIntegerField()
    days = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "location"], name="sales_rate_per_sku_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.units} in {self.days} days · {self.sku_id} @ {self.location_id}"
