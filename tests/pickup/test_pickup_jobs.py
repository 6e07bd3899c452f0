"""The pickup jobs on beat: registered from the first migrate, run by a real worker,
and harmless when run twice; and two pickers claiming the same order at once."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.access import Actor
from config.celery import app
from pickup import services as pickup
from pickup.models import PickupTask
from pickup.services import TaskClaimedByAnother
from pickup.tasks import (
    ESCALATE_PROBLEMS,
    EXPIRE_UNCOLLECTED,
    SEND_REMINDERS,
    expire_uncollected,
)
from tests.factories import pickup_order, stock
from tests.threads import all_at_once


@pytest.mark.django_db
def test_beat_has_every_pickup_job_from_the_first_migrate():
    jobs = {job.task: job for job in PeriodicTask.objects.all()}
    for name, minutes in (
        (SEND_REMINDERS, 15),
        (EXPIRE_UNCOLLECTED, 15),
        (ESCALATE_PROBLEMS, 5),
    ):
        assert jobs[name].enabled and jobs[name].interval.every == minutes
        assert name in app.tasks


def ready_order(shop, reference="WEB-4001"):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop, reference).pickup_task
    alice = shop["alice"]
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(alice))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(alice))
    pickup.pickup_line_pick(
        task_id=task.pk, line_id=task.order.lines.get().pk, actor=Actor.of_user(alice)
    )
    return pickup.pickup_task_mark_ready(task_id=task.pk, actor=Actor.of_user(alice))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_an_order_nobody_collected(shop, celery_worker):
    task = ready_order(shop)
    PickupTask.objects.filter(pk=task.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    expire_uncollected.apply_async(queue=celery_worker)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.status == PickupTask.Status.EXPIRED:
            break
        time.sleep(0.2)
    assert task.status == PickupTask.Status.EXPIRED
    assert task.order.return_to_stock_tasks.count() == 1
    assert expire_uncollected() == 0  # the same job again: nothing more


@pytest.mark.django_db(transaction=True)
def test_two_pickers_claim_at_once_and_one_wins(shop):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop, "WEB-4002").pickup_task
    pickers = [shop["alice"], shop["bob"]]

    def claim(n):
        try:
            pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(pickers[n]))
            return "won"
        except TaskClaimedByAnother as refused:
            return refused.message

    outcomes = all_at_once(2, claim)
    assert outcomes.count("won") == 1
    task.refresh_from_db()
    (told,) = [o for o in outcomes if o != "won"]
    assert told.startswith(f"{task.claimed_by.first_name} claimed this order at")
    assert task.events.filter(to_status="claimed").count() == 1
