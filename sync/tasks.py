"""Background jobs of channel sync, each calling services and safe to run twice.

``sync.push_availability`` is queued after every commit that moved stock (and every
10 seconds by beat, migration 0002, for anything a kick missed and for retries
falling due); ``sync.check_sources`` measures the sources' health every minute;
``sync.prune_feed`` drops old changes nightly."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .selectors import seconds_to_next_retry, subscriptions_with_due_deliveries
from .services import (
    changes_place,
    feed_prune,
    sync_health_check,
    webhook_deliveries_send,
)

PUSH = "sync.push_availability"
CHECK_SOURCES = "sync.check_sources"
PRUNE_FEED = "sync.prune_feed"
# Retries further off are left to the sweep (every 10 s): a task held for hours in
# a worker's memory outlives the broker's visibility timeout.
RETRY_FOLLOW_UP_SECONDS = 60


@shared_task(name=PUSH, ignore_result=True, bind=True)
def push_availability(self) -> int:
    """Place what committed, then send every subscription's due deliveries; a retry
    due within the minute is asked for on the same queue, sooner than the sweep."""
    started = timezone.now()
    while changes_place().changes:
        pass
    sent = 0
    for subscription_id in subscriptions_with_due_deliveries():
        sent += webhook_deliveries_send(subscription_id=subscription_id)
    # Only the run whose attempt failed asks for the retry: one follow-up per
    # failure, however many pushes ran meanwhile.
    retry_in = seconds_to_next_retry(failed_since=started)
    # Run in-process (the demo), a follow-up would run at once, and again: the
    # sweep is enough there.
    eager = self.app.conf.task_always_eager
    if retry_in is not None and retry_in <= RETRY_FOLLOW_UP_SECONDS and not eager:
        queue = (self.request.delivery_info or {}).get("routing_key")
        self.apply_async(
            countdown=max(retry_in, 0.05), queue=queue or settings.SYNC_QUEUE
        )
    return sent


@shared_task(name=CHECK_SOURCES, ignore_result=True)
def check_sources() -> int:
    return len(sync_health_check())


@shared_task(name=PRUNE_FEED, ignore_result=True)
def prune_feed() -> int:
    return feed_prune()
