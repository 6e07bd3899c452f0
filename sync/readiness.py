"""Sync's part of /readyz (config.health): the outbox's backlog. Changes committed
but not given a feed position for long mean nothing places them (no worker, no
beat, no reader of the feed); deliveries waiting are reported with the oldest's
age, and say nothing wrong on their own (a receiver that is down is the webhook's
own case in the exceptions queue)."""

from config.database import age_seconds
from config.health import DEGRADED, OK, readiness_check

from .selectors import outbox_state

# Changes wait for their position longer than this: placing has stopped.
UNPLACED_LATE_SECONDS = 60


@readiness_check("outbox", reads_database=True)
def outbox() -> dict:
    state = outbox_state()
    oldest = age_seconds(state.oldest_unplaced_at)
    late = oldest is not None and oldest > UNPLACED_LATE_SECONDS
    result = {
        "status": DEGRADED if late else OK,
        "unplaced_changes": state.unplaced,
        "oldest_unplaced_seconds": oldest,
        "pending_deliveries": state.deliveries_pending,
        "oldest_pending_delivery_seconds": age_seconds(state.oldest_pending_at),
        "feed_position": state.feed_position,
    }
    if late:
        result["error"] = (
            f"{state.unplaced} changes have waited up to {oldest} s for their feed "
            "position: is a worker and beat running?"
        )
    return result
