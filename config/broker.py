"""The broker as a request sees it: a job queued after a commit (the availability
push, a reconciliation run started on the screen) never holds the request up.

Queued through a pool of broker connections of its own, with no retries and
``BROKER_TIMEOUT_SECONDS`` to connect and to write: Celery's default connection
retries for some 6 s against a Redis that refuses, and a stock write waiting on it
holds a server thread. After a failure to reach the broker the circuit is open for
``BROKER_CIRCUIT_SECONDS``: nothing is tried, each job is reported not queued at
once, and the caller's fall-back stands (beat's sweep pushes every 10 s what was
not kicked; a run is stopped, saying so). Then one job of the process tries again
while the others still pass by; its success closes the circuit, its failure opens
it again. Anything else a job raises (a bug, not the broker) is raised as it is.

Every process that moves stock kicks this way, a worker's too (a hold expired by
beat's job moves stock). Run in-process (``CELERY_TASK_ALWAYS_EAGER``, the demo),
there is no broker and a job runs at once.

Also here: a client of the broker's Redis for the operators' reads
(``broker_redis``) and the queues the app sends jobs to (``queues_used``)."""

import functools
import logging
import threading
import time
from typing import Any

import redis
from celery import Celery, Task
from django.conf import settings
from kombu import pools
from kombu.exceptions import LimitExceeded
from kombu.exceptions import OperationalError as KombuUnreachable

log = logging.getLogger(__name__)

# What the broker's absence raises: kombu's wrapping of a connection that failed,
# and Redis's own.
BROKER_UNREACHABLE = (KombuUnreachable, redis.ConnectionError, redis.TimeoutError)
# Queueing a job, also a socket's own error and a pool with no connection free in
# time: each the broker not answering, never a reason to raise into the write.
_NOT_QUEUED = (*BROKER_UNREACHABLE, OSError, LimitExceeded)

_lock = threading.Lock()
_open_until = 0.0  # time.monotonic() until which the broker is not tried
_failed = False  # the last try failed: the next is a lone probe


def broker_circuit_open() -> bool:
    """Whether jobs are not being queued, the broker having failed lately."""
    return time.monotonic() < _open_until


def broker_circuit_close() -> None:
    """Forget a failure (the tests' clean slate)."""
    global _open_until, _failed
    with _lock:
        _open_until, _failed = 0.0, False


def _may_try() -> bool:
    global _open_until
    with _lock:
        now = time.monotonic()
        if now < _open_until:
            return False
        if _failed:  # half open: this caller probes, the others pass by meanwhile
            _open_until = now + 4 * settings.BROKER_TIMEOUT_SECONDS
        return True


def _answered() -> None:
    global _open_until, _failed
    if _failed:
        with _lock:
            _open_until, _failed = 0.0, False


def _trip(error: Exception, what: str) -> None:
    global _open_until, _failed
    with _lock:
        first = not _failed
        _open_until = time.monotonic() + settings.BROKER_CIRCUIT_SECONDS
        _failed = True
    if first:
        log.warning(
            "Broker unreachable (%s: %s); %s not queued, and nothing is queued for "
            "%g s",
            type(error).__name__,
            error,
            what,
            settings.BROKER_CIRCUIT_SECONDS,
        )


def queues_used() -> list[str]:
    """Every queue the app sends jobs to."""
    return sorted(
        {
            settings.CELERY_TASK_DEFAULT_QUEUE,
            settings.SYNC_QUEUE,
            settings.RECONCILIATION_QUEUE,
            settings.IMPORT_QUEUE,
        }
    )


def _pool(task: Task):
    app, timeout = task.app, settings.BROKER_TIMEOUT_SECONDS
    return _pool_for(app, app.conf.broker_write_url or app.conf.broker_url, timeout)


@functools.cache
def _pool_for(app: Celery, url: str, timeout: float):
    connection = app.connection_for_write(
        url,
        transport_options={
            "max_retries": 0,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        },
        connect_timeout=timeout,
    )
    return pools.connections[connection]


def broker_redis() -> redis.Redis | None:
    """A client of the broker's Redis for the operators' reads and the workers'
    heartbeats (short timeouts), or None when the broker is not Redis."""
    return _redis_for(settings.CELERY_BROKER_URL)


@functools.cache
def _redis_for(url: str) -> redis.Redis | None:
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)


def job_queue(task: Task, *, what: str, **options: Any) -> bool:
    """Queue ``task`` (``apply_async``'s ``options``) unless the circuit is open;
    False when it was not queued, which the caller's fall-back then covers.
    ``what`` names the job in the log."""
    if task.app.conf.task_always_eager:
        task.apply_async(**options)
        return True
    if not _may_try():
        return False
    try:
        with _pool(task).acquire(
            block=True, timeout=settings.BROKER_TIMEOUT_SECONDS
        ) as connection:
            task.apply_async(connection=connection, retry=False, **options)
    except _NOT_QUEUED as error:
        _trip(error, what)
        return False
    _answered()
    return True
