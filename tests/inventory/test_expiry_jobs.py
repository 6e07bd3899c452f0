"""The jobs that put lapsed holds in the ledger: the beat schedule, the command, and the
task run by a real Celery worker on Redis."""

import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from inventory.models import Reservation, StockMovement
from inventory.tasks import EXPIRE_RESERVATIONS, expire_reservations
from tests.factories import (
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lapsed_hold(db):
    store, tee = LocationFactory(code="LON-OXF"), SkuFactory(code="TEE-BLK-M")
    StockEvents.post("receipt", sku=tee, location=store, quantity=4)
    held = Holds.place(channel=ChannelFactory(code="web"), lines=[(tee, store, 3)])
    Reservation.objects.filter(pk=held.pk).update(
        expires_at=timezone.now() - timedelta(minutes=2)
    )
    return held, tee, store


@pytest.mark.django_db
def test_beat_runs_the_sweep_every_minute_from_the_first_migrate():
    job = PeriodicTask.objects.get(task=EXPIRE_RESERVATIONS)
    assert job.enabled
    assert (job.interval.every, job.interval.period) == (1, "minutes")
    assert EXPIRE_RESERVATIONS in app.tasks


def test_the_command_expires_once_however_often_it_runs(lapsed_hold):
    held, tee, store = lapsed_hold
    out = StringIO()
    call_command("expire_reservations", stdout=out)
    call_command("expire_reservations", stdout=out)
    assert out.getvalue().splitlines() == [
        "Expired 1 reservation(s).",
        "Expired 0 reservation(s).",
    ]
    assert StockMovement.objects.filter(type="reservation_release").count() == 1
    assert balance_of(tee, store).reserved == 0


def test_the_task_in_process_is_the_same_sweep(lapsed_hold):
    assert expire_reservations() == 1
    assert expire_reservations() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_releases_a_lapsed_hold(lapsed_hold, celery_worker):
    held, tee, store = lapsed_hold
    expire_reservations.apply_async(queue=celery_worker)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held.refresh_from_db()
        if held.status == Reservation.Status.EXPIRED:
            break
        time.sleep(0.2)
    assert held.status == Reservation.Status.EXPIRED
    (release,) = StockMovement.objects.filter(type="reservation_release")
    assert release.actor == "system:expiry"
    assert balance_of(tee, store).reserved == 0
