"""Background job of returns, run by beat (registered by migration 0002); it calls a
service and is idempotent: run twice, the second run changes nothing."""

from celery import shared_task

from .services import returns_flag_overdue

FLAG_OVERDUE = "returns.flag_overdue_inspections"


@shared_task(name=FLAG_OVERDUE, ignore_result=True)
def flag_overdue_inspections() -> int:
    return returns_flag_overdue()
