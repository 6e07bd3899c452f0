"""The one shape of a timeline entry, shared by every record with a state machine
(orders, reservations, pickup tasks, returns, transfers, exceptions, counts,
reconciliation runs, webhook subscriptions): what happened (a stable ``action`` key,
apart from the words shown), the status it left and reached, who, from which system,
when, why, and the detail (lines touched, a routing decision).

Each concrete timeline adds the foreign key to its record with
``related_name="events"`` (what ``config.transitions`` records through) and, where
it has them, its ``kind`` choices for display."""

from django.db import models


class TimelineEvent(models.Model):
    # A timeline with kinds of entry overrides this with its choices.
    kind = models.CharField(max_length=20, blank=True)
    action = models.CharField(
        max_length=40,
        blank=True,
        help_text="What was done, as a stable key (the service's name for it).",
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.CharField(max_length=160, help_text="user:…, token:… or system:….")
    source = models.CharField(
        max_length=64,
        blank=True,
        help_text="From which system: a channel, the back-office, or the system.",
    )
    note = models.CharField(max_length=1000, blank=True, help_text="Why, in words.")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["at", "id"]
