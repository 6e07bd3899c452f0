"""The Celery workers as the operators see them; connected by ``config.celery``.

- A heartbeat: every ``HEARTBEAT_SECONDS`` each worker writes, in one hash of the
  broker's Redis, the queues it takes and when it last said so; one that stops
  removes itself, one that died is read as gone ``HEARTBEAT_TTL_SECONDS`` after its
  last beat. ``/readyz`` reads the hash in one call (``workers_alive``). The hash
  is named after the database the workers work on (``WORKERS_KEY``), so two
  deployments (or test runs) sharing a Redis never answer for each other.
- Its own /metrics, where a worker runs on a machine without gunicorn
  (``WORKER_METRICS_PORT``): what its processes counted (tasks' durations, webhook
  attempts, the push's latency) gathered from ``PROMETHEUS_MULTIPROC_DIR`` and
  served by prometheus_client's own small server. Where it shares gunicorn's
  folder, gunicorn's /metrics already serves it and the port stays unset."""

import logging
import os
import threading
import time

import orjson
from celery import signals
from django.conf import settings

from .broker import broker_redis

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL_SECONDS = 35


def workers_key() -> str:
    return "onestock-workers:{HOST}:{PORT}/{NAME}".format(
        **settings.DATABASES["default"]
    )


def _heartbeat_loop(name: str, queues: list[str], stop: threading.Event) -> None:
    while not stop.is_set():
        client = broker_redis()
        if client is not None:
            try:
                client.hset(
                    workers_key(),
                    name,
                    orjson.dumps({"queues": queues, "at": time.time()}),
                )
            except Exception as error:  # noqa: BLE001 (Redis down: /readyz says so)
                log.warning("Worker heartbeat not written: %s", error)
        stop.wait(HEARTBEAT_SECONDS)


_stop_beating = threading.Event()


def _worker_ready(sender=None, **kwargs) -> None:
    """``sender`` is the worker's consumer, listening by now."""
    queues = sorted(queue.name for queue in sender.task_consumer.queues)
    threading.Thread(
        target=_heartbeat_loop,
        args=(sender.hostname, queues, _stop_beating),
        name="onestock-heartbeat",
        daemon=True,
    ).start()
    _metrics_served()


def _worker_stopping(sender=None, **kwargs) -> None:
    """``sender`` is the worker's name: it is gone from /readyz at once."""
    _stop_beating.set()
    client = broker_redis()
    if client is not None and sender:
        try:
            client.hdel(workers_key(), sender)
        except Exception:  # noqa: BLE001, S110 (its beat ages out anyway)
            pass


def workers_alive() -> dict[str, list[str]] | None:
    """Each live worker's queues, by its name; None when Redis cannot be asked.
    Workers silent too long are dropped from the hash as they are read."""
    client = broker_redis()
    if client is None:
        return None
    try:
        beats = client.hgetall(workers_key())
    except Exception:  # noqa: BLE001 (the broker check reports why)
        return None
    alive, gone = {}, []
    oldest = time.time() - HEARTBEAT_TTL_SECONDS
    for name, value in beats.items():
        beat = orjson.loads(value)
        if beat["at"] < oldest:
            gone.append(name)
        else:
            alive[name.decode()] = beat["queues"]
    if gone:
        try:
            client.hdel(workers_key(), *gone)
        except Exception:  # noqa: BLE001, S110 (dropped at the next read)
            pass
    return alive


def _metrics_served() -> None:
    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        log.warning(
            "WORKER_METRICS_PORT is set without PROMETHEUS_MULTIPROC_DIR: the "
            "worker's processes cannot share their figures; not served"
        )
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=folder)
    start_http_server(port, addr=settings.WORKER_METRICS_ADDRESS, registry=registry)
    log.info("Worker metrics served on %s:%s", settings.WORKER_METRICS_ADDRESS, port)


def connect() -> None:
    signals.worker_ready.connect(_worker_ready, weak=False)
    signals.worker_shutting_down.connect(_worker_stopping, weak=False)
