"""Webhook subscriptions and sending their deliveries.

Sending is per subscription, one sender at a time (a session advisory lock on
PostgreSQL), in feed order. A failed POST (no answer, or anything but 2xx) leaves the
delivery pending and puts the whole subscription back by the next step of
``WEBHOOK_RETRY_SCHEDULE``: a receiver that is down is not hammered, and nothing
overtakes the event that failed. While it waits, newer changes of a SKU and location
still replace its pending delivery, so a receiver back after an hour gets the latest
numbers, one event per SKU and location (then the rows of the kits containing that
SKU there, read when sent). When the schedule has run out (about a day) the
subscription is ``failing``: nothing more is sent, a ``webhook_failing`` case opens
for the managers, and a person re-sends from a point in time once the receiver is
fixed (``webhook_resend``). Every change of state is checked by
``config.transitions`` against ``WebhookSubscription.TRANSITIONS`` and recorded on
the subscription's timeline (``WebhookSubscriptionEvent``). docs/sync.md describes
the signing, the retries and the failing state for those who run a receiver.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import orjson
import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Channel
from config import metrics, transitions
from config.access import Actor
from config.errors import InvalidInput, NotFound
from inventory.models import AvailabilityChange
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise, exception_settle

from ..models import (
    EventKind,
    NetworkChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from ..selectors import change_events_with_kits, changes_by_id
from ..signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_for
from ..targets import (
    DEFAULT_PORTS,
    PinnedAddressAdapter,
    TargetRefused,
    webhook_address,
)
from .feed import deliveries_queue
from .low_stock import Crossing, LowStockMarks
from .network import network_deliveries_queue, network_due_send
from .order_events import (
    order_event_deliveries_queue_again,
    order_event_deliveries_send,
)

log = logging.getLogger(__name__)
State = WebhookSubscription.State
# Who moves a subscription's state when a delivery succeeds or fails.
SENDER = Actor.system("webhooks")
# pg_try_advisory_lock(SEND_LOCK, subscription id): one sender per subscription.
SEND_LOCK = 0x686F6F6B  # "hook"
_session = requests.Session()
# Every POST goes to the address checked for it (sync/targets.py), never through a
# proxy named in the environment, where the address checked would not be the one
# connected to.
_session.trust_env = False
_session.mount("http://", PinnedAddressAdapter())
_session.mount("https://", PinnedAddressAdapter())
_LOCAL_CLAIMS: dict[int, threading.Lock] = {}
_LOCAL_CLAIMS_GUARD = threading.Lock()
# What is kept of a refusing receiver's answer: its status says enough, and a
# webhook URL must not become a way to read another service's pages.
ANSWER_READ_BYTES = 1024


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


@transaction.atomic
def webhook_subscription_create(
    *, subscription: SubscriptionInput, actor: Actor
) -> WebhookSubscription:
    _check_kinds(subscription.event_kinds)
    _check_url(subscription.url)
    now = timezone.now()
    record = WebhookSubscription(
        channel=subscription.channel,
        url=subscription.url,
        event_kinds=subscription.event_kinds,
        is_active=subscription.is_active,
        low_stock_threshold=subscription.low_stock_threshold,
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
    """Change the URL, event kinds, active flag, secret or low-stock threshold (the
    channel stays). A threshold taken away forgets the marks (docs/sync.md)."""
    record = _locked(subscription_id)
    if "event_kinds" in changes:
        _check_kinds(changes["event_kinds"])
    if changes.get("url"):
        _check_url(changes["url"])
    for name in ("url", "event_kinds", "is_active", "secret", "low_stock_threshold"):
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
    record = _locked(subscription_id)
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
        _move(record, State.HEALTHY, actor, action="webhook_resend", note=resent)
    record.consecutive_failures = 0
    record.retry_at = None
    record.save()
    exception_settle(key=_case_key(record), note=resent, actor=actor)
    return record


@transaction.atomic
def webhook_subscription_delete(*, subscription_id: int, actor: Actor) -> None:
    """Delete a subscription with its deliveries, attempts and timeline; its failing
    case, if any, is settled."""
    record = _locked(subscription_id)
    exception_settle(
        key=_case_key(record),
        note=f"Subscription deleted by {actor.name}.",
        actor=actor,
    )
    record.delete()


def webhook_deliveries_send(*, subscription_id: int) -> int:
    """Send the subscription's due deliveries in feed order until none is due or a
    POST fails. Returns how many were delivered."""
    delivered = 0
    while True:
        if not _claim(subscription_id):
            return delivered
        try:
            delivered += _send_due(subscription_id)
        except (WebhookSubscription.DoesNotExist, NotFound, IntegrityError):
            return delivered  # deleted while we sent: nothing left to send it
        finally:
            _release(subscription_id)
        # A delivery queued while we held the lock found it taken and left it to us:
        # looked for once more after letting go, so none waits for the sweep.
        if not _has_due(subscription_id):
            return delivered


def _send_due(subscription_id: int) -> int:
    delivered = 0
    while True:
        subscription = WebhookSubscription.objects.select_related("channel").get(
            pk=subscription_id
        )
        if not _may_send(subscription):
            return delivered
        due = list(_due(subscription_id)[: settings.WEBHOOK_SEND_BATCH])
        if not due:
            # Then the orders' events (order_events.py), then the network kind's, in
            # its own feed's order (network.py); nothing overtakes a failed POST.
            sent, finished = order_event_deliveries_send(subscription, deliver=_deliver)
            if finished:
                sent += network_due_send(subscription, deliver=_deliver)
            return delivered + sent
        changes = changes_by_id(ids={delivery.change_id for delivery in due})
        # A delivery whose change was replaced by a newer one and then pruned since
        # the read above is due again, with the newer change, on the next round.
        due = [delivery for delivery in due if delivery.change_id in changes]
        # The rows of kits containing a changed component ride on its delivery.
        events = change_events_with_kits(
            changes=[changes[delivery.change_id] for delivery in due],
            channel=subscription.channel,
        )
        marks = LowStockMarks(
            subscription,
            keys={(item.sku_id, item.location_id) for item in due}
            | {(kit.kit_id, kit.location_id) for _, kits in events for kit in kits},
        )
        for delivery, (event, kits) in zip(due, events, strict=True):
            crossing = marks.crossing(
                sku_id=delivery.sku_id, location_id=delivery.location_id, event=event
            )
            riders = [
                (
                    kit.event,
                    marks.crossing(
                        sku_id=kit.kit_id, location_id=kit.location_id, event=kit.event
                    ),
                )
                for kit in kits
            ]
            if not _deliver(subscription, delivery, event, crossing, riders):
                return delivered
            metrics.webhook_delivered(changed_at=changes[delivery.change_id].changed_at)
            delivered += 1


def _deliver(
    subscription,
    delivery,
    event: dict,
    crossing: Crossing | None,
    riders: Sequence[tuple[dict, Crossing | None]] = (),
) -> bool:
    """The change's event (at a location, a network figure's, or an order's), then
    the low-stock crossing it makes, if any (low_stock.py; none for an order's),
    then likewise each of the ``riders`` (kits' rows, with their crossings): done
    once all are, in order; a failed POST stops it, and its retry sends none it
    delivered already. An unwanted crossing moves its mark without a POST."""
    steps: list[tuple[dict | None, Callable[[], None] | None]] = []
    for body, its_crossing in ((event, crossing), *riders):
        if subscription.wants(body["type"]) and not _delivered_before(delivery, body):
            steps.append((body, None))
        if its_crossing is not None:
            steps.append((its_crossing.event, its_crossing.record))
    last = len(steps) - 1
    for index, (body, then) in enumerate(steps):
        if body is not None:
            if not _post(subscription, delivery, body, last=index == last, then=then):
                return False
            continue
        with transaction.atomic():  # a mark moved without a POST
            then()
            if index == last:
                _done(WebhookDelivery.objects.filter(pk=delivery.pk), delivery)
    if not steps:  # nothing (more) to POST
        _done(WebhookDelivery.objects.filter(pk=delivery.pk), delivery)
    return True


def _delivered_before(delivery, event: dict) -> bool:
    return bool(delivery.attempts) and (
        delivery.attempt_records.filter(event_id=event["id"], succeeded=True).exists()
    )


def _done(attempts, delivery) -> None:
    # Unless a newer change replaced the one sent meanwhile.
    attempts.filter(
        change_id=delivery.change_id, network_change_id=delivery.network_change_id
    ).update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now())


def _post(
    subscription: WebhookSubscription, delivery, event: dict, *, last=True, then=None
) -> bool:
    """POST one event for ``delivery``; its success runs ``then`` and, if it was the
    ``last`` event of the delivery, marks it delivered, in the attempt's transaction."""
    body = orjson.dumps(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "OneStock-Webhooks/1",
        EVENT_ID_HEADER: event["id"],
        SIGNATURE_HEADER: signature_for(
            secret=subscription.secret, timestamp=timestamp, body=body
        ),
    }
    started = time.perf_counter()
    attempted_at = timezone.now()
    status_code, error, outcome = None, "", "delivered"
    try:
        with _sent(subscription.url, body=body, headers=headers) as answer:
            # At most a little of the body, so a receiver that trickles or floods
            # its answer cannot hold the sender.
            answer.raw.read(ANSWER_READ_BYTES, decode_content=False)
            status_code = answer.status_code
        if not 200 <= status_code < 300:
            error, outcome = f"HTTP {status_code}", "receiver_error"
    except TargetRefused as refused:
        error, outcome = f"Refused: {refused}"[:500], "address_refused"
    except requests.RequestException as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
        timed_out = isinstance(failure, requests.Timeout)
        outcome = "timeout" if timed_out else "connection_failed"
    latency_ms = round((time.perf_counter() - started) * 1000)
    metrics.webhook_attempted(outcome=outcome)
    succeeded = not error
    with transaction.atomic():
        # The subscription first, as a re-send or a deletion takes it, then its rows.
        _locked(subscription.pk)
        WebhookAttempt.objects.create(
            subscription=subscription,
            delivery=delivery,
            event_id=event["id"],
            sequence=event["data"].get("sequence", 0),  # none for an order's event
            attempted_at=attempted_at,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
            succeeded=succeeded,
        )
        # A newer change may have replaced the one sent meanwhile: then the delivery
        # stays pending and the newer one goes next.
        attempts = WebhookDelivery.objects.filter(pk=delivery.pk)
        attempts.update(attempts=F("attempts") + 1)
        if succeeded:
            if then is not None:
                then()
            if last:
                _done(attempts, delivery)
            _succeeded(subscription.pk)
        else:
            _failed(subscription.pk, error)
    return succeeded


def _sent(url: str, *, body: bytes, headers: dict) -> requests.Response:
    """POST ``body`` to ``url`` at the address its host resolves to now, checked
    (``webhook_address``) and connected to without a second look-up: a name turned
    private since it was subscribed (DNS rebinding) is refused here, not only when
    subscribing. Raises ``TargetRefused``, or requests' errors."""
    request = _session.prepare_request(
        requests.Request("POST", url, data=body, headers=headers)
    )
    parts = urlsplit(request.url)  # the host name IDNA-encoded by requests
    if parts.scheme not in DEFAULT_PORTS:
        raise TargetRefused("An http or https URL.")
    request.checked_address = webhook_address(
        parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
    )
    request.headers["Host"] = parts.netloc.rpartition("@")[2]
    return _session.send(
        request,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_redirects=False,
        stream=True,
    )


def _succeeded(subscription_id: int) -> None:
    subscription = _locked(subscription_id)
    subscription.last_success_at = timezone.now()
    if subscription.state == State.RETRYING:
        _move(
            subscription,
            State.HEALTHY,
            SENDER,
            action="webhook_delivered",
            note="Delivered again.",
        )
    subscription.consecutive_failures = 0
    subscription.retry_at = None
    subscription.save()


def _failed(subscription_id: int, error: str) -> None:
    subscription = _locked(subscription_id)
    if subscription.state == State.FAILING:
        return  # another sender got there first: the case is open already
    now = timezone.now()
    subscription.last_failure_at = now
    subscription.consecutive_failures += 1
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if subscription.consecutive_failures <= len(schedule):
        wait = schedule[subscription.consecutive_failures - 1]
        subscription.retry_at = now + timedelta(seconds=wait)
        _move(
            subscription,
            State.RETRYING,
            SENDER,
            action="webhook_retry",
            note=f"{error}; next attempt in {wait} s.",
        )
        subscription.save()
        return
    subscription.retry_at = None
    _move(
        subscription,
        State.FAILING,
        SENDER,
        action="webhook_fail",
        note=f"{error}; the retry schedule ran out after "
        f"{subscription.consecutive_failures} attempts.",
    )
    subscription.save()
    pending = subscription.deliveries.filter(
        status=WebhookDelivery.Status.PENDING
    ).count()
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.WEBHOOK_FAILING,
            key=_case_key(subscription),
            title=f"{subscription.channel.code} webhook failing: nothing delivered "
            f"after {subscription.consecutive_failures} attempts",
            detail=f"{subscription.url} last answered: {error}. {pending} change(s) "
            "wait to be sent. Once the receiver is fixed, re-send from the time it "
            "stopped (admin, or POST /api/v1/webhooks/<id>/resend/).",
            link=f"/admin/sync/webhooksubscription/{subscription.pk}/change/",
            facts={
                "subscription": subscription.pk,
                "url": subscription.url,
                "pending": pending,
                "last_error": error,
            },
        ),
        actor=SENDER,
    )


def _may_send(subscription: WebhookSubscription) -> bool:
    if not subscription.is_active or subscription.state == State.FAILING:
        return False
    return subscription.retry_at is None or subscription.retry_at <= timezone.now()


def _due(subscription_id: int):
    """Due deliveries of changes at a location (the network kind's: ``network``)."""
    return WebhookDelivery.objects.filter(
        subscription_id=subscription_id,
        status=WebhookDelivery.Status.PENDING,
        change__isnull=False,
    ).order_by("change__position")


def _has_due(subscription_id: int) -> bool:
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    return (
        subscription is not None
        and _may_send(subscription)
        and WebhookDelivery.objects.filter(
            subscription_id=subscription_id, status=WebhookDelivery.Status.PENDING
        ).exists()
    )


def _claim(subscription_id: int) -> bool:
    if connection.vendor != "postgresql":
        # The demo (SQLite) serves from one process: a lock in it is enough.
        with _LOCAL_CLAIMS_GUARD:
            claim = _LOCAL_CLAIMS.setdefault(subscription_id, threading.Lock())
        return claim.acquire(blocking=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [SEND_LOCK, subscription_id]
        )
        return cursor.fetchone()[0]


def _release(subscription_id: int) -> None:
    if connection.vendor != "postgresql":
        _LOCAL_CLAIMS[subscription_id].release()
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_unlock(%s, %s)", [SEND_LOCK, subscription_id]
        )


def _move(
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


def _locked(subscription_id: int) -> WebhookSubscription:
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


def _case_key(subscription: WebhookSubscription) -> str:
    return f"webhook:{subscription.pk}"
