"""The Celery application; tasks are discovered in each domain app's ``tasks`` module.
Every task carries its request's id and writes one log line (config.task_context);
each worker beats in Redis for /readyz, and may serve its own /metrics
(config.workers)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("onestock")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_signals() -> None:
    from . import task_context, workers

    task_context.connect()
    workers.connect()


_connect_signals()
