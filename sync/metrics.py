"""Channel sync's figures for /metrics, read at each scrape (``config.metrics``):
the outbox's changes still waiting for their place in the feed, the deliveries
waiting to be sent, and the feed's position; the same reading as /readyz's
(``selectors.outbox_state``)."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from config.database import age_seconds
from config.metrics import reading

from .selectors import outbox_state


@reading("sync")
def sync_figures() -> Iterable[Metric]:
    state = outbox_state()
    figures = (
        (
            "onestock_outbox_unplaced_changes",
            "Changes of availability committed but not yet placed in the feed.",
            state.unplaced,
        ),
        (
            "onestock_outbox_oldest_unplaced_age_seconds",
            "How long the oldest change not yet placed in the feed has waited "
            "(0: none waits).",
            age_seconds(state.oldest_unplaced_at) or 0,
        ),
        (
            "onestock_webhook_deliveries_pending",
            "Deliveries waiting to be sent to active webhook subscriptions.",
            state.deliveries_pending,
        ),
        (
            "onestock_webhook_oldest_pending_age_seconds",
            "How long the oldest delivery waiting to be sent has waited (0: none "
            "waits).",
            age_seconds(state.oldest_pending_at) or 0,
        ),
        (
            "onestock_feed_position",
            "The last position the change feed gave (changes placed so far).",
            state.feed_position,
        ),
    )
    return [GaugeMetricFamily(name, text, value=value) for name, text, value in figures]
