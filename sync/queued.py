"""Which of sync's jobs are queued already, so that a burst of commits queues each
one once and not once per sale: a marker in the broker's Redis, set only where
there is none (``SET NX PX``) and kept a short while. The networks' sum
(``sync.sum_networks``) has one; each subscription's push
(``sync.push_subscription``) has its own, which the sender clears each time it
lets go of the subscription's lock (services/webhooks.py), before it looks once
more for what is due. Without Redis to ask (another broker, or one out of reach)
the job is queued anyway: one with nothing to do costs a read or two.

Keys name the database, so two sites (or two test runs) on one Redis do not
silence each other."""

import logging

from django.db import connection

from config.broker import broker_redis

log = logging.getLogger(__name__)


def queued_first(key: str, *, seconds: float) -> bool:
    """Whether the caller is to queue the job ``key`` names: True unless another
    marked it queued within ``seconds`` (and marks it so now)."""
    try:
        client = broker_redis()
        if client is not None:
            return bool(client.set(_named(key), 1, nx=True, px=int(seconds * 1000)))
    except Exception as error:  # noqa: BLE001 (a broker out of reach: queue anyway)
        log.warning("Could not ask Redis whether %s is queued: %s", key, error)
    return True


def queued_forget(key: str) -> None:
    """The job ``key`` names is no longer queued: the next caller queues it. Where
    Redis does not answer, the marker's own expiry does the same a little later."""
    try:
        client = broker_redis()
        if client is not None:
            client.delete(_named(key))
    except Exception as error:  # noqa: BLE001
        log.warning("Could not clear Redis's marker of %s: %s", key, error)


def network_sum_key() -> str:
    return "sum-networks"


def subscription_push_key(subscription_id: int) -> str:
    return f"push-subscription:{subscription_id}"


def _named(key: str) -> str:
    return f"onestock:{key}:{connection.settings_dict['NAME']}"
