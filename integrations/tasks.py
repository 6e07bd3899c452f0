"""Background jobs of integrations, run by beat (registered by migration 0004); each
is safe to run twice."""

from celery import shared_task

from .idempotency_store import idempotency_keys_forget_expired

FORGET_IDEMPOTENCY_KEYS = "integrations.forget_idempotency_keys"


@shared_task(name=FORGET_IDEMPOTENCY_KEYS, ignore_result=True)
def forget_idempotency_keys() -> int:
    """Idempotency-Keys older than ``IDEMPOTENCY_KEY_HOURS``, and their answers."""
    return idempotency_keys_forget_expired()
