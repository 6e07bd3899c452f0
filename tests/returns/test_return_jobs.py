"""A return left on the bench too long goes to the manager, once; support reads
returns in the back-office."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.access import Actor
from returns.models import Return, ReturnEvent
from returns.services import (
    Purchase,
    ReturnLineInput,
    return_line_grade,
    return_receive_at_counter,
    returns_flag_overdue,
)
from returns.tasks import FLAG_OVERDUE, flag_overdue_inspections
from tests.factories import delivered_order


def received_return(shop, hours_ago: float, reference="WEB-3001") -> Return:
    order = delivered_order(shop, reference=reference)
    found = return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="defective")],
        actor=Actor.of_user(shop["alice"]),
    )
    Return.objects.filter(pk=found.pk).update(
        received_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return found


def test_waiting_past_the_target_is_flagged_once(shop, settings):
    settings.RETURNS_INSPECTION_TARGET_HOURS = 48
    late = received_return(shop, hours_ago=49)

    assert returns_flag_overdue() == 1
    assert returns_flag_overdue() == 0  # the same job again: nothing more

    late.refresh_from_db()
    assert late.overdue_since is not None
    assert ReturnEvent.objects.filter(kind="overdue").count() == 1


def test_within_the_target_or_graded_is_not_flagged(shop):
    received_return(shop, hours_ago=2)
    assert returns_flag_overdue() == 0

    graded = received_return(shop, hours_ago=1, reference="WEB-3002")
    return_line_grade(
        return_id=graded.pk,
        line_id=graded.lines.get().pk,
        grade="damaged",
        quantity=1,
        actor=Actor.of_user(shop["alice"]),
    )
    assert returns_flag_overdue(now=timezone.now() + timedelta(days=5)) == 1


def test_the_job_is_on_beat(db):
    assert PeriodicTask.objects.get(task=FLAG_OVERDUE).enabled


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_flags_a_return_waiting_too_long(shop, celery_worker):
    late = received_return(shop, hours_ago=72)

    flag_overdue_inspections.apply_async(queue=celery_worker)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        late.refresh_from_db()
        if late.overdue_since:
            break
        time.sleep(0.2)

    assert late.overdue_since is not None
    assert flag_overdue_inspections() == 0


def test_support_reads_a_return_in_the_admin(shop, admin_client):
    found = received_return(shop, hours_ago=1)

    listing = admin_client.get("/admin/returns/return/")
    page = admin_client.get(f"/admin/returns/return/{found.pk}/change/")

    assert found.reference in listing.content.decode()
    assert page.status_code == 200 and "TEE-BLK-M" in page.content.decode()
    assert admin_client.get("/admin/returns/returninspection/").status_code == 200
