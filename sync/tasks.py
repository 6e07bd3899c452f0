"""Background jobs of channel sync, each calling services and safe to run twice.

``sync.push_availability`` is queued after every commit that moved stock (and every
10 seconds by beat, migration 0002, for anything a kick missed and for retries
falling due): it places what committed and queues ``sync.push_subscription`` once
per subscription with due deliveries, so each receiver is sent to by a task of its
own and one that hangs costs only itself its timeout (the sender's advisory lock
keeps one sender per subscription, in feed order: a second task for it finds the
lock taken and leaves the rest to the first, which looks again before it ends). A
subscription's push already queued is not queued again (a marker in Redis,
sync/queued.py), so a till's steady sales queue about one task per subscription per
send, not one per sale; where the broker will not take a task, it is left to
beat's sweep, so that no subscription's receiver is sent to by the push of another.
``sync.sum_networks`` sums the channels' networks for what the push placed, at most
once every ``NETWORK_SUM_SECONDS`` and only while a subscription asks for the
network kind (a network's sum reads every location of each SKU, for every channel:
done with every push, it held the changes at a location up by half a second under a
till's steady sales; bench/push_latency.py), then queues the subscriptions' pushes
likewise; ``sync.check_sources`` measures the sources' health every minute;
``sync.prune_feed`` drops old changes nightly."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from config.broker import job_queue

from .queued import (
    network_sum_key,
    queued_first,
    queued_forget,
    subscription_push_key,
)
from .selectors import seconds_to_next_retry, subscriptions_with_due_deliveries
from .services import (
    changes_place,
    feed_prune,
    network_figures_catch_up,
    networks_behind,
    sync_health_check,
    webhook_deliveries_send,
)

PUSH = "sync.push_availability"
PUSH_SUBSCRIPTION = "sync.push_subscription"
SUM_NETWORKS = "sync.sum_networks"
# How often, at most, the networks are summed while changes are placed.
NETWORK_SUM_SECONDS = 1.0
# How long a subscription's push stays marked queued at most: its sender clears the
# mark each time it lets go (services/webhooks.py), so this bounds only a task lost
# on the way (a worker killed), after which the next push or the sweep queues it.
SUBSCRIPTION_QUEUED_SECONDS = 1.0
CHECK_SOURCES = "sync.check_sources"
PRUNE_FEED = "sync.prune_feed"
# Retries further off are left to the sweep (every 10 s): a task held for hours in
# a worker's memory outlives the broker's visibility timeout.
RETRY_FOLLOW_UP_SECONDS = 60


@shared_task(name=PUSH, ignore_result=True, bind=True)
def push_availability(self) -> int:
    """Place what committed, then queue a push for every subscription with due
    deliveries. Returns how many were queued."""
    while changes_place(networks=False).changes:
        pass
    queued = _push_each_subscription(self)
    if networks_behind():
        _sum_networks_soon()
    return queued


@shared_task(name=PUSH_SUBSCRIPTION, ignore_result=True, bind=True)
def push_subscription(self, subscription_id: int) -> int:
    """Send one subscription's due deliveries; a retry due within the minute is
    asked for on the same queue, sooner than the sweep."""
    started = timezone.now()
    delivered, failed = webhook_deliveries_send(subscription_id=subscription_id)
    # Only the run whose attempt failed asks for the retry: one follow-up per
    # failure, however many pushes ran meanwhile. A run that found the lock taken,
    # or nothing due, or sent all, asks nothing (and reads nothing more).
    if not failed:
        return delivered
    retry_in = seconds_to_next_retry(
        subscription_id=subscription_id, failed_since=started
    )
    # Run in-process (the demo), a follow-up would run at once, and again: the
    # sweep is enough there.
    eager = self.app.conf.task_always_eager
    if retry_in is not None and retry_in <= RETRY_FOLLOW_UP_SECONDS and not eager:
        self.apply_async(
            args=(subscription_id,),
            countdown=max(retry_in, 0.05),
            queue=_queue_of(self),
        )
    return delivered


@shared_task(name=SUM_NETWORKS, ignore_result=True, bind=True)
def sum_networks(self) -> int:
    """Sum the networks for every change placed since they last were, then queue
    the pushes of the network events (and their low-stock crossings) that made."""
    while network_figures_catch_up():
        pass
    return _push_each_subscription(self)


def _push_each_subscription(task) -> int:
    """``push_subscription`` queued for each subscription with due deliveries and
    none queued already, on the queue ``task`` came from (a test's worker listens
    on its own). Returns how many were queued.

    A subscription's mark is cleared by its sender after it lets go of the lock and
    before it looks once more for what is due (services/webhooks.py): a delivery
    placed before this read whose push finds the mark is seen by that look, so
    skipping here loses nothing. Where the broker will not take the task, the mark
    is cleared and the subscription left to beat's sweep (every 10 s): sending to
    it here would make the others' pushes wait on its receiver."""
    queue = _queue_of(task)
    queued = 0
    for subscription_id in subscriptions_with_due_deliveries():
        key = subscription_push_key(subscription_id)
        if not queued_first(key, seconds=SUBSCRIPTION_QUEUED_SECONDS):
            continue
        if job_queue(
            push_subscription,
            what=f"the push of webhook subscription {subscription_id} (the sweep will)",
            args=(subscription_id,),
            queue=queue,
        ):
            queued += 1
        else:
            queued_forget(key)
    return queued


def _queue_of(task) -> str:
    return (task.request.delivery_info or {}).get("routing_key") or settings.SYNC_QUEUE


def _sum_networks_soon() -> None:
    """Queue ``sum_networks`` in ``NETWORK_SUM_SECONDS``, unless one is queued
    already (sync/queued.py, marked that long: the sum runs at most that often)."""
    if not queued_first(network_sum_key(), seconds=NETWORK_SUM_SECONDS):
        return
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
