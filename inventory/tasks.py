"""Background jobs of inventory, run by the Celery worker; each one calls a service."""

from celery import shared_task

from .services import reservations_expire

EXPIRE_RESERVATIONS = "inventory.expire_reservations"


@shared_task(name=EXPIRE_RESERVATIONS, ignore_result=True)
def expire_reservations() -> int:
    """Write the release of every hold past its expiry. Idempotent: beat runs it every
    minute, and two runs at once release each hold once."""
    return reservations_expire()
