"""What a Celery task carries of the request that queued it, what it writes to the
log, and the worker's heartbeat; connected by ``config.celery``.

- The request id: a job queued while a request is answered carries its id in the
  message's headers (``before_task_publish``); the task's log lines carry it, so one
  id finds a checkout's line and the push it caused.
- One log line per task (logger ``onestock.task``): its name, id, state and
  duration, at INFO when it succeeded and ERROR when it failed; the same duration
  timed for /metrics (``config.metrics.task_observed``).
- The worker's logging is Django's ``LOGGING`` (JSON lines in production), not
  Celery's own format: ``setup_logging`` is answered here, which tells Celery to
  leave logging alone.
- A heartbeat: every ``HEARTBEAT_SECONDS`` each worker notes in Redis which queues
  it takes, kept ``HEARTBEAT_TTL_SECONDS``; ``/readyz`` reads them
  (``workers_alive``). Keys are named after the database the worker works on, so
  two deployments (or test runs) sharing a Redis never answer for each other."""

import logging
import threading
import time

import orjson
from celery import signals
from django.conf import settings

from .broker import broker_redis
from .metrics import task_observed
from .request_context import request_id, request_id_set

log = logging.getLogger("onestock.task")

REQUEST_ID = "onestock_request_id"
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL_SECONDS = 35


def _carry_request_id(headers=None, **kwargs) -> None:
    ident = request_id()
    if ident is not None and headers is not None:
        headers[REQUEST_ID] = ident


_started: dict[str, float] = {}


def _task_started(task_id=None, task=None, **kwargs) -> None:
    # Run in-process (the demo), the task is inside the request: its id stands.
    if not task.request.is_eager:
        request_id_set(getattr(task.request, REQUEST_ID, None))
    _started[task_id] = time.monotonic()


def _task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    took = (time.monotonic() - started) if started is not None else 0.0
    task_observed(task=task.name, outcome=(state or "unknown").lower(), seconds=took)
    level = logging.ERROR if state == "FAILURE" else logging.INFO
    log.log(
        level,
        "task %s %s in %.1f ms",
        task.name,
        (state or "").lower(),
        took * 1000,
        extra={
            "task": task.name,
            "task_id": task_id,
            "state": state,
            "duration_ms": round(took * 1000, 3),
        },
    )
    if not task.request.is_eager:
        request_id_set(None)


def _leave_logging_to_django(**kwargs) -> None:
    """Connected, so Celery configures no logging of its own: Django's LOGGING,
    applied when the worker set Django up, stays."""


# ------------------------------------------------------------------ the heartbeat


def heartbeat_prefix() -> str:
    database = settings.DATABASES["default"]
    return "onestock-worker:{HOST}:{PORT}/{NAME}:".format(**database)


def _beat(hostname: str, queues: list[str], stop: threading.Event) -> None:
    key = heartbeat_prefix() + hostname
    while not stop.is_set():
        client = broker_redis()
        if client is not None:
            try:
                client.set(
                    key,
                    orjson.dumps({"queues": queues, "at": time.time()}),
                    ex=HEARTBEAT_TTL_SECONDS,
                )
            except Exception as error:  # noqa: BLE001 (Redis down: /readyz says so)
                log.warning("Worker heartbeat not written: %s", error)
        stop.wait(HEARTBEAT_SECONDS)


_stop_beating = threading.Event()


def _worker_ready(sender=None, **kwargs) -> None:
    """``sender`` is the worker's consumer, listening by now."""
    queues = sorted(queue.name for queue in sender.task_consumer.queues)
    threading.Thread(
        target=_beat,
        args=(sender.hostname, queues, _stop_beating),
        name="onestock-heartbeat",
        daemon=True,
    ).start()


def _worker_stopping(sender=None, **kwargs) -> None:
    """``sender`` is the worker's name: it is gone from /readyz at once."""
    _stop_beating.set()
    client = broker_redis()
    if client is not None and sender:
        try:
            client.delete(heartbeat_prefix() + sender)
        except Exception:  # noqa: BLE001, S110 (it expires anyway)
            pass


def workers_alive() -> dict[str, list[str]] | None:
    """Each live worker's queues, by its name; None when Redis cannot be asked."""
    client = broker_redis()
    if client is None:
        return None
    try:
        keys = list(client.scan_iter(match=heartbeat_prefix() + "*", count=100))
        values = client.mget(keys) if keys else []
    except Exception:  # noqa: BLE001 (the broker check reports why)
        return None
    prefix = len(heartbeat_prefix())
    alive = {}
    for key, value in zip(keys, values, strict=True):
        if value is not None:
            alive[key.decode()[prefix:]] = orjson.loads(value)["queues"]
    return alive


def connect() -> None:
    signals.before_task_publish.connect(_carry_request_id, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)
    signals.setup_logging.connect(_leave_logging_to_django, weak=False)
    signals.worker_ready.connect(_worker_ready, weak=False)
    signals.worker_shutting_down.connect(_worker_stopping, weak=False)
