"""Measuring how each source (a channel that sends stock events) keeps in touch, into
``SourceHealth``: one pass over the last hour of the ledger (by its recorded-at
index) and the tallies of events that left no entry, once a minute.

Only the events a source sends itself count (the types integrations may send): the
holds and orders a web shop places are written by us, at once, and say nothing of how
late its feed runs. A source's lag is ``recorded_at - occurred_at``, at least zero (a
till whose clock runs ahead is not early)."""

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from catalog.models import Channel

from ..models import EventTally, SourceHealth, StockMovement
from ..movements import INTEGRATION_TYPES

WINDOW = timedelta(hours=1)
# Kinds of source watched for silence from the first time they are seen: the ones
# that report stock. A web shop sends holds and orders when customers buy, not a
# heartbeat.
WATCHED_KINDS = {Channel.Kind.STORE_POS, Channel.Kind.BACK_OFFICE}


@transaction.atomic
def source_health_measure(*, now: datetime | None = None) -> list[SourceHealth]:
    """Bring every active channel's health up to date; returns the rows of the
    sources that are watched or have sent something."""
    now = now or timezone.now()
    since = now - WINDOW
    figures = _ledger_figures(since)
    tallies = {
        row["channel_id"]: row
        for row in EventTally.objects.filter(minute__gte=since)
        .values("channel_id")
        .annotate(
            duplicates=Sum("duplicates"), clashes=Sum("clashes"), refused=Sum("refused")
        )
    }
    stored = {
        health.channel_id: health
        for health in SourceHealth.objects.select_for_update(no_key=True).order_by(
            "channel_id"
        )
    }
    measured = []
    for channel in Channel.objects.filter(is_active=True).order_by("pk"):
        health = stored.get(channel.pk)
        if health is None:
            health = SourceHealth(channel=channel)
            if channel.kind in WATCHED_KINDS:
                interval = settings.SYNC_EXPECTED_INTERVAL_SECONDS
                health.expected_interval_seconds = interval
        health.channel = channel
        seen = figures.get(channel.pk)
        if seen is not None:
            health.last_event_at = seen.last_recorded
            health.last_occurred_at = seen.last_occurred
        elif health.pk is None:
            _first_look(health)
        health.events_last_hour = seen.events if seen else 0
        health.lag_median_seconds = seen.median if seen else None
        health.lag_p95_seconds = seen.p95 if seen else None
        health.rejected_last_hour = seen.rejected if seen else 0
        tally = tallies.get(channel.pk, {})
        health.duplicates_last_hour = tally.get("duplicates") or 0
        health.clashes_last_hour = tally.get("clashes") or 0
        health.refused_last_hour = tally.get("refused") or 0
        interval = health.expected_interval_seconds
        # Watched from its first event: a source never heard from may not be live
        # yet (a store's tills never heard from already read "delayed" there).
        health.delayed = (
            interval is not None
            and health.last_event_at is not None
            and (now - health.last_event_at).total_seconds() > interval
        )
        health.checked_at = now
        if health.pk is None and not (seen or health.last_event_at or interval):
            continue  # never heard from and not watched: nothing to show
        health.save()
        measured.append(health)
    return measured


class _Seen:
    def __init__(self, row):
        (
            _,
            self.events,
            self.last_recorded,
            self.last_occurred,
            self.rejected,
            self.median,
            self.p95,
        ) = row


def _ledger_figures(since: datetime) -> dict[int, _Seen]:
    table = StockMovement._meta.db_table
    types = list(INTEGRATION_TYPES)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT channel_id, count(*), max(recorded_at), max(occurred_at),
                       count(*) FILTER (WHERE status = 'rejected'),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY lag)
                FROM (
                    SELECT channel_id, recorded_at, occurred_at, status,
                           GREATEST(EXTRACT(EPOCH FROM recorded_at - occurred_at), 0)
                               AS lag
                    FROM {table}
                    WHERE recorded_at >= %s AND type = ANY(%s)
                ) AS recent
                GROUP BY channel_id
                """,
                [since, types],
            )
            return {row[0]: _Seen(row) for row in cursor.fetchall()}
    # SQLite (the demo): the same figures worked out here.
    lags: dict[int, list[float]] = defaultdict(list)
    rows: dict[int, list] = {}
    for channel_id, recorded, occurred, status in StockMovement.objects.filter(
        recorded_at__gte=since, type__in=types
    ).values_list("channel_id", "recorded_at", "occurred_at", "status"):
        lags[channel_id].append(max((recorded - occurred).total_seconds(), 0.0))
        row = rows.setdefault(channel_id, [channel_id, 0, recorded, occurred, 0])
        row[1] += 1
        row[2], row[3] = max(row[2], recorded), max(row[3], occurred)
        row[4] += status == StockMovement.Status.REJECTED
    return {
        channel_id: _Seen([*row, *_median_and_p95(lags[channel_id])])
        for channel_id, row in rows.items()
    }


def _median_and_p95(values: list[float]) -> tuple[float, float]:
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(
        values, n=20, method="inclusive"
    )[-1]


def _first_look(health: SourceHealth) -> None:
    """A source seen for the first time with nothing in the last hour: its latest
    event ever, once (later checks carry it forward)."""
    found = StockMovement.objects.filter(
        channel_id=health.channel_id, type__in=INTEGRATION_TYPES
    ).aggregate(recorded=Max("recorded_at"), occurred=Max("occurred_at"))
    health.last_event_at = found["recorded"]
    health.last_occurred_at = found["occurred"]
