"""Background jobs of channel sync, each calling services and safe to run twice.

``sync.push_availability`` is queued after every commit that moved stock (and every
10 seconds by beat, migration 0002, for anything a kick missed and for retries
falling due); ``sync.sum_networks`` sums the channels' networks for what the push
placed, at most once every ``NETWORK_SUM_SECONDS`` and only while a subscription asks
for the network kind (a network's sum reads every location of each SKU, for every
channel: done with every push, it held the changes at a location up by half a
second under a till's steady sales; bench/push_latency.py); ``sync.check_sources``
measures the sources' health every minute; ``sync.prune_feed`` drops old changes
nightly."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.broker import broker_redis, job_queue

from .selectors import seconds_to_next_retry, subscriptions_with_due_deliveries
from .services import (
    changes_place,
    feed_prune,
    network_figures_catch_up,
    networks_behind,
    sync_health_check,
    webhook_deliveries_send,
)

log = logging.getLogger(__name__)
PUSH = "sync.push_availability"
SUM_NETWORKS = "sync.sum_networks"
# How often, at most, the networks are summed while changes are placed.
NETWORK_SUM_SECONDS = 1.0
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
    while changes_place(networks=False).changes:
        pass
    sent = 0
    for subscription_id in subscriptions_with_due_deliveries():
        sent += webhook_deliveries_send(subscription_id=subscription_id)
    if networks_behind():
        _sum_networks_soon()
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


@shared_task(name=SUM_NETWORKS, ignore_result=True)
def sum_networks() -> int:
    """Sum the networks for every change placed since they last were, then send the
    network events (and their low-stock crossings) that made."""
    while network_figures_catch_up():
        pass
    sent = 0
    for subscription_id in subscriptions_with_due_deliveries():
        sent += webhook_deliveries_send(subscription_id=subscription_id)
    return sent


def _sum_networks_soon() -> None:
    """Queue ``sum_networks`` in ``NETWORK_SUM_SECONDS``, unless one is queued
    already (a key in the broker's Redis, kept that long). Without Redis to ask, it
    is queued anyway: a job with nothing to sum costs one read."""
    key = f"onestock:sum-networks:{connection.settings_dict['NAME']}"
    try:
        client = broker_redis()
        if client is not None and not client.set(
            key, 1, nx=True, px=int(NETWORK_SUM_SECONDS * 1000)
        ):
            return
    except Exception as error:  # noqa: BLE001 (a broker out of reach: queue anyway)
        log.warning("Could not ask Redis whether networks are due: %s", error)
    job_queue(
        sum_networks,
        what="summing the networks (beat's sweep will)",
        countdown=NETWORK_SUM_SECONDS,
        queue=settings.SYNC_QUEUE,
    )


@shared_task(name=CHECK_SOURCES, ignore_result=True)
def check_sources() -> int:
    return len(sync_health_check())


@shared_task(name=PRUNE_FEED, ignore_result=True)
def prune_feed() -> int:
    return feed_prune()
