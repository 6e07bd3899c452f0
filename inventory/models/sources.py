"""How the sources that send stock events keep in touch: the events a source sent
that left no ledger entry, per minute (EventTally), and each source's measured health
(SourceHealth)."""

from django.db import models


class EventTally(models.Model):
    """Events a source sent that left no ledger entry of their own, per source and
    minute: repeats of an entry already there, references reused for a different
    event, promises refused. Written after the batch commits, and only when there is
    something to count, so the ingest path pays nothing in the common case."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    minute = models.DateTimeField()
    duplicates = models.PositiveIntegerField(default=0)
    clashes = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel_id", "minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "minute"], name="event_tally_channel_minute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.minute:%Y-%m-%d %H:%M}"


class SourceHealth(models.Model):
    """How one source (a channel that sends stock events) is keeping in touch, as
    measured by the minute's check (``inventory.services.source_health_measure``):
    the page, the API and the availability status read this row, not the ledger."""

    channel = models.OneToOneField(
        "catalog.Channel", on_delete=models.CASCADE, related_name="health"
    )
    expected_interval_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Silent longer than this, the source is delayed (a sync_delayed "
        "case opens). Empty: not watched.",
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_occurred_at = models.DateTimeField(null=True, blank=True)
    events_last_hour = models.PositiveIntegerField(default=0)
    lag_median_seconds = models.FloatField(null=True, blank=True)
    lag_p95_seconds = models.FloatField(null=True, blank=True)
    rejected_last_hour = models.PositiveIntegerField(default=0)
    duplicates_last_hour = models.PositiveIntegerField(default=0)
    clashes_last_hour = models.PositiveIntegerField(default=0)
    refused_last_hour = models.PositiveIntegerField(default=0)
    delayed = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel__code"]
        verbose_name_plural = "source health"

    def __str__(self) -> str:
        return f"{self.channel_id} health"
