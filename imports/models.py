"""Import jobs: one uploaded file, its validation report and its progress.

The file's bytes are kept on the job (``ImportFile``, a row of its own so that listing
jobs never reads them), so whichever worker picks the job up reads the same file.
A job moves through ``TRANSITIONS`` (config/transitions.py), each move on its
timeline (``ImportJobEvent``):

    queued → checking → refused          (rows in error, not asked to skip them)
                      → writing → done
    any unfinished    → failed           (something broke; a new upload retries)
"""

from django.db import models
from django.db.models import Q

from config.access import Actor
from config.timeline import TimelineEvent

# The report keeps the first rows in error; the rest are counted (``rows_wrong``).
ERRORS_KEPT = 1000


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        CHECKING = "checking", "Checking"
        REFUSED = "refused", "Refused"
        WRITING = "writing", "Writing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    TRANSITIONS = {
        Status.QUEUED: {Status.CHECKING, Status.FAILED},
        Status.CHECKING: {Status.REFUSED, Status.WRITING, Status.FAILED},
        Status.WRITING: {Status.DONE, Status.FAILED},
        Status.REFUSED: set(),
        Status.DONE: set(),
        Status.FAILED: set(),
    }
    UNFINISHED = (Status.QUEUED, Status.CHECKING, Status.WRITING)

    kind = models.CharField(max_length=30)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=5, choices=Format.choices)
    digest = models.CharField(max_length=64, help_text="sha256 of the file's bytes.")
    size_bytes = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    skip_wrong_rows = models.BooleanField(default=False)
    # Progress: rows read by the check pass, rows found wrong, rows written; the
    # write pass commits page by page (``pages_written`` with each page).
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_checked = models.BigIntegerField(default=0)
    rows_wrong = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    pages_written = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list,
        blank=True,
        help_text=f"The first {ERRORS_KEPT} rows in error: line, column, message.",
    )
    message = models.CharField(
        max_length=1000, blank=True, help_text="Why it was refused or failed."
    )
    # Who sent it (``config.access.Actor``), and the channel a bound token acts for.
    created_by = models.CharField(max_length=160)
    source = models.CharField(max_length=64, blank=True)
    channel_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One file (of one kind, from one channel) running at a time; a done
            # one answers for it a while longer (imports.services._standing).
            models.UniqueConstraint(
                fields=["kind", "channel_code", "digest"],
                condition=Q(status__in=["queued", "checking", "writing"]),
                name="import_job_one_running_per_file",
            )
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.kind}, {self.file_name})"

    @property
    def actor(self) -> Actor:
        """Who sent the file, acting again as the job writes it."""
        return Actor(name=self.created_by, source=self.source)

    @property
    def progress(self) -> int:
        """How far the job is: the check pass is the first half, the write pass the
        second (a refused or done job is 100)."""
        if self.status in (self.Status.DONE, self.Status.REFUSED):
            return 100
        if self.status == self.Status.CHECKING and self.rows_total is None:
            return 0
        if self.status == self.Status.WRITING and self.pages_total:
            return 50 + (50 * self.pages_written) // self.pages_total
        if self.status == self.Status.CHECKING and self.rows_total:
            return (50 * self.rows_checked) // self.rows_total
        return 0

    @property
    def running(self) -> bool:
        return self.status in self.UNFINISHED

    def open_file(self) -> bytes:
        """The file's bytes, read from the database."""
        return bytes(ImportFile.objects.values_list("content", flat=True).get(job=self))


class ImportFile(models.Model):
    """The uploaded bytes, apart from the job so that lists never read them."""

    job = models.OneToOneField(
        ImportJob, on_delete=models.CASCADE, primary_key=True, related_name="file"
    )
    content = models.BinaryField()

    def __str__(self) -> str:
        return f"file of import {self.job_id}"


class ImportJobEvent(TimelineEvent):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="events")
