"""Background jobs of reconciliation, run by beat (registered by migration 0002); each
calls a service and is idempotent: run twice, the second run changes nothing new."""

from celery import shared_task

from .services.checks import ledger_drift_check
from .services.counts import count_tasks_generate

GENERATE_COUNTS = "reconciliation.generate_cycle_counts"
CHECK_LEDGER = "reconciliation.check_ledger_drift"


@shared_task(name=GENERATE_COUNTS, ignore_result=True)
def generate_cycle_counts() -> int:
    return count_tasks_generate()


@shared_task(name=CHECK_LEDGER, ignore_result=True)
def check_ledger_drift() -> int:
    return ledger_drift_check(repair=True)
