"""What a Celery task carries of the request that queued it and what it writes to
the log; connected by ``config.celery`` (the workers' heartbeats: ``config.workers``).

- The request id: a job queued while a request is answered carries its id in the
  message's headers (``before_task_publish``); the task's log lines carry it, so one
  id finds a checkout's line and the push it caused.
- One log line per task (logger ``onestock.task``): its name, id, state and
  duration, at INFO when it succeeded and ERROR when it failed; the same duration
  timed for /metrics (``config.metrics.task_observed``).
- The worker's logging is Django's ``LOGGING`` (JSON lines in production), not
  Celery's own format: ``setup_logging`` is answered here, which tells Celery to
  leave logging alone."""

import logging
import time

from celery import signals

from .metrics import task_observed
from .request_context import request_id, request_id_set

log = logging.getLogger("onestock.task")

REQUEST_ID = "onestock_request_id"


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


def connect() -> None:
    signals.before_task_publish.connect(_carry_request_id, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)
    signals.setup_logging.connect(_leave_logging_to_django, weak=False)
