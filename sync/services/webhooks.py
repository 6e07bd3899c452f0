"""Sending webhook deliveries: one subscription's due deliveries, in feed order, by
one sender at a time (a session advisory lock on PostgreSQL; the push runs one task
per subscription, sync/tasks.py, so a receiver that hangs holds up only itself).

A failed POST (no answer, or anything but 2xx) leaves the delivery pending and puts
the whole subscription back by the next step of ``WEBHOOK_RETRY_SCHEDULE``: a
receiver that is down is not hammered, and nothing overtakes the event that failed.
While it waits, newer changes of a SKU and location still replace its pending
delivery, so a receiver back after an hour gets the latest numbers, one event per
SKU and location (then the rows of the kits containing that SKU there, read when
sent). When the schedule has run out (about a day) the subscription is ``failing``: nothing
more is sent and a ``webhook_failing`` case opens for the managers. A receiver that
answers 410 Gone asked to stop: the subscription is switched off and failing at
once, no retry, with the case saying so. Each POST's body is shaped by the
subscription's ``format`` (sync/cloudevents.py) and signed by its
``signature_scheme`` (sync/signing.py), with the previous secret's signature too
while a rotation's grace lasts. The subscriptions' own writes, and the state
helpers used here, are in ``subscriptions``.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config import metrics
from config.errors import NotFound
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise

from ..cloudevents import delivery_body
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from ..queued import queued_forget, subscription_push_key
from ..selectors import change_events_with_kits, changes_by_id
from ..signing import signed_headers
from ..targets import (
    DEFAULT_PORTS,
    PinnedAddressAdapter,
    TargetRefused,
    webhook_address,
)
from .low_stock import Crossing, LowStockMarks
from .network import network_due_send
from .order_events import order_event_deliveries_send
from .subscriptions import SENDER, State, case_key, locked, move

log = logging.getLogger(__name__)

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
# Standard Webhooks: a receiver answering 410 asks to be sent nothing more.
GONE = 410
GONE_REASON = "the receiver answered 410 Gone: it asked to stop receiving"


class SendRun(NamedTuple):
    """What one sender's run did: how many deliveries it made, and whether it
    stopped at a POST that failed (then its retry falls due later)."""

    delivered: int
    failed: bool


def webhook_deliveries_send(*, subscription_id: int) -> SendRun:
    """Send the subscription's due deliveries in feed order until none is due or a
    POST fails: how many were delivered, and whether a POST failed (the push task
    asks for a retry only then). Sends nothing if another sender holds the
    subscription's lock."""
    delivered, failed = 0, False
    while True:
        if not _claim(subscription_id):
            return SendRun(delivered, failed)
        try:
            sent, finished = _send_due(subscription_id)
        except (WebhookSubscription.DoesNotExist, NotFound, IntegrityError):
            # Deleted while we sent: nothing left to send it.
            return SendRun(delivered, failed)
        finally:
            _release(subscription_id)
        delivered, failed = delivered + sent, failed or not finished
        # A delivery queued while we held the lock found it taken (its task left
        # it to us) or found the subscription's push marked queued already and
        # queued none (sync/queued.py). So the marker is cleared, then we look
        # once more, after letting go: a delivery whose push found the marker had
        # committed before it was cleared, and this look sees it; one committed
        # later finds no marker, and its push is queued. None waits for the sweep.
        queued_forget(subscription_push_key(subscription_id))
        if not _has_due(subscription_id):
            return SendRun(delivered, failed)


def _send_due(subscription_id: int) -> tuple[int, bool]:
    """One claim's sending: how many were delivered, and whether it finished
    (False: a POST failed, and nothing may overtake it)."""
    delivered = 0
    while True:
        subscription = WebhookSubscription.objects.select_related("channel").get(
            pk=subscription_id
        )
        if not _may_send(subscription):
            return delivered, True
        due = list(_due(subscription_id)[: settings.WEBHOOK_SEND_BATCH])
        if not due:
            # Then the orders' events (order_events.py), then the network kind's, in
            # its own feed's order (network.py); nothing overtakes a failed POST.
            sent, finished = order_event_deliveries_send(subscription, deliver=_deliver)
            if finished:
                network_sent, finished = network_due_send(
                    subscription, deliver=_deliver
                )
                sent += network_sent
            return delivered + sent, finished
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
                return delivered, False
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
    body, content_type = delivery_body(subscription=subscription, event=event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        "User-Agent": "OneStock-Webhooks/1",
        **signed_headers(
            scheme=subscription.signature_scheme,
            secrets=subscription.signing_secrets(timezone.now()),
            event_id=event["id"],
            timestamp=timestamp,
            body=body,
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
        locked(subscription.pk)
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
        elif status_code == GONE:
            _gone(subscription.pk)
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
    subscription = locked(subscription_id)
    subscription.last_success_at = timezone.now()
    if subscription.state == State.RETRYING:
        move(
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
    subscription = locked(subscription_id)
    if subscription.state == State.FAILING:
        return  # another sender got there first: the case is open already
    now = timezone.now()
    subscription.last_failure_at = now
    subscription.consecutive_failures += 1
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if subscription.consecutive_failures <= len(schedule):
        wait = schedule[subscription.consecutive_failures - 1]
        subscription.retry_at = now + timedelta(seconds=wait)
        move(
            subscription,
            State.RETRYING,
            SENDER,
            action="webhook_retry",
            note=f"{error}; next attempt in {wait} s.",
        )
        subscription.save()
        return
    _fail_and_open_case(
        subscription,
        action="webhook_fail",
        note=f"{error}; the retry schedule ran out after "
        f"{subscription.consecutive_failures} attempts.",
        title=f"{subscription.channel.code} webhook failing: nothing delivered "
        f"after {subscription.consecutive_failures} attempts",
        detail=lambda pending: (
            f"{subscription.url} last answered: {error}. "
            f"{pending} change(s) wait to be sent. Once the receiver is fixed, re-send "
            "from the time it stopped (admin, or POST /api/v1/webhooks/<id>/resend/)."
        ),
        last_error=error,
    )


def _gone(subscription_id: int) -> None:
    """The receiver answered 410 Gone: it asked to stop receiving. Switched off and
    failing at once, no retry; the managers' case says why. Its deliveries wait, as
    a failing subscription's do, for a person to switch it on and re-send."""
    subscription = locked(subscription_id)
    if subscription.state == State.FAILING:
        return  # another sender got there first: the case is open already
    subscription.last_failure_at = timezone.now()
    subscription.consecutive_failures += 1
    subscription.is_active = False
    _fail_and_open_case(
        subscription,
        action="webhook_gone",
        note=f"HTTP 410: {GONE_REASON}; switched off.",
        title=f"{subscription.channel.code} webhook switched off: {GONE_REASON}",
        detail=lambda pending: (
            f"{subscription.url}: {GONE_REASON}. Nothing more is sent; "
            f"{pending} change(s) wait. If the channel still wants its changes, "
            "switch the subscription on and re-send from the time it stopped "
            "(admin, or PATCH is_active then POST /api/v1/webhooks/<id>/resend/); "
            "otherwise delete it."
        ),
        last_error="HTTP 410",
    )


def _fail_and_open_case(
    subscription: WebhookSubscription,
    *,
    action: str,
    note: str,
    title: str,
    detail: Callable[[int], str],
    last_error: str,
) -> None:
    """The locked ``subscription`` made ``failing`` (no retry) and saved, and the
    managers' ``webhook_failing`` case opened, its ``detail`` told how many of the
    subscription's changes wait to be sent."""
    subscription.retry_at = None
    move(subscription, State.FAILING, SENDER, action=action, note=note)
    subscription.save()
    pending = subscription.deliveries.filter(
        status=WebhookDelivery.Status.PENDING
    ).count()
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.WEBHOOK_FAILING,
            key=case_key(subscription),
            title=title,
            detail=detail(pending),
            link=f"/admin/sync/webhooksubscription/{subscription.pk}/change/",
            facts={
                "subscription": subscription.pk,
                "url": subscription.url,
                "pending": pending,
                "last_error": last_error,
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
