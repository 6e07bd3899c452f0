"""The Idempotency-Keys' rows: a key claimed for a request, its answer kept, or the key
forgotten. What the middleware (integrations/idempotency.py) asks of the database.

A claim is a row inserted under the unique digest of (caller, method, path, key) (a
digest: a path may be longer than an index entry can hold): of two requests racing
with one key, the database lets exactly one insert it; the other
finds the row and is told the key is in flight. A claimed row carries a lease
(``in_flight_until``) rather than a lock held by a connection: the request writes in
its own transactions while the row must stay visible to every other request, and a
process that dies mid-request (killed, out of memory) leaves the row behind. Past the
lease, longer than gunicorn lets a request run (``timeout = 30`` in
config/gunicorn.conf.py), the first request cannot still be running, and a retry takes
the key over and runs again; the body's own reference, where it has one, still keeps
that second run from writing twice."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey

# Longer than any request may run: gunicorn kills a worker after 30 s.
IN_FLIGHT_LEASE = timedelta(seconds=60)


class Claim(StrEnum):
    RUN = "run"  # the key is this request's: run the view
    REPLAY = "replay"  # answered before, with the same body: answer the same
    IN_FLIGHT = "in_flight"  # the first request with it is still running
    REUSED = "reused"  # used before with another body


@dataclass(frozen=True)
class Claimed:
    outcome: Claim
    row: IdempotencyKey


def body_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _scope_digest(*, caller: str, method: str, path: str, key: str) -> str:
    # Lengths first: no two different scopes can run together into one text.
    parts = (caller, method, path, key)
    text = "|".join(f"{len(part)}:{part}" for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotency_key_claim(
    *, caller: str, method: str, path: str, key: str, fingerprint: str
) -> Claimed:
    """Take the key for this request, or say why not. A racing request sees the
    claim at once only because the middleware runs outside any transaction
    (autocommit; ``ATOMIC_REQUESTS`` would wrap the view alone): the insert commits
    as it is made. Called inside an outer transaction, the claim would stay unseen
    until that commits, and two racing requests could both run."""
    now = timezone.now()
    lease = now + IN_FLIGHT_LEASE
    scope = {"caller": caller, "method": method, "path": path, "key": key}
    digest = _scope_digest(**scope)
    try:
        # The savepoint only keeps a clash from spoiling an outer (test) transaction.
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                **scope,
                scope_digest=digest,
                fingerprint=fingerprint,
                created_at=now,
                in_flight_until=lease,
            )
        return Claimed(Claim.RUN, row)
    except IntegrityError:
        pass
    row = IdempotencyKey.objects.filter(scope_digest=digest).first()
    if row is None:
        # Forgotten between the insert and the read (its first answer was not kept):
        # a retry now runs; this one is told to retry.
        return Claimed(Claim.IN_FLIGHT, IdempotencyKey(**scope, scope_digest=digest))
    if row.fingerprint != fingerprint:
        return Claimed(Claim.REUSED, row)
    if row.status is not None:
        return Claimed(Claim.REPLAY, row)
    if row.in_flight_until is not None and row.in_flight_until > now:
        return Claimed(Claim.IN_FLIGHT, row)
    # The first request's lease ran out unanswered: its process died. Take it over,
    # unless another retry just did.
    taken = IdempotencyKey.objects.filter(
        pk=row.pk, status__isnull=True, in_flight_until=row.in_flight_until
    ).update(in_flight_until=lease, created_at=now)
    if not taken:
        return Claimed(Claim.IN_FLIGHT, row)
    row.in_flight_until, row.created_at = lease, now
    return Claimed(Claim.RUN, row)


def idempotency_key_answer(
    *,
    row: IdempotencyKey,
    status: int,
    headers: dict[str, str],
    body: bytes,
    body_kept: bool = True,
) -> None:
    """Keep the first answer for replays; only while the claim is still this
    request's (a lease taken over by a retry belongs to the retry). An answer whose
    body is not to be kept (it carries a secret) keeps its status and headers only."""
    IdempotencyKey.objects.filter(
        pk=row.pk, status__isnull=True, in_flight_until=row.in_flight_until
    ).update(
        status=status,
        headers=headers,
        body=body if body_kept else b"",
        body_kept=body_kept,
        in_flight_until=None,
    )


def idempotency_key_forget(*, row: IdempotencyKey) -> None:
    """Let the key go, so that a retry runs again (an answer not kept)."""
    IdempotencyKey.objects.filter(
        pk=row.pk, status__isnull=True, in_flight_until=row.in_flight_until
    ).delete()


def idempotency_keys_forget_expired() -> int:
    """Forget every key older than ``IDEMPOTENCY_KEY_HOURS``; how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    forgotten, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return forgotten
