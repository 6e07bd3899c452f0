"""The broker as a request sees it: a job queued after a commit (the availability
push, a reconciliation run started on the screen) never holds the request up.

Queued through a pool of broker connections of its own, with no retries and
``BROKER_TIMEOUT_SECONDS`` to connect and to write: Celery's default connection
retries for some 6 s against a Redis that refuses, and a stock write waiting on it
holds a server thread. After a failure the circuit is open for
``BROKER_CIRCUIT_SECONDS``: nothing is tried, each job is reported not queued at
once, and the caller's fall-back stands (beat's sweep pushes every 10 s what was
not kicked; a run is stopped, saying so). The first job after that time tries
again, and one success closes the circuit.

The worker and beat keep Celery's own connection, with its retries: they are
not answering anyone. Run in-process (``CELERY_TASK_ALWAYS_EAGER``, the demo),
there is no broker and a job runs at once."""

import functools
import logging
import threading
import time
from typing import Any

import redis
from celery import Celery, Task
from django.conf import settings
from kombu import pools

log = logging.getLogger(__name__)

_lock = threading.Lock()
_open_until = 0.0  # time.monotonic() until which the broker is not tried


def broker_circuit_open() -> bool:
    """Whether jobs are not being queued, the broker having failed lately."""
    return time.monotonic() < _open_until


def broker_circuit_close() -> None:
    """Forget a failure (the tests' clean slate)."""
    global _open_until
    _open_until = 0.0


def _trip(error: Exception, what: str) -> None:
    global _open_until
    with _lock:
        first = not broker_circuit_open()
        _open_until = time.monotonic() + settings.BROKER_CIRCUIT_SECONDS
    if first:
        log.warning(
            "Broker unreachable (%s: %s); %s not queued, and nothing is queued for "
            "%g s",
            type(error).__name__,
            error,
            what,
            settings.BROKER_CIRCUIT_SECONDS,
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
    if broker_circuit_open():
        return False
    try:
        with _pool(task).acquire(
            block=True, timeout=settings.BROKER_TIMEOUT_SECONDS
        ) as connection:
            task.apply_async(connection=connection, retry=False, **options)
    except Exception as error:  # noqa: BLE001 (whatever the broker did: not queued)
        _trip(error, what)
        return False
    return True
