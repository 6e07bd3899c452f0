"""The nightly jobs on beat and on a real worker, and the queue under concurrency: two
causes raised at the same moment, or two scans of one count at once."""

import time

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.access import Actor
from reconciliation.models import CountTask, ExceptionCase
from reconciliation.services import Raised, exception_raise
from reconciliation.services.checks import ledger_drift_check
from reconciliation.services.counts import count_line_scan, count_task_start
from reconciliation.tasks import (
    GENERATE_COUNTS,
    RECONCILE,
    REFRESH_SALES_RATES,
    generate_cycle_counts,
)
from tests.factories import stock
from tests.threads import all_at_once


def test_the_nightly_jobs_are_on_beat(db):
    for name in (GENERATE_COUNTS, REFRESH_SALES_RATES, RECONCILE):
        job = PeriodicTask.objects.get(task=name)
        assert job.enabled and job.crontab is not None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_tonights_counts_once(shop, celery_worker):
    stock(shop["tee"], shop["oxford"], 4)
    generate_cycle_counts.apply_async(queue=celery_worker)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not CountTask.objects.exists():
        time.sleep(0.2)

    (task,) = CountTask.objects.all()
    assert (task.location, task.origin, task.for_date) == (
        shop["oxford"],
        "nightly",
        timezone.localdate(),
    )
    assert generate_cycle_counts() == 0  # the same night again: nothing more
    assert ledger_drift_check() == 0  # and the balances agree with the ledger


@pytest.mark.django_db(transaction=True)
def test_the_same_cause_raised_at_once_from_two_places_is_one_case(shop):
    def raise_it(n):
        return exception_raise(
            raised=Raised(
                kind="sync_delayed",
                key="sync:LON-OXF",
                title=f"Tills silent (seen by worker {n})",
                location=shop["oxford"],
            )
        ).pk

    ids = all_at_once(4, raise_it)
    assert len(set(ids)) == 1
    case = ExceptionCase.objects.get()
    assert case.times_raised == 4 and case.events.count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_scans_of_one_count_at_once_both_count(shop):
    stock(shop["tee"], shop["oxford"], 5)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M"],
        actor=Actor.of_user(shop["maria"]),
    )
    all_at_once(
        2,
        lambda n: count_line_scan(
            task_id=task.pk, code="5012345678900", actor=Actor.of_user(shop["alice"])
        ),
    )
    assert task.lines.get().counted == 2


@pytest.mark.django_db(transaction=True)
def test_two_units_put_back_at_once_settle_the_expired_pickup(shop):
    from datetime import timedelta

    from orders.models import ReturnToStockTask
    from pickup import services as pickup
    from tests.factories import pickup_order, ready_for_collection

    stock(shop["tee"], shop["oxford"], 2)
    stock(shop["hoodie"], shop["oxford"], 2)
    task = pickup_order(shop, lines=[(shop["tee"], 1), (shop["hoodie"], 1)]).pickup_task
    ready_for_collection(shop, task)
    pickup.pickup_tasks_expire(now=task.expires_at + timedelta(minutes=1))
    put_backs = list(ReturnToStockTask.objects.values_list("pk", flat=True))
    assert len(put_backs) == 2

    all_at_once(
        2,
        lambda n: pickup.return_to_stock_put_away(
            task_id=put_backs[n], actor=Actor.of_user(shop["bob"])
        ),
    )
    assert ExceptionCase.objects.get(kind="pickup_expired").status == "resolved"


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_the_rates_of_sale_at_once_both_finish(shop):
    from reconciliation.models import SalesRate
    from reconciliation.services.rates import sales_rates_refresh
    from tests.factories import ChannelFactory, StockEvents

    till = ChannelFactory(code="oxf-till", kind="store_pos")
    stock(shop["tee"], shop["oxford"], 5)
    StockEvents.post(
        "sale", sku=shop["tee"], location=shop["oxford"], quantity=2, channel=till
    )
    assert all_at_once(2, lambda n: sales_rates_refresh()) == [1, 1]
    assert SalesRate.objects.get().units == 2
