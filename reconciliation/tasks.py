"""Background jobs of reconciliation, run by beat (registered by migrations 0002,
0004, 0006 and 0011); each calls a service and is idempotent: run twice, the second
run changes nothing new (the transfer proposals of a second run replace the first's
undecided ones with the same)."""

import logging

from celery import shared_task

from config.access import Actor

from .models import ReconciliationRun
from .services.counts import count_tasks_generate
from .services.proposals import transfer_proposals_generate
from .services.rates import sales_rates_refresh
from .services.runs import (
    SYSTEM,
    RunInProgress,
    reconciliation_run_perform,
    reconciliation_run_start,
)

GENERATE_COUNTS = "reconciliation.generate_cycle_counts"
RECONCILE = "reconciliation.reconcile"
PERFORM_RUN = "reconciliation.perform_run"
REFRESH_SALES_RATES = "reconciliation.refresh_sales_rates"
PROPOSE_TRANSFERS = "reconciliation.propose_transfers"

log = logging.getLogger(__name__)


@shared_task(name=GENERATE_COUNTS, ignore_result=True)
def generate_cycle_counts() -> int:
    return count_tasks_generate()


@shared_task(name=RECONCILE, ignore_result=True)
def reconcile() -> str:
    """The nightly run (or the finishing of one cut off the night before)."""
    try:
        run = reconciliation_run_start(
            trigger=ReconciliationRun.Trigger.NIGHTLY, actor=SYSTEM
        )
    except RunInProgress as refused:
        log.info("Nightly reconciliation not started: %s", refused.message)
        return "running elsewhere"
    return reconciliation_run_perform(run_id=run.pk).status


@shared_task(name=PERFORM_RUN, ignore_result=True)
def perform_run(run_id: int) -> str:
    """A run a manager started from the screen."""
    return reconciliation_run_perform(run_id=run_id).status


@shared_task(name=REFRESH_SALES_RATES, ignore_result=True)
def refresh_sales_rates() -> int:
    """Each SKU-location's rate of sale for the dashboard's days of supply."""
    return sales_rates_refresh()


@shared_task(name=PROPOSE_TRANSFERS, ignore_result=True)
def propose_transfers() -> int:
    """Tonight's transfer proposals, for a manager to decide in the morning."""
    return len(transfer_proposals_generate(actor=Actor.system("propose_transfers")))
