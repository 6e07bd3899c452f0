"""Background jobs of store pickup, run by beat (registered by migration 0002);
each calls a service and is idempotent: run twice, the second run changes nothing."""

from celery import shared_task

from .services import (
    pickup_problems_escalate,
    pickup_reminders_send,
    pickup_tasks_expire,
)

SEND_REMINDERS = "pickup.send_reminders"
EXPIRE_UNCOLLECTED = "pickup.expire_uncollected"
ESCALATE_PROBLEMS = "pickup.escalate_problems"


@shared_task(name=SEND_REMINDERS, ignore_result=True)
def send_reminders() -> int:
    return pickup_reminders_send()


@shared_task(name=EXPIRE_UNCOLLECTED, ignore_result=True)
def expire_uncollected() -> int:
    return pickup_tasks_expire()


@shared_task(name=ESCALATE_PROBLEMS, ignore_result=True)
def escalate_problems() -> int:
    return pickup_problems_escalate()
