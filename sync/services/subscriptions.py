"""Webhook subscriptions: made, changed, their secret rotated, re-sent from a point in
time, deleted; and the helpers that move a subscription's state, which the sender
(``webhooks``) uses too.

A new subscription is signed the Standard Webhooks way (``signature_scheme``
``standard``, a ``whsec_`` secret of 32 random bytes in base64) unless it asks for
``onestock-v1``, the scheme of those made before; its body is OneStock's event or,
asked for, a CloudEvent (``format``). Rotating the secret keeps the previous one for
``WEBHOOK_SECRET_GRACE_HOURS``, during which deliveries carry both signatures. A
failing subscription (its retries ran out, or its receiver answered 410 Gone) sends
nothing until a person re-sends from a point in time once the receiver is fixed
(``webhook_resend``). Every change of state is checked by ``config.transitions``
against ``WebhookSubscription.TRANSITIONS`` and recorded on the subscription's
timeline (``WebhookSubscriptionEvent``). docs/sync.md describes the signing, the
retries and the failing state for those who run a receiver.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Channel
from config import transitions
from config.access import Actor
from config.errors import InvalidInput
from inventory.models import AvailabilityChange
from reconciliation.services import exception_settle

from ..models import EventKind, NetworkChange, WebhookSubscription, new_secret
from ..targets import DEFAULT_PORTS, TargetRefused, webhook_address
from .feed import deliveries_queue
from .network import network_deliveries_queue
from .order_events import order_event_deliveries_queue_again

State = WebhookSubscription.State
Scheme = WebhookSubscription.SignatureScheme
# Who moves a subscription's state when a delivery succeeds or fails.
SENDER = Actor.system("webhooks")
# Standard Webhooks' secrets are 24 to 64 random bytes.
STANDARD_SECRET_BYTES = (24, 64)


class WebhookTransitionRefused(transitions.TransitionRefused):
    code = "webhook_transition_refused"


@dataclass(frozen=True)
class SubscriptionInput:
    channel: Channel
    url: str
    event_kinds: list[str]
    is_active: bool = True
    secret: str = ""
    low_stock_threshold: int | None = None
    signature_scheme: str = Scheme.STANDARD
    format: str = WebhookSubscription.Format.ONESTOCK


@transaction.atomic
def webhook_subscription_create(
    *, subscription: SubscriptionInput, actor: Actor
) -> WebhookSubscription:
    _check_kinds(subscription.event_kinds)
    _check_url(subscription.url)
    check_secret(subscription.secret, scheme=subscription.signature_scheme)
    now = timezone.now()
    record = WebhookSubscription(
        channel=subscription.channel,
        url=subscription.url,
        event_kinds=subscription.event_kinds,
        is_active=subscription.is_active,
        low_stock_threshold=subscription.low_stock_threshold,
        signature_scheme=subscription.signature_scheme,
        format=subscription.format,
        state_changed_at=now,
        state_changed_by=actor.name,
    )
    if subscription.secret:
        record.secret = subscription.secret
    record.save()
    transitions.record_event(
        record,
        actor=actor,
        action="webhook_subscription_create",
        at=now,
        to_status=record.state,
    )
    return record


@transaction.atomic
def webhook_subscription_update(
    *, subscription_id: int, changes: dict, actor: Actor
) -> WebhookSubscription:
    """Change the URL, event kinds, active flag, secret, format or low-stock
    threshold (the channel and the signature scheme stay). A threshold taken away
    forgets the marks (docs/sync.md). A secret set here replaces the current one at
    once, with no grace (``webhook_secret_rotate`` keeps the previous one a while)."""
    record = locked(subscription_id)
    if "event_kinds" in changes:
        _check_kinds(changes["event_kinds"])
    if changes.get("url"):
        _check_url(changes["url"])
    if changes.get("secret"):
        check_secret(changes["secret"], scheme=record.signature_scheme)
    for name in (
        "url", "event_kinds", "is_active", "secret", "low_stock_threshold", "format",
    ):  # fmt: skip
        if name in changes and changes[name] != "":
            setattr(record, name, changes[name])
    if record.low_stock_threshold is None:
        record.low_stock_marks.all().delete()
    record.save()
    return record


@transaction.atomic
def webhook_resend(
    *, subscription_id: int, since: datetime, actor: Actor
) -> WebhookSubscription:
    """Queue again the latest change of every SKU and location that changed since
    ``since`` (one event each, its latest numbers), and the orders' events recorded
    since, and send again: a failing subscription is healthy again, its case
    settled."""
    record = locked(subscription_id)
    now = timezone.now()
    if since > now:
        raise InvalidInput({"since": ["Re-send from a time in the past."]})
    kept = timedelta(days=settings.SYNC_FEED_RETENTION_DAYS)
    if since < now - kept:
        raise InvalidInput(
            {
                "since": [
                    f"Changes are kept {settings.SYNC_FEED_RETENTION_DAYS} days: "
                    "re-send from within them."
                ]
            }
        )
    with connection.cursor() as cursor:
        deliveries_queue(
            cursor,
            subscriptions=[record.pk],
            changes=AvailabilityChange.objects.filter(
                changed_at__gte=since, position__isnull=False
            ),
        )
        network_deliveries_queue(
            cursor,
            subscriptions=[record.pk],
            changes=NetworkChange.objects.filter(changed_at__gte=since),
        )
    order_event_deliveries_queue_again(subscription=record, since=since)
    resent = f"Re-sent from {since.isoformat()} by {actor.name}."
    if record.state != State.HEALTHY:
        move(record, State.HEALTHY, actor, action="webhook_resend", note=resent)
    record.consecutive_failures = 0
    record.retry_at = None
    record.save()
    exception_settle(key=case_key(record), note=resent, actor=actor)
    return record


@transaction.atomic
def webhook_subscription_delete(*, subscription_id: int, actor: Actor) -> None:
    """Delete a subscription with its deliveries, attempts and timeline; its failing
    case, if any, is settled."""
    record = locked(subscription_id)
    exception_settle(
        key=case_key(record),
        note=f"Subscription deleted by {actor.name}.",
        actor=actor,
    )
    record.delete()


@transaction.atomic
def webhook_secret_rotate(*, subscription_id: int, actor: Actor) -> WebhookSubscription:
    """A new secret, made here; the current one becomes the previous, kept until
    ``WEBHOOK_SECRET_GRACE_HOURS`` from now, during which every delivery carries a
    signature by each (sync/signing.py). A previous secret still in its grace is
    forgotten: only the last two secrets sign. Recorded on the timeline (the state
    unchanged). Under the subscription's row lock, so a sender reads one pair."""
    record = locked(subscription_id)
    now = timezone.now()
    record.previous_secret = record.secret
    record.previous_secret_expires_at = now + timedelta(
        hours=settings.WEBHOOK_SECRET_GRACE_HOURS
    )
    record.secret = new_secret()
    record.save()
    transitions.record_event(
        record,
        actor=actor,
        action="webhook_secret_rotate",
        at=now,
        from_status=record.state,
        to_status=record.state,
        note="Secret rotated; the previous one also signs until "
        f"{record.previous_secret_expires_at.isoformat()}.",
    )
    return record


def move(
    subscription: WebhookSubscription,
    to: str,
    actor: Actor,
    *,
    action: str,
    note: str = "",
) -> None:
    """A subscription's move through ``config.transitions``: checked against the
    table and recorded on the timeline, the new state and its stamps set for the
    caller's one save with the attempt's own figures (``move`` would save them
    apart). A retry that stays retrying is no change: its attempt is the record of
    it."""
    transitions.check(
        subscription,
        to,
        error=WebhookTransitionRefused,
        message=f"A {subscription.state} subscription cannot become {to}.",
    )
    if to == subscription.state:
        return
    now = timezone.now()
    from_state = subscription.state
    subscription.state = to
    subscription.state_changed_at = now
    subscription.state_changed_by = actor.name
    transitions.record_event(
        subscription,
        actor=actor,
        action=action,
        at=now,
        from_status=from_state,
        to_status=to,
        note=note,
    )


def locked(subscription_id: int) -> WebhookSubscription:
    # NO KEY: the deliveries being queued for it (their key-share checks) need not
    # wait for a sender.
    return transitions.lock(WebhookSubscription, subscription_id, related=("channel",))


def _check_url(url: str) -> None:
    """A webhook may not point into the retailer's own network (its database, its
    cloud's metadata service) unless ``WEBHOOK_ALLOW_PRIVATE_HOSTS`` says so (tests,
    a receiver on the same machine): the rules are ``sync.targets``'; the sender
    checks again before every connection."""
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return
    parsed = urlsplit(url)
    try:
        port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
    except ValueError:  # not a port number
        port = None
    if parsed.scheme not in DEFAULT_PORTS or port is None or not parsed.hostname:
        raise InvalidInput({"url": ["An http or https URL with a host."]})
    try:
        webhook_address(parsed.hostname, port)
    except TargetRefused as refused:
        raise InvalidInput({"url": [str(refused)]}) from None


def _check_kinds(kinds: list[str]) -> None:
    unknown = sorted(set(kinds) - set(EventKind.values))
    if unknown:
        raise InvalidInput(
            {"event_kinds": [f"Unknown event kind(s): {', '.join(unknown)}."]}
        )


def check_secret(secret: str, *, scheme: str) -> None:
    """A secret given for a ``standard`` subscription is what its receivers'
    libraries decode: ``whsec_`` and base64 of 24 to 64 bytes. Any other is used
    whole (``onestock-v1``) and only its length is checked, at the edge. The admin's
    form asks too, to answer on the form."""
    if not secret or scheme != Scheme.STANDARD:
        return
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    low, high = STANDARD_SECRET_BYTES
    if not secret.startswith("whsec_") or not low <= len(key) <= high:
        raise InvalidInput(
            {
                "secret": [
                    f"For the standard scheme: whsec_ and the base64 of {low} to "
                    f"{high} random bytes (or leave it out and one is made)."
                ]
            }
        )


def case_key(subscription: WebhookSubscription) -> str:
    return f"webhook:{subscription.pk}"
