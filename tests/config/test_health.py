"""What the load balancer and the operator ask (config/health.py): /healthz, the
process answers; /readyz, whether it can serve and what around it is behind. The
database killed for real is tests/config/test_outage.py."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from inventory.models import AvailabilityChange
from tests.factories import LocationFactory, SkuFactory, StockEvents


@pytest.fixture
def beat_on_time(db):
    """Every job ran just now, as a beat that keeps time would have it."""
    PeriodicTask.objects.update(last_run_at=timezone.now())


def ready(client) -> tuple[int, dict]:
    answer = client.get("/readyz")
    assert answer["Content-Type"] == "application/json"
    assert answer["Cache-Control"] == "no-store"
    return answer.status_code, answer.json()


def test_liveness_asks_nothing_of_the_database(client):
    # No database for this test: a query would raise.
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_ready_with_a_worker_on_every_queue_and_beat_on_time(
    client, settings, celery_worker, beat_on_time
):
    settings.CELERY_TASK_DEFAULT_QUEUE = settings.SYNC_QUEUE = celery_worker
    settings.RECONCILIATION_QUEUE = settings.IMPORT_QUEUE = celery_worker
    deadline = time.monotonic() + 30
    while True:  # the worker beats as soon as it listens
        status, body = ready(client)
        if body["checks"]["workers"]["status"] == "ok" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (status, body["status"]) == (200, "ok"), body
    checks = body["checks"]
    assert set(checks) >= {
        "database", "replicas", "broker", "workers", "beat", "static", "outbox",
    }  # fmt: skip
    assert checks["workers"]["queues"] == {celery_worker: 1}
    assert checks["beat"]["jobs"]["Expire lapsed reservations"]["late_seconds"] == 0
    assert checks["outbox"]["unplaced_changes"] == 0
    assert all(check["ms"] >= 0 for check in checks.values())


def test_no_worker_and_a_late_job_degrade_but_still_serve(
    client, settings, beat_on_time
):
    settings.SYNC_QUEUE = "nobody-listens-here"
    PeriodicTask.objects.filter(name="Availability push sweep").update(
        last_run_at=timezone.now() - timedelta(minutes=10)
    )
    status, body = ready(client)
    assert (status, body["status"]) == (200, "degraded")
    workers = body["checks"]["workers"]
    assert workers["status"] == "degraded"
    assert "No worker takes" in workers["error"]
    assert "nobody-listens-here" in workers["error"]
    beat = body["checks"]["beat"]
    assert beat["error"] == "Late: Availability push sweep"
    late = beat["jobs"]["Availability push sweep"]["late_seconds"]
    assert 580 <= late <= 600  # ten minutes since a 10-second job last ran


def test_a_solar_job_and_a_clocked_one_are_judged_by_their_own_schedules(
    client, beat_on_time
):
    """A job a retailer adds in the admin may run once at a set time, or at sunrise:
    a one-off whose time passed ten minutes ago without a run is late, one still to
    come is not; a sunrise job beat cannot time on this deployment (no ephem
    library) is named as such, and the other jobs are still judged."""
    from django_celery_beat.models import ClockedSchedule, SolarSchedule

    now = timezone.now()
    sunrise = SolarSchedule.objects.create(
        event="sunrise", latitude=51.5, longitude=-0.12
    )
    PeriodicTask.objects.create(
        name="Open the stores' tills", task="demo.open_tills", solar=sunrise,
        last_run_at=now,
    )  # fmt: skip
    for name, at in (("Seasonal price file", -10), ("Inventory freeze", 30)):
        PeriodicTask.objects.create(
            name=name, task="demo.once", one_off=True,
            clocked=ClockedSchedule.objects.create(
                clocked_time=now + timedelta(minutes=at)
            ),
        )  # fmt: skip
    _, body = ready(client)
    beat = body["checks"]["beat"]
    assert beat["status"] == "degraded"
    assert beat["error"] == (
        "Late: Seasonal price file; Cannot be timed: Open the stores' tills"
    )
    assert 590 <= beat["jobs"]["Seasonal price file"]["late_seconds"] <= 610
    assert beat["jobs"]["Inventory freeze"]["late_seconds"] == 0
    assert "ephem" in beat["jobs"]["Open the stores' tills"]["error"]
    assert beat["jobs"]["Expire lapsed reservations"]["late_seconds"] == 0


def test_changes_waiting_long_for_their_feed_position_degrade(client, beat_on_time):
    StockEvents.post(
        "receipt", sku=SkuFactory(), location=LocationFactory(), quantity=5
    )
    AvailabilityChange.objects.update(changed_at=timezone.now() - timedelta(minutes=5))
    _, body = ready(client)
    outbox = body["checks"]["outbox"]
    assert outbox["status"] == "degraded"
    assert outbox["unplaced_changes"] == 1
    assert 295 <= outbox["oldest_unplaced_seconds"] <= 310
    assert "is a worker and beat running?" in outbox["error"]


def test_a_server_without_its_static_files_is_not_ready(client, settings, tmp_path):
    """collectstatic never ran: the admin would answer 500 and every screen load
    unstyled, so the process is taken out of the pool, saying what to run."""
    settings.STATIC_MANIFEST = True
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    status, body = ready(client)
    assert (status, body["status"]) == (503, "unavailable")
    assert body["checks"]["static"]["status"] == "failing"
    assert "collectstatic" in body["checks"]["static"]["error"]


def test_anyone_else_is_told_the_status_and_nothing_of_the_insides(
    client, settings, beat_on_time
):
    """The load balancer needs the status; the hosts, queues and jobs are for the
    operators' clients (those /metrics answers)."""
    settings.METRICS_TOKEN = "scrape-me"
    outside = client.get("/readyz", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 200
    assert set(outside.json()) == {"status"}
    operator = client.get(
        "/readyz",
        REMOTE_ADDR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer scrape-me",
    )
    assert "database" in operator.json()["checks"]


def test_a_worker_that_died_is_gone_once_its_beats_stop(db):
    """A worker killed with -9 never says goodbye: its last beat ages out."""
    import orjson

    from config.broker import broker_redis
    from config.workers import HEARTBEAT_TTL_SECONDS, workers_alive, workers_key

    beats = broker_redis()
    beats.hset(
        workers_key(),
        mapping={
            "gone@till-pc": orjson.dumps(
                {"queues": ["celery"], "at": time.time() - HEARTBEAT_TTL_SECONDS - 1}
            ),
            "alive@till-pc": orjson.dumps({"queues": ["sync"], "at": time.time()}),
        },
    )
    try:
        assert workers_alive() == {"alive@till-pc": ["sync"]}
        assert beats.hkeys(workers_key()) == [b"alive@till-pc"]
    finally:
        beats.delete(workers_key())
