"""Background jobs of inventory, run by the Celery worker; each one calls a service."""

from celery import shared_task

from config.access import Actor

from .services import reservations_expire
from .services.buffers import buffers_recompute_every

EXPIRE_RESERVATIONS = "inventory.expire_reservations"
RECOMPUTE_VELOCITY_BUFFERS = "inventory.recompute_velocity_buffers"


@shared_task(name=EXPIRE_RESERVATIONS, ignore_result=True)
def expire_reservations() -> int:
    """Write the release of every hold past its expiry. Idempotent: beat runs it every
    minute, and two runs at once release each hold once."""
    return reservations_expire()


@shared_task(name=RECOMPUTE_VELOCITY_BUFFERS, ignore_result=True)
def recompute_velocity_buffers() -> int:
    """Each velocity channel's buffers from its sales, nightly (inventory migration
    0026, and a manager's "Recompute now"); how many channels were recomputed. Run
    twice, the second writes the same figures (unless sales came in meanwhile) and
    announces nothing."""
    results = buffers_recompute_every(actor=Actor.system("velocity-buffers"))
    return len(results)
