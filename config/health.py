"""Liveness and readiness, for the load balancer and the orchestrator
(docs/operations.md).

``/healthz``: the process answers. Nothing else is asked, so a database outage never
has every server process restarted.

``/readyz``: whether this process can serve, and what around it is behind:
``{"status": "ok" | "degraded" | "unavailable"}``, with ``checks`` (``{name:
{...}}``) for the operators' clients only (those /metrics answers: the bearer token,
or an allowed network), as the details name hosts, queues and jobs. Each check says
``ok``, ``degraded`` (the app serves, something needs a person: a replica behind, no
worker on a queue, a beat job late, changes waiting), ``failing``, or ``skipped``
(it reads the database, which proved unreachable). Only an essential check failing
(the primary database, the static files every page loads) makes the answer 503
``unavailable``: a broker that is down costs a sale nothing (``config.broker``), so
it degrades without taking the server out of the pool.

The checks run through ``config.probes`` (one at a time, each bounded: the database
by its connect timeout and a 2 s statement timeout, Redis by 250 ms; one failing is
one warning line). Apps add checks of their own with ``readiness_check``, from their
``AppConfig.ready`` (sync's outbox, ``sync/readiness.py``)."""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .broker import (
    BROKER_UNREACHABLE,
    broker_circuit_open,
    broker_redis,
    queues_used,
)
from .metrics import may_scrape
from .probes import SKIPPED, Part, parts_run
from .replicas import replica_aliases, replica_lag
from .workers import workers_alive

OK, DEGRADED, FAILING = "ok", "degraded", "failing"
# Files every page loads: without them a screen is unstyled and does nothing, and
# the admin answers 500 (a manifest without them: collectstatic never ran).
STATIC_FILES = ("js/screens.js", "admin/css/base.css")
# A beat job is late once its next run is this far overdue.
BEAT_LATE_SECONDS = 60

Result = dict[str, Any]
_checks: dict[str, tuple[Part, bool]] = {}


def readiness_check(
    name: str, *, essential: bool = False, reads_database: bool = False
):
    """Register ``check`` (returning a dict with at least ``status``) under ``name``
    in /readyz; an essential one failing takes the process out of service."""

    def register(check: Callable[[], Result]) -> Callable[[], Result]:
        _checks[name] = (Part(name, check, reads_database), essential)
        return check

    return register


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Result] = {}
    unavailable = degraded = False
    essential = {name: vital for name, (_, vital) in _checks.items()}
    started = time.perf_counter()
    for answer in parts_run((part for part, _ in _checks.values()), what="readyz"):
        if answer.error is None:
            result = answer.value
        elif answer.error == SKIPPED:
            result = {"status": "skipped", "error": answer.error}
        else:
            result = {"status": FAILING, "error": answer.error}
        done = time.perf_counter()
        result["ms"] = round((done - started) * 1000, 1)
        started = done
        checks[answer.name] = result
        if result["status"] == FAILING and essential[answer.name]:
            unavailable = True
        elif result["status"] != OK:
            degraded = True
    status = "unavailable" if unavailable else DEGRADED if degraded else OK
    body: Result = {"status": status}
    if may_scrape(request):
        body["checks"] = checks
    response = JsonResponse(body)
    if unavailable:
        response.status_code = 503
        response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@readiness_check("database", essential=True, reads_database=True)
def _database() -> Result:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": OK}


@readiness_check("replicas")
def _replicas() -> Result:
    bound = settings.READ_REPLICA_MAX_LAG_SECONDS
    replicas = {}
    for alias in replica_aliases():
        lag = replica_lag(alias)
        replicas[alias] = {
            "status": OK if lag is not None and lag <= bound else DEGRADED,
            "lag_seconds": None if lag is None else round(lag, 3),
        }
    worst = DEGRADED if any(r["status"] != OK for r in replicas.values()) else OK
    # Reads fall back to the primary: a replica behind or down only degrades.
    return {"status": worst, "max_lag_seconds": bound, "replicas": replicas}


@readiness_check("broker")
def _broker() -> Result:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": OK, "note": "jobs run in-process"}
    client = broker_redis()
    if client is None:
        return {"status": OK, "note": "not Redis: not asked"}
    try:
        client.ping()
    except BROKER_UNREACHABLE as error:
        return {"status": DEGRADED, "error": f"{type(error).__name__}: {error}"}
    if broker_circuit_open():
        return {"status": DEGRADED, "note": "answering again; jobs resume shortly"}
    return {"status": OK}


@readiness_check("workers")
def _workers() -> Result:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": OK, "note": "jobs run in-process"}
    alive = workers_alive()
    if alive is None:
        return {"status": DEGRADED, "error": "the broker's Redis cannot be asked"}
    queues = {
        queue: sum(queue in taken for taken in alive.values())
        for queue in queues_used()
    }
    idle = sorted(queue for queue, workers in queues.items() if workers == 0)
    result: Result = {"status": DEGRADED if idle else OK, "queues": queues}
    if idle:
        result["error"] = f"No worker takes {', '.join(idle)}"
    return result


@readiness_check("beat", reads_database=True)
def _beat() -> Result:
    from django_celery_beat.models import PeriodicTask

    now = timezone.now()
    jobs, late, broken = {}, [], []
    for job in PeriodicTask.objects.filter(enabled=True).select_related(
        "interval", "crontab", "solar", "clocked"
    ):
        if job.expires is not None and job.expires <= now:
            continue  # beat runs it no more
        last = job.last_run_at
        # Never run: counted from when it was set up (a fresh deployment's beat
        # has had one period to run it), or from when it is to start.
        since = last or max(filter(None, (job.date_changed, job.start_time)))
        try:
            schedule = job.schedule
            if getattr(schedule, "tz", None) is not None:  # a crontab, in its zone
                since = since.astimezone(schedule.tz)
            overdue = -schedule.remaining_estimate(since).total_seconds()
        except Exception as error:  # noqa: BLE001
            # A job set up in the admin that beat cannot time either (a sunrise
            # job without the ephem library, a zone this host does not know):
            # it never runs, and the other jobs are still judged.
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            jobs[job.name] = {"task": job.task, "error": reason}
            broken.append(job.name)
            continue
        is_late = since <= now and overdue > BEAT_LATE_SECONDS
        jobs[job.name] = {
            "task": job.task,
            "last_run_at": last.isoformat() if last else None,
            "late_seconds": round(overdue) if is_late else 0,
        }
        if is_late:
            late.append(job.name)
    result: Result = {"status": DEGRADED if late or broken else OK, "jobs": jobs}
    said = [
        f"{what}: {', '.join(sorted(names))}"
        for what, names in (("Late", late), ("Cannot be timed", broken))
        if names
    ]
    if said:
        result["error"] = "; ".join(said)
    return result


@readiness_check("static", essential=True)
def _static() -> Result:
    if settings.STATIC_MANIFEST:
        missing = []
        for name in STATIC_FILES:
            try:
                staticfiles_storage.stored_name(name)
            except ValueError:
                missing.append(name)
    else:
        missing = [name for name in STATIC_FILES if not finders.find(name)]
    if missing:
        return {
            "status": FAILING,
            "error": f"Missing {', '.join(missing)}: run manage.py collectstatic",
        }
    return {"status": OK}
